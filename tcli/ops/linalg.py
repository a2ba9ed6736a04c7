"""Matrix products: mm, matmul (batched, broadcast), bmm, mv, dot, outer, addmm, and their gradients."""

from __future__ import annotations

from .. import dtypes as _dt
from .._tensor import Tensor, numel_of
from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, attach
from ..device import CPU
from ..errors import by, hint
from . import _dispatch as D
from ._util import broadcast_shapes
from .pointwise import _out, _requires, add, mul
from .shape import expand, reshape, t, transpose, unsqueeze


def _check_same_dtype(a, b, message=None):
    """PyTorch's error for operands of two dtypes; ``message`` is the op's own wording (mm's by default)."""
    if a._dtype is not b._dtype:
        S = _dt.scalar_name
        raise RuntimeError((message or f"expected m1 and m2 to have the same dtype, but got: {_dt.cpp_name(a._dtype)} "
                                       f"!= {_dt.cpp_name(b._dtype)}").format(a=S(a._dtype), b=S(b._dtype))
                           + hint(f"one is {a._dtype}, the other {b._dtype}: convert one, e.g. x.float() for "
                                  "float64 data (numpy's default) going into a float32 model."))
    if a._dtype is _dt.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _product(a: Tensor, b: Tensor, out_shape, bias=None) -> Tensor:
    """The kernel call: 2-D or 3-D numpy views in, a new dense tensor out (float16 via float32). ``bias`` (a dense
    device vector of a's dtype, float32 or float64) is added to every row by the device GEMM's epilogue."""
    compute = _dt.float32 if a._dtype is _dt.float16 else a._dtype
    x = a if a._dtype is compute else D.cast(a, compute)
    y = b if b._dtype is compute else D.cast(b, compute)
    out = D.empty(out_shape, compute, a._device)
    if a._device is not CPU:
        if numel_of(out_shape):
            batch = out_shape[0] if len(out_shape) == 3 else 1
            D.kernels(a).gemm(out._buf, _operand(x), _operand(y), batch, out_shape[-2], out_shape[-1], x._shape[-1],
                              bias=None if bias is None else bias._buf)
    elif numel_of(out_shape):
        if x.dim() == 2:
            D.K.matmul(out._np(), x._np(), y._np())
        else:
            D.K.bmm(out._np(), x._np(), y._np())
    return out if compute is a._dtype else D.cast(out, a._dtype)


def _operand(x):
    """(buffer, offset, (batch stride, row stride, column stride)) of a 2-D or 3-D tensor, for device kernels."""
    strides = x._strides if len(x._strides) == 3 else (0,) + tuple(x._strides)
    return x._buf, x._offset, strides


def _transposed(x) -> bool:
    """x is the transpose of a contiguous matrix (a weight used as ``w.t()``, as nn.Linear does)."""
    return x._strides == (1, x._shape[0]) and x._shape[0] > 1 and x._shape[1] > 1


def _mm_in_layout(a, b, transposed):
    """a @ b; made as (b.T @ a.T).T when it is the gradient of a transposed view, so the gradient reaches the
    leaf behind the view contiguous (its TBackward transposes it back) instead of through a transposing copy."""
    return t(mm(t(b), t(a))) if transposed else mm(a, b)


def _grad_product(a, b, transposed, sink):
    """a @ b, a gradient: added straight into ``sink`` (a leaf's .grad or its transpose, see graph._grad_sink;
    on the operands' device, see _sinks_apart) when one is given and BLAS can add it in its own pass, and then
    None; else a new tensor."""
    if sink is not None and a._dtype is sink._dtype and b._dtype is sink._dtype:
        dst, x, y = (sink, a, b) if sink._dense else (t(sink), t(b), t(a))  # (a @ b).T = b.T @ a.T
        if dst._dense and _add_product(dst, x, y):
            sink._vc.bump()
            return None
    return _mm_in_layout(a, b, transposed)


def _sinks_apart(sinks, *operands):
    """The sinks that share no memory with any operand of the node's products (g, the saved inputs): a node's
    first product, added into its sink, must not change what its second reads (as when x.grad is x), for
    PyTorch computes both gradients before it adds either."""
    kept = []
    for sink in sinks:
        if sink is not None:
            overlap = D.kernels(sink).overlap
            for x in operands:
                if x is not None and (x._device is not sink._device or overlap(sink._buf, x._buf)):
                    sink = None
                    break
        kept.append(sink)
    return kept


def _add_product(dst, x, y) -> bool:
    """dst += x @ y for matrices in one pass of the product kernel, dst dense; False where the kernel can't."""
    if dst._shape != (x._shape[0], y._shape[1]):
        return False
    if dst._device is CPU:
        return D.K.matmul_add(dst._np(), x._np(), y._np())
    if dst._dtype is _dt.float16:
        return False  # the device computes float16 products in float32, through a temporary
    return D.kernels(dst).matmul_add(dst._buf, _operand(x), _operand(y), *dst._shape, x._shape[1])


class MmBackward0(Node):
    adds_into_grads = True

    def backward(self, g):
        return self.backward_into(g, (None, None))

    def backward_into(self, g, sinks):
        a, b = self.saved_tensors
        nf = self.next_functions
        a_t, b_t = self.ctx
        sinks = _sinks_apart(sinks, g, a, b)
        return (_grad_product(g, t(b), a_t, sinks[0]) if nf[0][0] is not None else None,
                _grad_product(t(a), g, b_t, sinks[1]) if nf[1][0] is not None else None)


def mm(input, mat2, *, out=None):
    a_shape, b_shape, dt = input._shape, mat2._shape, input._dtype
    if (len(a_shape) == 2 and len(b_shape) == 2 and a_shape[1] == b_shape[0] and mat2._dtype is dt
            and (dt is _dt.float32 or dt is _dt.float64) and input._device is CPU and mat2._device is CPU):
        # the common case, checked in one go: two float matrices that fit
        result = D.empty((a_shape[0], b_shape[1]), dt)
        if a_shape[0] and b_shape[1]:
            D.K.matmul(result._buf.reshape(result._shape), input._np(), mat2._np())
    else:
        result = _checked_mm(input, mat2)
    if STATE.enabled and (input._requires_grad or mat2._requires_grad):
        n = MmBackward0()
        n.ctx = (_transposed(input), _transposed(mat2))
        n.save(input if mat2._requires_grad else None, mat2 if input._requires_grad else None)
        attach(n, result, input, mat2)
    return _out(result, out, "mm")


def _checked_mm(input, mat2, bias=None):
    D.check_same_device(input, mat2)
    if input.dim() != 2:
        raise RuntimeError("self must be a matrix"
                           + hint(f"mm multiplies 2-D matrices but the first argument is {input.dim()}-D with shape "
                                  f"{list(input._shape)}; use tcli.matmul (or @) for batches and vectors."))
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix"
                           + hint(f"the second argument is {mat2.dim()}-D with shape {list(mat2._shape)}; use "
                                  "tcli.matmul (or @), or .unsqueeze(1) to make a column vector."))
    _check_shapes(input, mat2)
    _check_same_dtype(input, mat2)
    return _product(input, mat2, (input._shape[0], mat2._shape[1]), bias)


def _check_shapes(a, b):
    if a._shape[1] != b._shape[0]:
        (m, k), (k2, n) = a._shape, b._shape
        fix = "W.T" if a._shape[1] == b._shape[1] else (
            "swap the operands" if b._shape[1] == a._shape[0] else "reshape one side")
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({by(a._shape)} and {by(b._shape)})"
            + hint(f"the inner sizes must agree: ({m}x{k}) @ ({k2}x{n}) needs {k} == {k2}; {fix} "
                   f"(e.g. x @ W.T when W is stored as out_features x in_features)."))


class BmmBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        nf = self.next_functions
        return (bmm(g, transpose(b, 1, 2)) if nf[0][0] is not None else None,
                bmm(transpose(a, 1, 2), g) if nf[1][0] is not None else None)


def bmm(input, mat2, *, out=None):
    if input.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._shape[0] != mat2._shape[0] or input._shape[2] != mat2._shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input._shape[0]}, "
                           f"{input._shape[2]}] but got: [{mat2._shape[0]}, {mat2._shape[1]}].")
    _check_same_dtype(input, mat2, "expected scalar type {a} but found {b}")
    result = _product(input, mat2, (input._shape[0], input._shape[1], mat2._shape[2]))
    if _requires(input, mat2):
        n = BmmBackward0()
        n.save(input if mat2._requires_grad else None, mat2 if input._requires_grad else None)
        attach(n, result, input, mat2)
    return _out(result, out, "bmm")


class MvBackward0(Node):
    def backward(self, g):
        m, v = self.saved_tensors
        nf = self.next_functions
        return (outer(g, v) if nf[0][0] is not None else None,
                mv(t(m), g) if nf[1][0] is not None else None)


def mv(input, vec, *, out=None):
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {input.dim()}, {vec.dim()}")
    if input._shape[1] != vec._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._shape[0]}), mat ({by(input._shape)}), vec "
                           f"({vec._shape[0]})")
    _check_same_dtype(vec, input, "addmv input tensors must have the same dtype, but got {a}, {b}, and {a}")
    result = reshape(_product(input, reshape(vec.detach(), -1, 1), (input._shape[0], 1)), input._shape[0])
    if _requires(input, vec):
        n = MvBackward0()
        n.save(input if vec._requires_grad else None, vec if input._requires_grad else None)
        attach(n, result, input, vec)
    return _out(result, out, "mv")


class DotBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        nf = self.next_functions
        return (mul(b, g) if nf[0][0] is not None else None, mul(a, g) if nf[1][0] is not None else None)


def dot(input, other, *, out=None):
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input._shape[0] != other._shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and src "
                           f"[{other._shape[0]}] to have the same number of elements, but got {input._shape[0]} and "
                           f"{other._shape[0]} elements respectively")
    if input._dtype is not other._dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{_dt.scalar_name(input._dtype)} and {_dt.scalar_name(other._dtype)}"
                           + hint("convert one: a.dot(b.to(a.dtype))."))
    if input._dtype is _dt.bool_:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    n = input._shape[0]
    result = reshape(_product(reshape(input.detach(), 1, n), reshape(other.detach(), n, 1), (1, 1)), ())
    if _requires(input, other):
        node = DotBackward0()
        node.save(input, other)
        attach(node, result, input, other)
    return _out(result, out, "dot")


inner = dot
vdot = dot


def outer(input, vec2):
    for name, v in (("self", input), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.dim()}-D"
                               + hint("outer takes two vectors; flatten() them, or use a @ b for matrices."))
    return mul(unsqueeze(input, 1), vec2)


ger = outer


class AddmmBackward0(Node):
    adds_into_grads = True

    def backward(self, g):
        return self.backward_into(g, (None, None, None))

    def backward_into(self, g, sinks):
        m1, m2 = self.saved_tensors
        beta, alpha, m1_t, m2_t = self.ctx
        nf = self.next_functions
        sinks = _sinks_apart(sinks, g, m1, m2)
        gi = (g if beta == 1 else mul(g, beta)) if nf[0][0] is not None else None
        g1 = g2 = None
        if nf[1][0] is not None:
            g1 = _grad_product(g, t(m2), m1_t, sinks[1] if alpha == 1 else None)
            g1 = g1 if alpha == 1 else mul(g1, alpha)
        if nf[2][0] is not None:
            g2 = _grad_product(t(m1), g, m2_t, sinks[2] if alpha == 1 else None)
            g2 = g2 if alpha == 1 else mul(g2, alpha)
        return gi, g1, g2


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2): what nn.Linear computes."""
    _check_same_dtype(mat1, mat2, "mat1 and mat2 must have the same dtype, but got {a} and {b}")
    _check_same_dtype(input, mat2, "self and mat2 must have the same dtype, but got {a} and {b}")
    with no_grad():
        row_bias = (alpha == 1 and beta == 1 and input._dense and input._dtype is mat1._dtype
                    and input._dtype in (_dt.float32, _dt.float64) and input._device == mat1._device)
        if row_bias and input._device is not CPU and input._shape == mat2._shape[1:]:
            result = _checked_mm(mat1, mat2, bias=input)  # Linear on the GPU: the GEMM's epilogue adds the bias
        else:
            prod = mm(mat1, mat2)
            if row_bias and input._shape == prod._shape[1:]:
                D.kernels(prod).add_row(prod._buf, input._buf)  # Linear's bias in place: no (N, out) temporary
                result = prod
            else:
                expand(input.detach(), prod._shape)  # PyTorch's error when input does not broadcast to the product
                if alpha != 1:
                    prod = mul(prod, alpha)
                if beta == 1 and input._dtype is prod._dtype:
                    result = prod.add_(input)  # prod is ours: add in place, no second (N, out) buffer
                else:
                    result = add(prod, input if beta == 1 else mul(input, beta))
    if _requires(input, mat1, mat2):
        n = AddmmBackward0()
        n.ctx = (beta, alpha, _transposed(mat1), _transposed(mat2))
        n.save(mat1 if mat2._requires_grad else None, mat2 if mat1._requires_grad else None)
        attach(n, result, input, mat1, mat2)
    return _out(result, out, "addmm")


def matmul(input, other, *, out=None):
    return _out(_matmul(input, other), out, "matmul")


def _matmul(input, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}")
    da, db = input.dim(), other.dim()
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D"
                           + hint("use * to multiply by a scalar."))
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return _squeeze4(mm(unsqueeze(input, 0), other))
    if da == 2 and db == 2:
        return mm(input, other)
    if db <= 2 and da >= 3:  # fold the batch into the rows of one matrix product
        rows = numel_of(input._shape[:-1])
        folded = reshape(input, rows, input._shape[-1])
        if db == 1:
            return _unsafe_view(mv(folded, other), input._shape[:-1])
        _check_inner(input, other)
        return _unsafe_view(mm(folded, other), input._shape[:-1] + (other._shape[-1],))
    return _batched(input, other)


class SqueezeBackward4(Node):
    def backward(self, g):
        return (unsqueeze(g, 0),)


def _squeeze4(x):
    """The (1, n) -> (n,) squeeze of vector @ matrix (PyTorch names its node SqueezeBackward4)."""
    from .shape import _view
    return _view(x, x._shape[1:], x._strides[1:], x._offset, SqueezeBackward4)


def _check_inner(a, b):
    k_a = a._shape[-1]
    k_b = b._shape[-2] if b.dim() >= 2 else b._shape[0]
    if k_a != k_b:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({by((numel_of(a._shape[:-1]), k_a))} and "
                           f"{by(b._shape[-2:])})"
                           + hint(f"the last dim of the first ({k_a}) must equal the second-to-last of the second "
                                  f"({k_b})."))


def _unsafe_view(x, shape):
    from .shape import UnsafeViewBackward0, _view
    return _view(x, shape, _contig(shape), x._offset, UnsafeViewBackward0, x._shape)


def _contig(shape):
    from .._tensor import contiguous_strides
    return contiguous_strides(shape)


def _batched(a, b):
    """N-D matmul: broadcast the batch dims, fold them, bmm, unfold."""
    squeeze_first = a.dim() == 1
    squeeze_last = b.dim() == 1
    if squeeze_first:
        a = unsqueeze(a, 0)
    if squeeze_last:
        b = unsqueeze(b, 1)
    if a._shape[-1] != b._shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{numel_of(broadcast_shapes(a._shape[:-2], b._shape[:-2]))}, {a._shape[-1]}] but got: "
                           f"[{numel_of(broadcast_shapes(a._shape[:-2], b._shape[:-2]))}, {b._shape[-2]}]."
                           + hint(f"the last dim of the first ({a._shape[-1]}) must equal the second-to-last of the "
                                  f"second ({b._shape[-2]})."))
    batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
    n, k, m = a._shape[-2], a._shape[-1], b._shape[-1]
    count = numel_of(batch)
    a3 = reshape(expand(a, batch + (n, k)), count, n, k)
    b3 = reshape(expand(b, batch + (k, m)), count, k, m)
    out_shape = batch + ((n,) if not squeeze_first else ()) + ((m,) if not squeeze_last else ())
    return _unsafe_view(bmm(a3, b3), out_shape)


def einsum(equation, *operands):
    raise NotImplementedError("tcli.einsum is not implemented yet"
                              + hint("use matmul/bmm with permute and reshape for now."))
