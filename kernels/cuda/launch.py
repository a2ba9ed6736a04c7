"""Launch geometry, and kernel launches without numba's per-call overhead.

Grid-stride loops let a kernel cover any size with a capped grid; the simulator runs each thread as a Python
thread, so there the grid stays tiny.

``jit(fn)`` is ``cuda.jit(fn)`` with a disk cache and a faster launch on a GPU. numba types every argument and
marshals it through its generic argument machinery on each launch: about 15 us, several times what the GPU
needs for the kernel of a small op, so training steps of small layers were bound by it. A ``FastKernel``
launches a kernel the first time through numba (which compiles it) and remembers, per argument layout, the
compiled function and how numba passes each argument (from the kernel's own argument types: arrays as
meminfo, parent, size, itemsize, data pointer, shape, strides; scalars as C values of their type). Later
launches with that layout pack the arguments that way and call cuda.core's launch directly (about 5 us).
Argument types it does not know keep numba's path, and so does everything under the simulator.
"""

from __future__ import annotations

import ctypes
import os

from numba import config, cuda

from ..templates import source_tag, specialise

SIMULATOR = bool(config.ENABLE_CUDASIM)
THREADS = 32 if SIMULATOR else 256
MAX_BLOCKS = 4 if SIMULATOR else 1024


def grid_for(n: int) -> tuple[int, int]:
    """(blocks, threads per block) for n independent elements."""
    return max(1, min(MAX_BLOCKS, (n + THREADS - 1) // THREADS)), THREADS


def jit(fn):
    """cuda.jit(fn) for a kernel: on a GPU cached on disk and launched through FastKernel.

    numba invalidates a cached kernel only when the file defining it changes, and a kernel inlines helpers
    and constants from other files; so the cached copy's name carries a hash of every source file here."""
    if SIMULATOR:
        return cuda.jit(fn)
    named = specialise(fn, f"{fn.__name__}_{source_tag(os.path.dirname(__file__))}", fn.__globals__)
    return FastKernel(cuda.jit(named, cache=True))


_by_dtype: dict = {}


def for_dtype(template, dtype, *helpers):
    """``template`` compiled with DTYPE bound to ``dtype`` (the type of its shared arrays), each device function
    in ``helpers`` specialised in the same scope; made once per (template, dtype)."""
    key = (template.__module__, template.__name__, dtype.str)
    kernel = _by_dtype.get(key)
    if kernel is None:
        from numba import from_dtype
        scope = dict(template.__globals__)
        scope["DTYPE"] = from_dtype(dtype)
        for helper in helpers:
            scope[helper.__name__] = cuda.jit(device=True)(specialise(helper, scope=scope))
        kernel = _by_dtype[key] = jit(specialise(template, f"cuda{template.__name__}_{dtype.name}", scope))
    return kernel


class _Unsupported(Exception):
    """An argument type FastKernel leaves to numba."""


_INT64 = (-(2 ** 63), 2 ** 63)


def _layout_key(value):
    """What decides the compiled kernel and the packing for an argument: its Python type (for an int, whether
    numba types it int64 or uint64), each element of a tuple, an array's dtype, rank and layout."""
    kind = type(value)
    if kind is int:
        return int if _INT64[0] <= value < _INT64[1] else "uint64"
    if kind is tuple:
        return tuple(map(_layout_key, value))
    view = getattr(value, "_strided_memory_view_shim", None)  # a device array (numba caches this view)
    if view is not None:
        layout = view._layout
        return kind, view.dtype, len(view.shape), layout.is_contiguous_c, layout.is_contiguous_f
    return kind


def _packable(numba_type, value) -> bool:
    """Whether the fast path may pack this argument: arrays only as 1-D, C-contiguous device arrays (numba
    copies host arrays over, and types other layouts by rules the key does not follow)."""
    from numba import types

    if isinstance(numba_type, types.Array):
        view = getattr(value, "_strided_memory_view_shim", None)
        return view is not None and len(view.shape) == 1 and view._layout.is_contiguous_c
    if isinstance(numba_type, types.BaseTuple):
        return all(_packable(t, v) for t, v in zip(numba_type, value))
    return True


def _packer(numba_type):
    """A function appending an argument's launch parameters, as numba's _Kernel._prepare_args does."""
    from numba import types

    if isinstance(numba_type, types.Array):
        def pack_array(value, out):
            view = value._strided_memory_view_shim
            out += (0, 0, view.size, view.dtype.itemsize, view.ptr)
            out += view.shape
            out += view._layout.strides_in_bytes
        return pack_array
    if isinstance(numba_type, types.Boolean):
        return lambda value, out: out.append(value)
    if isinstance(numba_type, types.Integer):
        c_type = getattr(ctypes, f"c_{numba_type}")
        return lambda value, out: out.append(c_type(value))
    if numba_type == types.float64:
        return lambda value, out: out.append(ctypes.c_double(value))
    if numba_type == types.float32:
        return lambda value, out: out.append(ctypes.c_float(value))
    if isinstance(numba_type, types.BaseTuple):
        parts = [_packer(t) for t in numba_type]

        def pack_tuple(value, out):
            for pack, item in zip(parts, value):
                pack(item, out)
        return pack_tuple
    raise _Unsupported(numba_type)


class FastKernel:
    """A numba CUDA kernel (``K[grid, block](*args)``) launched without numba's per-call marshalling."""

    __slots__ = ("dispatcher", "_plans")

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher
        self._plans = {}  # argument layouts -> (function handle, packers), or None: numba's path

    def __getattr__(self, name):  # py_func, overloads, ... (the offline check compiles py_func)
        return getattr(self.dispatcher, name)

    def __getitem__(self, launch_config):
        grid, block = launch_config
        return lambda *args: self._launch(grid, block, args)

    def _launch(self, grid, block, args):
        key = tuple(map(_layout_key, args))
        plan = self._plans.get(key, False)
        if plan is False:  # first launch with this layout: numba compiles and launches it
            self.dispatcher[grid, block](*args)
            self._plans[key] = self._plan(args)
            return
        if plan is None:
            self.dispatcher[grid, block](*args)
            return
        handle, packers = plan
        params = []
        for pack, value in zip(packers, args):
            pack(value, params)
        _core_launch(_STREAM[0], _config(grid, block), handle, *params)

    def _plan(self, args):
        try:
            compiled = self.dispatcher.overloads[tuple(self.dispatcher.typeof_pyval(a) for a in args)]
            if not all(_packable(t, a) for t, a in zip(compiled.argument_types, args)):
                return None
            if compiled.debug or getattr(compiled, "cooperative", False) or self.dispatcher.targetoptions.get(
                    "extensions"):
                return None
            packers = [_packer(t) for t in compiled.argument_types]
            handle = compiled._codelibrary.get_cufunc().kernel
            if not _STREAM:
                from numba.cuda.cudadrv import driver
                _STREAM.append(driver._to_core_stream(0))  # the legacy default stream, as numba's launches use
            return handle, packers
        except (_Unsupported, AttributeError, KeyError, ImportError):  # another numba-cuda: keep numba's path
            return None


_configs: dict = {}
_STREAM: list = []


def _config(grid, block):
    found = _configs.get((grid, block))
    if found is None:
        dims = tuple(tuple(d) if isinstance(d, tuple) else (d,) for d in (grid, block))
        found = _configs[(grid, block)] = _LaunchConfig(grid=dims[0], block=dims[1], shmem_size=0)
    return found


if not SIMULATOR:
    from cuda.core import LaunchConfig as _LaunchConfig
    from cuda.core import launch as _core_launch

    # A warning per launch of a grid under 128 blocks: every small tensor's op, and noise to a tensor library.
    config.CUDA_LOW_OCCUPANCY_WARNINGS = False
