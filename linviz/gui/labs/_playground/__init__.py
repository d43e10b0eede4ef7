"""The parts of the 2-D playground lab (linviz.gui.labs.playground); a private package, so the
window's lab discovery does not add them as tabs of their own.

``items``: the plane's graphics items (the view box, the points, a class's line and arrow);
``plane``: the plane with its drawing; ``points_table``: the table of every point's numbers;
``controls``: the optimizer's bar and the settings tabs; ``plots``: the loss curve and the
landscape; ``layout``: small helpers that stack and split widgets; ``jobs``: the work the lab
sends to the quick lane.
"""
