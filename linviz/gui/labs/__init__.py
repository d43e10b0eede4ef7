"""The labs: exploration views beside the training view, one module each.

A lab is one module in this package with one :class:`~linviz.gui.labs.lab.Lab` subclass. The
window finds them here (:func:`lab_classes`) and adds each as a tab, in ``order``; it knows no
lab by name. A lab reads the workbench, asks the job queue for work off the GUI thread
(``job_queue.quick`` for short answers, ``job_queue.run`` on the heavy lane for long jobs) and computes
nothing while it is hidden. Its arithmetic lives in :mod:`linviz.explore`, where tests check it without Qt.
"""

from __future__ import annotations

import importlib
import pkgutil


def lab_classes() -> list[type]:
    """Every Lab subclass defined in a module of this package, sorted by (order, title)."""
    from linviz.gui.labs.lab import Lab

    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "lab":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [obj for obj in vars(module).values()
                  if isinstance(obj, type) and issubclass(obj, Lab) and obj is not Lab
                  and obj.__module__ == module.__name__]
    return sorted(found, key=lambda cls: (cls.order, cls.title))
