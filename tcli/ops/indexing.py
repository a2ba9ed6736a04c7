"""Indexing: ``x[key]`` and ``x[key] = v`` with NumPy/PyTorch semantics, gather/scatter, masks, sorting.

Basic indices (ints, slices, None, ...) make views; integer tensors, lists and bool masks select
by offsets into the buffer (copies). Every index is range-checked before a kernel runs.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor, numel_of
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.graph import Node, attach
from ..errors import hint
from . import _dispatch as D
from ._util import broadcast_many, numpy_names, wrap_dim
from .pointwise import _requires
from .shape import permute, reshape, select, slice_dim, unsqueeze

int64, bool_ = _dt.int64, _dt.bool_


# ---- parsing a key ------------------------------------------------------------------------------------------

def _as_index_tensor(obj, device):
    from .creation import tensor
    if isinstance(obj, Tensor):
        return obj
    if isinstance(obj, np.ndarray):
        return tensor(obj, device=device)
    t = tensor(obj, device=device)
    if t.numel() == 0 and t._dtype.is_floating_point:
        t = t.to(int64)
    return t


def _normalize_key(key, x):
    """A tuple of ints, slices, None, Ellipsis and index tensors, with lists/arrays made tensors."""
    if type(key) is list and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, slice)) or k is None or k is Ellipsis for k in key):
        key = tuple(key)  # PyTorch (like old numpy) reads such a list as a tuple of indices
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            out.append(k)
        elif isinstance(k, bool):
            out.append(_as_index_tensor(k, x._device))
        elif isinstance(k, numbers.Integral) or (isinstance(k, np.generic) and np.issubdtype(type(k), np.integer)):
            out.append(int(k))
        elif isinstance(k, Tensor):
            if k._dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors"
                                 + hint("convert the index first: idx.long()."))
            if k.dim() == 0 and k._dtype is not bool_ and k._dtype is not _dt.uint8:
                out.append(int(k.item()))
            else:
                out.append(k if k._dtype is not _dt.uint8 else k.to(bool_))
        elif isinstance(k, (list, tuple, np.ndarray, range)):
            t = _as_index_tensor(list(k) if isinstance(k, range) else k, x._device)
            if t._dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(t)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(k).__name__})")
    return out


def _consumed(k):
    if isinstance(k, Tensor):
        return k.dim() if k._dtype is bool_ else 1
    return 0 if k is None or k is Ellipsis else 1


def _expand_ellipsis(key, ndim):
    """The key with '...' (or the missing trailing dims) as full slices, and for each entry its position in the
    user's key: PyTorch's errors name that position as the dimension ("index 5 is out of bounds for dimension 1")."""
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(k) for k in key)
    if used > ndim and ndim == 0:
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                         "C++ to convert a 0-dim tensor to a number" + hint("t.item() gives the number itself."))
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}"
                         + hint(f"the tensor has {ndim} dim{'s' if ndim != 1 else ''} but the index addresses {used}."))
    if Ellipsis in [k for k in key if not isinstance(k, Tensor)]:
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = ndim - used
        return key[:at] + [slice(None)] * fill + key[at + 1:], \
            list(range(at)) + [at] * fill + list(range(at + 1, len(key)))
    return key + [slice(None)] * (ndim - used), list(range(len(key))) + [len(key)] * (ndim - used)


def _apply_basic(x, key, positions):
    """Apply ints, slices and None as views; return the view and the advanced indices (dim, tensor)."""
    view = x
    dim = 0
    advanced = []
    for k, position in zip(key, positions):
        if k is None:
            view = unsqueeze(view, dim)
            dim += 1
        elif isinstance(k, int):
            view = select(view, dim, k, _key_position=position)
        elif isinstance(k, slice):
            start, stop, step = k.start, k.stop, 1 if k.step is None else k.step
            if isinstance(step, Tensor):
                step = int(step)
            if (start is not None and not isinstance(start, int)) or (stop is not None and not isinstance(stop, int)):
                start = None if start is None else int(start)
                stop = None if stop is None else int(stop)
            if not (start is None and stop is None and step == 1):
                view = slice_dim(view, dim, start, stop, step)
            dim += 1
        elif k._dtype is bool_:
            if k.dim() == 0:  # x[True] adds a dim of 1, x[False] one of 0
                view = unsqueeze(view, dim)
                advanced.append((dim, _bool_scalar_index(k)))
                dim += 1
                continue
            for j in range(k.dim()):
                if k._shape[j] != view._shape[dim + j]:
                    raise IndexError(f"The shape of the mask {list(k._shape)} at index {j} does not match the shape of "
                                     f"the indexed tensor {list(view._shape)} at index {dim + j}"
                                     + hint("a boolean mask must have the shape of the dims it indexes."))
            for j, coords in enumerate(nonzero(k, as_tuple=True)):
                advanced.append((dim + j, coords))
            dim += k.dim()
        else:
            advanced.append((dim, k))
            dim += 1
    return view, advanced


def _bool_scalar_index(k):
    from .creation import zeros
    return zeros(1 if k.item() else 0, dtype=int64)


def _offsets(view, advanced):
    """Flat buffer offsets (a buffer on view's device) for the advanced-index positions (shape B), bounds-checked.

    The index tensors are stacked into one int64 buffer on view's device, so a CUDA tensor's indices (a mask's
    coordinates too) never visit the host: the check sends back only where the first bad one is."""
    idx_shape = broadcast_many(*[t._shape for _, t in advanced])
    count = numel_of(idx_shape)
    stacked = _stacked_indices([t for _, t in advanced], idx_shape, view._device)
    sizes = np.array([view._shape[d] for d, _ in advanced], np.int64)
    strides = np.array([view._strides[d] for d, _ in advanced], np.int64)
    offsets = D.empty((count,), int64, view._device)
    bad = D.kernels(view).index_offsets(offsets._buf, stacked._buf, sizes, strides, view._offset)
    if bad >= 0:
        b, k = divmod(bad, len(advanced))
        d = advanced[k][0]
        value = int(stacked.reshape(len(advanced), -1)[k, b])
        raise IndexError(f"index {value} is out of bounds for dimension {d} with size {view._shape[d]}"
                         + hint(f"valid indices for a dimension of size {view._shape[d]} are "
                                f"{-view._shape[d]}..{view._shape[d] - 1}."))
    return offsets._buf, idx_shape


def _stacked_indices(indices, idx_shape, device):
    """The index tensors as int64, broadcast to idx_shape and stacked (k, *idx_shape), dense on device."""
    from .shape import expand
    as_long = [t.detach() if t._device is device else t.detach().to(device) for t in indices]
    as_long = [t if t._dtype is int64 else D.cast(t, int64) for t in as_long]
    if len(as_long) == 1 and as_long[0]._dense and as_long[0]._shape == idx_shape:
        return as_long[0]  # one index, already as the kernel reads it (a 1-d mask's coordinates, x[y])
    stacked = D.empty((len(as_long),) + idx_shape, int64, device)
    if not numel_of(idx_shape):
        return stacked
    for row, t in enumerate(as_long):
        t = expand(t, idx_shape) if t._shape != idx_shape else t
        if device.type == "cpu":  # numpy's copy costs less than a kernel call at an index's usual size
            stacked._np()[row] = t._np()
        else:
            D.map1_into("copy", select(stacked, 0, row), t)
    return stacked


def _result_layout(view, advanced):
    """Shape and strides of the non-indexed dims, and where the index dims land in the result."""
    adv_dims = [d for d, _ in advanced]
    rest = [d for d in range(view.dim()) if d not in adv_dims]
    adjacent = adv_dims == list(range(adv_dims[0], adv_dims[0] + len(adv_dims)))
    insert_at = sum(1 for d in rest if d < adv_dims[0]) if adjacent else 0
    return rest, insert_at


class IndexBackward0(Node):
    def backward(self, g):
        self.saved_tensors  # noqa: B018 - the indices, saved as PyTorch saves them: a second backward raises
        shape, key = self.ctx
        z = D.empty(shape, g._dtype, g._device)
        D.fill(z, 0)
        _index_put(z, key, g, accumulate=True)
        return (z,)


def _simple_key(x, key):
    """x[i], x[a:b:c] and tuples of them: the view straight away (None if the key is anything else)."""
    if type(key) is int:
        return select(x, 0, key) if x._shape else None
    if type(key) is slice:  # PyTorch slices even for x[:] (SliceBackward0); in tuples full slices are skipped
        return slice_dim(x, 0, key.start, key.stop, 1 if key.step is None else key.step) if x._shape else None
    if type(key) is tuple and len(key) <= len(x._shape) and all(type(k) is int or type(k) is slice for k in key):
        view, dim = x, 0
        for position, k in enumerate(key):
            if type(k) is int:
                view = select(view, dim, k, _key_position=position)
            else:
                view = _slice(view, dim, k)
                dim += 1
        return view
    return None


def _slice(x, dim, k):
    step = 1 if k.step is None else k.step
    if k.start is None and k.stop is None and step == 1:
        return x
    return slice_dim(x, dim, k.start, k.stop, step)


def getitem(x: Tensor, key):
    view = _simple_key(x, key)
    if view is not None:
        return view if view is not x else _alias(x)
    key, positions = _expand_ellipsis(_normalize_key(key, x), x.dim())
    view, advanced = _apply_basic(x, key, positions)
    if not advanced:
        return view if view is not x else _alias(x)
    out = _gather(view, advanced)
    if _requires(view):
        n = IndexBackward0()
        n.ctx = (view._shape, [(d, t.detach()) for d, t in advanced])
        n.save(*[t for _, t in n.ctx[1]])
        attach(n, out, view)
    return out


class AliasBackward0(Node):
    def backward(self, g):
        return (g,)


def _alias(x):
    """x[...] (a key that selects everything): a view of the whole tensor."""
    from .shape import _view
    return _view(x, x._shape, x._strides, x._offset, AliasBackward0)


def _gather(view, advanced):
    offsets, idx_shape = _offsets(view, advanced)
    rest, insert_at = _result_layout(view, advanced)
    rshape = tuple(view._shape[d] for d in rest)
    rstrides = tuple(view._strides[d] for d in rest)
    out = D.empty(idx_shape + rshape, view._dtype, view._device)
    if out.numel():  # a gather only moves bits: float16 travels as uint16
        D.kernels(view).gather_rows(_bits(out._buf), _bits(view._buf), offsets, np.array(rshape or (1,), np.int64),
                        np.array(rstrides or (0,), np.int64))
    if insert_at:
        nb = len(idx_shape)
        order = list(range(nb, nb + insert_at)) + list(range(nb)) + list(range(nb + insert_at, out.dim()))
        out = D.contiguous_copy(permute(out, order))
    return out


def _bits(buf):
    """float16 buffers as uint16 for kernels that only move values (numba has no float16)."""
    return buf.view(np.uint16) if buf.dtype == np.float16 else buf


def _index_put(dst: Tensor, key_or_advanced, value: Tensor, accumulate: bool):
    """dst[key] = value (or += with accumulate), in place, no autograd."""
    if value._device is not dst._device:
        dst, value = D.same_device(dst, value)
    if accumulate and dst._dtype is _dt.float16:  # adding needs arithmetic: do it in float32
        wide = D.cast(dst, _dt.float32)
        _index_put(wide, key_or_advanced, value.to(_dt.float32), True)
        D.map1_into("copy", dst, wide)
        return
    if isinstance(key_or_advanced, list) and key_or_advanced and isinstance(key_or_advanced[0], tuple):
        view, advanced = dst, key_or_advanced
    else:
        key, positions = _expand_ellipsis(_normalize_key(key_or_advanced, dst), dst.dim())
        from ..autograd.grad_mode import no_grad
        with no_grad():
            view, advanced = _apply_basic(dst, key, positions)
    if not advanced:
        if accumulate:
            from .pointwise import add
            D.map1_into("copy", view, add(view, value))
        else:
            D.map1_into("copy", view, value)
        return
    offsets, idx_shape = _offsets(view, advanced)
    rest, insert_at = _result_layout(view, advanced)
    rshape = tuple(view._shape[d] for d in rest)
    rstrides = tuple(view._strides[d] for d in rest)
    target_shape = idx_shape + rshape
    if insert_at:  # value is laid out with the index dims in the middle: move them to the front
        nb = len(idx_shape)
        natural = rshape[:insert_at] + idx_shape + rshape[insert_at:]
        from .shape import expand
        v = expand(value, natural) if value._shape != natural else value
        order = list(range(insert_at, insert_at + nb)) + list(range(insert_at)) + \
            list(range(insert_at + nb, len(natural)))
        v = permute(v, order)
    else:
        from .shape import expand
        try:
            v = expand(value, target_shape) if value._shape != target_shape else value
        except RuntimeError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value._shape)} cannot be broadcast to "
                               f"indexing result of shape {list(target_shape)}") from None
    src = D.contiguous_copy(v if v._dtype is dst._dtype else v.to(dst._dtype))
    if src.numel():
        D.kernels(view).scatter_rows(_bits(view._buf), offsets, np.array(rshape or (1,), np.int64),
                                     np.array(rstrides or (0,), np.int64), _bits(src._buf), accumulate)


class IndexPutBackward(Node):
    """x[key] = v on a tensor with history: the old values' gradient is g with the slice zeroed."""

    def backward(self, g):
        key, value_shape = self.ctx
        nf = self.next_functions
        g_old = None
        if nf[0][0] is not None:
            g_old = D.contiguous_copy(g)
            _index_put(g_old, key, _zeros_scalar(g), accumulate=False)
        g_val = None
        if len(nf) > 1 and nf[1][0] is not None:
            from .reduction import sum_to
            g_val = sum_to(getitem(g, key), value_shape)
        return (g_old, g_val) if len(nf) > 1 else (g_old,)

    def name(self):
        return "CopySlices"


def _zeros_scalar(like):
    z = D.empty((), like._dtype, like._device)
    D.fill(z, 0)
    return z


def setitem(x: Tensor, key, value):
    from .inplace import check_inplace, mark_modified
    if not isinstance(value, Tensor):
        from .creation import tensor
        if isinstance(value, (list, tuple, np.ndarray)):
            value = tensor(value, dtype=x._dtype, device=x._device)
        elif value is None or isinstance(value, str):
            raise TypeError(f"can't assign a {type(value).__name__} to a {_dt.legacy_type_name(x._dtype)}"
                            + hint("assign a number, a list or a tensor."))
        else:
            value = D.empty((), x._dtype, x._device)._fill_number(value)
    lead = 0
    while lead < value.dim() and value._shape[lead] == 1:
        lead += 1
    if lead:  # PyTorch drops a value's leading size-1 dims first: p[i] = model(x[i:i+1]) assigns a (1, n) row
        value = reshape(value, value._shape[lead:])
    if x._requires_grad and x._grad_fn is None and is_grad_enabled():
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation."
                           + hint("assign inside `with tcli.no_grad():`, or clone() the leaf first."))
    needs_grad = check_inplace(x, value)
    if not needs_grad:
        _index_put(x, key, value, accumulate=False)
        mark_modified(x)
        return
    from .inplace import _stand_in, record_inplace
    old = _stand_in(x)
    _index_put(x, key, value.detach(), accumulate=False)
    n = IndexPutBackward()
    n.ctx = (key, value._shape)
    record_inplace(x, n, old, value)


# ---- gather / scatter / index_select / take ------------------------------------------------------------------------

def _check_index_tensor(index, name):
    if not isinstance(index, Tensor) or index._dtype not in (int64, _dt.int32):
        raise RuntimeError(f"{name}(): Expected dtype int64 for index" + hint("convert it with index.long()."))
    return index if index._dtype is int64 else D.cast(index, int64)


def _check_range(index, size, dim):
    flat = index if index._dense else D.contiguous_copy(index)
    bad = D.kernels(flat).check_range(flat._buf, 0, size)
    if bad >= 0:
        value = int(flat._host_np().reshape(-1)[bad])
        raise RuntimeError(f"index {value} is out of bounds for dimension {dim} with size {size}"
                           + hint(f"indices along dim {dim} must be in 0..{size - 1}."))
    return flat


class GatherBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        shape, dim = self.ctx
        z = D.empty(shape, g._dtype, g._device)
        D.fill(z, 0)
        return (scatter_add(z, dim, index, g),)


def gather(input, dim, index, *, sparse_grad=False):
    index = _check_index_tensor(index, "gather")
    d = wrap_dim(dim, input.dim())
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(index.dim()):
        if k != d and index._shape[k] > input._shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(index._shape)} to be no "
                               f"larger than self {list(input._shape)} apart from dimension {d}")
    idx = _check_range(index, input._shape[d] if input.dim() else 1, d)
    out = D.empty(index._shape, input._dtype, input._device)
    compute = input if input._dtype is not _dt.float16 else D.cast(input, _dt.float32)
    target = out if out._dtype is compute._dtype else D.empty(index._shape, compute._dtype, input._device)
    if out.numel():
        D.kernels(compute).gather_dim(target._buf, compute._buf, compute._offset,
                                      np.array(compute._strides or (1,), np.int64), idx._buf,
                                      np.array(index._shape or (1,), np.int64), d)
    if target is not out:
        D.map1_into("copy", out, target)
    if _requires(input):
        n = GatherBackward0()
        n.ctx = (input._shape, d)
        n.save(index)
        attach(n, out, input)
    return out


def _scatter(input, dim, index, src, accumulate, name):
    index = _check_index_tensor(index, name)
    d = wrap_dim(dim, input.dim())
    src_is_tensor = isinstance(src, Tensor)
    if not src_is_tensor:
        src = D.empty((), input._dtype, input._device)._fill_number(src)
    _check_scatter_shapes(input, d, index, src if src_is_tensor else None)
    from .shape import expand
    if src.dim() == 0:
        src = expand(src, index._shape)
    idx = _check_range(index, input._shape[d] if input.dim() else 1, d)
    out = D.contiguous_copy(input.detach())
    s = src if src._dtype is out._dtype else src.to(out._dtype)
    if index.numel():
        if out._dtype is _dt.float16:
            raise NotImplementedError(f"{name} into float16 tensors")
        D.kernels(out).scatter_dim(out._buf, 0, np.array(out._strides or (1,), np.int64), idx._buf, s._buf,
                                   s._offset, np.array(s._strides or (1,), np.int64),
                                   np.array(index._shape or (1,), np.int64), d, accumulate)
    return out, d


def _check_scatter_shapes(input, d, index, src):
    """PyTorch's checks: they also keep the kernel inside both buffers."""
    if index.dim() != input.dim() and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None and src.dim() and src.dim() != index.dim() and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    too_big_self = any(index._shape[k] > input._shape[k] for k in range(index.dim()) if k != d)
    too_big_src = src is not None and src.dim() and any(index._shape[k] > src._shape[k] for k in range(index.dim()))
    if too_big_self or too_big_src:
        what = (f"Expected index {list(index._shape)} to be no larger than self {list(input._shape)} apart from "
                f"dimension {d}")
        if src is not None and src.dim():
            what += f" and to be no larger size than src {list(src._shape)}"
        raise RuntimeError(what + hint("the index gives one position per element of src: make it the same shape "
                                       "as src (or smaller), e.g. index.expand_as(src)."))


class ScatterBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        nf = self.next_functions
        d, src_is_tensor = self.ctx
        g_in = scatter(g, d, index, 0.0) if nf[0][0] is not None else None
        g_src = gather(g, d, index) if src_is_tensor and nf[1][0] is not None else None
        return (g_in, g_src) if src_is_tensor else (g_in,)

    def name(self):
        return "ScatterBackward0" if self.ctx[1] else "ScatterBackward1"  # tensor src / scalar value


class ScatterAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        nf = self.next_functions
        return (g if nf[0][0] is not None else None,
                gather(g, self.ctx, index) if nf[1][0] is not None else None)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    if reduce is not None:
        if reduce != "add":
            raise RuntimeError("tcli's scatter supports reduce='add' only")
        return scatter_add(input, dim, index, src)
    out, d = _scatter(input, dim, index, src, False, "scatter")
    if _requires(input, src if isinstance(src, Tensor) else None):
        n = ScatterBackward0()
        n.ctx = (d, isinstance(src, Tensor))
        n.save(index)
        attach(n, out, input, src if isinstance(src, Tensor) else None)
    return out


def scatter_add(input, dim, index, src):
    out, d = _scatter(input, dim, index, src, True, "scatter_add")
    if _requires(input, src):
        n = ScatterAddBackward0()
        n.ctx = d
        n.save(index)
        attach(n, out, input, src)
    return out


class IndexSelectBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        shape, d = self.ctx
        z = D.empty(shape, g._dtype, g._device)
        D.fill(z, 0)
        return (index_add(z, d, index, g),)


def index_select(input, dim, index):
    if not isinstance(index, Tensor) or index._dtype not in (int64, _dt.int32):
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input.dim() == 0 and index.numel() == 1:  # a 0-d tensor is one element along dim 0 (or -1)
        wrap_dim(dim, 1)
        return reshape(index_select(reshape(input, (1,)), 0, index), ())
    d = wrap_dim(dim, input.dim())
    from ..autograd.grad_mode import no_grad
    with no_grad():
        out = getitem(input.detach(), (slice(None),) * d + (reshape(index, -1),))
    if _requires(input):
        n = IndexSelectBackward0()
        n.ctx = (input._shape, d)
        n.save(index)
        attach(n, out, input)
    return out


class IndexAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        d, alpha = self.ctx
        nf = self.next_functions
        g_source = None
        if nf[1][0] is not None:
            g_source = index_select(g, d, index)
            if alpha != 1:
                g_source = g_source * alpha
        return (g if nf[0][0] is not None else None), g_source


def index_add(input, dim, index, source, *, alpha=1):
    if index.dim() > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    d = wrap_dim(dim, input.dim())
    out = D.contiguous_copy(input.detach())
    src = source.detach() if alpha == 1 else source.detach() * alpha
    _index_put(out, (slice(None),) * d + (index,), src, accumulate=True)
    if _requires(input, source):
        n = IndexAddBackward0()
        n.ctx = (d, alpha)
        n.save(index)
        attach(n, out, input, source)
    return out


class IndexPutBackward0(Node):
    def backward(self, g):
        indices, value_shape, accumulate = self.ctx
        nf = self.next_functions
        g_input = None
        if nf[0][0] is not None:
            g_input = g
            if not accumulate:  # the overwritten elements' old values got no gradient
                g_input = D.contiguous_copy(g)
                _index_put(g_input, indices, _zeros_scalar(g), accumulate=False)
        g_values = None
        if nf[1][0] is not None:
            from .reduction import sum_to
            g_values = sum_to(getitem(g, indices), value_shape)
        return g_input, g_values


def index_put(input, indices, values, accumulate=False):
    """input with input[indices] = values (or += with accumulate, where repeated indices all add up)."""
    if not isinstance(indices, (tuple, list)) or not all(isinstance(i, Tensor) for i in indices):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors"
                        + hint("pass a tuple, e.g. x.index_put((rows,), values) or x.index_put((rows, cols), v)."))
    indices = tuple(indices)
    out = D.contiguous_copy(input.detach())
    _index_put(out, indices, values.detach(), accumulate)
    if _requires(input, values):
        n = IndexPutBackward0()
        n.ctx = (indices, values._shape, accumulate)
        attach(n, out, input, values)
    return out


class TakeBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        z = D.empty((numel_of(self.ctx),), g._dtype, g._device)
        D.fill(z, 0)
        _index_put(z, (index,), g, accumulate=True)
        return (reshape(z, self.ctx),)


def take(input, index):
    flat = reshape(input.detach(), -1)
    out = getitem(flat, (index,))
    if _requires(input):
        n = TakeBackward0()
        n.ctx = input._shape
        n.save(index)
        attach(n, out, input)
    return out


class MaskedSelectBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved_tensors
        z = D.empty(self.ctx, g._dtype, g._device)
        D.fill(z, 0)
        _index_put(z, (mask,), g, accumulate=False)
        return (z,)


def masked_select(input, mask):
    from .shape import broadcast_tensors
    x, m = broadcast_tensors(input.detach(), mask)
    out = getitem(x, (m,))
    if _requires(input):
        n = MaskedSelectBackward0()
        n.ctx = x._shape
        n.save(m)
        attach(n, out, input)
    return out


def nonzero(input, *, as_tuple=False):
    x = input if input._dense else D.contiguous_copy(input)
    if x._dtype is _dt.float16:
        x = D.cast(x, _dt.float32)
    count = D.kernels(x).count_nonzero(x._buf)
    nd = input.dim()
    out = D.empty((count, nd), int64, input._device)
    if count and nd:
        D.kernels(x).nonzero(out._buf, x._buf, np.array(input._shape, np.int64))
    if as_tuple:
        if nd == 0:
            return (D.empty((count,), int64, input._device)._fill_number(0),)
        return tuple(out[:, i].contiguous() for i in range(nd))
    return out


def argwhere(input):
    return nonzero(input)


# ---- one_hot -------------------------------------------------------------------------------------------------------

def one_hot(tensor, num_classes=-1):
    if not isinstance(tensor, Tensor) or tensor._dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor."
                           + hint("class indices must be int64: labels.long()."))
    flat = tensor if tensor._dense else D.contiguous_copy(tensor)
    if num_classes == -1 and tensor.numel() == 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    values = flat._host_np().reshape(-1)  # read on the host: the class count and the checks need the values
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if flat.numel() else 0
    if tensor.numel():
        if int(values.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(values.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes."
                               + hint(f"the largest class value is {int(values.max())}, so num_classes must be at "
                                      f"least {int(values.max()) + 1}."))
    out = D.empty(tensor._shape + (num_classes,), int64, tensor._device)
    D.fill(out, 0)
    if tensor.numel():
        D.kernels(out).one_hot(out._buf, flat._buf, num_classes)
    return out


# ---- sort / topk / unique --------------------------------------------------------------------------------------------

class SortBackward0(Node):
    def backward(self, g):
        (indices,) = self.saved_tensors
        shape, d = self.ctx[:2]
        z = D.empty(shape, g._dtype, g._device)
        D.fill(z, 0)
        return (scatter(z, d, indices, g),)

    def name(self):
        return self.ctx[2] if len(self.ctx) > 2 else "SortBackward0"


def _sort_last(x, descending):
    """Sort along the last dim of a dense copy: (values, indices)."""
    n = x._shape[-1] if x.dim() else 1
    rows = x.numel() // n if n else 0
    values = D.empty(x._shape, x._dtype, x._device)
    indices = D.empty(x._shape, int64, x._device)
    if x.numel():
        D.kernels(x).sort_rows(values._buf, indices._buf, x._buf, rows, n, descending)
    return values, indices


@numpy_names
def sort(input, dim=-1, descending=False, stable=False):
    from .reduction import ReturnTypes
    from .shape import transpose
    d = wrap_dim(dim, input.dim()) if input.dim() else 0
    last = input.dim() - 1
    compute = input.detach() if input._dtype is not _dt.float16 else D.cast(input.detach(), _dt.float32)
    x = D.contiguous_copy(transpose(compute, d, last) if input.dim() and d != last else compute)
    values, indices = _sort_last(x, bool(descending))
    if input.dim() and d != last:
        values = D.contiguous_copy(transpose(values, d, last))
        indices = D.contiguous_copy(transpose(indices, d, last))
    if values._dtype is not input._dtype:
        values = D.cast(values, input._dtype)
    if _requires(input):
        n = SortBackward0()
        n.ctx = (input._shape, d)
        n.save(indices)
        attach(n, values, input)
    return ReturnTypes.of("sort")((values, indices))


@numpy_names
def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input.detach(), dim, descending, stable)[1]


def msort(input):
    return sort(input, 0)[0]


def _one_element(input, dim, op, name):
    """PyTorch's ops along a dim take a 0-d tensor as one element (dim 0 or -1 is valid): op on the tensor as
    shape (1,) along dim 0, its (values, indices) back as 0-d."""
    from .reduction import ReturnTypes
    wrap_dim(dim, 1)
    values, indices = op(reshape(input, (1,)), 0)
    return ReturnTypes.of(name)((reshape(values, ()), reshape(indices, ())))


@numpy_names
def topk(input, k, dim=-1, largest=True, sorted=True):
    from .reduction import ReturnTypes
    if input.dim() == 0:
        return _one_element(input, dim, lambda x, d: topk(x, k, d, largest, sorted), "topk")
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if k < 0 or k > size:
        raise RuntimeError("selected index k out of range"
                           + hint(f"k must be between 0 and {size} (the size of dim {d})."))
    values, indices = sort(input.detach(), d, descending=largest)
    values = D.contiguous_copy(slice_dim(values, d, 0, k))
    indices = D.contiguous_copy(slice_dim(indices, d, 0, k))
    if _requires(input):
        n = SortBackward0()
        n.ctx = (input._shape, d, "TopkBackward0")
        n.save(indices)
        attach(n, values, input)
    return ReturnTypes.of("topk")((values, indices))


def kthvalue(input, k, dim=-1, keepdim=False):
    from .reduction import ReturnTypes
    if input.dim() == 0:
        return _one_element(input, dim, lambda x, d: kthvalue(x, k, d), "kthvalue")
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return ReturnTypes.of("kthvalue")(_pick_along(input, d, k - 1, keepdim, "KthvalueBackward0"))


class MedianBackward0(Node):
    """median() of a whole tensor: the gradient is shared evenly by the elements equal to it, as PyTorch does."""

    def backward(self, g):
        from .reduction import _evenly
        x, result = self.saved_tensors
        return (_evenly(g, x, result),)


@numpy_names
def median(input, dim=None, keepdim=False):
    from .reduction import ReturnTypes
    if dim is None:
        flat = reshape(input.detach(), -1)
        if flat.numel() == 0 or (flat._dtype.is_floating_point and bool(flat.isnan().any())):
            result = D.filled((), input._dtype, float("nan"), input._device)  # PyTorch: NaN (or nothing) gives NaN
        else:
            result = D.contiguous_copy(sort(flat)[0][(flat.numel() - 1) // 2])
        if _requires(input):
            n = MedianBackward0()
            n.save(input, result)
            attach(n, result, input)
        return result
    if input.dim() == 0:
        return _one_element(input, dim, lambda x, d: median(x, d), "median")
    d = wrap_dim(dim, input.dim())
    return ReturnTypes.of("median")(_pick_along(input, d, (input._shape[d] - 1) // 2, keepdim, "MedianBackward1"))


def _pick_along(input, d, rank, keepdim, node_name):
    """(values, indices) of the rank-th smallest along d (kthvalue, median(dim)); the gradient flows to the index
    picked, through a node named as PyTorch names it."""
    from .reduction import MaxBackward0
    values, indices = sort(input.detach(), d)
    v, i = D.contiguous_copy(select(values, d, rank)), D.contiguous_copy(select(indices, d, rank))
    if keepdim:
        v, i = unsqueeze(v, d), unsqueeze(i, d)
    if _requires(input):
        n = MaxBackward0()
        n.ctx = (input._shape, d, keepdim, node_name)
        n.save(i)
        attach(n, v, input)
    return v, i


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if dim is not None:
        raise NotImplementedError("tcli.unique(dim=...) is not supported yet; use unique() on the flattened tensor")
    flat = D.contiguous_copy(reshape(input.detach(), -1))
    if flat._dtype is _dt.float16:  # found in float32 (numba has no float16 kernels), every value exact
        found = unique(D.cast(flat, _dt.float32), sorted, return_inverse, return_counts)
        found = list(found) if isinstance(found, tuple) else [found]
        found[0] = D.cast(found[0], input._dtype)
        if return_inverse:
            found[1] = reshape(found[1], input._shape)
        return found[0] if len(found) == 1 else tuple(found)
    n = flat.numel()
    values_sorted, order = _sort_last(flat, False) if n else (flat, D.empty((0,), int64, flat._device))
    values = D.empty((n,), input._dtype, input._device)
    inverse = D.empty((n,), int64, input._device)
    counts = D.empty((n,), int64, input._device)
    m = (D.kernels(values).unique_sorted(values._buf, inverse._buf, counts._buf, values_sorted._buf, order._buf)
         if n else 0)
    values = slice_dim(values, 0, 0, m).contiguous()
    result = [values]
    if return_inverse:
        result.append(reshape(inverse, input._shape))
    if return_counts:
        result.append(slice_dim(counts, 0, 0, m).contiguous())
    return result[0] if len(result) == 1 else tuple(result)


def bincount(input, weights=None, minlength=0):
    if input.dim() != 1 or input._dtype.is_floating_point or (input.numel() and int(input.min().item()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    size = max(minlength, int(input.max().item()) + 1 if input.numel() else 0)
    from .creation import zeros
    out_dtype = int64 if weights is None else (weights._dtype if weights._dtype.is_floating_point else _dt.float64)
    out = zeros(size, dtype=out_dtype, device=input.device)
    if weights is not None and weights._dtype is not out_dtype:
        weights = weights.to(out_dtype)
    if input.numel():
        src = weights if weights is not None else D.empty(input._shape, int64, input._device)._fill_number(1)
        _index_put(out, (input,), src, accumulate=True)
    return out
