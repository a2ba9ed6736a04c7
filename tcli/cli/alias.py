"""``import torch`` resolves to tcli: a meta-path finder that serves ``torch`` and ``torch.X`` as ``tcli``/``tcli.X``.

Used by ``tcli run`` (unless ``--no-torch-alias``) and by the bench's script workloads. A torch module tcli does
not have raises ModuleNotFoundError naming it, instead of a failure deep inside tcli.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self.own_spec  # importlib stamped the torch spec on it; tcli keeps its own identity


class TorchAlias(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torch" and not name.startswith("torch."):
            return None
        tcli_name = "tcli" + name[len("torch"):]
        if importlib.util.find_spec(tcli_name) is None:
            raise ModuleNotFoundError(
                f"No module named '{name}': tcli does not provide this part of the torch API "
                f"(there is no {tcli_name}).\nhint: run the script with real PyTorch, or without the alias: "
                "tcli run --no-torch-alias", name=name)
        return importlib.util.spec_from_loader(name, _AliasLoader(tcli_name))


def install() -> None:
    """Make ``import torch`` (and its submodules) import tcli from now on in this process."""
    if not any(isinstance(f, TorchAlias) for f in sys.meta_path):
        for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
            del sys.modules[name]
        sys.meta_path.insert(0, TorchAlias())
