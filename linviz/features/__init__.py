"""linviz.features"""
