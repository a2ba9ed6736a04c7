"""Device memory: a flat 1-D buffer per tensor storage, and what tcli counts of it.

A ``DeviceBuffer`` wraps numba's device array. It answers what tcli's Python code asks of a buffer
(shape, dtype, size in bytes) but refuses to act as host memory: numpy and the CPU kernels cannot read
it, and an op that has no CUDA kernel yet raises a clear NotImplementedError instead of reading device
memory as if it were the host's.

Device memory comes from a cache of blocks, as PyTorch's allocator does: cudaMalloc/cudaFree cost tens of
microseconds to milliseconds and cudaFree waits for the device, far more than the kernel of a small op. A
buffer's block goes back to the cache when the buffer dies and serves the next request of its size class.
Every kernel and copy runs on the one default stream, so work queued on a reused block always runs after the
work of its previous owner.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np
from numba import config, cuda
from numba.cuda.cudadrv.driver import CudaAPIError
from numba.extending import typeof_impl

if config.ENABLE_CUDASIM:  # the simulator's arrays are numpy arrays in disguise: slices of them are views
    DeviceNDArray = None
else:
    from numba.cuda.cudadrv.devicearray import DeviceNDArray

_allocated = [0, 0]  # bytes of blocks in use now, the most ever in use
_cache: dict[int, list] = {}  # block size -> free blocks (uint8 device arrays) whose buffers died
_cached = [0]  # bytes held in _cache
# id(buffer) -> (size class, block, array) of each live buffer from the cache. The block and array are held
# here, not only by the buffer: a buffer can die in a reference cycle, and the garbage collector runs the
# weakref callbacks of everything reachable only from such a cycle (numba's callback frees the device memory)
# before it runs the buffer's __del__, which would then return freed memory to the cache.
_owned: dict = {}


class _Flags:
    writeable = aligned = True


class DeviceBuffer:
    __slots__ = ("array", "shape", "dtype", "base", "__weakref__")
    flags = _Flags()

    def __init__(self, array, base=None):
        self.array = array
        self.shape = (array.shape[0],)
        self.dtype = np.dtype(array.dtype)
        self.base = base  # the buffer whose block this one views (view()): it must outlive this one

    def __del__(self):
        owned = _owned.pop(id(self), None)
        if owned is not None:
            _release(*owned)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.dtype.itemsize

    @property
    def size(self) -> int:
        return self.shape[0]

    def __len__(self):
        return self.shape[0]

    def pointer(self) -> int:
        """The device address of element 0 (the simulator has no device memory: its host copy's address)."""
        interface = getattr(self.array, "__cuda_array_interface__", None)
        if interface is not None:
            return interface["data"][0]
        return self.array._ary.ctypes.data  # numba's simulator keeps a numpy array here

    def __array__(self, *args, **kwargs):
        raise not_supported()

    def __getitem__(self, key):
        raise not_supported()

    def __setitem__(self, key, value):
        raise not_supported()

    def reshape(self, *shape):
        raise not_supported()

    def view(self, dtype):
        """The same memory as another dtype of the same size (kernels that only move bits use it)."""
        return DeviceBuffer(self.array.view(np.dtype(dtype)), base=self)


def not_supported() -> NotImplementedError:
    """The error for an op that reached host-only code with a CUDA tensor, naming the op the user called."""
    name = public_caller()
    what = f"'{name}'" if name else "this operation"
    return NotImplementedError(
        f"tcli cannot run {what} on CUDA tensors yet: it has no CUDA kernel."
        "\nhint: move the tensors to the CPU for it with .cpu() (and back with .cuda()), or run on the CPU.")


# Modules whose functions only route a call (Tensor methods, in-place wrappers, kernels): never the op's name.
_PLUMBING = ("tcli.kernels", "tcli.ops.methods", "tcli.ops.inplace")


def public_caller() -> str | None:
    """The outermost tcli function on the stack below the user's code: the op the user called."""
    frame = sys._getframe(2)
    name = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("tcli"):
            code = frame.f_code.co_name
            if not code.startswith("_") and not module.startswith(_PLUMBING):
                owner = frame.f_locals.get("self") if code == "forward" else None
                name = type(owner).__name__ if owner is not None else code  # a layer: its class, not "forward"
        elif name is not None:
            break
        frame = frame.f_back
    return name


@typeof_impl.register(DeviceBuffer)
def _no_cpu_kernel(value, context):
    raise not_supported()


def block_size(nbytes: int) -> int:
    """The size class of a request: 512-byte steps up to 1 MiB, then four steps per doubling, so a request
    of a slightly different size reuses a cached block (at most a quarter of it unused)."""
    if nbytes <= 1 << 20:
        return max(512, -(-nbytes // 512) * 512)
    step = 1 << (nbytes.bit_length() - 3)
    return -(-nbytes // step) * step


def alloc(n: int, np_dtype) -> DeviceBuffer:
    dtype = np.dtype(np_dtype)
    n = max(n, 0)
    size = block_size(n * dtype.itemsize)
    free = _cache.get(size)
    if free:
        block, array = free.pop(_reusable(free, n, dtype))
        _cached[0] -= size
        if array.shape[0] != n or array.dtype != dtype:
            array = _head(block, n, dtype)
    else:
        block = _new_block(size)
        array = _head(block, n, dtype)
    _allocated[0] += size
    _allocated[1] = max(_allocated[1], _allocated[0])
    buf = DeviceBuffer(array)
    _owned[id(buf)] = (size, block, array)
    return buf


def _head(block, n: int, dtype):
    """The first n elements of a block of bytes, as an array of dtype. numba's slice-then-view costs ~15 us (a
    GPU profile of a training step: 4 per step); its array constructor over the block's memory does the same."""
    if DeviceNDArray is None:
        return block[:n * dtype.itemsize].view(dtype)
    return DeviceNDArray((n,), (dtype.itemsize,), dtype, gpu_data=block.gpu_data)


def words(buf: DeviceBuffer) -> DeviceBuffer | None:
    """The 32-bit words over buf's memory, for atomics on narrower elements (a compare-and-swap of the word that
    holds one), or None where buf's memory is not a whole block of ours (another library's could end mid-word)."""
    root = buf
    while root.base is not None:
        root = root.base
    owned = _owned.get(id(root))
    if owned is None:
        return None
    size, block, _ = owned
    return DeviceBuffer(_head(block, size // 4, np.dtype(np.uint32)), base=root)


def _reusable(free: list, n: int, dtype) -> int:
    """The index in ``free`` of a recent block whose array already has n elements of dtype (a training loop asks
    for the same shapes every step, and making numba's array object costs ~10 us), else of the latest block."""
    for index in range(len(free) - 1, max(len(free) - 9, -1), -1):
        array = free[index][1]
        if array.shape[0] == n and array.dtype == dtype:
            return index
    return -1


def _new_block(size: int):
    try:
        return cuda.device_array(size, np.uint8)
    except CudaAPIError:  # out of memory, perhaps only because of the cache
        if not _cached[0]:
            raise
        empty_cache()
        return cuda.device_array(size, np.uint8)


def _release(size, block, array):
    _allocated[0] -= size
    _cache.setdefault(size, []).append((block, array))
    _cached[0] += size


def overlap(a: DeviceBuffer, b: DeviceBuffer) -> bool:
    """Whether two device buffers share memory (their extents meet)."""
    return a.pointer() < b.pointer() + b.nbytes and b.pointer() < a.pointer() + a.nbytes


def empty_cache() -> None:
    """Frees the cached blocks (the device memory of live tensors stays)."""
    _cache.clear()
    _cached[0] = 0


def memory_reserved() -> int:
    return _allocated[0] + _cached[0]


def from_host(host: np.ndarray, non_blocking: bool = False) -> DeviceBuffer:
    """A device copy of a C-contiguous 1-D host array. non_blocking: from page-locked memory (pinned_copy) the
    copy is queued and this returns at once, as PyTorch's does; from other memory it is synchronous anyway."""
    buf = alloc(host.shape[0], host.dtype)
    if host.shape[0]:
        block = _block_of(host) if non_blocking else None
        if block is None:
            buf.array.copy_to_device(np.ascontiguousarray(host))
        else:
            stream = _default_stream()
            buf.array.copy_to_device(host, stream=stream)
            done = cuda.event()
            done.record(stream)
            _copying[id(block)] = done  # the block is not handed out again before this copy has read it
    return buf


def make_stream_wait(pointer: int) -> None:
    """Make another library's stream (a CUDA stream pointer) wait for the work queued so far on tcli's, without
    blocking the host; numba's simulator has no such streams: there, wait for everything."""
    external = getattr(cuda, "external_stream", None)
    if external is None:
        cuda.synchronize()
        return
    done = cuda.event()
    done.record(_default_stream())
    done.wait(external(pointer))


def _default_stream():
    """The legacy default stream, where tcli's kernels run, as a stream object: numba copies asynchronously
    only on one (the simulator has none, and copies at once on any stream)."""
    default = getattr(cuda, "default_stream", None)
    return default() if default is not None else cuda.stream()


def external(pointer: int, n: int, np_dtype, owner, stream=None) -> DeviceBuffer:
    """A buffer over n elements of another library's device memory at ``pointer``, kept alive by ``owner``."""
    if not hasattr(cuda, "from_cuda_array_interface"):
        raise TypeError("numba's CUDA simulator cannot share another library's device memory")
    if stream not in (None, 1, 2):  # not a stream ordered with the legacy default one, where tcli's work runs
        cuda.synchronize()
    dtype = np.dtype(np_dtype)
    if not n:
        return DeviceBuffer(cuda.device_array(0, dtype))
    interface = {"shape": (n,), "typestr": dtype.str, "data": (pointer, False), "strides": None, "version": 3}
    return DeviceBuffer(cuda.from_cuda_array_interface(interface, owner=owner))


def to_host(buf: DeviceBuffer) -> np.ndarray:
    if buf.shape[0] == 0:
        return np.empty(0, buf.dtype)
    return buf.array.copy_to_host()


_pinned = weakref.WeakValueDictionary()  # id -> host array in page-locked memory
_free_pinned: dict = {}  # nbytes -> page-locked blocks whose arrays died (pinning is slow: blocks are reused)
_POOL_LIMIT = 8  # blocks kept per size: a DataLoader pins the same few batch sizes over and over


_copying: dict = {}  # id(page-locked block) -> event after the last asynchronous copy from it


def pinned_copy(host: np.ndarray) -> np.ndarray:
    """A copy of a 1-D host array in page-locked memory (from a pool of blocks: a DataLoader pins every batch)."""
    nbytes = host.shape[0] * host.dtype.itemsize
    blocks = _free_pinned.get(nbytes)
    block = blocks.pop() if blocks else cuda.pinned_array(max(nbytes, 1), np.uint8)
    _wait_for_copies_from(block)
    pinned = np.frombuffer(memoryview(block), host.dtype, host.shape[0])  # the array owns the block's lifetime
    pinned[...] = host
    _pinned[id(pinned)] = pinned
    weakref.finalize(pinned, _return_pinned, nbytes, block)
    return pinned


def _return_pinned(nbytes, block):
    blocks = _free_pinned.setdefault(nbytes, [])
    if len(blocks) < _POOL_LIMIT:
        blocks.append(block)
    else:  # freed now: not before a copy from it has finished
        _wait_for_copies_from(block)


def _wait_for_copies_from(block):
    done = _copying.pop(id(block), None)
    if done is not None:
        done.synchronize()


def _block_of(host):
    """The page-locked block under an array from pinned_copy, or None for other host memory."""
    return host.base.obj if is_pinned(host) else None


def is_pinned(host) -> bool:
    return _pinned.get(id(host)) is host


def memory_allocated() -> int:
    return _allocated[0]


def max_memory_allocated() -> int:
    return _allocated[1]


def reset_peak_memory_stats() -> None:
    _allocated[1] = _allocated[0]
