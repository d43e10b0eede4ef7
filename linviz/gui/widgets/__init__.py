"""Small widgets the panels and the status bar share: the log slider, progress rows, the status
line and job strip, the download banner, combo boxes of the core's tables (choices).
"""
