"""The views of the Optimization lab (linviz.gui.labs.optimization); a private package, so the
window's lab discovery does not add them as tabs of their own."""
