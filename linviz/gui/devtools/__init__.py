"""Developer tools that drive the real window: the docs' screenshots and the GUI benchmarks
(``python main.py workbench --only gui|landscape``).
"""
