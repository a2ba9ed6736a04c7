"""``tcli.device``: parsing and printing as PyTorch does (``device(type='cuda', index=0)``)."""

from __future__ import annotations

_TYPES = ("cpu", "cuda")


class device:
    __slots__ = ("type", "index")

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int) and not isinstance(type_or_str, bool):
            type_or_str, index = "cuda", type_or_str
        if not isinstance(type_or_str, str):
            raise TypeError("device() received an invalid combination of arguments - got "
                            f"({type(type_or_str).__name__})")
        text = type_or_str.strip()
        kind, sep, idx = text.partition(":")
        if sep:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was passed explicitly: "
                                   + text)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{text}'")
            index = int(idx)
        if kind not in _TYPES:
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {text}\n"
                "hint: tcli runs on 'cpu' and 'cuda' (e.g. tcli.device('cuda:0')).")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        key = (kind, index)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        self = object.__new__(cls)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)
        _CACHE[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError("tcli.device is immutable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if not isinstance(other, device):  # as in PyTorch, device('cpu') == 'cpu' is False
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


_CACHE: dict = {}
CPU = device("cpu")


def as_device(obj) -> device:
    """Accept a device, a string like 'cuda:0', or an int (a CUDA ordinal)."""
    if obj is None:
        return CPU
    return device(obj)
