"""The window's runtime: the job lanes off the GUI thread, the heavy lane's queue, the GUI-thread
garbage collector, BLAS thread limits and paced redraws.
"""
