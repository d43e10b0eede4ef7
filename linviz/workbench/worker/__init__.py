"""The worker process: training runs beside the window, not inside it.

The window and its training loop used to share one Python interpreter, so the GUI thread's
redraws and the training thread's Python steps took turns holding the GIL. Here the heavy
lane's training runs in a separate process (:mod:`~linviz.workbench.worker.process_main`),
started once with ``spawn`` and kept alive. The features it trains on and the live state it
publishes are memory-mapped files both processes map (:mod:`~linviz.workbench.worker.shared_files`,
:mod:`~linviz.workbench.worker.board`); control (pause, resume, step, pace, stop) goes over a
pipe (:mod:`~linviz.workbench.worker.client`). No Qt in here.
"""
