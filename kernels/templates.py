"""Kernel templates, for every backend: a template is compiled once per binding of its globals (an op, a dtype,
tile sizes) as a copy under a name of its own, because numba's disk cache keys on the function's name; and
those names carry a hash of the backend's sources, because a cached kernel inlines helpers and constants from
other files, whose edits numba does not notice (it checks only the defining file)."""

from __future__ import annotations

import functools
import hashlib
import os
import types


def specialise(template, name=None, scope=None, **bindings):
    """A copy of ``template`` named ``name`` (default: its own) whose globals are ``scope`` (default: a copy of
    its own) with ``bindings`` added."""
    if scope is None:
        scope = dict(template.__globals__)
    scope.update(bindings)
    fn = types.FunctionType(template.__code__, scope, name or template.__name__, template.__defaults__,
                            template.__closure__)
    fn.__qualname__ = name or template.__qualname__
    return fn


@functools.cache
def source_tag(folder: str) -> str:
    """A hash of every Python source file in ``folder``."""
    digest = hashlib.sha1()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:10]
