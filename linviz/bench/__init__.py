"""``python main.py bench``: linviz side by side with the reference tools, in one run.

Every figure is a ratio measured in the same process on the same images (docs/benchmarks):
warm up first, take medians of alternating rounds, print images/s and the ratio, and say
which comparisons were skipped because a reference tool is not installed
(``pip install -e ".[bench]"``). One module per section (``load``, ``features``, ``study``,
``sgd``, ``e2e``, ``gui``, ``knn``, ``tune``, ``landscape``, ``words``), each a function
``bench_<section>(archive, quick, say)``; :mod:`linviz.bench.runner` runs them,
:mod:`linviz.bench.common` holds what they share.
"""

from linviz.bench.runner import SECTIONS, run

__all__ = ["SECTIONS", "run"]
