"""linviz.models"""
