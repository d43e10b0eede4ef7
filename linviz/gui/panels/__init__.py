"""Control panels (Data, Features, Model and training): widgets only, one class per file.

Panels emit requests ("train", "extract", "open") and expose their settings as plain
dicts; the main window decides what runs on the compute worker.
"""
