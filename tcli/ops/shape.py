"""Views and layout ops: view/reshape, squeeze, transpose/permute, expand, slicing, split, cat/stack, ...

Views share storage (and the version counter) with their base exactly where PyTorch's do; they are
metadata only. Ops that must copy (flip, roll, repeat, cat, ...) write through the copy kernel.
"""

from __future__ import annotations

import warnings

from .. import dtypes as _dt
from .._tensor import Tensor, contiguous_strides, numel_of
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, attach, attach_multi
from ..errors import hint, shape_str
from . import _dispatch as D
from ._util import normalize_shape, numpy_names, wrap_dim, wrap_dims
from .pointwise import _requires


def _view(x: Tensor, shape, strides, offset, node_cls=None, ctx=None, dense=None):
    v = x._view_of(tuple(shape), tuple(strides), offset, dense)
    if node_cls is not None and x._requires_grad and STATE.enabled:
        n = node_cls()
        n.ctx = ctx
        attach(n, v, x)
    return v


# ---- view / reshape -------------------------------------------------------------------------------------

def infer_size(shape, numel: int) -> tuple:
    shape = list(shape)
    infer_at = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer_at is not None:
                raise RuntimeError("only one dimension can be inferred"
                                   + hint("use -1 for at most one dimension; give the others explicitly."))
            infer_at = i
        elif s >= 0:
            known *= s
        else:
            raise RuntimeError(f"invalid shape dimension {s}")
    if infer_at is not None and known == 0:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape_str(shape)} because the "
                           "unspecified dimension size -1 can be any value and is ambiguous")
    if numel == known or (infer_at is not None and numel % known == 0):
        if infer_at is not None:
            shape[infer_at] = numel // known
        return tuple(shape)
    fix = ""
    if infer_at is None and len(shape) > 1:
        fix = f" Use -1 for the dimension to infer, e.g. .reshape(-1, {shape[-1]})."
    raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}"
                       + hint(f"the target shape must hold exactly {numel} elements (it holds "
                              f"{known}{' times the inferred size' if infer_at is not None else ''})." + fix))


def view_strides(old_shape, old_strides, new_shape):
    """Strides that show the same memory with ``new_shape``, or None (PyTorch's computeStride)."""
    if numel_of(old_shape) == 0 or not old_shape:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base = old_strides[d - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


class ViewBackward0(Node):
    def backward(self, g):
        return (reshape(g, self.ctx),)


class UnsafeViewBackward0(ViewBackward0):
    pass


def _new_shape(input, shape):
    new_shape = normalize_shape(shape)
    if -1 in new_shape or numel_of(new_shape) != numel_of(input._shape):
        new_shape = infer_size(new_shape, numel_of(input._shape))
    return new_shape


def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
        return _view_as_dtype(input, shape[0])
    new_shape = _new_shape(input, shape)
    if input._dense:  # the common case: a whole contiguous buffer takes any shape of its size
        return _view(input, new_shape, contiguous_strides(new_shape), 0, ViewBackward0, input._shape, True)
    strides = view_strides(input._shape, input._strides, new_shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead."
            + hint(f"this tensor is not contiguous (strides {list(input._strides)}), e.g. after .t() or "
                   f".transpose(); use .reshape({', '.join(map(str, new_shape))}) or .contiguous().view(...)."))
    return _view(input, new_shape, strides, input._offset, ViewBackward0, input._shape)


def _view_as_dtype(input, dtype):
    if dtype.itemsize != input._dtype.itemsize:
        raise RuntimeError("tcli supports view(dtype) only between dtypes of the same size")
    buf = input._buf.view(dtype.np)
    t = Tensor._make(buf, input._shape, input._strides, input._offset, dtype, input._vc, input._dense)
    return t


def reshape(input, *shape):
    new_shape = _new_shape(input, shape)
    if input._dense:
        return _view(input, new_shape, contiguous_strides(new_shape), 0, ViewBackward0, input._shape, True)
    if new_shape == input._shape:
        return _view(input, new_shape, input._strides, input._offset, ViewBackward0, input._shape)
    strides = view_strides(input._shape, input._strides, new_shape)
    if strides is not None:
        return _view(input, new_shape, strides, input._offset, ViewBackward0, input._shape)
    copy = clone(input)
    return _view(copy, new_shape, contiguous_strides(new_shape), 0, UnsafeViewBackward0, input._shape)


def view_as(input, other):
    return view(input, other._shape)


def reshape_as(input, other):
    return reshape(input, other._shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input.dim()
    if nd == 0:
        return reshape(input, 1)
    start, end = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input._shape[:start] + (numel_of(input._shape[start:end + 1]),) + input._shape[end + 1:]
    return reshape(input, shape)


def ravel(input):
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input.dim())
    sizes = infer_size(tuple(sizes), input._shape[d])
    return view(input, input._shape[:d] + tuple(sizes) + input._shape[d + 1:]) if input.is_contiguous() else \
        reshape(input, input._shape[:d] + tuple(sizes) + input._shape[d + 1:])


# ---- squeeze / unsqueeze ----------------------------------------------------------------------------------

class SqueezeBackward0(Node):
    def backward(self, g):
        return (reshape(g, self.ctx),)


class SqueezeBackward1(SqueezeBackward0):
    pass


class SqueezeBackward2(SqueezeBackward0):
    pass


@numpy_names
def squeeze(input, dim=None):
    if dim is None:
        keep = [i for i, s in enumerate(input._shape) if s != 1]
        node = SqueezeBackward0
    else:
        dims = wrap_dims(dim if isinstance(dim, (tuple, list)) else (dim,), input.dim())
        keep = [i for i, s in enumerate(input._shape) if not (i in dims and s == 1)]
        node = SqueezeBackward2 if isinstance(dim, (tuple, list)) else SqueezeBackward1
    return _view(input, [input._shape[i] for i in keep], [input._strides[i] for i in keep], input._offset,
                 node, input._shape)


class UnsqueezeBackward0(Node):
    def backward(self, g):
        return (squeeze(g, self.ctx),)


@numpy_names
def unsqueeze(input, dim):
    d = wrap_dim(dim, input.dim() + 1)
    shape = list(input._shape)
    strides = list(input._strides)
    stride = shape[d] * strides[d] if d < len(shape) else 1
    shape.insert(d, 1)
    strides.insert(d, stride)
    return _view(input, shape, strides, input._offset, UnsqueezeBackward0, d)


# ---- transpose / permute ------------------------------------------------------------------------------------

class TransposeBackward0(Node):
    def backward(self, g):
        return (transpose(g, *self.ctx),)


class TBackward0(Node):
    transposes_grad = True

    def backward(self, g):
        return (t(g),)


class PermuteBackward0(Node):
    def backward(self, g):
        inverse = [0] * len(self.ctx)
        for i, d in enumerate(self.ctx):
            inverse[d] = i
        return (permute(g, inverse),)


def transpose(input, dim0, dim1):
    nd = input.dim()
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    shape, strides = list(input._shape), list(input._strides)
    if nd:
        shape[a], shape[b] = shape[b], shape[a]
        strides[a], strides[b] = strides[b], strides[a]
    return _view(input, shape, strides, input._offset, TransposeBackward0, (a, b))


swapaxes = swapdims = transpose


def t(input):
    nd = input.dim()
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D"
                           + hint("use .transpose(dim0, dim1), .permute(...) or .mT for the last two dims."))
    if nd < 2:
        return _view(input, input._shape, input._strides, input._offset, TBackward0)
    return _view(input, input._shape[::-1], input._strides[::-1], input._offset, TBackward0)


def permute(input, *dims):
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = normalize_shape(dims) if dims and not isinstance(dims[0], (tuple, list)) else tuple(dims[0])
    nd = input.dim()
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
                           f"to len(dims) = {len(dims)}")
    wrapped = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(wrapped)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view(input, [input._shape[d] for d in wrapped], [input._strides[d] for d in wrapped], input._offset,
                 PermuteBackward0, wrapped)


def T(input):
    nd = input.dim()
    if nd != 2 and nd != 0:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                      "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                      "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                      "tensor.", UserWarning, stacklevel=3)
    return permute(input, tuple(range(nd - 1, -1, -1)))


def mT(input):
    if input.dim() < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."
                           if input.dim() == 1 else "tensor.mT is only supported on matrices or batches of "
                           "matrices. Got 0-D tensor.")
    return transpose(input, -2, -1)


def movedim(input, source, destination):
    nd = input.dim()
    if nd == 0:  # dims 0 and -1 name the one element: nothing moves
        wrap_dims(source if isinstance(source, (tuple, list)) else (source,), 1)
        wrap_dims(destination if isinstance(destination, (tuple, list)) else (destination,), 1)
        return permute(input, ())
    src = wrap_dims(source if isinstance(source, (tuple, list)) else (source,), nd)
    dst = wrap_dims(destination if isinstance(destination, (tuple, list)) else (destination,), nd)
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


moveaxis = movedim


# ---- expand ---------------------------------------------------------------------------------------------------

class ExpandBackward0(Node):
    def backward(self, g):
        from .reduction import sum_to
        return (sum_to(g, self.ctx),)


def expand(input, *sizes):
    sizes = normalize_shape(sizes)
    nd = input.dim()
    if len(sizes) < nd:
        raise RuntimeError(f"expand(torch.{_legacy(input)}{{{list(input._shape)}}}, size={list(sizes)}): the number "
                           "of sizes provided (" + str(len(sizes)) + ") must be greater or equal to the number of "
                           f"dimensions in the tensor ({nd})")
    lead = len(sizes) - nd
    shape, strides = list(sizes), [0] * len(sizes)
    for i in range(len(sizes) - 1, -1, -1):  # from the last dim, as PyTorch checks: its errors name the first met
        size, j = sizes[i], i - lead
        if j < 0:
            if size < 0:
                raise RuntimeError(f"The expanded size of the tensor ({size}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            continue
        have = input._shape[j]
        if size == -1:
            size = shape[i] = have
        elif size < 0:
            raise RuntimeError(f"expand: invalid size {size} at dimension {i}")
        if have == size:
            strides[i] = input._strides[j]
        elif have != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({have}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(input._shape)}"
                + hint("only dimensions of size 1 can be expanded; reshape or unsqueeze first."))
    return _view(input, shape, strides, input._offset, ExpandBackward0, input._shape)


def _legacy(t):
    return _dt.legacy_type_name(t._dtype).split(".")[-1]


def expand_as(input, other):
    return expand(input, other._shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_tensors(*tensors):
    from ._util import broadcast_many
    shape = broadcast_many(*[t._shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# ---- slicing ---------------------------------------------------------------------------------------------------

class SelectBackward0(Node):
    def backward(self, g):
        shape, dim, index = self.ctx
        return (_embed(g, shape, lambda z: select(z, dim, index)),)


class SliceBackward0(Node):
    def backward(self, g):
        shape, dim, start, stop, step = self.ctx
        return (_embed(g, shape, lambda z: slice_dim(z, dim, start, stop, step)),)


def _embed(g, shape, view_fn):
    """Zeros of ``shape`` with g written into the region ``view_fn`` selects (the backward of a view)."""
    z = D.empty(shape, g._dtype, g._device)
    D.fill(z, 0)
    region = view_fn(z)
    D.map1_into("copy", region, g)
    return z


def select(input, dim, index, *, _key_position=None):
    """input's index-th slice along dim. ``_key_position``: where this index stands in the key of x[...], which
    PyTorch's out-of-range error names as the dimension (in x[0, 5] the 5 meets dim 0 of x[0]: "dimension 1")."""
    nd = input.dim()
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor."
                         + hint("a 0-d tensor has no dimensions to index; use x.item()."))
    d = wrap_dim(dim, nd)
    size = input._shape[d]
    if index < -size or index >= size:
        raise IndexError(f"index {index} is out of bounds for dimension {d if _key_position is None else _key_position}"
                         f" with size {size}" + hint(f"valid indices for this dimension are {-size}..{size - 1}."))
    i = index + size if index < 0 else index
    shape = input._shape[:d] + input._shape[d + 1:]
    strides = input._strides[:d] + input._strides[d + 1:]
    return _view(input, shape, strides, input._offset + i * input._strides[d], SelectBackward0,
                 (input._shape, d, i))


def slice_dim(input, dim, start, stop, step=1):
    """input[..., start:stop:step, ...] along dim, with Python's slice clamping (step > 0)."""
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if step == 0:
        raise ValueError("slice step cannot be zero" + hint("a step of 1 takes every element: x[::1] or x[:]."))
    if step < 0:
        raise ValueError("step must be greater than zero"
                         + hint("tcli, like PyTorch, has no negative steps; use x.flip(dim) to reverse."))
    start, stop, _ = slice(start, stop, step).indices(size)
    n = max(0, (stop - start + step - 1) // step)
    shape = input._shape[:d] + (n,) + input._shape[d + 1:]
    strides = input._strides[:d] + (input._strides[d] * step,) + input._strides[d + 1:]
    offset = input._offset + start * input._strides[d]
    return _view(input, shape, strides, offset, SliceBackward0, (input._shape, d, start, stop, step))


def narrow(input, dim, start, length):
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor." + hint("narrow takes a dim to cut along."))
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if isinstance(start, Tensor):
        start = start.item()
    if start < 0:
        start += size
    if start < 0 or start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size})."
                           if length >= 0 else "narrow(): length must be non-negative.")
    return slice_dim(input, d, start, start + length, 1)


class UnbindBackward0(Node):
    def backward(self, *grads):
        shape, dim = self.ctx
        device = _device_of(grads)
        parts = [g if g is not None else _zeros_of(shape[:dim] + shape[dim + 1:], self._out_dtype[0], device)
                 for g in grads]
        return (stack(parts, dim),)


def _zeros_of(shape, dtype, device):
    z = D.empty(shape, dtype, device)
    D.fill(z, 0)
    return z


def _device_of(grads):
    """The device of the gradients a multi-output node received (some may be None)."""
    return next(g._device for g in grads if g is not None)


def unbind(input, dim=0):
    d = wrap_dim(dim, input.dim())
    if input.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    shape = input._shape[:d] + input._shape[d + 1:]
    strides = input._strides[:d] + input._strides[d + 1:]
    outs = [input._view_of(shape, strides, input._offset + i * input._strides[d]) for i in range(input._shape[d])]
    if _requires(input) and outs:
        n = UnbindBackward0()
        n.ctx = (input._shape, d)
        attach_multi(n, outs, input)
    return tuple(outs)


class SplitBackward0(Node):
    def backward(self, *grads):
        shape, dim, sizes = self.ctx
        device = _device_of(grads)
        parts = []
        for g, size in zip(grads, sizes):
            if g is None:
                g = _zeros_of(shape[:dim] + (size,) + shape[dim + 1:], self._out_dtype[0], device)
            parts.append(g)
        return (cat(parts, dim),)


class SplitWithSizesBackward0(SplitBackward0):
    pass


def split(input, split_size_or_sections, dim=0):
    if input.dim() == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - s) for s in range(0, size, step)] if step else [0]
        node = SplitBackward0
    else:
        sizes = list(split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
        node = SplitWithSizesBackward0
    return _split_views(input, d, sizes, node)


def _split_views(input, d, sizes, node_cls):
    outs, start = [], 0
    for n in sizes:
        shape = input._shape[:d] + (n,) + input._shape[d + 1:]
        outs.append(input._view_of(shape, input._strides, input._offset + start * input._strides[d]))
        start += n
    if _requires(input) and outs:
        n = node_cls()
        n.ctx = (input._shape, d, sizes)
        attach_multi(n, outs, input)
    return tuple(outs)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input.dim() == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if size == 0:  # PyTorch gives `chunks` empty pieces
        return _split_views(input, d, [0] * chunks, SplitBackward0)
    step = -(-size // chunks)
    sizes = [min(step, size - s) for s in range(0, size, step)]
    return _split_views(input, d, sizes, SplitBackward0)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        base, extra = divmod(size, n)
        sizes = [base + 1 if i < extra else base for i in range(n)]
        return _split_views(input, d, sizes, SplitWithSizesBackward0)
    # indices: piece i is [indices[i-1], indices[i]), each a slice of its own (they may overlap or be empty)
    bounds = [0] + [min(max(i, 0), size) for i in indices_or_sections] + [size]
    return tuple(slice_dim(input, d, a, max(a, b)) for a, b in zip(bounds, bounds[1:]))


class DiagonalBackward0(Node):
    def backward(self, g):
        shape, offset, d1, d2 = self.ctx
        return (_embed(g, shape, lambda z: diagonal(z, offset, d1, d2)),)


def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input.dim()
    a, b = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n_a, n_b = input._shape[a], input._shape[b]
    if offset >= 0:
        length = max(0, min(n_a, n_b - offset))
        start = offset * input._strides[b] if length else 0
    else:
        length = max(0, min(n_a + offset, n_b))
        start = -offset * input._strides[a] if length else 0
    keep = [i for i in range(nd) if i not in (a, b)]
    shape = [input._shape[i] for i in keep] + [length]
    strides = [input._strides[i] for i in keep] + [input._strides[a] + input._strides[b]]
    return _view(input, shape, strides, input._offset + start, DiagonalBackward0, (input._shape, offset, a, b))


class AsStridedBackward0(Node):
    """as_strided's gradient: each input element collects g from every output element that reads
    its storage slot (a view may read one slot many times)."""

    def backward(self, g):
        from .indexing import _index_put, getitem
        in_shape, in_strides, in_offset, size, stride, offset = self.ctx
        out_slots = _storage_slots(size, stride, offset)
        in_slots = _storage_slots(in_shape, in_strides, in_offset)
        length = 1 + max(int(out_slots.max().item()) if out_slots.numel() else 0,
                         int(in_slots.max().item()) if in_slots.numel() else 0)
        storage = D.empty((length,), g._dtype, g._device)
        D.fill(storage, 0)
        _index_put(storage, (out_slots,), reshape(g.contiguous(), -1), accumulate=True)
        return (reshape(getitem(storage, (in_slots,)), in_shape),)


def _extent(shape, strides):
    return sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0


def _storage_slots(shape, strides, offset):
    """The storage index of every element of a (shape, strides, offset) view, in row-major order."""
    import numpy as np

    from .creation import from_numpy
    grid = np.indices(shape, dtype=np.int64).reshape(len(shape), -1)
    return from_numpy(offset + (np.array(strides, np.int64).reshape(-1, 1) * grid).sum(0, dtype=np.int64))


def as_strided(input, size, stride, storage_offset=None):
    offset = input._offset if storage_offset is None else storage_offset
    size, stride = tuple(size), tuple(stride)
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if numel_of(size) and offset + _extent(size, stride) >= input._buf.shape[0]:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} "
                           "requiring a storage size that is out of bounds for the storage"
                           + hint("as_strided reads raw storage: the last element it addresses must exist."))
    if not (input._requires_grad and STATE.enabled):
        return _view(input, size, stride, offset)
    out = input._view_of(size, stride, offset)
    n = AsStridedBackward0()
    n.ctx = (input._shape, input._strides, input._offset, size, stride, offset)
    attach(n, out, input)
    return out


# ---- copies: clone, contiguous, flip, roll, repeat, tril/triu -------------------------------------------------

class CloneBackward0(Node):
    def backward(self, g):
        return (g,)


def clone(input, *, memory_format=None):
    out = D.contiguous_copy(input)
    if _requires(input):
        attach(CloneBackward0(), out, input)
    return out


def contiguous(input, memory_format=None):
    return input if input.is_contiguous() else clone(input)


class FlipBackward0(Node):
    def backward(self, g):
        return (flip(g, self.ctx),)


def flip(input, dims):
    # a 0-d tensor takes dim 0 or -1, as one element: nothing to reverse
    dims = wrap_dims(dims if isinstance(dims, (tuple, list)) else (dims,), max(input.dim(), 1))
    if input.dim() == 0:
        dims = ()
    # Negative strides never exist in tcli: flip copies through a reversed index walk.
    src = input
    for d in dims:
        n = src._shape[d]
        if n > 1:
            from .creation import arange
            from .indexing import index_select
            idx = arange(n - 1, -1, -1, device=input._device)
            src = index_select(src.detach(), d, idx)
    out = src if src is not input else clone(input.detach())
    if _requires(input):
        n = FlipBackward0()
        n.ctx = dims
        attach(n, out, input)
    return out


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


class RollBackward0(Node):
    def backward(self, g):
        shifts, dims = self.ctx
        return (roll(g, [-s for s in shifts], dims),)


def roll(input, shifts, dims=None):
    flat = dims is None
    shifts = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    dims_list = [0] if flat else (list(dims) if isinstance(dims, (tuple, list)) else [dims])
    if len(shifts) != len(dims_list):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims_list)}")
    out = reshape(input.detach(), -1) if flat else input.detach()
    for s, d in zip(shifts, dims_list):
        d = wrap_dim(d, out.dim())
        n = out._shape[d]
        if n and s % n:
            s %= n
            out = cat([slice_dim(out, d, n - s, n), slice_dim(out, d, 0, n - s)], d)
    out = reshape(out, input._shape) if flat else out
    if out._buf is input._buf:
        out = D.contiguous_copy(out)
    if _requires(input):
        n = RollBackward0()
        n.ctx = (shifts, dims)
        attach(n, out, input)
    return out


class RepeatBackward0(Node):
    def backward(self, g):
        from .reduction import sum as sum_
        shape, reps = self.ctx
        lead = len(reps) - len(shape)
        full = (1,) * lead + tuple(shape)
        # g has shape reps*full: view as (rep0, n0, rep1, n1, ...) and sum the rep axes
        split_shape = []
        for r, n in zip(reps, full):
            split_shape += [r, n]
        gs = reshape(g.contiguous(), split_shape)
        summed = sum_(gs, tuple(range(0, 2 * len(reps), 2)))
        return (reshape(summed, shape),)


def repeat(input, *repeats):
    reps = normalize_shape(repeats)
    nd = input.dim()
    if len(reps) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    lead = len(reps) - nd
    full = (1,) * lead + input._shape
    expanded_shape, expanded_strides = [], []
    src_strides = (0,) * lead + input._strides
    for r, n, s in zip(reps, full, src_strides):
        expanded_shape += [r, n]
        expanded_strides += [0, s]
    src = input._view_of(tuple(expanded_shape), tuple(expanded_strides), input._offset)
    out_shape = tuple(r * n for r, n in zip(reps, full))
    out = D.empty(out_shape, input._dtype, input._device)
    D.map1_into("copy", out._view_of(tuple(expanded_shape), contiguous_strides(tuple(expanded_shape)), 0), src)
    if _requires(input):
        n = RepeatBackward0()
        n.ctx = (input._shape, reps)
        attach(n, out, input)
    return out


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats, dim=None):
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    d = wrap_dim(dim, input.dim())
    if isinstance(repeats, int):
        shape = input._shape[:d + 1] + (repeats,) + input._shape[d + 1:]
        expanded = clone(expand(unsqueeze(input, d + 1), shape))
        return reshape(expanded, input._shape[:d] + (input._shape[d] * repeats,) + input._shape[d + 1:])
    from .creation import tensor
    from .indexing import index_select
    counts = repeats.tolist() if isinstance(repeats, Tensor) else list(repeats)
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    idx = [i for i, c in enumerate(counts) for _ in range(c)]
    return index_select(input, d, tensor(idx, dtype=_dt.int64, device=input._device))


class TrilBackward0(Node):
    def backward(self, g):
        return (tril(g, self.ctx),)


class TriuBackward0(Node):
    def backward(self, g):
        return (triu(g, self.ctx),)


def _tri_mask(input, diagonal, lower):
    from .creation import arange
    from .pointwise import ge, le, sub
    rows, cols = input._shape[-2], input._shape[-1]
    r = reshape(arange(rows, device=input._device), rows, 1)
    c = reshape(arange(cols, device=input._device), 1, cols)
    diff = sub(c, r)
    return le(diff, diagonal) if lower else ge(diff, diagonal)


def tril(input, diagonal=0):
    return _triangle(input, diagonal, True, TrilBackward0)


def triu(input, diagonal=0):
    return _triangle(input, diagonal, False, TriuBackward0)


def _triangle(input, diagonal, lower, node_cls):
    if input.dim() < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions")
    from .pointwise import where
    mask = _tri_mask(input, diagonal, lower)
    zero = D.empty((), input._dtype, input._device)
    D.fill(zero, 0)
    out = where(mask, input.detach(), zero)
    if _requires(input):
        n = node_cls()
        n.ctx = diagonal
        attach(n, out, input)
    return out


# ---- cat / stack -------------------------------------------------------------------------------------------

class CatBackward0(Node):
    def backward(self, g):
        dim, sizes = self.ctx
        outs, start = [], 0
        for size in sizes:
            outs.append(slice_dim(g, dim, start, start + size) if size is not None else None)
            start += size or 0
        return tuple(outs)


def _tensor_list(tensors, name):
    """cat's and stack's tensors as a list, with PyTorch's TypeErrors for one tensor or an element that is none."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
                        + hint(f"pass a list or tuple of tensors: torch.{name}([a, b])."))
    tensors = list(tensors)
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t_).__name__}"
                            + hint(f"{name} takes tensors: wrap each in torch.tensor(...), or make the whole "
                                   "tensor at once with torch.tensor([...])."))
    return tensors


@numpy_names
def cat(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t_ in enumerate(tensors):
        if t_.dim() == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated"
                               + hint("use tcli.stack to join 0-d tensors, or unsqueeze them first."))
    # PyTorch skips legacy empty 1-D tensors of shape (0,) when other inputs have more dims
    ref = next((t_ for t_ in tensors if not (t_._shape == (0,))), tensors[0])
    d = wrap_dim(dim, ref.dim())
    dtype = tensors[0]._dtype
    for t_ in tensors[1:]:
        dtype = _dt.promote_types(dtype, t_._dtype)
    total = 0
    for i, t_ in enumerate(tensors):
        if t_._shape == (0,) and ref.dim() != 1:
            continue
        if t_.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t_.dim()}")
        for k in range(ref.dim()):
            if k != d and t_._shape[k] != ref._shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref._shape[k]} but got "
                    f"size {t_._shape[k]} for tensor number {i} in the list."
                    + hint(f"shapes {[list(x._shape) for x in tensors]}: every dimension except {d} must agree."))
        total += t_._shape[d]
    shape = ref._shape[:d] + (total,) + ref._shape[d + 1:]
    result = D.empty(shape, dtype, ref._device)
    start = 0
    sizes = []
    for t_ in tensors:
        if t_._shape == (0,) and ref.dim() != 1:
            sizes.append(None)
            continue
        n = t_._shape[d]
        sizes.append(n)
        if n:
            region = result._view_of(ref._shape[:d] + (n,) + ref._shape[d + 1:], result._strides,
                                     start * result._strides[d])
            D.map1_into("copy", region, t_)
        start += n
    if _requires(*tensors):
        node = CatBackward0()
        node.ctx = (d, sizes)
        attach(node, result, *tensors)
    if out is not None:
        out.data = result
        return out
    return result


concat = concatenate = cat


class StackBackward0(Node):
    def backward(self, g):
        return unbind(g, self.ctx)


@numpy_names
def stack(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]
    for i, t_ in enumerate(tensors[1:], 1):
        if t_._shape != first._shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first._shape)} at entry 0 "
                               f"and {list(t_._shape)} at entry {i}"
                               + hint("stack joins tensors of identical shape along a new dim; use tcli.cat to "
                                      "join along an existing one."))
    d = wrap_dim(dim, first.dim() + 1)
    dtype = first._dtype
    for t_ in tensors[1:]:
        dtype = _dt.promote_types(dtype, t_._dtype)
    shape = first._shape[:d] + (len(tensors),) + first._shape[d:]
    result = D.empty(shape, dtype, first._device)
    region_shape = first._shape
    region_strides = result._strides[:d] + result._strides[d + 1:]
    for i, t_ in enumerate(tensors):
        region = result._view_of(region_shape, region_strides, i * result._strides[d])
        D.map1_into("copy", region, t_)
    if _requires(*tensors):
        node = StackBackward0()
        node.ctx = d
        attach(node, result, *tensors)
    if out is not None:
        out.data = result
        return out
    return result


def hstack(tensors):
    tensors = [atleast_1d(t_) for t_ in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t_) for t_ in tensors], 0)


def atleast_1d(t_):
    return reshape(t_, 1) if t_.dim() == 0 else t_


def atleast_2d(t_):
    return reshape(t_, 1, -1) if t_.dim() < 2 else t_
