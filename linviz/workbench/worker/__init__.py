"""The worker process: training runs beside the window, not inside it.

Two threads of one Python interpreter take turns holding the GIL: a training thread inside
the window waits whenever the GUI thread redraws, and on a machine with one busy core the
two share the other. So the heavy lane's training runs in a separate process
(:mod:`~linviz.workbench.worker.process_main`),
started once with ``spawn`` and kept alive. The features it trains on and the live state it
publishes are memory-mapped files both processes map (:mod:`~linviz.workbench.worker.shared_files`,
:mod:`~linviz.workbench.worker.board`); control (pause, resume, step, pace, stop) goes over a
pipe (:mod:`~linviz.workbench.worker.client`). No Qt in here.
"""
