"""How CPU kernels are compiled: numba options in one place, and lazily specialised kernel tables.

A kernel family is written once as a template that calls a global ``OP``. For each op the template
is rebuilt with ``OP`` bound to that op's scalar function and a name of its own, so numba inlines
the op, vectorises the loop, and caches the result on disk per (family, op). Nothing compiles at
import; a process that never divides never compiles a division kernel.
"""

from __future__ import annotations

import os

import numba
from numba import njit

from ..config import PARALLEL_MIN
from ..templates import source_tag, specialise

_SOURCES = os.path.dirname(__file__)  # every CPU kernel's source: part of each specialised kernel's name

_OPTIONS = dict(cache=True, error_model="numpy", nogil=True)

_all_tables: list = []


def jit(fn=None, **extra):
    """njit with tcli's defaults: disk cache, IEEE division (x/0 is inf, not an exception)."""
    options = {**_OPTIONS, **extra}
    if fn is None:
        return lambda f: njit(**options)(f)
    return njit(**options)(fn)


def serial_and_parallel(fn):
    """Two cached builds of one prange kernel: (serial, parallel), under distinct names so their disk
    cache entries do not collide (numba keys the cache by function name and signature only)."""
    name = fn.__name__
    return (jit(specialise(fn, f"{name}_serial")),
            jit(specialise(fn, f"{name}_par"), parallel=True))


class KernelTable(dict):
    """op name -> compiled kernel, specialised from the template on first lookup.

    ``ops`` maps each op name to what the template's global ``OP`` becomes, or to a dict of globals.
    """

    def __init__(self, family, template, ops, *, parallel=False, fastmath=False):
        super().__init__()
        self.family, self.template, self.ops = family, template, ops
        self.parallel, self.fastmath = parallel, fastmath
        _all_tables.append(self)

    @classmethod
    def pair(cls, family, template, ops, fastmath=False):
        """(serial, parallel) tables of one template; prange runs as range in the serial build."""
        return (cls(family, template, ops, fastmath=fastmath),
                cls(family, template, ops, parallel=True, fastmath=fastmath))

    def __missing__(self, op):
        name = f"{self.family}_{op}{'_par' if self.parallel else ''}_{source_tag(_SOURCES)}"
        entry = self.ops[op]
        bindings = entry if isinstance(entry, dict) else {"OP": entry}
        fn = specialise(self.template, name, **{k: _jitted(v, self.fastmath) for k, v in bindings.items()})
        kernel = self[op] = jit(fn, parallel=self.parallel, fastmath=self.fastmath)
        return kernel


_scalar_functions: dict = {}


def _jitted(fn, fastmath):
    """The njit version of a scalar op (made once per fastmath setting; plain values pass through).

    Fast-math flags live on each instruction, so the op must be compiled with the kernel's flags:
    a reduction only vectorises if the additions inlined from its op may be reassociated.
    """
    if not callable(fn) or hasattr(fn, "py_func"):
        return fn
    key = (fn, str(fastmath))
    jitted = _scalar_functions.get(key)
    if jitted is None:
        jitted = _scalar_functions[key] = njit(fastmath=fastmath)(fn)
    return jitted


_threads = [numba.config.NUMBA_NUM_THREADS]


def num_threads() -> int:
    return _threads[0]


def set_num_threads(n: int) -> None:
    numba.set_num_threads(n)
    _threads[0] = n


def chunks_for(work: int) -> int:
    """How many parallel chunks to split ``work`` elements into (1 means run serially)."""
    if work < PARALLEL_MIN or _threads[0] == 1:
        return 1
    return min(_threads[0] * 4, max(1, work // max(1, PARALLEL_MIN // 4)))


def compiled_signatures() -> int:
    """How many (kernel, signature) pairs this process has compiled or loaded from the cache."""
    return sum(len(k.signatures) for table in _all_tables for k in table.values())
