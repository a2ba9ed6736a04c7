"""Random tensors and generators: PyTorch's CPU generator (MT19937, same seeding and default seed), and its CUDA
generator (Philox4x32-10 as a seed and an offset, drawn on the device: kernels/cuda/random.py)."""

from __future__ import annotations

import os

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor
from ..device import CPU
from ..errors import hint
from . import _dispatch as D
from ._util import check_sizes_nonnegative, normalize_shape
from .creation import _device, _finish

_DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed: a fresh process draws the same numbers


# PyTorch's CPUGeneratorImplState: the legacy THGeneratorState (MT words widened to 64 bits), then the float
# normal cache.
_STATE_LAYOUT = np.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8"), ("state", "<u8", 624),
                          ("normal_x", "<f8"), ("normal_y", "<f8"), ("normal_rho", "<f8"), ("normal_is_valid", "<i4"),
                          ("pad", "<i4"), ("float_normal", "<f4"), ("float_normal_valid", "u1"), ("pad2", "u1", 3)])


class Generator:
    """A random number generator (``tcli.Generator``), seeded like PyTorch's: MT19937 for the CPU;
    ``Generator('cuda')`` makes a CudaGenerator."""

    def __new__(cls, device="cpu"):
        from ..device import as_device
        if cls is Generator and as_device(device).type == "cuda":
            cls = CudaGenerator
        return object.__new__(cls)

    def __init__(self, device="cpu"):
        from ..device import as_device
        self.device = as_device(device)
        self._state = np.zeros(624, np.uint32)
        self._pos = np.zeros(2, np.int64)
        self._normal_cache = np.zeros(2, np.float64)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed = seed = _seed_bits(seed)
        _init_genrand(self._state, self._pos, seed)
        self._normal_cache[:] = 0
        return self

    def seed(self):
        value = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
        self.manual_seed(value)
        return value

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """PyTorch's CPU generator state bytes (5056), so states move between tcli and PyTorch."""
        from .creation import from_numpy
        record = np.zeros((), _STATE_LAYOUT)
        record["seed"], record["left"], record["seeded"], record["next"] = self._seed, self._pos[0], 1, self._pos[1]
        record["state"] = self._state
        if self._normal_cache[0]:  # the spare Box-Muller sample of the scalar normal path
            record["normal_is_valid"], record["normal_y"] = 1, self._normal_cache[1]
        return from_numpy(record.reshape(1).view(np.uint8).copy())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor"
                            + hint("pass what get_rng_state() (or torch.get_rng_state()) returned."))
        raw = np.ascontiguousarray(new_state.numpy()).reshape(-1)
        if raw.shape[0] != _STATE_LAYOUT.itemsize:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_LAYOUT.itemsize} but found the "
                               f"input RNG state size to be {raw.shape[0]}")
        record = raw.view(_STATE_LAYOUT)[0]
        self._seed = int(record["seed"])
        self._state[:] = record["state"].astype(np.uint32)
        self._pos[:] = (record["left"], record["next"])
        self._normal_cache[:] = (1.0, record["normal_y"]) if record["normal_is_valid"] else (0.0, 0.0)
        return self

    def __repr__(self):
        return f"<tcli.Generator object at {hex(id(self))}>"


class CudaGenerator(Generator):
    """PyTorch's CUDA generator: a seed and an offset (in 32-bit words) into Philox streams. Each draw takes the
    offset and moves it past every word its threads may use (kernels/cuda/random.py); nothing lives on the GPU."""

    def __init__(self, device="cuda"):
        from ..device import as_device
        self.device = as_device("cuda:0")  # tcli has one GPU
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed, self._offset = _seed_bits(seed), 0
        return self

    def get_state(self):
        """PyTorch's CUDA generator state: 16 bytes, the seed and the offset."""
        from .creation import from_numpy
        return from_numpy(np.array([self._seed, self._offset], np.uint64).view(np.uint8).copy())

    def set_state(self, new_state):
        """A state of 16 bytes (seed, offset), or of 8 (a seed: offset 0), as PyTorch's CUDA generator takes."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8 or new_state.device.type != "cpu":
            raise TypeError("RNG state must be a torch.ByteTensor"
                            + hint("pass what torch.cuda.get_rng_state() returned (a CPU uint8 tensor)."))
        raw = np.ascontiguousarray(new_state.numpy()).reshape(-1)
        if raw.shape[0] not in (8, 16):
            raise RuntimeError("RNG state is wrong size")
        seed, offset = (int(v) for v in raw.view(np.uint64)) if raw.shape[0] == 16 else (int(raw.view(np.uint64)[0]), 0)
        if offset % 4:
            raise RuntimeError("offset must be a multiple of 4")
        self._seed, self._offset = seed, offset
        return self

    def host_generator(self) -> Generator:
        """A CPU generator for the CUDA draws tcli still makes on the host (randperm, multinomial, ...): seeded from
        this generator's seed and offset, which it then moves on, so those draws follow cuda.manual_seed too."""
        stream = Generator().manual_seed(hash((self._seed, self._offset)) & ((1 << 63) - 1))
        self._offset += 4
        return stream

    def draw(self, fill) -> None:
        """Run ``fill(seed, offset)``, which draws on the device and returns how far the offset moves."""
        self._offset += fill(self._seed, self._offset)


def _seed_bits(seed) -> int:
    """A seed as the 64 bits PyTorch keeps (negative seeds wrap); past 64 bits, PyTorch's overflow error."""
    seed = int(seed)
    if seed < -(1 << 63) or seed >= (1 << 64):
        raise RuntimeError(f"Overflow when unpacking long: {seed}")
    return seed & ((1 << 64) - 1)


def _init_genrand(state, pos, value):
    """MT19937's init_genrand with the low 32 bits of the seed, as PyTorch seeds its CPU generator."""
    x = value & 0xFFFFFFFF
    values = [x]
    for j in range(1, 624):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        values.append(x)
    state[:] = values
    pos[0] = 1  # the first draw regenerates the whole state
    pos[1] = 0


default_generator = Generator()
cuda_generator = CudaGenerator()  # tcli has one GPU: cuda:0's default generator


def _gen(generator, device=CPU):
    """The generator a draw on ``device`` uses: the given one (of that device type) or the device's default."""
    if generator is None:
        return default_generator if device.type == "cpu" else cuda_generator
    if generator.device.type != device.type:
        raise RuntimeError(f"Expected a '{device.type}' device type for generator but found "
                           f"'{generator.device.type}'" + hint(f"make it with tcli.Generator(device='{device.type}')"
                                                               f", or draw on {generator.device.type}."))
    return generator


def manual_seed(seed):
    """Seed the CPU generator and the CUDA one, as torch.manual_seed does."""
    default_generator.manual_seed(seed)
    cuda_generator.manual_seed(seed)
    return default_generator


def seed():
    value = default_generator.seed()
    cuda_generator.manual_seed(value)
    return value


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


# ---- filling tensors ----------------------------------------------------------------------------------------

def _float_target(shape, dtype, device, kernel):
    check_sizes_nonnegative(shape)
    dtype = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    _require_float(dtype, kernel)
    return D.empty(shape, dtype, _device(device))


def _require_float(dtype, kernel):
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dt.scalar_name(dtype)}'"
                                  + hint("these draws make floating point values; use randint or random_ for "
                                         "integers."))


def _in_memory_order(t: Tensor) -> Tensor:
    """t with its dims permuted outermost-stride first: PyTorch fills a strided tensor with draws in the order its
    elements lie in memory (TensorIterator sorts dims by stride), so a transposed tensor gets a plain fill's values
    in memory."""
    if t._dense or t.dim() < 2:
        return t
    order = sorted(range(t.dim()), key=lambda d: -t._strides[d])
    return t if order == list(range(t.dim())) else t.permute(order)


def _fill_via(out: Tensor, fill):
    """Run fill(buffer) on a dense float32/float64 buffer standing for out (float16 via float32); CPU tensors."""
    view = _in_memory_order(out)
    target = view if view._dtype is not _dt.float16 and view._dense else D.empty(view._shape, _dt.float32)
    fill(target._buf)
    if target is not view:
        D.map1_into("copy", view, target)
    return out


_UNIFORM, _NORMAL, _BERNOULLI, _EXPONENTIAL = 0, 1, 2, 3  # kernels/cuda/random.py's kinds of float draw
_MANTISSA_BITS = {_dt.float64: 53, _dt.float32: 24, _dt.float16: 24}  # random bits PyTorch draws per value


def _draw_on_device(out: Tensor, generator, kind, a=0.0, b=0.0, c=0.0):
    """Fill a CUDA tensor with Philox draws of ``kind`` (kernels/cuda/random.py), computed in float64 for float64
    and in float32 for every other dtype (PyTorch's accumulate types), in the tensor's element order."""
    g = _gen(generator, out._device)
    out = _in_memory_order(out)
    real = _dt.float64 if out._dtype is _dt.float64 else _dt.float32
    target = out if out._dense and out._dtype is real else D.empty(out._shape, real, out._device)
    if target.numel():
        g.draw(lambda seed, offset: D.kernels(target).philox_floats(target._buf, seed, offset, kind, a, b, c))
    if target is not out:
        D.map1_into("copy", out, target)


def _as_stored(value, dtype) -> float:
    """A Python number as tensors of dtype hold it (float16 and float32 round it)."""
    return float(np.array(value, dtype.np if dtype.is_floating_point else np.float32))


def uniform_(t: Tensor, a=0.0, b=1.0, *, generator=None):
    _require_float(t._dtype, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    if t._device is not CPU:  # PyTorch's kernel: from + u * (to - from) in the dtype's precision; `to` wraps to `from`
        low, high = _as_stored(a, t._dtype), _as_stored(b, t._dtype)
        _draw_on_device(t, generator, _UNIFORM, low, _as_stored(high - low, t._dtype), high)
    else:
        g = _gen(generator)
        bits = _MANTISSA_BITS[t._dtype]
        _fill_via(t, lambda buf: D.K.uniform(buf, g._state, g._pos, float(a), float(b), bits))
    if t._dtype is _dt.float16:  # a float32 draw can round up to `b` in float16; PyTorch wraps it to `a`
        from .pointwise import eq, masked_fill
        D.map1_into("copy", t, masked_fill(t, eq(t, b), a))
    t._vc.bump()
    return t


def normal_(t: Tensor, mean=0.0, std=1.0, *, generator=None):
    _require_float(t._dtype, f"normal_kernel_{t._device.type}")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    n = t.numel()
    g = _gen(generator, t._device)
    if t._device is not CPU:
        _draw_on_device(t, g, _NORMAL, float(mean), float(std))
    elif n >= 16 and t._dense and t._dtype is _dt.float64:
        _fill_via(t, lambda buf: D.K.normal_fill_f64(buf, g._state, g._pos, float(mean), float(std)))
    elif n >= 16 and t._dense:
        half = t._dtype is _dt.float16  # computed in float32; PyTorch draws only whole blocks before the tail
        _fill_via(t, lambda buf: D.K.normal_fill_f32(buf, g._state, g._pos, float(mean), float(std), half))
    else:
        _fill_via(t, lambda buf: D.K.normal_scalar(buf, g._state, g._pos, g._normal_cache, float(mean), float(std)))
    t._vc.bump()
    return t


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    t = _float_target(normalize_shape(size), dtype, device, "check_uniform_bounds")
    return _finish(uniform_(t, generator=generator), requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    t = _float_target(normalize_shape(size), dtype, device, "normal_kernel_cpu")
    return _finish(normal_(t, generator=generator), requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(input._shape, dtype=dtype or input._dtype, device=device or input._device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(input._shape, dtype=dtype or input._dtype, device=device or input._device,
                 requires_grad=requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    position = 3
    if size is None:  # randint(high, size)
        low, high, size, position = 0, low, high, 2
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: high and size")
    if not isinstance(size, (tuple, list)) and not hasattr(size, "_shape"):
        raise TypeError(f"randint(): argument 'size' (position {position}) must be tuple of ints, "
                        f"not {type(size).__name__}"
                        + hint("the size is a tuple, even for one dim: randint(0, 10, (5,)) or randint(10, (5,))."))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = normalize_shape((size,))
    check_sizes_nonnegative(shape)
    dtype = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    low, high = int(low), int(high)
    if dtype.is_floating_point:
        low, high = _bounds_in_float(low, high, dtype)
    device = _device(device)
    g = _gen(generator, device)
    wide = D.empty(shape, _dt.int64, device)
    span = high - low  # up to 2**64 - 1: passed unsigned so that one compiled kernel takes any range
    if device is not CPU:
        if wide.numel():
            g.draw(lambda seed, offset: D.kernels(wide).philox_ints(wide._buf, seed, offset, low, span,
                                                                    span >= _WIDE_RANGE))
    else:
        D.K.randint(wide._buf, g._state, g._pos, low, np.uint64(span), span >= _WIDE_RANGE)
    if dtype is _dt.int64:
        return _finish(wide, requires_grad)
    t = D.empty(shape, dtype, device)
    D.map1_into("copy", t, wide)
    return _finish(t, requires_grad)


def _bounds_in_float(low: int, high: int, dtype) -> tuple[int, int]:
    """PyTorch's update_from/update_to: where the dtype rounds low + 1 below low (high - 1 up to high), the bound
    moves inward by one step of the dtype's spacing there, so that every draw lies in [low, high) once cast."""
    digits = {_dt.float16: 11, _dt.float32: 24}.get(dtype, 53)

    def rounded(value):
        as_float = np.array(value, dtype.np).item()
        return int(as_float) if np.isfinite(as_float) else value

    up = rounded(low + 1)
    if up < low:
        low = up + (1 << (abs(low + 1).bit_length() - 1 - digits + 1))
    down = rounded(high - 1)
    if down >= high:
        high = down - (1 << (abs(high - 1).bit_length() - 1 - digits + 1))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
                           f"from={low} >= to={high}")
    return low, high


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._shape, dtype=dtype or input._dtype, device=device or input._device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    device = _device(device)
    g = _gen(generator, device)
    if device is not CPU:  # the order of n random 63-bit keys (a tie, at odds of n^2 / 2^64, keeps index order)
        from .indexing import _sort_last
        keys = D.empty((n,), _dt.int64, device)
        if n:
            g.draw(lambda seed, offset: D.kernels(keys).philox_ints(keys._buf, seed, offset, 0, 1 << 63, True))
        t = _sort_last(keys, False)[1]
    else:
        t = D.empty((n,), _dt.int64)
        D.K.randperm(t._buf, g._state, g._pos)
    dtype = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    return t if dtype is _dt.int64 else D.cast(t, dtype)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        from .pointwise import add, mul
        like = mean if isinstance(mean, Tensor) else std
        shape = like._shape
        if isinstance(mean, Tensor) and isinstance(std, Tensor):
            from ._util import broadcast_shapes
            shape = broadcast_shapes(mean._shape, std._shape)
        # PyTorch's order: a number std scales the draws in the kernel (in double), a tensor std afterwards
        if isinstance(std, Tensor):
            noise = normal_(D.empty(shape, like._dtype, like._device), generator=generator)
            return add(mul(noise, std), mean)
        return add(normal_(D.empty(shape, like._dtype, like._device), 0.0, std, generator=generator), mean)
    if size is None:
        raise TypeError("normal() needs a size when mean and std are numbers")
    t = _float_target(normalize_shape((size,)), dtype, device, "normal_kernel_cpu")
    return _finish(normal_(t, mean, std, generator=generator), requires_grad)


_BAD_PROBABILITY = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false."
                    + hint("bernoulli takes probabilities in [0, 1]."))


def bernoulli(input, p=None, *, generator=None, out=None):
    if input._device is not CPU and p is not None:  # PyTorch's kernel: u < p in the dtype's accumulate type
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        result = D.empty(input._shape, input._dtype, input._device)
        _draw_on_device(result, generator, _BERNOULLI, _as_stored(p, _dt.float64 if input._dtype is _dt.float64
                                                                  else _dt.float32))
        return result
    if input._device is not CPU:  # probabilities per element: u < p, u drawn on the device
        from .pointwise import logical_or, lt
        from .reduction import any as any_
        probs = input.detach()
        if any_(logical_or(probs < 0, probs > 1)).item():
            raise RuntimeError(_BAD_PROBABILITY)
        u = D.empty(input._shape, _dt.float64 if input._dtype is _dt.float64 else _dt.float32, input._device)
        _draw_on_device(u, generator, _UNIFORM, 0.0, 1.0, 1.0)
        return D.cast(lt(u, probs), input._dtype)
    g = _gen(generator)
    probs = input if p is None else D.empty(input._shape, _dt.float64)._fill_number(p)
    pf = D.contiguous_copy(probs if probs._dtype is _dt.float64 else D.cast(probs, _dt.float64))
    flat = pf._buf
    if flat.size and (flat.min() < 0 or flat.max() > 1):
        raise RuntimeError(_BAD_PROBABILITY)
    result = D.empty(input._shape, _dt.float64)
    bits = 53 if p is not None or probs._dtype is _dt.float64 else 24
    D.K.bernoulli(result._buf, g._state, g._pos, flat, bits)
    return D.cast(result, input._dtype)


def bernoulli_(t: Tensor, p=0.5, *, generator=None):
    probs = p if isinstance(p, Tensor) else None
    view = _in_memory_order(t)
    if view is not t and probs is None:  # drawn in memory order, as PyTorch does
        bernoulli_(view, p, generator=generator)
        return t
    values = bernoulli(probs.expand(t._shape) if probs is not None else t, None if probs is not None else p,
                       generator=generator)
    D.map1_into("copy", t, values)
    t._vc.bump()
    return t


def exponential_(t: Tensor, lambd=1.0, *, generator=None):
    if not t._dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_dt.scalar_name(t._dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={float(lambd):g}"
                           + hint("lambda is the rate: the mean of the draws is 1 / lambda."))
    if t._device is not CPU:  # PyTorch's CUDA transform: (-1 / lambda) * log(u), u in (0, 1], in float32 for floats;
        real = np.float64 if t._dtype is _dt.float64 else np.float32  # log(u) is at most -eps/2: never a 0 draw
        _draw_on_device(t, generator, _EXPONENTIAL, float(real(-1.0) / real(lambd)), float(np.finfo(real).eps / 2))
        t._vc.bump()
        return t
    g = _gen(generator)
    _fill_via(t, lambda buf: D.K.exponential(buf, g._state, g._pos, float(lambd)))
    t._vc.bump()
    return t


_WIDE_RANGE = 1 << 28  # from this range on, PyTorch 2.13's random_(from, to) takes 64-bit draws (measured)


def _full_range(dt) -> int:
    """How many values random_() draws from for dtype dt: PyTorch's uniform_int takes a draw modulo this."""
    if dt.is_floating_point:
        return (1 << {_dt.float16: 11, _dt.float32: 24}.get(dt, 53)) + 1
    return 2 if dt is _dt.bool_ else int(np.iinfo(dt.np).max) + 1


_TO_MAX = object()  # random_(from) without `to`: the `to` overload; random_(from, None) means up to the max


def random_(t: Tensor, low=0, high=_TO_MAX, *, generator=None):
    view = _in_memory_order(t)
    if view is not t:  # drawn in memory order, as PyTorch does
        random_(view, low, high, generator=generator)
        return t
    if t._device is not CPU and high is None:  # random_(from, None): drawn on the host (CudaGenerator.host_generator)
        host = _gen(generator, t._device).host_generator()
        D.map1_into("copy", t, random_(D.empty(t._shape, t._dtype), low, high, generator=host).to(t._device))
        t._vc.bump()
        return t
    g = _gen(generator, t._device)
    values = D.empty(t._shape, _dt.int64, t._device) if high is None or (high is _TO_MAX and not low) else None
    if high is _TO_MAX and not low:  # the dtype's whole range, 64-bit draws for int64 and float64
        span, wide = _full_range(t._dtype), t._dtype in (_dt.int64, _dt.float64)
        if t._device is not CPU:
            if values.numel():
                g.draw(lambda seed, offset: D.kernels(values).philox_ints(values._buf, seed, offset, 0, span, wide))
        else:
            D.K.randint(values._buf, g._state, g._pos, 0, np.uint64(span), wide)
    elif high is _TO_MAX:  # random_(to)
        values = randint(0, low, t._shape, generator=generator, dtype=t._dtype, device=t._device)
    elif high is None:  # random_(from, None): from up to the dtype's largest value (2**digits for floats)
        top = _full_range(t._dtype) - 1 if t._dtype.is_floating_point else int(np.iinfo(t._dtype.np).max) \
            if t._dtype is not _dt.bool_ else 1
        if low > top:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted "
                               f"to dtype, but got from={low} > to_inc={top}")
        span = top - low + 1
        if span == 1 << 64:  # int64 from its minimum: every 64-bit pattern, as PyTorch's full-range kernel
            D.K.random64_fill(values._buf, g._state, g._pos)
        else:
            D.K.randint(values._buf, g._state, g._pos, int(low), np.uint64(span), span >= _WIDE_RANGE)
    else:
        values = randint(low, high, t._shape, generator=generator, dtype=t._dtype, device=t._device)
    D.map1_into("copy", t, values)
    t._vc.bump()
    return t


def multinomial(input, num_samples, replacement=False, *, generator=None):
    probs = input.detach() if input.dim() == 2 else input.detach().reshape(1, -1)
    rows, cats = probs._shape
    if not replacement and num_samples > cats:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    _check_distribution(probs, num_samples, replacement)
    if not replacement or num_samples == 1:
        # PyTorch's Gumbel trick: the top num_samples of p / q with q ~ Exp(1), drawn in the input's dtype
        q = exponential_(D.empty(probs._shape, probs._dtype, probs._device), 1.0, generator=generator)
        keys = probs / q
        picked = keys.topk(num_samples, dim=-1)[1] if num_samples > 1 else keys.argmax(-1, keepdim=True)
        return picked if input.dim() == 2 else picked.reshape(-1)
    # PyTorch builds each row's cumulative distribution in the input's accumulate type and normalises it there
    acc = _dt.float64 if probs._dtype is _dt.float64 else _dt.float32
    out = D.empty((rows, num_samples), _dt.int64, probs._device)
    if probs._device is not CPU:
        from .reduction import cumsum
        weights = D.contiguous_copy(D.cast(probs, acc) if probs._dtype is not acc else probs)
        cdf = cumsum(weights, 1)
        cdf = D.contiguous_copy(cdf / cdf[:, -1:])
        u = D.empty((rows, num_samples), acc, probs._device)
        _draw_on_device(u, generator, _UNIFORM, 0.0, 1.0, 1.0)
        D.kernels(out).sample_cdf(out._buf, cdf._buf, weights._buf, u._buf, cats, num_samples)
    else:
        g = _gen(generator)
        weights = D.contiguous_copy(D.cast(probs, _dt.float64))._np()
        cdf = np.cumsum(weights.astype(acc.np), axis=1, dtype=acc.np)
        cdf = np.ascontiguousarray(cdf / cdf[:, -1:], dtype=np.float64).reshape(-1)
        D.K.multinomial(out._buf, g._state, g._pos, cdf, rows, cats, num_samples)
    return out if input.dim() == 2 else out.reshape(-1)


def _check_distribution(probs, num_samples, replacement):
    """PyTorch's errors for rows that are not distributions: checked on the device where the rows are, with
    one read of the verdicts."""
    from .pointwise import isfinite, logical_not, logical_or
    from .reduction import any as any_
    from .shape import stack
    checks = [any_(logical_or(probs < 0, logical_not(isfinite(probs)))), any_(probs.sum(1) <= 0)]
    if not replacement:
        checks.append(any_((probs > 0).sum(1) < num_samples))
    bad_value, no_mass, too_few = (stack(checks).tolist() + [False])[:3]
    if bad_value:
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if no_mass:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if too_few:
        raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough non-negative "
                           "category to sample)")
