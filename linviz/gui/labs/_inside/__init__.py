"""Parts of the "Inside one image" lab: the evidence mosaic's arrangement and the lecture page."""
