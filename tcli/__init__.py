"""tcli: PyTorch's tensor API on Numba kernels. ``import tcli as torch`` runs PyTorch-basics code."""

from __future__ import annotations

__version__ = "0.1.0"

from . import dtypes as _dtypes
from . import errors as _errors
from ._size import Size
from ._tensor import Tensor
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .device import device
from .dtypes import dtype, get_default_dtype, promote_types, set_default_dtype
from .ops import methods as _methods
from .ops.creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    get_default_device,
    linspace,
    logspace,
    ones,
    ones_like,
    set_default_device,
    tensor,
    zeros,
    zeros_like,
)
from .ops.indexing import (
    argsort,
    argwhere,
    bincount,
    gather,
    index_add,
    index_put,
    index_select,
    kthvalue,
    masked_select,
    median,
    msort,
    nonzero,
    scatter,
    scatter_add,
    sort,
    take,
    topk,
    unique,
)
from .ops.linalg import addmm, bmm, dot, einsum, ger, inner, matmul, mm, mv, outer, vdot
from .ops.methods import isclose
from .ops.pointwise import (
    abs,
    absolute,
    acos,
    add,
    addcdiv,
    addcmul,
    arccos,
    arcsin,
    arctan,
    arctan2,
    asin,
    atan,
    atan2,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    cosh,
    div,
    divide,
    eq,
    erf,
    exp,
    exp2,
    expm1,
    fix,
    float_power,
    floor,
    floor_divide,
    fmax,
    fmin,
    fmod,
    frac,
    ge,
    greater,
    greater_equal,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    masked_fill,
    maximum,
    minimum,
    mul,
    multiply,
    ne,
    neg,
    negative,
    not_equal,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    signbit,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from .ops.random import (
    Generator,
    bernoulli,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .ops.reduction import (
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    softmax,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    clone,
    concat,
    concatenate,
    diagonal,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    moveaxis,
    movedim,
    narrow,
    permute,
    ravel,
    repeat_interleave,
    reshape,
    roll,
    select,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    tensor_split,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)
from .printing import get_printoptions, printoptions, set_printoptions

_methods.install()

from . import autograd, cuda, linalg  # noqa: E402

# The training stack loads on first use (tcli.nn, tcli.optim, ...): `tcli --help` and plain tensor work do not pay
# for it. `import tcli.nn` and attribute access both work as with eager imports.
_LAZY_SUBMODULES = ("nn", "optim", "utils", "datasets", "accelerator", "backends")
_LAZY_FUNCTIONS = {"save": "serialization", "load": "serialization"}
from .monitor import report  # noqa: E402

# dtypes and their PyTorch aliases
bool = _dtypes.bool_
uint8, int8, int16, int32, int64 = _dtypes.uint8, _dtypes.int8, _dtypes.int16, _dtypes.int32, _dtypes.int64
float16, float32, float64 = _dtypes.float16, _dtypes.float32, _dtypes.float64
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
strided = "torch.strided"
contiguous_format = preserve_format = channels_last = None


def numel(input) -> builtins.int:  # noqa: F821
    return input.numel()


def is_tensor(obj) -> builtins.bool:  # noqa: F821
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return input.item() != 0


def equal(input, other):
    return input.equal(other)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return input.allclose(other, rtol, atol, equal_nan)


def result_type(tensor1, tensor2):
    return _dtypes.result_type(tensor1, tensor2)


def can_cast(from_, to):
    from .ops.inplace import _can_cast
    return _can_cast(from_, to)


def set_num_threads(n):
    from .kernels.config import PARALLEL_MIN
    from .kernels.cpu import SERIAL_ONLY
    from .kernels.cpu import set_num_threads as _set
    from .ops import _dispatch
    _set(n)
    _dispatch._PARALLEL_MIN = SERIAL_ONLY if n == 1 else PARALLEL_MIN  # see kernels.cpu.set_num_threads


def get_num_threads():
    from .kernels.cpu import num_threads
    return num_threads()


def compile(model=None, **kwargs):
    """Accepted for compatibility: returns the model unchanged (tcli's kernels are already compiled)."""
    return model if model is not None else (lambda m: m)


def __getattr__(name):
    """The lazily loaded submodules; for a torch API tcli does not have, say so (scripts run with ``import torch``
    mapped to tcli)."""
    if name in _LAZY_SUBMODULES or name in _LAZY_FUNCTIONS:
        import importlib
        module = importlib.import_module(f"{__name__}.{_LAZY_FUNCTIONS.get(name, name)}")
        return getattr(module, name) if name in _LAZY_FUNCTIONS else module
    if name.startswith("__"):
        raise AttributeError(f"module 'tcli' has no attribute '{name}'")
    raise AttributeError(f"module 'tcli' has no attribute '{name}': tcli does not implement torch.{name}"
                         + _errors.hint("tcli covers PyTorch's basics (tensors, autograd, nn, optim, utils.data); "
                                        "run this script with PyTorch itself for the rest."))
