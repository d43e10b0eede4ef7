#!/usr/bin/env python3
"""linviz: ``python main.py`` opens the desktop app; ``python main.py CMD ...`` runs a command.

    python main.py                      the app (CIFAR-10 if found, else the demo set)
    python main.py --data SOURCE        the app, starting on SOURCE
    python main.py info SOURCE [--json] describe a dataset
    python main.py train SOURCE ...     train and save a model
    python main.py predict MODEL IMG... classify images with a saved model
    python main.py bench                side-by-side benchmarks
"""

import sys

from linviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
