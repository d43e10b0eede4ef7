"""A package never binds a name over one of its own modules: ``import linviz.explore.race as m``
must give the module, not a function that the package's ``__init__`` re-exported under the
same name."""

import importlib
import pkgutil

import linviz


def _packages():
    yield linviz
    for info in pkgutil.walk_packages(linviz.__path__, "linviz."):
        if info.ispkg and not info.name.startswith("linviz.gui"):  # Qt-free packages: importable anywhere
            yield importlib.import_module(info.name)


def test_no_package_shadows_its_modules():
    shadowed = []
    for package in _packages():
        for info in pkgutil.iter_modules(package.__path__):
            bound = vars(package).get(info.name)
            if bound is not None and getattr(bound, "__name__", None) != f"{package.__name__}.{info.name}":
                shadowed.append(f"{package.__name__}.{info.name} is bound to {bound!r}")
    assert not shadowed, shadowed
