"""``tcli.nn``: the functional ops so far (modules, layers and losses come with the training stack)."""

from . import functional

__all__ = ["functional"]
