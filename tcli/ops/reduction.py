"""Reductions (sum, mean, max, var, norm, ...), scans, softmax, and their gradients."""

from __future__ import annotations

import math

from .. import dtypes as _dt
from .._tensor import Tensor, numel_of
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, attach, own_output, saved_output
from ..errors import hint
from . import _dispatch as D
from ._util import numpy_names, wrap_dim, wrap_dims
from .pointwise import _requires
from .shape import expand, reshape

bool_, int64 = _dt.bool_, _dt.int64


_ALL_DIMS = [tuple(range(n)) for n in range(16)]


def _dims_of(x, dim, empty_is_all=True):
    """Reduced dims as a sorted tuple. None means all dims, and so does an empty list, as in PyTorch (sum, mean,
    amax, std, ...) except for all/any, where it reduces nothing (empty_is_all=False)."""
    nd = len(x._shape)
    if dim is None or (empty_is_all and isinstance(dim, (tuple, list)) and not dim):
        return _ALL_DIMS[nd] if nd < 16 else tuple(range(nd))
    if isinstance(dim, (tuple, list)):
        return tuple(sorted(wrap_dims(dim, nd)))
    return (wrap_dim(dim, nd),)


def _layout(x: Tensor, dims):
    """Lay x out as a dense (outer, red, inner) buffer with the reduced dims contiguous."""
    nd = x.dim()
    shape = x._shape
    if nd == 0 or not dims:
        src = x if x._dense else D.contiguous_copy(x)
        return src._buf, numel_of(shape), 1, 1
    if list(dims) == list(range(dims[0], dims[-1] + 1)):
        src = x if x._dense else D.contiguous_copy(x)
        first, last = dims[0], dims[-1] + 1
        return src._buf, numel_of(shape[:first]), numel_of(shape[first:last]), numel_of(shape[last:])
    kept = [d for d in range(nd) if d not in dims]
    from .shape import permute
    src = D.contiguous_copy(permute(x.detach(), kept + list(dims)))
    return src._buf, numel_of([shape[d] for d in kept]), numel_of([shape[d] for d in dims]), 1


def _out_shape(x, dims, keepdim):
    if keepdim:
        return tuple(1 if d in dims else s for d, s in enumerate(x._shape))
    return tuple(s for d, s in enumerate(x._shape) if d not in dims)


def _run(op, x, dims, keepdim, out_dtype, empty_value=None, name=None):
    """A reduction through the kernel: x must already be in the dtype the kernel computes in."""
    if x._dense and len(dims) == len(x._shape):  # everything, from one contiguous buffer
        n = x._buf.shape[0]
        out = D.empty((1,) * len(dims) if keepdim else (), out_dtype, x._device)
        if n:
            D.kernels(x).reduce(op, out._buf, x._buf, 1, n, 1)
        elif empty_value is None:
            raise _empty_reduction_error(name or op, x, dims)
        else:
            D.fill(out, empty_value)
        return out
    shape = _out_shape(x, dims, keepdim)
    buf, outer, red, inner = _layout(x, dims)
    out = D.empty(shape, out_dtype, x._device)
    if outer * inner == 0:
        return out
    if red == 0:
        if empty_value is None:
            raise _empty_reduction_error(name or op, x, dims)
        D.fill(out, empty_value)
        return out
    D.kernels(x).reduce(op, out._buf, buf, outer, red, inner)
    return out


def _empty_reduction_error(name, x, dims):
    if len(dims) == x.dim():
        return RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                            "reduction dim with the 'dim' argument.")
    zero = next(d for d in dims if x._shape[d] == 0)
    return IndexError(f"{name}(): Expected reduction dim {zero} to have non-zero size.")


def _compute_dtype(x, dtype, integer_to=int64):
    """Accumulation dtype: an explicit dtype=, else integers and bool accumulate in int64."""
    if dtype is not None:
        return _dt.as_dtype(dtype)
    return x._dtype if x._dtype.is_floating_point else integer_to


def _in(x, dtype):
    return D.to_compute(x, dtype)


def _finish(out, dtype):
    return D.cast(out, dtype) if out._dtype is not dtype else out


def _unsqueeze_reduced(g, input_shape, dims, keepdim):
    """g (a reduction's output gradient) with the reduced dims reinserted as size 1."""
    if keepdim or not dims:
        return g
    return reshape(g, tuple(1 if d in dims else s for d, s in enumerate(input_shape)))


def _expand_back(g, input_shape, dims, keepdim):
    if not keepdim and len(dims) == len(input_shape):  # g is 0-d: one view, as PyTorch's grad.expand(sizes)
        return expand(g, input_shape)
    return expand(_unsqueeze_reduced(g, input_shape, dims, keepdim), input_shape)


# ---- sum / mean / prod -------------------------------------------------------------------------------------

class SumBackward0(Node):
    def backward(self, g):
        shape, dims, keepdim = self.ctx
        return (_expand_back(g, shape, dims, keepdim),)


class SumBackward1(SumBackward0):
    pass


@numpy_names
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    dims = _dims_of(input, dim)
    acc = _compute_dtype(input, dtype)
    result = _finish(_run("sum", _in(input, acc), dims, keepdim, D.float32 if acc is D.float16 else acc, 0), acc)
    if _requires(input):
        n = SumBackward0() if dim is None else SumBackward1()
        n.ctx = (input._shape, dims, keepdim)
        attach(n, result, input)
    return result


@numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .pointwise import isnan, masked_fill
    return sum(masked_fill(input, isnan(input), 0), dim, keepdim, dtype=dtype)


class MeanBackward0(Node):
    def backward(self, g):
        shape, dims, keepdim, count = self.ctx
        from .pointwise import div
        return (div(_expand_back(g, shape, dims, keepdim), count),)


class MeanBackward1(MeanBackward0):
    pass


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    acc = _dt.as_dtype(dtype) if dtype is not None else input._dtype
    if not acc.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {_dt.scalar_name(acc)}"
            + hint("call .float() first (x.float().mean()), or pass dtype=tcli.float32."))
    dims = _dims_of(input, dim)
    result = _finish(_run("mean", _in(input, acc), dims, keepdim, D.float32 if acc is D.float16 else acc, math.nan),
                     acc)
    if _requires(input):
        n = MeanBackward0() if dim is None else MeanBackward1()
        n.ctx = (input._shape, dims, keepdim, numel_of([input._shape[d] for d in dims]))
        attach(n, result, input)
    return result


@numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .pointwise import div, isnan, logical_not
    valid = logical_not(isnan(input))
    return div(nansum(input, dim, keepdim, dtype=dtype), sum(valid, dim, keepdim))


class ProdBackward0(Node):
    def backward(self, g):
        x, = self.saved_tensors
        shape, dims, keepdim = self.ctx
        return (_prod_grad(x, _unsqueeze_reduced(g, shape, dims, keepdim), dims),)


class ProdBackward1(ProdBackward0):
    pass


def _prod_grad(x, g, dims):
    """d prod / d x_i = product of the other elements, from exclusive cumprods (exact with zeros)."""
    from .pointwise import mul
    from .shape import flip, permute, reshape
    nd = x.dim()
    kept = [d for d in range(nd) if d not in dims]
    order = kept + list(dims)
    xp = permute(x, order)
    rows = reshape(xp, (numel_of([x._shape[d] for d in kept]), -1))
    ones = rows.new_ones((rows._shape[0], 1))
    before = cumprod(_cat_cols(ones, rows[:, :-1]), 1)
    after = flip(cumprod(_cat_cols(ones, flip(rows, 1)[:, :-1]), 1), 1)
    others = reshape(mul(before, after), xp._shape)
    inverse = [0] * nd
    for i, d in enumerate(order):
        inverse[d] = i
    return mul(g, permute(others, inverse))


def _cat_cols(a, b):
    from .shape import cat
    return cat([a, b], 1)


@numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None):
    dims = _dims_of(input, dim)
    acc = _compute_dtype(input, dtype)
    result = _finish(_run("prod", _in(input, acc), dims, keepdim, D.float32 if acc is D.float16 else acc, 1), acc)
    if _requires(input):
        n = ProdBackward0() if dim is None else ProdBackward1()
        n.ctx = (input._shape, dims, keepdim)
        n.save(input)
        attach(n, result, input)
    return result


def sum_to(g: Tensor, shape) -> Tensor:
    """Sum a broadcast gradient back to ``shape`` (the inverse of expanding to g's shape)."""
    if g._shape == tuple(shape):
        return g
    lead = g.dim() - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g._shape[lead + i] != 1)
    out = sum(g, dims, keepdim=True) if dims else g
    from .shape import reshape
    return reshape(out, shape)


# ---- max / min ------------------------------------------------------------------------------------------------

class ReturnTypes:
    """PyTorch's torch.return_types: named (values, indices) pairs with their exact repr."""

    _cache: dict = {}

    @classmethod
    def of(cls, name, fields=("values", "indices")):
        made = cls._cache.get(name)
        if made is None:
            first, second = fields

            def __repr__(self):
                return f"torch.return_types.{name}(\n{first}={self[0]!r},\n{second}={self[1]!r})"

            made = type(name, (tuple,), {
                "__slots__": (), "__repr__": __repr__, "__module__": "torch.return_types",
                first: property(lambda self: self[0]), second: property(lambda self: self[1]),
                "n_fields": 2, "n_sequence_fields": 2,
                "__new__": lambda c, pair: tuple.__new__(c, pair),
            })
            cls._cache[name] = made
        return made


class MaxBackward1(Node):
    """max()/min() of a whole tensor: the gradient is shared evenly by every element equal to the result."""

    def backward(self, g):
        x, result = self.saved_tensors
        return (_evenly(g, x, result),)

    def name(self):
        return self.ctx


def _evenly(g, x, result):
    from .pointwise import div, eq, isnan, logical_and, logical_or, where
    mask = eq(x, result)
    if x._dtype.is_floating_point:
        mask = logical_or(mask, logical_and(isnan(x), isnan(result)))
    return where(mask, div(g, sum(mask)), 0.0)  # +0 elsewhere, as PyTorch's (a product made -0 for g < 0)


class MaxBackward0(Node):
    """max(dim)/min(dim): the gradient flows to the index that was picked."""

    def backward(self, g):
        (indices,) = self.saved_tensors
        shape, dim, keepdim, name = self.ctx
        from .indexing import scatter
        from .shape import unsqueeze
        if not keepdim:
            g, indices = unsqueeze(g, dim), unsqueeze(indices, dim)
        z = D.empty(shape, g._dtype, g._device)
        D.fill(z, 0)
        return (scatter(z, dim, indices, g),)

    def name(self):
        return self.ctx[3]


def _best(input, dim, keepdim, which):
    """max/min: over everything (a 0-d tensor) or along dim (values and indices)."""
    if isinstance(dim, Tensor):
        from .pointwise import maximum, minimum
        return (maximum if which == "max" else minimum)(input, dim)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{which}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        compute = D.float32 if input._dtype is D.float16 else input._dtype
        result = _finish(_run(which, _in(input, compute), tuple(range(input.dim())), False, compute), input._dtype)
        if _requires(input):
            n = MaxBackward1()
            n.ctx = "MaxBackward1" if which == "max" else "MinBackward1"
            n.save(input, own_output(result))
            attach(n, result, input)
        return result
    values, indices = _arg(input, dim, keepdim, which)
    if _requires(input):
        d = wrap_dim(dim, input.dim())
        n = MaxBackward0()
        n.ctx = (input._shape, d, keepdim, "MaxBackward0" if which == "max" else "MinBackward0")
        n.save(indices)
        attach(n, values, input)
    return ReturnTypes.of(which)((values, indices))


def _arg(input, dim, keepdim, which, name=None):
    d = wrap_dim(dim, input.dim())
    dims = (d,) if input.dim() else ()
    compute = D.float32 if input._dtype is D.float16 else input._dtype
    x = _in(input, compute)
    shape = _out_shape(x, dims, keepdim)
    buf, outer, red, inner = _layout(x, dims)
    values = D.empty(shape, compute, input._device)
    indices = D.empty(shape, int64, input._device)
    if red == 0:
        raise IndexError(f"{name or which}(): Expected reduction dim {d} to have non-zero size.")
    if outer * inner:
        D.kernels(x).arg_reduce(which, values._buf, indices._buf, buf, outer, red, inner)
    return _finish(values, input._dtype), indices


@numpy_names
def max(input, dim=None, keepdim=False, *, out=None):
    return _best(input, dim, keepdim, "max")


@numpy_names
def min(input, dim=None, keepdim=False, *, out=None):
    return _best(input, dim, keepdim, "min")


@numpy_names
def argmax(input, dim=None, keepdim=False):
    return _argbest(input, dim, keepdim, "max")


@numpy_names
def argmin(input, dim=None, keepdim=False):
    return _argbest(input, dim, keepdim, "min")


def _argbest(input, dim, keepdim, which):
    if input._dtype is bool_:
        raise RuntimeError(f"arg{which}(): does not support bool input"
                           + hint("compare or convert first, e.g. mask.long().argmax() or mask.nonzero()."))
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"arg{which}(): Expected reduction dim to be specified for input.numel() == 0.")
        from .shape import reshape
        flat = reshape(input.detach(), -1)
        idx = _arg(flat, 0, False, which)[1]
        if keepdim:
            return reshape(idx, (1,) * input.dim())
        return idx
    return _arg(input.detach(), dim, keepdim, which, name="arg" + which)[1]


class AmaxBackward0(Node):
    def backward(self, g):
        x, result = self.saved_tensors
        shape, dims, keepdim, name = self.ctx
        from .pointwise import div, eq, mul
        r = _unsqueeze_reduced(result, shape, dims, keepdim)
        mask = eq(x, r)
        count = sum(mask, dims, keepdim=True)
        return (mul(div(_unsqueeze_reduced(g, shape, dims, keepdim), count), mask),)

    def name(self):
        return self.ctx[3]


@numpy_names
def amax(input, dim=(), keepdim=False):
    return _amaxmin(input, dim, keepdim, "max", "AmaxBackward0")


@numpy_names
def amin(input, dim=(), keepdim=False):
    return _amaxmin(input, dim, keepdim, "min", "AminBackward0")


def _amaxmin(input, dim, keepdim, which, node_name):
    dims = _dims_of(input, None if dim == () else dim)
    compute = D.float32 if input._dtype is D.float16 else input._dtype
    result = _finish(_run(which, _in(input, compute), dims, keepdim, compute, name="a" + which), input._dtype)
    if _requires(input):
        n = AmaxBackward0()
        n.ctx = (input._shape, dims, keepdim, node_name)
        n.save(input, own_output(result))
        attach(n, result, input)
    return result


@numpy_names
def aminmax(input, *, dim=None, keepdim=False):
    dims = () if dim is None else dim
    return ReturnTypes.of("aminmax", ("min", "max"))((amin(input, dims, keepdim), amax(input, dims, keepdim)))


# ---- all / any / count ------------------------------------------------------------------------------------------

@numpy_names
def all(input, dim=None, keepdim=False):
    result = _run("all", _in(input, bool_), _dims_of(input, dim, empty_is_all=False), keepdim, bool_, True)
    return D.cast(result, input._dtype) if input._dtype is _dt.uint8 else result  # PyTorch keeps uint8


@numpy_names
def any(input, dim=None, keepdim=False):
    result = _run("any", _in(input, bool_), _dims_of(input, dim, empty_is_all=False), keepdim, bool_, False)
    return D.cast(result, input._dtype) if input._dtype is _dt.uint8 else result


@numpy_names
def count_nonzero(input, dim=None):
    from .pointwise import ne
    return sum(ne(input, 0), dim)


# ---- var / std / norm ----------------------------------------------------------------------------------------------

def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


class VarBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        shape, dims, keepdim, correction, std_result = self.ctx
        from .pointwise import div, mul, sub
        n = numel_of([shape[d] for d in dims])
        centred = sub(x, mean(x, dims, keepdim=True))
        g = _unsqueeze_reduced(g, shape, dims, keepdim)
        if std_result is not None:  # d std = d var / (2 std)
            g = div(g, mul(_unsqueeze_reduced(std_result, shape, dims, keepdim), 2))
        return (mul(mul(g, centred), 2.0 / (n - correction)),)

    def name(self):
        return "VarBackward0" if self.ctx[4] is None else "StdBackward0"


@numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    return _var_std(input, dim, _correction(unbiased, correction), keepdim, std=False)


@numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _var_std(input, dim, _correction(unbiased, correction), keepdim, std=True)


def _reduced(x, dims, keepdim, empty_value, run):
    """Lay x out as (outer, red, inner), allocate the result and call run(out, x, outer, red, inner);
    an empty reduction (red == 0) gives ``empty_value`` everywhere."""
    shape = _out_shape(x, dims, keepdim)
    buf, outer, red, inner = _layout(x, dims)
    out = D.empty(shape, x._dtype, x._device)
    if outer * inner:
        if red == 0:
            D.fill(out, empty_value)
        else:
            run(out._buf, buf, outer, red, inner)
    return out


def _var_std(input, dim, correction, keepdim, std):
    if not input._dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes"
                           + hint(f"this tensor is {_dt.scalar_name(input._dtype)}: call .float() first."))
    dims = _dims_of(input, dim)
    if numel_of([input._shape[d] for d in dims] if input._shape else ()) - correction <= 0:
        import warnings
        warnings.warn(f"{'std' if std else 'var'}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).", UserWarning, stacklevel=4)
    x = _in(input, D.float32 if input._dtype is D.float16 else input._dtype)
    out = _reduced(x, dims, keepdim, math.nan,
                   lambda o, buf, outer, red, inner: D.kernels(x).variance(o, buf, outer, red, inner, correction))
    if std:
        out = D.map1("sqrt", out, out._dtype)
    result = _finish(out, input._dtype)
    if _requires(input):
        n = VarBackward0()
        n.ctx = (input._shape, dims, keepdim, correction, result._detached() if std else None)
        n.save(input)
        attach(n, result, input)
    return result


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


class LinalgVectorNormBackward0(Node):
    def backward(self, g):
        x, result = self.saved_tensors
        shape, dims, keepdim, p = self.ctx
        from .pointwise import abs as abs_
        from .pointwise import div, masked_fill, mul, pow, sign
        g = _unsqueeze_reduced(g, shape, dims, keepdim)
        r = _unsqueeze_reduced(result, shape, dims, keepdim)
        if p == 2:
            return (masked_fill(mul(g, div(x, r)), _eq0(r, x._shape), 0),)
        if p == 1:
            return (mul(g, sign(x)),)
        if math.isinf(p):
            return (_evenly_dims(g, abs_(x), r, dims, sign(x)),)
        scale = div(pow(abs_(x), p - 2), pow(r, p - 1))
        return (masked_fill(mul(mul(g, x), scale), _eq0(r, x._shape), 0),)


def _eq0(r, shape):
    from .pointwise import eq
    from .shape import expand
    return expand(eq(r, 0), shape)


def _evenly_dims(g, ax, r, dims, sgn):
    from .pointwise import div, eq, mul
    mask = eq(ax, r)
    return mul(mul(div(g, sum(mask, dims, keepdim=True)), mask), sgn)


@numpy_names
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"tcli.norm supports numeric p and 'fro', got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dt.scalar_name(x._dtype)}")
    from .pointwise import abs as abs_
    from .pointwise import pow, sqrt
    dims = _dims_of(x, dim)
    with _no_grad():
        a = abs_(x)
        if ord == 2:
            result = sqrt(sum(a * a, dims, keepdim))
        elif ord == 1:
            result = sum(a, dims, keepdim)
        elif ord == math.inf:
            result = amax(a, dims, keepdim) if x.numel() else sum(a, dims, keepdim)
        elif ord == -math.inf:
            result = amin(a, dims, keepdim)
        elif ord == 0:
            result = sum((a != 0).to(x._dtype), dims, keepdim)
        else:
            result = pow(sum(pow(a, ord), dims, keepdim), 1.0 / ord)
    if _requires(x):
        n = LinalgVectorNormBackward0()
        n.ctx = (x._shape, dims, keepdim, ord)
        n.save(x, own_output(result))
        attach(n, result, x)
    return result


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


# ---- logsumexp / softmax -------------------------------------------------------------------------------------------

class LogsumexpBackward0(Node):
    def backward(self, g):
        x, result = self.saved_tensors
        shape, dims, keepdim = self.ctx
        from .pointwise import exp, mul, sub
        r = _unsqueeze_reduced(result, shape, dims, keepdim)
        return (mul(_unsqueeze_reduced(g, shape, dims, keepdim), exp(sub(x, r))),)


@numpy_names
def logsumexp(input, dim, keepdim=False):
    x = input if input._dtype.is_floating_point else D.cast(input, _dt.get_default_dtype())
    dims = _dims_of(x, dim)
    xc = _in(x, D.float32 if x._dtype is D.float16 else x._dtype)
    result = _finish(_reduced(xc, dims, keepdim, -math.inf, D.kernels(xc).logsumexp), x._dtype)
    if _requires(input):
        n = LogsumexpBackward0()
        n.ctx = (x._shape, dims, keepdim)
        n.save(x, own_output(result))
        attach(n, result, input)
    return result


class SoftmaxBackward0(Node):
    def backward(self, g):
        (y,) = self.saved_tensors
        dim, kind = self.ctx
        if STATE.enabled:  # create_graph: the composite formula, through this node's output again
            from .pointwise import exp, mul, sub
            y = saved_output(self, y)
            if kind == "softmax":
                return (mul(y, sub(g, sum(mul(g, y), dim, keepdim=True))),)
            return (sub(g, mul(exp(y), sum(g, dim, keepdim=True))),)
        gd = g if g._dense else D.contiguous_copy(g)
        out = D.empty(y._shape, y._dtype, y._device)
        if y.numel():
            outer, red, inner = _split_at(y._shape, dim) if y.dim() else (1, 1, 1)
            D.kernels(y).softmax_backward(kind, out._buf, gd._buf, y._buf, outer, red, inner)
        return (out,)

    def name(self):
        return "SoftmaxBackward0" if self.ctx[1] == "softmax" else "LogSoftmaxBackward0"


def _split_at(shape, d):
    return numel_of(shape[:d]), shape[d], numel_of(shape[d + 1:])


def _softmax(input, dim, dtype, kind):
    if dtype is not None:
        input = input.to(dtype)
    x = input if input._dtype.is_floating_point else None
    if x is None:
        raise NotImplementedError(f"\"{kind}_lastdim_kernel_impl\" not implemented for "
                           f"'{_dt.scalar_name(input._dtype)}'"
                           + hint("softmax needs floating point input: x.float()."))
    d = wrap_dim(dim, input.dim()) if input.dim() else 0
    compute = D.float32 if x._dtype is D.float16 else x._dtype
    xc = _in(x, compute)
    if not xc._dense:
        xc = D.contiguous_copy(xc)
    out = D.empty(x._shape, compute, x._device)
    if out.numel():
        outer, red, inner = _split_at(x._shape, d) if x.dim() else (1, 1, 1)
        D.kernels(xc).softmax(kind, out._buf, xc._buf, outer, red, inner)
    result = _finish(out, x._dtype)
    if _requires(input):
        n = SoftmaxBackward0()
        n.ctx = (d, kind)
        n.save(own_output(result) if result._dense else D.contiguous_copy(result))
        attach(n, result, input)
    return result


@numpy_names
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    return _softmax(input, _implicit_dim(input, dim, "softmax"), dtype, "softmax")


@numpy_names
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    return _softmax(input, _implicit_dim(input, dim, "log_softmax"), dtype, "log_softmax")


def _implicit_dim(input, dim, name):
    if dim is not None:
        return dim
    import warnings
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", UserWarning, stacklevel=4)
    return 0 if input.dim() in (0, 1, 3) else 1


# ---- scans ----------------------------------------------------------------------------------------------------

class CumsumBackward0(Node):
    def backward(self, g):
        from .shape import flip
        d = self.ctx
        if g.dim() == 0:
            return (g,)
        return (flip(cumsum(flip(g, d), d), d),)


class CumprodBackward0(Node):
    def backward(self, g):
        x, result = self.saved_tensors
        from .pointwise import div, eq, mul
        from .shape import flip
        d = self.ctx
        if x.dim() == 0:
            return (g,)
        if not bool(eq(x, 0).any()):
            return (div(flip(cumsum(flip(mul(g, result), d), d), d), x),)
        return (_cumprod_grad_with_zeros(x, g, d),)


def _cumprod_grad_with_zeros(x, g, d):
    """d/dx_i of sum_j g_j * prod_{k<=j} x_k, exact with zeros: P_i * S_i where P_i is the product
    of the x_k before i and S_i = g_i + x_{i+1} * S_{i+1} (a reverse scan along d)."""
    from .pointwise import add, mul
    from .shape import select, stack
    n = x._shape[d]
    before = [select(x, d, 0).new_ones(select(x, d, 0)._shape)]
    for i in range(1, n):
        before.append(mul(before[-1], select(x, d, i - 1)))
    scan = [None] * n
    scan[n - 1] = select(g, d, n - 1)
    for i in range(n - 2, -1, -1):
        scan[i] = add(select(g, d, i), mul(select(x, d, i + 1), scan[i + 1]))
    return stack([mul(p, s) for p, s in zip(before, scan)], d)


def _scan(input, dim, dtype, op, node_cls):
    acc = _compute_dtype(input, dtype)
    d = wrap_dim(dim, input.dim()) if input.dim() else 0
    compute = D.float32 if acc is D.float16 else acc
    x = _in(input, compute)
    if not x._dense:
        x = D.contiguous_copy(x)
    out = D.empty(x._shape, compute, x._device)
    if out.numel():
        outer, red, inner = _split_at(x._shape, d) if x.dim() else (1, 1, 1)
        D.kernels(x).scan(op, out._buf, x._buf, outer, red, inner)
    result = _finish(out, acc)
    if _requires(input):
        n = node_cls()
        n.ctx = d
        if node_cls is CumprodBackward0:
            n.save(input, own_output(result))
        attach(n, result, input)
    return result


@numpy_names
def cumsum(input, dim, *, dtype=None):
    return _scan(input, dim, dtype, "cumsum", CumsumBackward0)


@numpy_names
def cumprod(input, dim, *, dtype=None):
    return _scan(input, dim, dtype, "cumprod", CumprodBackward0)
