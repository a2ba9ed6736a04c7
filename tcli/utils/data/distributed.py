"""``DistributedSampler``: each of ``num_replicas`` processes reads its own equal share of a dataset."""

from __future__ import annotations

import math

from ...errors import hint
from ...ops import random as _random
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Every ``num_replicas``-th index starting at ``rank``, after an optional shuffle seeded by seed + epoch.

    The index list is padded by repeating its start (or, with ``drop_last``, cut) to a multiple of
    ``num_replicas`` so every replica gets the same count. Call ``set_epoch`` each epoch to reshuffle.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:  # tcli has no process groups to ask
            raise RuntimeError("Requires distributed package to be available"
                               + hint("tcli has no torch.distributed: pass num_replicas and rank explicitly."))
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = _random.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = _random.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use a different shuffle for this epoch (the same on every replica)."""
        self.epoch = epoch
