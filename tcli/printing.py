"""Tensor ``repr``/``str`` text, character for character as PyTorch 2.13 renders it.

The rules follow ``torch/_tensor_str.py``: one formatter (kind of number, column width) is
chosen from the values that will actually be shown, every shown value is right-aligned to
that width, and the nested brackets, ``...`` markers and suffixes are laid out around them.
This module is pure: numpy values in, text out.
"""

import contextlib
import dataclasses
import math
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# Dtypes PyTorch leaves implicit in a non-empty tensor's repr (besides the default float dtype).
_IMPLICIT_DTYPES = ("torch.int64", "torch.bool")

_OPTIONS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Set print options as ``torch.set_printoptions`` does.

    A profile ('default', 'short' or 'full') is applied first, explicit values override it.
    Like PyTorch, ``sci_mode`` is always assigned, so omitting it resets it to automatic.
    """
    for name, value in _PROFILES.get(profile, {}).items():
        setattr(_OPTIONS, name, value)
    explicit = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
                "linewidth": linewidth}
    for name, value in explicit.items():
        if value is not None:
            setattr(_OPTIONS, name, value)
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """Current print options, as keyword arguments accepted by ``set_printoptions``."""
    return dataclasses.asdict(_OPTIONS)


class printoptions(contextlib.ContextDecorator):
    """Temporarily change print options; usable as a ``with`` block or a decorator."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._saved = []  # a stack, so a decorated function may recurse

    def __enter__(self):
        self._saved.append(get_printoptions())
        set_printoptions(**self._kwargs)

    def __exit__(self, *exc_info):
        set_printoptions(**self._saved.pop())
        return False


def tensor_repr(values, *, dtype_name, default_dtype_name="torch.float32", device=None,
                requires_grad=False, grad_fn=None, prefix="tensor(") -> str:
    """Render a tensor holding ``values`` (an ndarray of its logical values) as PyTorch would."""
    values = np.asarray(values)
    options = _OPTIONS
    indent = len(prefix)
    suffixes = [] if device is None else [f"device='{device}'"]
    if values.size == 0:
        body = "[]"
        # An empty tensor has no values to hint at its dtype, so only the default float one is implicit.
        if values.ndim != 1:
            suffixes.append(f"size={values.shape}")
        if dtype_name != default_dtype_name:
            suffixes.append(f"dtype={dtype_name}")
    else:
        body = _tensor_body(values, indent, options)
        if not options.edgeitems:
            suffixes.append(f"size={values.shape}")
        if dtype_name != default_dtype_name and dtype_name not in _IMPLICIT_DTYPES:
            suffixes.append(f"dtype={dtype_name}")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent, options.linewidth)


def _tensor_body(values, indent, options) -> str:
    """The bracketed value text of a non-empty tensor."""
    # A 0-d tensor has nothing to leave out, even above the threshold.
    if values.size > options.threshold and values.ndim:
        if not options.edgeitems:
            return "[...]"  # PyTorch's summary with no edge items, whatever the shape
        shown, cut_axes = _summarise(values, options.edgeitems)
    else:
        shown, cut_axes = values, (False,) * values.ndim
    format_value, width = _choose_formatter(shown, options)
    cells = [format_value(value).rjust(width) for value in shown.ravel().tolist()]
    if values.ndim == 0:
        return cells[0]
    return _nested_text(cells, shown.shape, cut_axes, indent, width + 2, options)


def _summarise(values, edgeitems):
    """The values a summarised print shows, and which axes lose their middle to ``...``.

    Gathering with an open mesh copies only the shown values, however large ``values`` is.
    """
    cut_axes = tuple(size > 2 * edgeitems for size in values.shape)
    indices = [np.r_[:edgeitems, size - edgeitems:size] if cut else np.arange(size)
               for size, cut in zip(values.shape, cut_axes)]
    return values[np.ix_(*indices)], cut_axes


def _choose_formatter(shown, options) -> tuple[Callable[[object], str], int]:
    """A function formatting one Python scalar, and the column width all cells are padded to."""
    if shown.dtype.kind != "f":
        # str() of ints lengthens with magnitude and sign, so the extremes decide the width.
        extremes = (shown.max().item(), shown.min().item())
        return str, max(1, *(len(str(value)) for value in extremes))
    finite = shown[np.isfinite(shown) & (shown != 0)]
    if finite.size == 0:
        return _format_integral, 1
    magnitudes = np.abs(finite.astype(np.float64))
    smallest, largest = float(magnitudes.min()), float(magnitudes.max())
    sci_mode = options.sci_mode
    if sci_mode is None:
        sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
    if sci_mode:
        format_value = f"{{:.{options.precision}e}}".format
    elif np.all(finite == np.ceil(finite)):
        format_value = _format_integral
    else:
        format_value = f"{{:.{options.precision}f}}".format
    width = max(1, *(len(format_value(value)) for value in _longest_candidates(finite)))
    return format_value, width


def _format_integral(value) -> str:
    """An integral float without decimals; the trailing '.' marks finite ones as floats."""
    text = f"{value:.0f}"
    return text + "." if math.isfinite(value) else text


def _longest_candidates(finite):
    """The values whose formatted text can be the longest: the extreme magnitudes of each sign.

    Fixed-point text lengthens with magnitude; scientific text lengthens with the exponent's
    digit count, which peaks at the largest or the smallest magnitude.
    """
    candidates = []
    for same_sign in (finite[finite > 0], finite[finite < 0]):
        if same_sign.size:
            candidates += [same_sign.min().item(), same_sign.max().item()]
    return candidates


def _nested_text(cells, shape, cut_axes, indent, cell_length, options) -> str:
    """Bracket the row-major ``cells`` by ``shape``, with ``...`` where an axis was cut."""
    if len(shape) == 1:
        return _row_text(cells, cut_axes[0], indent, cell_length, options)
    step = len(cells) // shape[0]
    blocks = [_nested_text(cells[start:start + step], shape[1:], cut_axes[1:], indent + 1, cell_length,
                           options)
              for start in range(0, len(cells), step)]
    if cut_axes[0]:
        blocks.insert(options.edgeitems, "...")
    # Blocks of an n-d tensor are separated by n - 2 blank lines.
    separator = "," + "\n" * (len(shape) - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _row_text(cells, cut, indent, cell_length, options) -> str:
    """A 1-d row, wrapped so that as many cells as fit the line width share a line."""
    if cut:
        cells = cells[:options.edgeitems] + [" ..."] + cells[options.edgeitems:]
    per_line = max(1, math.floor((options.linewidth - indent) / cell_length))
    lines = [", ".join(cells[start:start + per_line]) for start in range(0, len(cells), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _add_suffixes(text, suffixes, indent, linewidth) -> str:
    """Append ``, name=value`` suffixes, starting a new line when one would pass the line width."""
    parts = [text]
    # PyTorch's measure of the last line, two more than its visible length when there is one line.
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_length + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)
