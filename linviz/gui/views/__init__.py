"""Live views: pyqtgraph items created once and updated in place from plain numpy arrays.

A view never knows where its numbers come from (a snapshot, a saved model, a test); the
main window feeds them from its display timer.
"""
