"""``tcli.save`` / ``tcli.load`` in PyTorch's own checkpoint format, so files go both ways between tcli and PyTorch.

The format is the zip archive ``torch.save`` writes by default: ``<name>/data.pkl`` is a protocol-2 pickle in which
each tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`` and each
storage a persistent id ``('storage', torch.FloatStorage, key, 'cpu', numel)`` whose raw little-endian bytes are the
record ``<name>/data/<key>``. A storage is a tensor's whole buffer, written once however many views share it, so
views come back sharing memory, as in PyTorch.

Loading never imports or calls anything a file names: the unpickler resolves only an explicit allow-list of globals
to tcli's own objects and checks every tensor's view against its storage before a kernel can touch it. Saving
refuses, before the file is opened, anything loading would refuse.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict
from types import FunctionType

import numpy as np

from . import cuda
from . import dtypes as _dt
from ._size import Size
from ._tensor import Tensor
from .device import CPU, device
from .errors import hint

__all__ = ["save", "load"]

_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"  # pickled magic number of torch's pre-1.6 format
_ALIGN = 64  # storage records start on 64-byte boundaries (PyTorch's kFieldAlignment), so torch.load can mmap them
_U32 = 0xFFFFFFFF  # sizes and offsets at or above this go in zip64 extra fields

_LOADS = ("tensors of tcli's dtypes (bool, uint8, int8, int16, int32, int64, float16, float32, float64), "
          "nn.Parameter, torch.Size, dtypes, devices and dict, OrderedDict, list, tuple, str, int, float, bool, None")


class _StorageType:
    """``torch.FloatStorage`` and friends: in a file they only say which dtype a storage holds."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class _Storage:
    """A flat buffer of one dtype: what one ``data/<key>`` record holds. ``buf`` is in host memory; a storage
    of a CUDA tensor also keeps its device buffer, and ``location`` says where tensors over it live."""

    __slots__ = ("buf", "dtype", "key", "location", "device_buf")

    def __init__(self, buf, dtype, key, location=CPU, device_buf=None):
        self.buf, self.dtype, self.key = buf, dtype, key
        self.location, self.device_buf = location, device_buf


@functools.cache
def _parameter_class():
    """nn.Parameter when tcli has it (imported late: tcli.nn imports this module's package)."""
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


def _malformed(what):
    return pickle.UnpicklingError(f"Weights only load failed. Malformed {what} in the file." + hint(
        "the file is damaged or was not written by torch.save or tcli.save."))


def _is_index_tuple(value):
    return type(value) is tuple and all(type(v) is int and v >= 0 for v in value)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """``torch._utils._rebuild_tensor_v2``: a view of a loaded storage. The file is untrusted, so the view must lie
    inside the storage (tcli's kernels index buffers without bounds checks). Hooks and metadata are dropped: a
    weights-only file cannot hold callables."""
    if (type(storage) is not _Storage or type(storage_offset) is not int or storage_offset < 0
            or not _is_index_tuple(size) or not _is_index_tuple(stride) or len(size) != len(stride)
            or type(requires_grad) is not bool):
        raise _malformed("tensor")
    n = storage.buf.shape[0]
    if all(size):
        needed = storage_offset + 1 + sum((d - 1) * s for d, s in zip(size, stride))
        if needed > n:
            item = storage.dtype.itemsize
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                               f"{storage_offset}, and itemsize {item} requiring a storage size of {needed * item} "
                               f"are out of bounds for storage of size {n * item}"
                               + hint("the file is damaged: a tensor reaches past the end of its storage."))
    if storage.location is CPU:
        t = Tensor._make(storage.buf, size, stride, storage_offset, storage.dtype)
    else:  # every tensor over the storage shares one device copy of it
        if storage.device_buf is None:
            storage.device_buf = cuda.backend().from_host(storage.buf)
        t = Tensor._make(storage.device_buf, size, stride, storage_offset, storage.dtype, device=storage.location)
    return t.requires_grad_(requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """``torch._utils._rebuild_parameter``: an nn.Parameter, or a tensor that requires grad while tcli has none."""
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise _malformed("parameter")
    parameter = _parameter_class()
    if parameter is None:
        return data.requires_grad_(requires_grad)
    return parameter(data, requires_grad)


# The only globals a file may name, and what they mean in tcli. Saving writes these names for the same objects.
_STORAGE_TYPES = {d: _StorageType(d) for d in _dt.ALL}
_GLOBALS = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): Size,
    ("torch", "device"): device,
    **{("torch", _dt.scalar_name(d) + "Storage"): st for d, st in _STORAGE_TYPES.items()},
    **{("torch", d.name): d for d in _dt.ALL},
}
_NAMES = {id(obj): name for name, obj in _GLOBALS.items()}
_PLAIN = frozenset({dict, OrderedDict, list, tuple, str, int, float, bool, type(None)})


# ---- saving -----------------------------------------------------------------------------------------------------

class _Pickler(pickle._Pickler):
    """Protocol-2 pickler that writes tensors as PyTorch does and tcli's globals under PyTorch's names. The pure
    Python pickler is used because only it lets a global be written under a name that is not its import path."""

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = {}  # id(buffer) -> _Storage, in key order; holds the buffers so their ids stay unique
        self.dtype_at = {}  # data pointer -> dtype: one memory saved as two dtypes could not load as one storage

    def persistent_id(self, obj):
        if type(obj) is _Storage:
            return ("storage", _STORAGE_TYPES[obj.dtype], obj.key, str(obj.location), obj.buf.shape[0])
        return None

    def reducer_override(self, obj):
        kind = type(obj)
        if kind in _PLAIN or id(obj) in _NAMES:
            return NotImplemented
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if kind is Size:
            return Size, (tuple(obj),)
        if kind is device:
            return device, (str(obj),)
        raise pickle.PicklingError(f"tcli.save cannot save an object of type '{kind.__module__}.{kind.__qualname__}'"
                                   + hint(f"tcli.save writes only what tcli.load can rebuild: {_LOADS}. Save "
                                          "model.state_dict() rather than the model; convert numpy arrays with "
                                          "tcli.from_numpy."))

    def _reduce_tensor(self, t):
        parameter = _parameter_class()
        if parameter is not None and isinstance(t, parameter):
            return _rebuild_parameter, (t.detach(), t.requires_grad, OrderedDict())
        buf = t._buf
        storage = self.storages.get(id(buf))
        if storage is None:
            on_device = t._device is not CPU
            address = buf.pointer() if on_device else buf.ctypes.data
            if buf.shape[0] and self.dtype_at.setdefault(address, t._dtype) is not t._dtype:
                raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different "
                                   "types" + hint("save one of them as a copy: x.view(dtype).clone()."))
            key = str(len(self.storages))
            storage = self.storages[id(buf)] = (
                _Storage(cuda.backend().to_host(buf), t._dtype, key, t._device, device_buf=buf) if on_device
                else _Storage(buf, t._dtype, key))
        return _rebuild_tensor_v2, (storage, int(t._offset), tuple(map(int, t._shape)), tuple(map(int, t._strides)),
                                    t.requires_grad, OrderedDict())

    def save_global(self, obj, name=None):
        module, name = _NAMES[id(obj)]  # reducer_override let only allow-listed globals through
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self.memoize(obj)

    dispatch = {**pickle._Pickler.dispatch, FunctionType: save_global, type: save_global, _dt.dtype: save_global,
                _StorageType: save_global}


class _ZipWriter:
    """Uncompressed zip records laid out byte for byte as PyTorch's writer (miniz) lays them out: an 'FB' extra
    field pads each record's data to a 64-byte boundary, a data descriptor follows it, and the archive ends with
    zip64 end records. torch.load's mmap mode computes storage offsets from that layout."""

    def __init__(self, file, prefix):
        self.file, self.prefix, self.pos, self.entries = file, prefix, 0, []

    def _write(self, *chunks):
        for chunk in chunks:
            self.file.write(chunk)
            self.pos += len(chunk)

    @staticmethod
    def _zip64(size, offset):
        fields = ((size, size) if size >= _U32 else ()) + ((offset,) if offset >= _U32 else ())
        return struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""

    def record(self, name, data):
        """Add one record; ``data`` is bytes or a 1-D byte memoryview (written without a copy)."""
        name = f"{self.prefix}/{name}".encode()
        size, offset = len(data), self.pos
        zip64 = self._zip64(size, offset)
        pad = -(offset + 30 + len(name) + len(zip64) + 4) % _ALIGN
        extra = zip64 + struct.pack("<2sH", b"FB", pad) + b"Z" * pad
        flags = 0x0808 if size else 0x0800  # UTF-8 names; a data descriptor after non-empty data
        self._write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0, len(name), len(extra)),
                    name, extra, data)
        crc = zlib.crc32(data)
        if size:
            self._write(struct.pack("<IIQQ" if zip64 else "<IIII", 0x08074B50, crc, size, size))
        self.entries.append((name, flags, crc, size, offset))

    def finish(self):
        start = self.pos
        for name, flags, crc, size, offset in self.entries:
            extra = self._zip64(size, offset)
            self._write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0, 0, flags, 0, 0, 0, crc, min(size, _U32),
                                    min(size, _U32), len(name), len(extra), 0, 0, 0, 0, min(offset, _U32)),
                        name, extra)
        n, size, end64 = len(self.entries), self.pos - start, self.pos
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, size, start),
                    struct.pack("<IIQI", 0x07064B50, 0, end64, 1),
                    struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), min(size, _U32),
                                min(start, _U32), 0))


def save(obj, f) -> None:
    """Save ``obj`` (tensors, Parameters, state_dicts and plain containers of them) to the path or writable
    binary file ``f`` in PyTorch's zip format: ``torch.load(f)`` reads it back, as ``tcli.load`` does.

    Like ``torch.save``, a tensor is saved with its whole storage: a small view of a large tensor writes all of it
    (save ``x.clone()`` to write only the view's elements).
    """
    is_path = isinstance(f, (str, os.PathLike))
    if not is_path and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    pickled = io.BytesIO()
    pickler = _Pickler(pickled)
    pickler.dump(obj)
    if is_path:
        path = os.fspath(f)
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        prefix = os.path.splitext(os.path.basename(path))[0] or "archive"  # PyTorch names the archive after the file
        with open(path, "wb") as file:
            _write_archive(file, prefix, pickled.getvalue(), pickler.storages.values())
    else:
        _write_archive(f, "archive", pickled.getvalue(), pickler.storages.values())


def _write_archive(file, prefix, data_pkl, storages):
    """The records in the order PyTorch 2.x writes them."""
    zf = _ZipWriter(file, prefix)
    zf.record("data.pkl", data_pkl)
    zf.record(".format_version", b"1")
    zf.record(".storage_alignment", str(_ALIGN).encode())
    zf.record("byteorder", sys.byteorder.encode())
    for storage in storages:
        zf.record(f"data/{storage.key}", memoryview(np.ascontiguousarray(storage.buf).view(np.uint8)))
    zf.record("version", b"3\n")
    random_id = int.from_bytes(os.urandom(16), "little") % 10**40  # only identifies the file
    zf.record(".data/serialization_id", f"{random_id:040d}".encode())
    zf.finish()


# ---- loading ----------------------------------------------------------------------------------------------------

class _Unpickler(pickle._Unpickler):
    """An unpickler that can only build what ``_GLOBALS`` names. The pure Python unpickler is used because it lets
    BUILD be restricted: the C one would set any attribute of any object (a tensor's buffer or offset, say)."""

    def __init__(self, file, load_storage):
        super().__init__(file, encoding="utf-8")
        self.load_storage = load_storage

    def find_class(self, module, name):
        obj = _GLOBALS.get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(
                f"Weights only load failed. Unsupported global: GLOBAL {module}.{name} was not an allowed global by "
                "default." + hint(f"tcli.load rebuilds only {_LOADS}; it never imports or runs what a file names, "
                                  "whatever weights_only says. Save model.state_dict() rather than the model."))
        return obj

    def persistent_load(self, pid):
        if (type(pid) is not tuple or len(pid) != 5 or pid[0] != "storage" or type(pid[1]) is not _StorageType
                or type(pid[2]) is not str or type(pid[3]) is not str or type(pid[4]) is not int or pid[4] < 0):
            raise _malformed("storage reference")
        return self.load_storage(pid[1].dtype, pid[2], pid[3], pid[4])

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is not OrderedDict or type(state) is not dict:  # a state_dict's _metadata is the only use
            raise pickle.UnpicklingError(f"Weights only load failed. Can only build OrderedDict, but got {type(inst)}"
                                         + hint("the file sets attributes on an object, which tcli.load never does."))
        inst.__dict__.update(state)

    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: load_build}


def _check_location(location):
    """The device a storage tagged ``location`` loads on."""
    kind = location.partition(":")[0]
    if kind == "cpu":
        return CPU
    if kind == "cuda" and not cuda.is_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
                           "If you are running on a CPU-only machine, please use torch.load with "
                           "map_location=torch.device('cpu') to map your storages to the CPU."
                           + hint("pass map_location='cpu': tcli.load(f, map_location='cpu')."))
    if kind == "cuda":
        return cuda.check_device(device(location))
    raise RuntimeError(f"don't know how to restore data location of torch.storage.UntypedStorage (tagged with "
                       f"{location})" + hint("pass map_location='cpu' to load every storage on the CPU."))


def _restore(map_location, storage, location):
    """Place a storage by torch.load's map_location rules (None, a location, a dict of locations, or a callable
    that returns a storage or None); every storage tcli loads stays on the CPU."""
    if isinstance(map_location, dict):
        location = map_location.get(location, location)
    elif callable(map_location):
        placed = map_location(storage, location)
        if placed is not None:
            if type(placed) is not _Storage:
                raise TypeError(f"map_location should return a storage or None, got {type(placed).__name__}")
            return placed
    elif map_location is not None:
        location = map_location
    storage.location = _check_location(location.decode() if isinstance(location, bytes) else str(location))
    return storage


@contextlib.contextmanager
def _opened(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            yield file
        return
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as e:
        raise type(e)(f"{e}. You can only torch.load from a file that is seekable. Please pre-load the data into a "
                      "buffer like io.BytesIO and try to load from it instead.") from None
    yield f


def _check_zip(file):
    start = file.tell()
    head = file.read(len(_LEGACY_MAGIC))
    file.seek(start)
    if head.startswith(b"PK\x03\x04"):
        return
    if head == _LEGACY_MAGIC:
        raise RuntimeError("tcli.load reads PyTorch's zip checkpoint format (torch.save's default since PyTorch 1.6), "
                           "but this file is in the legacy format (_use_new_zipfile_serialization=False)."
                           + hint("load it in PyTorch and save it again with a plain torch.save(obj, path)."))
    raise RuntimeError("tcli.load: this is not a file written by torch.save or tcli.save (no zip header at its start)."
                       + hint("tcli.load reads the checkpoints torch.save and tcli.save write (zip archives)."))


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """Load what ``tcli.save`` or ``torch.save`` wrote to the path or seekable binary file ``f``.

    Loading is always weights-only: the file may hold tensors, nn.Parameters, torch.Size, dtypes, devices and
    dict/OrderedDict/list/tuple/str/int/float/bool/None, and nothing in it is imported or run. ``weights_only=False``
    is accepted so PyTorch code runs unchanged, but does not lift that restriction: tcli cannot unpickle arbitrary
    objects safely, and a checkpoint that needs them must be re-saved as a state_dict. ``map_location`` follows
    torch.load (a location, device, dict or callable); a storage saved from a CUDA tensor loads back on the GPU,
    and a 'cuda' location raises PyTorch's error while CUDA is unavailable. ``mmap`` is accepted and ignored:
    storages are read into memory.
    """
    if pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified"
                           + hint("drop pickle_module: tcli.load always uses its own weights-only unpickler."))
    with _opened(f) as file:
        _check_zip(file)
        try:
            zf = zipfile.ZipFile(file)
        except zipfile.BadZipFile as e:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e}") from None
        with zf:
            return _load_archive(zf, file, map_location)


def _read_into(file, info, buf):
    """Read a stored record straight from the file into ``buf``: no intermediate bytes and, as in PyTorch, no
    CRC check, so loading runs at disk speed."""
    file.seek(info.header_offset)
    header = file.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04" or info.compress_type != zipfile.ZIP_STORED:
        raise _malformed("storage record")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    file.seek(info.header_offset + 30 + name_len + extra_len)
    view, done = memoryview(buf.view(np.uint8)), 0
    while done < len(view):
        n = file.readinto(view[done:])
        if not n:
            raise _malformed("storage record (the file ends inside it)")
        done += n


def _load_archive(zf, file, map_location):
    names = zf.namelist()
    first = names[0] if names else ""
    prefix, slash, _ = first.partition("/")
    if not slash:
        raise RuntimeError(f"file in archive is not in a subdirectory: {first}")

    def record(name):
        try:
            return zf.getinfo(f"{prefix}/{name}")
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found") from None

    byteorder = zf.read(record("byteorder")) if f"{prefix}/byteorder" in zf.NameToInfo else b"little"
    if byteorder not in (b"little", b"big"):
        raise ValueError("Unknown endianness type: " + byteorder.decode(errors="replace"))
    swap = byteorder.decode() != sys.byteorder
    loaded = {}

    def load_storage(dtype, key, location, numel):
        storage = loaded.get(key)
        if storage is None:
            info = record(f"data/{key}")
            if info.file_size != numel * dtype.itemsize:
                raise _malformed("storage size")
            buf = np.empty(numel, dtype.np)  # aligned and writable, as tcli's dense kernels require
            _read_into(file, info, buf)
            if swap:
                buf.byteswap(inplace=True)
            storage = loaded[key] = _restore(map_location, _Storage(buf, dtype, key), location)
        return storage

    return _Unpickler(io.BytesIO(zf.read(record("data.pkl"))), load_storage).load()
