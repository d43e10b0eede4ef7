"""linviz.gui"""
