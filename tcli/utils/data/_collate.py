"""Collation: turning a list of samples into a batch (``default_collate``), or converting one sample
(``default_convert``), with PyTorch's rules for every element type."""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ... import dtypes as _dt
from ..._tensor import Tensor
from ...ops.creation import as_tensor, tensor
from ...ops.shape import stack
from ._batch import StackedSamples

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_np_str_obj = re.compile(r"[SaUO]")  # numpy dtypes of strings and objects, which have no tensor form

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                                  "lists; found {}")


def default_convert(data):
    """numpy arrays and scalars in ``data`` become tensors (recursing into mappings and sequences); the rest stays."""
    kind = type(data)
    if isinstance(data, Tensor):
        return data
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_"):
        if kind.__name__ == "ndarray" and _np_str_obj.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as PyTorch returns for tuples
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples of one structure): an element type found in ``collate_fn_map`` (exactly,
    then by isinstance in insertion order) is handled by its function; mappings, namedtuples and sequences recurse."""
    elem = batch[0]
    kind = type(elem)
    if collate_fn_map is not None:
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return kind(*(collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch returns for tuples
        return _rebuild_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(kind))


def _rebuild_mapping(like, values: dict):
    """``values`` in the mapping type of ``like`` when that type can be rebuilt, else a dict."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values: list):
    """``values`` in the sequence type of ``like`` when that type can be rebuilt, else a list."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _collate_tensors(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def _collate_numpy_arrays(batch, *, collate_fn_map=None):
    if _np_str_obj.search(batch[0].dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalars(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def _collate_floats(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=_dt.float64)


def _collate_ints(batch, *, collate_fn_map=None):
    return tensor(batch)  # int64, or bool for a batch of bools


def _collate_strings(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: _collate_tensors,
    np.ndarray: _collate_numpy_arrays,
    (np.bool_, np.number, np.object_): _collate_numpy_scalars,
    float: _collate_floats,
    int: _collate_ints,
    str: _collate_strings,
    bytes: _collate_strings,
}


def default_collate(batch):
    """Stack a list of samples into a batch with PyTorch's rules.

    tensors and numpy arrays stack along a new dim 0; Python floats give a float64 tensor, ints int64, bools bool;
    strings and bytes stay a list; mappings, namedtuples and sequences are collated field by field (tuples give a
    list). A batch fetched already stacked (``TensorDataset.__getitems__``) is returned as its list of tensors.
    """
    if isinstance(batch, StackedSamples):
        return list(batch.tensors)
    return collate(batch, collate_fn_map=default_collate_fn_map)
