"""Elementwise ops: arithmetic, comparisons, math functions, clamp/where/lerp, with their gradients.

Each op reads like a row of PyTorch's derivatives table: a forward that picks the kernel and the
result dtype, and a ``Node`` whose ``backward`` gives the input gradients in tcli ops (so they can
themselves be differentiated when ``create_graph=True``). The engine sums gradients of broadcast
inputs back to their shapes.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, attach, own_output, saved_output
from ..errors import hint, not_a_tensor, shape_str
from . import _dispatch as D
from ._util import broadcast_shapes

bool_, int64, float32 = _dt.bool_, _dt.int64, _dt.float32

# Tensor and its subclasses (nn.Parameter registers itself): the types the fast paths accept.
TENSOR_TYPES = {Tensor}
_NUMBER = (int, float, bool)


def is_number(x) -> bool:
    return type(x) in _NUMBER or isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, Tensor)


def _py(x):
    """A numpy scalar as the Python number it holds."""
    return x.item() if isinstance(x, np.generic) else x


def _requires(*xs) -> bool:
    if not STATE.enabled:
        return False
    for x in xs:
        if type(x) is Tensor or isinstance(x, Tensor):
            if x._requires_grad:
                return True
    return False


def _scalar_result(dt, value):
    """torch.result_type(tensor, python_number) for a tensor of dtype dt."""
    if isinstance(value, bool):
        return dt
    if isinstance(value, int):
        return int64 if dt is bool_ else dt
    if isinstance(value, float):
        return dt if dt.is_floating_point else _dt.get_default_dtype()
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


def _tensor_result(a: Tensor, b: Tensor):
    return a._dtype if a._dtype is b._dtype else _dt.result_type(a, b)




def _as_tensor_operand(x, like: Tensor, name: str, arg: str = "other"):
    """Python number -> None (handled by scalar kernels); a numpy array -> Tensor; a Tensor as it is. A list or
    tuple is refused, as PyTorch refuses it (the operators return NotImplemented for them first)."""
    if isinstance(x, Tensor):
        return x
    if is_number(x):
        return None
    if isinstance(x, np.ndarray):
        from .creation import tensor
        return tensor(x, device=like._device)
    raise TypeError(f"{name}(): argument '{arg}' (position 2) must be Tensor, not {type(x).__name__}"
                    + hint(f"make it a tensor first: tcli.tensor({_short(x)})." if isinstance(x, (list, tuple))
                           else "pass a tensor or a Python number."))


def _short(x) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- the generic forward -------------------------------------------------------------------------------

def _binary_forward(kernel, a: Tensor, b, *, result=None, floating=False):
    """op(a, b) without autograd. b is a Tensor or a Python number.

    ``result``: a fixed result dtype (bool for comparisons); ``floating``: integer inputs give the
    default float dtype (true division).
    """
    if not isinstance(b, Tensor):
        b = _py(b)
        compute = _scalar_result(a._dtype, b)
        if floating and not compute.is_floating_point:
            compute = _dt.get_default_dtype()
        x = a if a._dtype is compute else D.cast(a, compute)
        return D.map1(kernel + "_s", x, result or compute, D.scalar_of(b, compute))
    if a._device is not b._device:
        a, b = D.same_device(a, b)
    compute = _tensor_result(a, b)
    if floating and not compute.is_floating_point:
        compute = _dt.get_default_dtype()
    shape = a._shape if a._shape == b._shape else broadcast_shapes(a._shape, b._shape)
    # One side a single value broadcast (an expanded gradient of a sum, a 0-d tensor): a scalar kernel
    # over the other side, instead of the strided kernel walking a zero-stride operand.
    if compute is not D.float16:
        if b._dense and shape == b._shape and kernel in _REVERSED_SCALAR_FORM and _one_value(a):
            a, b, kernel = b, a, _REVERSED_SCALAR_FORM[kernel]
        elif a._dense and shape == a._shape and kernel in _SCALAR_FORM and _one_value(b):
            kernel = _SCALAR_FORM[kernel]
        else:
            return D.map2(kernel, a, b, compute, result or compute, shape)
        x = a if a._dtype is compute else D.cast(a, compute)
        return D.map1(kernel, x, result or compute, D.scalar_of(b._buf[b._offset].item(), compute))
    return D.map2(kernel, a, b, compute, result or compute, shape)


# binary kernel -> its tensor-op-number kernel
_SCALAR_FORM = {k: k + "_s" for k in ("add", "sub", "mul", "div", "floordiv", "truncdiv", "rem", "pow",
                                      "eq", "ne", "lt", "le", "gt", "ge")}
_SCALAR_FORM.update(maximum="max_s", minimum="min_s", bitwise_and="and_s", bitwise_or="or_s", bitwise_xor="xor_s")
# binary kernel -> the kernel computing number-op-tensor, given (tensor, number)
_REVERSED_SCALAR_FORM = dict(add="add_s", mul="mul_s", sub="rsub_s", div="rdiv_s", floordiv="rfloordiv_s",
                             truncdiv="rtruncdiv_s", rem="rrem_s", pow="rpow_s", maximum="max_s", minimum="min_s",
                             eq="eq_s", ne="ne_s", lt="gt_s", le="ge_s", gt="lt_s", ge="le_s",
                             bitwise_and="and_s", bitwise_or="or_s", bitwise_xor="xor_s")


def _one_value(t: Tensor) -> bool:
    """True if every element of t is the same memory location (a 1-element tensor, or one expanded)."""
    return t._device is D.CPU and 0 not in t._shape and (len(t._buf) == 1 or not any(t._strides))


def _rscalar_forward(kernel, number, a: Tensor, *, floating=False):
    """op(number, a) for non-commutative ops, via the reversed scalar kernel (e.g. rsub_s)."""
    number = _py(number)
    compute = _scalar_result(a._dtype, number)
    if floating and not compute.is_floating_point:
        compute = _dt.get_default_dtype()
    x = a if a._dtype is compute else D.cast(a, compute)
    return D.map1(kernel, x, compute, D.scalar_of(number, compute))


def _unary_forward(kernel, x: Tensor, *, floating=False, p=0, q=0, result=None):
    """kernel(x); ``floating``: integer input gives the default float dtype (exp of an int tensor)."""
    dtype = x._dtype
    if floating and not dtype.is_floating_point:
        dtype = _dt.get_default_dtype()
        x = D.cast(x, dtype)
    if p or q:
        p, q = D.scalar_of(p, dtype), D.scalar_of(q, dtype)
    return D.map1(kernel, x, result or dtype, p, q)


def _record(node, out, *inputs):
    """Attach node as out's grad_fn (the caller checked that grad is needed)."""
    return attach(node, out, *inputs)


# ---- Nodes ---------------------------------------------------------------------------------------------

class AddBackward0(Node):
    def backward(self, g):
        nf = self.next_functions
        if len(nf) == 1:
            return (g,)
        alpha = self.ctx
        return g, ((g if alpha == 1 else mul(g, alpha)) if nf[1][0] is not None else None)


class SubBackward0(Node):
    def backward(self, g):
        nf = self.next_functions
        if len(nf) == 1:
            return (g,)
        alpha = self.ctx
        return g, ((neg(g) if alpha == 1 else mul(g, -alpha)) if nf[1][0] is not None else None)


class RsubBackward1(Node):
    def backward(self, g):
        return (neg(g) if self.ctx == 1 else mul(g, -self.ctx)),


class MulBackward0(Node):
    def backward(self, g):
        if self.ctx is not None:  # multiplied by a number
            self.saved_tensors  # noqa: B018 - raises on a second backward, as PyTorch's does (save_number)
            return (mul(g, self.ctx),)
        a, b = self.saved_tensors
        nf = self.next_functions
        return (mul(g, b) if nf[0][0] is not None else None,
                mul(g, a) if nf[1][0] is not None else None)


class DivBackward0(Node):
    def backward(self, g):
        if self.ctx is not None:
            self.saved_tensors  # noqa: B018 - raises on a second backward, as PyTorch's does (save_number)
            return (div(g, self.ctx),)
        a, b = self.saved_tensors
        nf = self.next_functions
        ga = div(g, b) if nf[0][0] is not None else None
        gb = neg(div(mul(g, a), mul(b, b))) if nf[1][0] is not None else None
        return ga, gb


class PowBackward0(Node):
    """pow(x, number)."""

    def backward(self, g):
        (x,) = self.saved_tensors
        p = self.ctx
        if p == 0:
            return (mul(g, 0),)
        if p == 2:
            if not STATE.enabled and g._dtype is x._dtype:  # one pass; create_graph needs the differentiable form
                if _one_value(g) and x._dense:  # the gradient of a sum: one value, a scalar kernel
                    return (D.map1("square_grad_s", x, x._dtype, D.scalar_of(g._buf[g._offset].item(), x._dtype)),)
                return (D.map2("square_grad", g, x, g._dtype, g._dtype, x._shape),)
            return (mul(mul(g, x), 2),)
        return (mul(mul(g, p), pow(x, p - 1)),)


class PowBackward1(Node):
    """pow(x, y) with y a tensor."""

    def backward(self, g):
        x, y, result = self.saved_tensors
        nf = self.next_functions
        gx = gy = None
        if nf[0][0] is not None:
            gx = mul(g, mul(y, pow(x, sub(y, 1))))
        if nf[1][0] is not None:
            gy = mul(g, mul(result, log(x)))
            gy = masked_fill(gy, logical_and(eq(x, 0), ge(y, 0)), 0)
        return gx, gy


class PowBackward2(Node):
    """pow(number, y)."""

    def backward(self, g):
        (result,) = self.saved_tensors
        base = self.ctx
        if base == 0:
            return (mul(g, 0),)
        return (mul(mul(g, result), math.log(base)),)


class RemainderBackward0(Node):
    """x % number (RemainderBackward0) or x % y (RemainderBackward1)."""

    def name(self):
        return "RemainderBackward0" if self.ctx is not None else "RemainderBackward1"

    def backward(self, g):
        if self.ctx is not None:
            return (g,)
        a, b = self.saved_tensors
        nf = self.next_functions
        gb = neg(mul(g, floor_divide(a, b))) if nf[1][0] is not None else None
        return (g if nf[0][0] is not None else None), gb


class NotImplemented_(Node):
    def backward(self, g):
        raise RuntimeError(f"derivative for aten::{self.ctx} is not implemented"  # PyTorch's words
                           + hint("this op has no gradient in PyTorch either; for division with a gradient use "
                                  "torch.div(a, b, rounding_mode='floor') (zero gradient) or a / b."))

    def name(self):
        return "NotImplemented"


class MaximumBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        return _minmax_grads(g, a, b, gt, self.next_functions)


class MinimumBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        return _minmax_grads(g, a, b, lt, self.next_functions)


class FmaxBackward0(Node):
    """fmax/fmin: all of the gradient goes to the side picked (input on ties and where other is NaN), as PyTorch's
    derivative formula masks it."""

    def backward(self, g):
        (picks_input,) = self.saved_tensors
        nf = self.next_functions
        g_input = where(picks_input, g, 0.0) if nf[0][0] is not None else None
        g_other = where(picks_input, 0.0, g) if nf[1][0] is not None else None
        return g_input, g_other


class FminBackward0(FmaxBackward0):
    pass


def _minmax_grads(g, a, b, wins, nf):
    tie = eq(a, b)
    half = div(g, 2)
    ga = gb = None
    if nf[0][0] is not None:
        ga = where(tie, half, where(wins(a, b), g, 0.0))
    if nf[1][0] is not None:
        gb = where(tie, half, where(wins(b, a), g, 0.0))
    return ga, gb


class Atan2Backward0(Node):
    def backward(self, g):
        y, x = self.saved_tensors
        denom = add(mul(x, x), mul(y, y))
        return div(mul(g, x), denom), neg(div(mul(g, y), denom))


# ---- binary arithmetic ---------------------------------------------------------------------------------

_ADD, _SUB, _MUL = D.DenseOp("add"), D.DenseOp("sub"), D.DenseOp("mul")
_ADD_S, _SUB_S, _MUL_S = D.DenseOp("add_s", True), D.DenseOp("sub_s", True), D.DenseOp("mul_s", True)

def _record_add(result, a, b, number):
    n = AddBackward0()
    n.ctx = 1
    _record(n, result, a, b)


def _record_sub(result, a, b, number):
    n = SubBackward0()
    n.ctx = 1
    _record(n, result, a, b)


def _record_mul(result, a, b, number):
    n = MulBackward0()
    if b is None:
        n.ctx = number
        n.save_number()
    else:
        n.ctx = None
        n.save(a if b._requires_grad else None, b if a._requires_grad else None)
    _record(n, result, a, b)


def operator(name, dense, scalar, fallback, record, bool_ok=True):
    """``a <op> b`` (see _dispatch.binary_operator, which holds the fast paths)."""
    return D.binary_operator(name, dense, scalar, fallback, record, TENSOR_TYPES, bool_ok)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other."""
    if alpha == 1 and out is None and type(input) in TENSOR_TYPES:
        result = add_operator(input, other)
        if result is not NotImplemented:  # a list or tuple: refused below with the functional form's error
            return result
    return _add(input, other, alpha, out)


def _add(input, other, alpha=1, out=None):
    if not isinstance(input, Tensor):
        input, other = other, input  # add is commutative: tcli.add(2, t)
    b = _as_tensor_operand(other, input, "add")
    if b is None:
        value = other * alpha if alpha != 1 else other
        result = _binary_forward("add", input, value)
        if _requires(input):
            n = AddBackward0()
            n.ctx = 1
            _record(n, result, input, None)
        return _out(result, out)
    scaled = b if alpha == 1 else mul(b, alpha)
    result = _binary_forward("add", input, scaled.detach() if scaled is not b else b)
    if _requires(input, b):
        n = AddBackward0()
        n.ctx = alpha
        _record(n, result, input, b)
    return _out(result, out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if alpha == 1 and out is None and type(input) in TENSOR_TYPES:
        result = sub_operator(input, other)
        if result is not NotImplemented:  # a list or tuple: refused below with the functional form's error
            return result
    return _sub(input, other, alpha, out)


def _sub(input, other, alpha=1, out=None):
    if not isinstance(input, Tensor):
        return rsub(other, input, alpha=alpha)
    b = _as_tensor_operand(other, input, "sub")
    if b is None:
        _check_not_bool_sub(input._dtype, other)
        result = _binary_forward("sub", input, other * alpha if alpha != 1 else other)
        if _requires(input):
            n = SubBackward0()
            n.ctx = 1
            _record(n, result, input, None)
        return _out(result, out)
    _check_not_bool_sub(input._dtype, b)
    result = _binary_forward("sub", input, b if alpha == 1 else mul(b.detach(), alpha))
    if _requires(input, b):
        n = SubBackward0()
        n.ctx = alpha
        _record(n, result, input, b)
    return _out(result, out)


subtract = sub


_BOOL_HINT = hint("bool tensors are masks: ~mask inverts one, a ^ b keeps where exactly one is True; to do "
                  "arithmetic convert first, e.g. mask.int() - 1 or mask.float().")


def _check_not_bool_sub(dt, other):
    other_bool = isinstance(other, bool) or (isinstance(other, Tensor) and other._dtype is bool_)
    if dt is bool_ and other_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead." + _BOOL_HINT)
    if dt is bool_ or other_bool:  # a Python bool is a bool tensor to PyTorch: x - True fails too
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead." + _BOOL_HINT)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (PyTorch's reversed subtraction)."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    _check_not_bool_sub(input._dtype, other)
    scaled = input if alpha == 1 else mul(input.detach(), alpha)
    result = _rscalar_forward("rsub_s", other, scaled)
    if _requires(input):
        n = RsubBackward1()
        n.ctx = alpha
        _record(n, result, input)
    return result


def mul(input, other, *, out=None):
    if out is None and type(input) in TENSOR_TYPES:
        result = mul_operator(input, other)
        if result is not NotImplemented:  # a list or tuple: refused below with the functional form's error
            return result
    return _mul(input, other, out)


def _mul(input, other, out=None):
    if not isinstance(input, Tensor):
        input, other = other, input
    b = _as_tensor_operand(other, input, "mul")
    if b is None:
        result = _binary_forward("mul", input, other)
        if _requires(input):
            n = MulBackward0()
            n.ctx = _py(other)
            n.save_number()
            _record(n, result, input, None)
        return _out(result, out)
    result = _binary_forward("mul", input, b)
    if _requires(input, b):
        n = MulBackward0()
        n.ctx = None
        n.save(input if b._requires_grad else None, b if input._requires_grad else None)
        _record(n, result, input, b)
    return _out(result, out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        if rounding_mode == "floor":
            if not isinstance(input, Tensor):
                return floor_divide(input, other)
            _refuse_bool("div_floor_cpu", input, other)
            return _rounded_divide(input, other, "floordiv")
        if rounding_mode == "trunc":
            return _rounded_divide(input, other, "truncdiv")
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    if not isinstance(input, Tensor):
        return _rdiv(input, other)
    b = _as_tensor_operand(other, input, "div")
    if b is None:
        result = _binary_forward("div", input, other, floating=True)
        if _requires(input):
            n = DivBackward0()
            n.ctx = _py(other)
            n.save_number()
            _record(n, result, input, None)
        return _out(result, out)
    result = _binary_forward("div", input, b, floating=True)
    if _requires(input, b):
        n = DivBackward0()
        n.ctx = None
        n.save(input if b._requires_grad else None, b)
        _record(n, result, input, b)
    return _out(result, out)


true_divide = divide = div


def _rdiv(number, t: Tensor):
    """number / t, which PyTorch computes as t.reciprocal() * number (hence MulBackward0)."""
    return mul(reciprocal(t), number)


def _check_int_division(a, b):
    """PyTorch's error for a // b or a % b in integers with a zero divisor (a or b may be a Python number)."""
    if any(x._dtype.is_floating_point if isinstance(x, Tensor) else isinstance(x, float) for x in (a, b)):
        return
    zero = (b == 0) if not isinstance(b, Tensor) else bool(eq(b, 0).any())
    if zero:
        raise RuntimeError("ZeroDivisionError" + hint("integer division by zero has no value; use floats "
                                                      "(x.float() / y) to get inf/nan instead."))


def _refuse_bool(kernel, a, b):
    if getattr(a, "_dtype", None) is bool_ and (isinstance(b, bool) or getattr(b, "_dtype", None) is bool_):
        raise _dt.not_implemented(kernel, bool_)


def floor_divide(input, other, *, out=None):
    _refuse_bool("div_floor_cpu", input, other)
    if not isinstance(input, Tensor):
        _check_int_division(input, other)
        return _not_differentiable(_rscalar_forward("rfloordiv_s", input, other), "floor_divide", other)
    b = _as_tensor_operand(other, input, "floor_divide")
    _check_int_division(input, b if b is not None else other)
    result = _binary_forward("floordiv", input, b if b is not None else other)
    return _out(_not_differentiable(result, "floor_divide", input, b), out)


def _rounded_divide(input, other, kernel):
    """div with rounding_mode: a zero gradient (DivBackward2), where floor_divide itself has none in PyTorch."""
    b = _as_tensor_operand(other, input, "div")
    _check_int_division(input, b if b is not None else other)
    result = _binary_forward(kernel, input, b if b is not None else other)
    if _requires(input, b):
        n = _ZeroGrad()
        n.ctx = "DivBackward2"
        _record(n, result, input, b)
    return result


def _not_differentiable(result, name, *inputs):
    if _requires(*inputs):
        n = NotImplemented_()
        n.ctx = name
        _record(n, result, *[x if isinstance(x, Tensor) else None for x in inputs])
    return result


def remainder(input, other, *, out=None):
    _refuse_bool("remainder_cpu", input, other)
    if not isinstance(input, Tensor):
        _check_int_division(input, other)
        return _rscalar_forward("rrem_s", input, other)
    b = _as_tensor_operand(other, input, "remainder")
    _check_int_division(input, b if b is not None else other)
    result = _binary_forward("rem", input, b if b is not None else other)
    if _requires(input, b):
        n = RemainderBackward0()
        if b is None:
            n.ctx = other
            _record(n, result, input)
        else:
            n.ctx = None
            n.save(input, b)
            _record(n, result, input, b)
    return _out(result, out)


def fmod(input, other):
    """C's fmod: the result takes the dividend's sign."""
    return sub(input, mul(_rounded_divide(input.detach(), other, "truncdiv"), other))


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        return _pow_number_base(input, exponent)
    if input._dtype is bool_ and (isinstance(exponent, bool) or getattr(exponent, "_dtype", None) is bool_):
        raise _dt.not_implemented("pow", bool_)
    e = _as_tensor_operand(exponent, input, "pow", "exponent")
    if e is None:
        exponent = _py(exponent)
        if not input._dtype.is_floating_point and isinstance(exponent, int) and not isinstance(exponent, bool) \
                and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed."
                               + hint("make the base floating point first: x.float() ** -1."))
        if exponent == 2:
            compute = _scalar_result(input._dtype, exponent)
            result = D.map1("square", input if input._dtype is compute else D.cast(input, compute), compute)
        else:
            result = _binary_forward("pow", input, exponent)
        if _requires(input):
            n = PowBackward0()
            n.ctx = exponent
            n.save(input)
            _record(n, result, input)
        return _out(result, out)
    result = _binary_forward("pow", input, e)
    if _requires(input, e):
        n = PowBackward1()
        n.save(input, e, own_output(result))
        _record(n, result, input, e)
    return _out(result, out)


def _pow_number_base(base, exponent: Tensor):
    base = _py(base)
    result = _rscalar_forward("rpow_s", base, exponent, floating=isinstance(base, float))
    if _requires(exponent):
        n = PowBackward2()
        n.ctx = base
        n.save(own_output(result))
        _record(n, result, exponent)
    return result


float_power = pow


def maximum(input, other, *, out=None):
    return _out(_minmax(input, other, "maximum", MaximumBackward0), out, "maximum")


def minimum(input, other, *, out=None):
    return _out(_minmax(input, other, "minimum", MinimumBackward0), out, "minimum")


def _two_tensors(a, b, name):
    if not isinstance(a, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}"
                        + hint("put the tensor first, and use clamp for a number: x.clamp(min=...)."))
    if not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(b).__name__}"
                        + hint("use clamp for a number: x.clamp(min=...) / x.clamp(max=...)."))


def _minmax(a, b, kernel, node_cls):
    _two_tensors(a, b, kernel)
    result = _binary_forward(kernel, a, b)
    if _requires(a, b):
        n = node_cls()
        n.save(a, b)
        _record(n, result, a, b)
    return result


def fmax(input, other, *, out=None):
    """maximum that ignores NaN: the other value where one side is NaN (NaN only where both are)."""
    return _out(_fminmax(input, other, "fmax", ge, FmaxBackward0), out, "fmax")


def fmin(input, other, *, out=None):
    """minimum that ignores NaN."""
    return _out(_fminmax(input, other, "fmin", le, FminBackward0), out, "fmin")


def _fminmax(a, b, name, keeps_input, node_cls):
    _two_tensors(a, b, name)
    with _no_grad():
        picks_input = logical_or(keeps_input(a, b), isnan(b))
        result = where(picks_input, a, b)
    if _requires(a, b):
        n = node_cls()
        n.save(picks_input)
        _record(n, result, a, b)
    return result


def atan2(input, other, *, out=None):
    result = _binary_forward("atan2", input, other, floating=True)
    if _requires(input, other):
        n = Atan2Backward0()
        n.save(input, other)
        _record(n, result, input, other)
    return result


arctan2 = atan2


# ---- comparisons and logic (never differentiable) --------------------------------------------------------

def _comparison(kernel):
    def op(input, other, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{kernel}(): argument 'input' must be Tensor, not {type(input).__name__}")
        b = _as_tensor_operand(other, input, kernel)
        return _binary_forward(kernel, input, other if b is None else b, result=bool_)
    op.__name__ = op.__qualname__ = kernel
    op.__doc__ = f"Elementwise {kernel} comparison; a bool tensor."
    return op


eq, ne, lt, le, gt, ge = (_comparison(k) for k in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(kernel):
    def op(input, other, *, out=None):
        b = _as_tensor_operand(other, input, kernel)
        if b is None:
            from .creation import tensor
            b = tensor(other, device=input._device)
        shape = broadcast_shapes(input._shape, b._shape)
        compute = _tensor_result(input, b)
        return D.map2(kernel, input, b, compute, bool_, shape)
    op.__name__ = op.__qualname__ = kernel
    return op


logical_and, logical_or, logical_xor = (_logical(k) for k in ("logical_and", "logical_or", "logical_xor"))


def _bitwise(kernel):
    def op(input, other, *, out=None):
        dt = input._dtype if not isinstance(other, Tensor) else _tensor_result(input, other)
        if dt.is_floating_point or isinstance(other, float):
            error = _dt.not_implemented(f"{kernel}_cpu", dt if dt.is_floating_point else _dt.get_default_dtype())
            raise type(error)(str(error) + hint("bitwise operators work on integer or bool tensors; use "
                                                "logical_and/logical_or, or compare first: (x > 0) & (y > 0)."))
        if isinstance(other, Tensor):
            return _binary_forward(kernel, input, other)
        short = {"bitwise_and": "and_s", "bitwise_or": "or_s", "bitwise_xor": "xor_s"}[kernel]
        compute = _scalar_result(input._dtype, other)
        x = input if input._dtype is compute else D.cast(input, compute)
        return D.map1(short, x, compute, D.scalar_of(other, compute))
    op.__name__ = op.__qualname__ = kernel
    return op


bitwise_and, bitwise_or, bitwise_xor = (_bitwise(k) for k in ("bitwise_and", "bitwise_or", "bitwise_xor"))


def logical_not(input, *, out=None):
    return D.map1("logical_not", input, bool_)


def bitwise_not(input, *, out=None):
    if input._dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors"
                        + hint("~ inverts bool masks and integers; for a float mask compare first: ~(x > 0)."))
    if input._dtype is bool_:
        return logical_not(input)
    return D.map1("bitwise_not", input, input._dtype)


def isnan(input):
    if not input._dtype.is_floating_point:
        return D.map1("fill", input, bool_, False, False)
    return D.map1("isnan", input, bool_)


def isinf(input):
    if not input._dtype.is_floating_point:
        return D.map1("fill", input, bool_, False, False)
    return D.map1("isinf", input, bool_)


def isfinite(input):
    if not input._dtype.is_floating_point:
        return D.map1("fill", input, bool_, True, True)
    return D.map1("isfinite", input, bool_)


def signbit(input):
    return D.map1("signbit", input if input._dtype.is_floating_point else D.cast(input, float32), bool_)


# ---- unary math -------------------------------------------------------------------------------------------
# Each differentiable unary op: (kernel, node name, integer inputs become float?, gradient formula).
# The formula gets (g, x, result) and returns the input gradient in tcli ops.

class _Unary(Node):
    grad_formula = node_name = None

    def backward(self, g):
        x, result = self.saved_tensors or (None, None)  # nothing saved (neg, frac): may run twice, as in PyTorch
        if STATE.enabled and result is not None:  # create_graph: the result must carry this node's history
            result = saved_output(self, result)
        return (self.grad_formula(g, x, result),)

    def name(self):
        return self.node_name


class _ZeroGrad(Node):
    """Ops with zero gradient almost everywhere (floor, sign, ...)."""

    def backward(self, g):  # zeros, as PyTorch's zeros_like(grad): g * 0 gave -0 for g < 0 and NaN for NaN
        from .creation import zeros_like
        return tuple(None if e[0] is None else zeros_like(g) for e in self.next_functions)

    def name(self):
        return self.ctx


def _unary_op(kernel, node_name, floating, formula, *, saves=("x", "result"), refuse=(), kernel_name=None):
    """An elementwise unary op with its gradient formula. ``refuse``: dtypes (or "integral") that
    PyTorch has no kernel for; they raise its NotImplementedError naming ``kernel_name``."""
    def op(input, *, out=None):
        try:
            dt = input._dtype
        except AttributeError:
            raise not_a_tensor(input, kernel) from None
        if (not dt.is_floating_point) if refuse == "integral" else dt in refuse:
            raise _dt.not_implemented(kernel_name, dt)
        result = _unary_forward(kernel, input, floating=floating)
        if _requires(input):
            if formula is None:
                n = _ZeroGrad()
                n.ctx = node_name
            else:
                n = _Unary()
                n.grad_formula = formula
                n.node_name = node_name
                if saves:
                    n.save(input if "x" in saves else None, own_output(result) if "result" in saves else None)
            _record(n, result, input)
        return _out(result, out)
    op.__name__ = op.__qualname__ = kernel
    op.__doc__ = f"Elementwise {kernel}."
    return op


def _fused_or(kernel, g, y, composite):
    """A fused gradient kernel, or the composite formula when building a graph (create_graph)."""
    if STATE.enabled:
        return composite()
    return D.map2(kernel, g, y, g._dtype, g._dtype, g._shape) if g._shape == y._shape and g._dtype is y._dtype \
        else composite()


_neg = _unary_op("neg", "NegBackward0", False, lambda g, x, r: neg(g), saves=())


def neg(input, *, out=None):
    if input._dtype is bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead." + _BOOL_HINT)
    return _neg(input, out=out)


negative = neg
abs = _unary_op("abs", "AbsBackward0", False, lambda g, x, r: _fused_or("abs_grad", g, x, lambda: mul(g, sign(x))),
                saves=("x",), refuse=(bool_,), kernel_name="abs_cpu")
absolute = abs
sign = _unary_op("sign", "SignBackward0", False, None)
sgn = sign
exp = _unary_op("exp", "ExpBackward0", True, lambda g, x, r: mul(g, r), saves=("result",))
exp2 = _unary_op("exp2", "Exp2Backward0", True, lambda g, x, r: mul(mul(g, r), math.log(2.0)), saves=("result",))
expm1 = _unary_op("expm1", "Expm1Backward0", True, lambda g, x, r: mul(g, add(r, 1)), saves=("result",))
log = _unary_op("log", "LogBackward0", True, lambda g, x, r: div(g, x), saves=("x",))
log2 = _unary_op("log2", "Log2Backward0", True, lambda g, x, r: div(g, mul(x, math.log(2.0))), saves=("x",))
log10 = _unary_op("log10", "Log10Backward0", True, lambda g, x, r: div(g, mul(x, math.log(10.0))), saves=("x",))
log1p = _unary_op("log1p", "Log1PBackward0", True, lambda g, x, r: div(g, add(x, 1)), saves=("x",))
sin = _unary_op("sin", "SinBackward0", True, lambda g, x, r: mul(g, cos(x)), saves=("x",))
cos = _unary_op("cos", "CosBackward0", True, lambda g, x, r: neg(mul(g, sin(x))), saves=("x",))
tan = _unary_op("tan", "TanBackward0", True, lambda g, x, r: mul(g, add(mul(r, r), 1)), saves=("result",))
asin = _unary_op("asin", "AsinBackward0", True, lambda g, x, r: div(g, sqrt(rsub(mul(x, x), 1))), saves=("x",))
acos = _unary_op("acos", "AcosBackward0", True, lambda g, x, r: neg(div(g, sqrt(rsub(mul(x, x), 1)))),
                 saves=("x",))
atan = _unary_op("atan", "AtanBackward0", True, lambda g, x, r: div(g, add(mul(x, x), 1)), saves=("x",))
arcsin, arccos, arctan = asin, acos, atan
sinh = _unary_op("sinh", "SinhBackward0", True, lambda g, x, r: mul(g, cosh(x)), saves=("x",))
cosh = _unary_op("cosh", "CoshBackward0", True, lambda g, x, r: mul(g, sinh(x)), saves=("x",))
tanh = _unary_op("tanh", "TanhBackward0", True,
                 lambda g, x, r: _fused_or("tanh_grad", g, r, lambda: mul(g, rsub(mul(r, r), 1))), saves=("result",))
sigmoid = _unary_op("sigmoid", "SigmoidBackward0", True,
                    lambda g, x, r: _fused_or("sigmoid_grad", g, r, lambda: mul(g, mul(r, rsub(r, 1)))),
                    saves=("result",))
_relu = _unary_op("relu", "ReluBackward0", False,
                  lambda g, x, r: _fused_or("relu_grad", g, r, lambda: mul(g, gt(r, 0))), saves=("result",))


def relu(input, *, out=None):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, "relu")
    if input._dtype is bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _relu(input, out=out)
erf = _unary_op("erf", "ErfBackward0", True,
                lambda g, x, r: mul(mul(g, exp(neg(mul(x, x)))), 2.0 / math.sqrt(math.pi)), saves=("x",))
_floor = _unary_op("floor", "FloorBackward0", False, None)
_ceil = _unary_op("ceil", "CeilBackward0", False, None)
_trunc = _unary_op("trunc", "TruncBackward0", False, None)


def _rounding(float_op):
    """floor/ceil/trunc: integers are already whole, so PyTorch returns a copy of them."""
    def op(input, *, out=None):
        if input._dtype is bool_:
            raise _dt.not_implemented(f"{float_op.__name__}_vml_cpu", bool_)
        if not input._dtype.is_floating_point:
            return _out(D.contiguous_copy(input), out)
        return float_op(input, out=out)
    op.__name__ = op.__qualname__ = float_op.__name__
    return op


floor, ceil, trunc = _rounding(_floor), _rounding(_ceil), _rounding(_trunc)
fix = trunc
frac = _unary_op("frac", "FracBackward0", False, lambda g, x, r: g, saves=(), refuse="integral",
                 kernel_name="frac_cpu")
reciprocal = _unary_op("reciprocal", "ReciprocalBackward0", True, lambda g, x, r: neg(mul(g, mul(r, r))),
                       saves=("result",))
square_ = _unary_op("square", "PowBackward0", False, lambda g, x, r: mul(mul(g, x), 2), saves=("x",))
sqrt = _unary_op("sqrt", "SqrtBackward0", True, lambda g, x, r: div(g, mul(r, 2)), saves=("result",))
rsqrt = _unary_op("rsqrt", "RsqrtBackward0", True, lambda g, x, r: mul(mul(g, pow(r, 3)), -0.5),
                  saves=("result",))


def square(input, *, out=None):
    if input._dtype is bool_:
        return pow(input, 2)
    return square_(input, out=out)


def round(input, *, decimals=0, out=None):
    if decimals == 0:
        if not input._dtype.is_floating_point:
            return _out(D.contiguous_copy(input), out)
        return _round0(input, out=out)
    if not input._dtype.is_floating_point:
        return input.clone()
    result = D.map1("round_decimals", input, input._dtype, D.scalar_of(decimals, input._dtype))
    if _requires(input):
        n = _ZeroGrad()
        n.ctx = "RoundBackward1"
        _record(n, result, input)
    return result


_round0 = _unary_op("round", "RoundBackward0", False, None)


# ---- clamp, where, masked_fill, lerp, addcmul ---------------------------------------------------------------

class ClampBackward1(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        lo, hi = self.ctx
        if lo == 0 and hi is None and not STATE.enabled and g._dtype is x._dtype:  # x.clamp(min=0): one pass
            return (D.map2("nonneg_grad", g, x, g._dtype, g._dtype, g._shape),)
        keep = None
        if lo is not None:
            keep = ge(x, lo)
        if hi is not None:
            upper = le(x, hi)
            keep = upper if keep is None else logical_and(keep, upper)
        return (mul(g, keep) if STATE.enabled else D.map3("masked_grad", keep, g, g, g._dtype, g._dtype, g._shape)),


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None"
                           + hint("pass a bound: x.clamp(min=0) or x.clamp(-1, 1)."))
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max)
    dt = input._dtype
    for bound in (min, max):
        if bound is not None:
            dt = _scalar_result(dt, _py(bound))
    x = input if input._dtype is dt else D.cast(input, dt)
    if min is not None and max is not None:
        result = D.map1("clamp", x, dt, D.scalar_of(min, dt), D.scalar_of(max, dt))
    elif min is not None:
        result = D.map1("max_s", x, dt, D.scalar_of(min, dt))
    else:
        result = D.map1("min_s", x, dt, D.scalar_of(max, dt))
    if _requires(input):
        n = ClampBackward1()
        n.ctx = (None if min is None else _py(min), None if max is None else _py(max))
        n.save(input)
        _record(n, result, input)
    return _out(result, out)


clip = clamp


class ClampBackward0(Node):
    """clamp with tensor bounds: g flows to x where it is inside, to the bound that was hit otherwise."""

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        nf = self.next_functions
        zero = g.new_zeros(())
        below = lt(x, lo) if lo is not None else None
        above = gt(x, hi) if hi is not None else None
        outside = below if above is None else (above if below is None else logical_or(below, above))
        g_x = where(outside, zero, g) if nf[0][0] is not None else None
        g_lo = where(logical_and(below, logical_not(above)) if above is not None else below, g, zero) \
            if lo is not None and nf[1][0] is not None else None
        g_hi = where(above, g, zero) if hi is not None and nf[2][0] is not None else None
        return g_x, g_lo, g_hi


def _clamp_tensor(input, lo, hi):
    with _no_grad():
        lo_t = lo if isinstance(lo, Tensor) or lo is None else full_like_scalar(input, lo)
        hi_t = hi if isinstance(hi, Tensor) or hi is None else full_like_scalar(input, hi)
        result = input
        if lo_t is not None:
            result = maximum(result, lo_t)
        if hi_t is not None:
            result = minimum(result, hi_t)
    if _requires(input, lo_t, hi_t):
        n = ClampBackward0()
        n.save(input, lo_t, hi_t)
        _record(n, result, input, lo_t, hi_t)
    return result


def full_like_scalar(like, value):
    from .creation import tensor
    return tensor(value, dtype=like._dtype, device=like._device)


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class WhereBackward0(Node):
    def backward(self, g):
        (cond,) = self.saved_tensors
        nf = self.next_functions
        zero = g.new_zeros(())
        return (where(cond, g, zero) if nf[0][0] is not None else None,
                where(cond, zero, g) if nf[1][0] is not None else None)


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if condition._dtype is not bool_:
        if condition._dtype is _dt.uint8:
            condition = D.cast(condition, bool_)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dt.scalar_name(condition._dtype)}"
                               + hint("compare to get a mask: tcli.where(x > 0, x, y)."))
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        like = condition
        compute = _dt.result_type(_py(input), _py(other))
    else:
        compute = _dt.result_type(input, other)
    a = input if isinstance(input, Tensor) else _scalar_tensor(input, compute, like)
    b = other if isinstance(other, Tensor) else _scalar_tensor(other, compute, like)
    shape = broadcast_shapes(broadcast_shapes(condition._shape, a._shape), b._shape)
    result = D.map3("where", condition, a, b, compute, compute, shape)
    if _requires(a, b):
        n = WhereBackward0()
        n.save(condition)
        _record(n, result, a if isinstance(input, Tensor) else None, b if isinstance(other, Tensor) else None)
    return result


def _scalar_tensor(value, dtype, like):
    from .creation import tensor
    return tensor(_py(value), dtype=dtype, device=like._device)


class MaskedFillBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved_tensors
        nf = self.next_functions
        gx = where(mask, g.new_zeros(()), g) if nf[0][0] is not None else None
        if len(nf) == 1:
            return (gx,)
        gv = where(mask, g, g.new_zeros(())).sum() if nf[1][0] is not None else None
        return gx, gv


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask._dtype is not bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_dt.cpp_name(mask._dtype) if isinstance(mask, Tensor) else type(mask).__name__}"
                           + hint("build the mask with a comparison, e.g. x.masked_fill(x < 0, 0)."))
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        v = value if value._dtype is input._dtype else value.to(input._dtype)
    else:
        v = _scalar_tensor(value, input._dtype, input)
    shape = broadcast_shapes(mask._shape, input._shape)  # PyTorch's order: its errors call the mask "a"
    result = D.map3("where", mask, v, input, input._dtype, input._dtype, shape)  # input broadcasts too
    if _requires(input, value if isinstance(value, Tensor) else None):
        n = MaskedFillBackward0()
        n.save(mask)
        _record(n, result, input, *((value,) if isinstance(value, Tensor) else ()))
    return result


class LerpBackward0(Node):
    """lerp with a number weight (LerpBackward0) or a tensor weight (LerpBackward1)."""

    def name(self):
        return "LerpBackward0" if self.ctx is not None else "LerpBackward1"

    def backward(self, g):
        nf = self.next_functions
        w = self.ctx
        if w is not None:  # scalar weight
            return (mul(g, 1 - w) if nf[0][0] is not None else None,
                    mul(g, w) if nf[1][0] is not None else None)
        start, end, weight = self.saved_tensors
        return (mul(g, rsub(weight, 1)) if nf[0][0] is not None else None,
                mul(g, weight) if nf[1][0] is not None else None,
                mul(g, sub(end, start)) if nf[2][0] is not None else None)


def lerp(input, end, weight):
    if isinstance(weight, Tensor):
        result = add(input.detach(), mul(weight.detach(), sub(end.detach(), input.detach())))
        if _requires(input, end, weight):
            n = LerpBackward0()
            n.ctx = None
            n.save(input, end, weight)
            _record(n, result, input, end, weight)
        return result
    w = _py(weight)
    shape = broadcast_shapes(input._shape, end._shape)
    compute = _tensor_result(input, end)
    result = D.map3("lerp", input, end, _scalar_tensor(w, compute, input), compute, compute, shape)
    if _requires(input, end):
        n = LerpBackward0()
        n.ctx = w
        _record(n, result, input, end)
    return result


class AddcmulBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        v = self.ctx
        nf = self.next_functions
        return (g if nf[0][0] is not None else None,
                mul(mul(g, b), v) if nf[1][0] is not None else None,
                mul(mul(g, a), v) if nf[2][0] is not None else None)


def addcmul(input, tensor1, tensor2, *, value=1):
    with _no_grad():
        result = add(input, mul(mul(tensor1, tensor2), value))
    if _requires(input, tensor1, tensor2):
        n = AddcmulBackward0()
        n.ctx = value
        n.save(tensor1, tensor2)
        _record(n, result, input, tensor1, tensor2)
    return result


def addcdiv(input, tensor1, tensor2, *, value=1):
    return add(input, mul(div(tensor1, tensor2), value))


class LeakyReluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(gt(x, 0), g, mul(g, self.ctx)),)


class LeakyReluBackward1(LeakyReluBackward0):
    """The in-place form's node (PyTorch names it apart)."""


def _activation(kernel, input, node, ctx=None, param=0):
    """kernel(input) elementwise, recording ``node`` (which keeps the input and ``ctx``) when grad is needed."""
    result = D.map1(kernel, input, input._dtype, D.scalar_of(param, input._dtype))
    if _requires(input):
        n = node()
        n.ctx = ctx
        n.save(input)
        _record(n, result, input)
    return result


def leaky_relu(input, negative_slope=0.01, inplace=False, *, node=LeakyReluBackward0):
    return _activation("leaky_relu", input, node, negative_slope, negative_slope)


class EluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(gt(x, 0), g, mul(mul(g, exp(x)), self.ctx)),)


class EluBackward1(EluBackward0):
    """The in-place form's node (PyTorch names it apart)."""


def elu(input, alpha=1.0, inplace=False, *, node=EluBackward0):
    return _activation("elu", input, node, alpha, alpha)


_SQRT1_2 = 1 / math.sqrt(2.0)
_SQRT2_PI = math.sqrt(2.0 / math.pi)


class GeluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        if self.ctx == "tanh":
            return (_fused_or("gelu_tanh_grad", g, x, lambda: mul(g, _gelu_tanh_slope(x))),)
        return (_fused_or("gelu_grad", g, x, lambda: mul(g, _gelu_slope(x))),)


def _gelu_slope(x):
    cdf = mul(add(erf(mul(x, _SQRT1_2)), 1), 0.5)
    return add(cdf, mul(x, mul(exp(mul(mul(x, x), -0.5)), 1 / math.sqrt(2 * math.pi))))


def _gelu_tanh_slope(x):
    x2 = mul(x, x)
    t = tanh(mul(add(x, mul(mul(x2, x), 0.044715)), _SQRT2_PI))
    inner = mul(add(mul(x2, 3 * 0.044715), 1), _SQRT2_PI)
    return add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), rsub(mul(t, t), 1)), inner))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh."
                           + hint("use approximate='none' (exact, erf) or approximate='tanh'."))
    if not input._dtype.is_floating_point:
        raise _dt.not_implemented("GeluKernelImpl", input._dtype)
    return _activation("gelu" if approximate == "none" else "gelu_tanh", input, GeluBackward0, approximate)


class SiluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors

        def composite():
            s = sigmoid(x)
            return mul(g, mul(s, add(mul(x, rsub(s, 1)), 1)))
        return (_fused_or("silu_grad", g, x, composite),)


def silu(input):
    if not input._dtype.is_floating_point:
        raise _dt.not_implemented("silu_cpu", input._dtype)
    return _activation("silu", input, SiluBackward0)


# ---- helpers --------------------------------------------------------------------------------------------

def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


def _out(result, out, name=None):
    """Support PyTorch's out= argument: copy into it (resizing an empty out). ``name``: the op's, for PyTorch's
    error when the result would need a gradient (by default the calling function's, less leading underscores)."""
    if out is None:
        return result
    if result._requires_grad and result._grad_fn is not None:
        name = name or sys._getframe(1).f_code.co_name.lstrip("_")
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, but "
                           "one of the arguments requires grad."
                           + hint(f"drop out= (y = torch.{name}(...)), or compute it inside `with tcli.no_grad():`."))
    if out._shape != result._shape:
        if out.numel() != 0:
            raise RuntimeError(f"An output with one or more elements was resized since it had shape "
                               f"{shape_str(out._shape)}, which does not match the required output shape "
                               f"{shape_str(result._shape)}.")
        out.data = result.to(out._dtype)
        return out
    out.copy_(result)
    return out


# Tensor's +, - and * (their reflected forms go through the functions above).
add_operator = operator("add", _ADD, _ADD_S, _add, _record_add)
sub_operator = operator("sub", _SUB, _SUB_S, _sub, _record_sub, bool_ok=False)
mul_operator = operator("mul", _MUL, _MUL_S, _mul, _record_mul)
