"""A batch fetched by ``__getitems__`` that is already stacked, so default_collate does not stack it again."""

from __future__ import annotations

from collections.abc import Sequence


class StackedSamples(Sequence):
    """The samples of one batch, held as tensors stacked along dim 0 (one per field of a sample).

    It reads as the list of per-sample tuples that ``__getitems__`` promises (len, indexing, iteration), so a
    custom collate_fn sees what it would see under PyTorch; default_collate returns ``list(tensors)`` directly.
    """

    __slots__ = ("tensors",)

    def __init__(self, tensors):
        self.tensors = tuple(tensors)

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return tuple(t[i] for t in self.tensors)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return repr(list(self))
