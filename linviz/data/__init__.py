"""linviz.data"""
