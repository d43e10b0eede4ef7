"""linviz.training"""
