"""Tests for tcli.utils.data and tcli.datasets: samplers, datasets, collation, DataLoader arguments, worker
processes (order, errors, timeouts, shutdown, sharding, seeds), and (when PyTorch is installed) that the same seed
gives PyTorch's orders, splits, worker seeds and collated types."""

import collections
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from helpers import assert_error, assert_same_errors

import tcli
import tcli.datasets
from tcli.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

Point = collections.namedtuple("Point", "x y")


# ---- datasets used by the tests (module level, so worker processes can unpickle them) -----------------------

class Squares(Dataset):
    """Sample i is {'i': i, 'sq': float(i * i)}; indices in ``fail_at`` raise ValueError, ``sleep`` delays."""

    def __init__(self, n, fail_at=(), sleep=0.0):
        self.n, self.fail_at, self.sleep = n, set(fail_at), sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i in self.fail_at:
            raise ValueError(f"bad sample {i}")
        if self.sleep:
            time.sleep(self.sleep if i % 2 == 0 else self.sleep / 4)  # uneven, so workers finish out of order
        return {"i": i, "sq": float(i * i)}


class Sleepy(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(30)
        return i


class Seeds(Dataset):
    """Each sample reports the worker it ran in and what the worker's generators draw."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return [info.id, info.seed, info.num_workers, float(tcli.rand(1)), float(np.random.rand())]


class Shards(IterableDataset):
    """range(start, end), split evenly between the workers."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        lo, hi = self.start, self.end
        if info is not None:
            per = math.ceil((hi - lo) / info.num_workers)
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


class Counted(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def _ids(batches):
    return [b["i"].tolist() for b in batches]


def _no_children_left():
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not multiprocessing.active_children()


# ---- samplers ------------------------------------------------------------------------------------------------

def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


def test_random_sampler_is_a_permutation():
    tcli.manual_seed(3)
    first = list(RandomSampler(range(50)))
    second = list(RandomSampler(range(50)))
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != second  # each pass draws a new seed from the default generator


def test_random_sampler_num_samples_and_replacement():
    more = list(RandomSampler(range(10), num_samples=25))
    assert len(more) == 25
    assert sorted(more[:20]) == sorted(list(range(10)) * 2)  # whole permutations, then part of one
    drawn = list(RandomSampler(range(7), replacement=True, num_samples=70))
    assert len(drawn) == 70 and set(drawn) <= set(range(7)) and len(set(drawn)) > 1
    assert len(RandomSampler(range(7), replacement=True, num_samples=70)) == 70


def test_random_sampler_generator_reproducible():
    g1, g2 = tcli.Generator().manual_seed(5), tcli.Generator().manual_seed(5)
    assert list(RandomSampler(range(30), generator=g1)) == list(RandomSampler(range(30), generator=g2))


def test_random_sampler_errors():
    with pytest.raises(TypeError) as e:
        RandomSampler(range(3), replacement=1)
    assert_error(e, "replacement should be a boolean value, but got replacement=1", hint=False)
    with pytest.raises(ValueError) as e:
        RandomSampler(range(3), num_samples=0)
    assert_error(e, "num_samples should be a positive integer value, but got num_samples=0", hint=False)


def test_subset_random_sampler():
    indices = [3, 8, 11, 40]
    got = list(SubsetRandomSampler(indices))
    assert sorted(got) == indices and len(SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 0.0, 3.0, 2.0]
    drawn = list(WeightedRandomSampler(weights, 200))
    assert len(drawn) == 200 and set(drawn) <= {1, 3, 4}
    unique = list(WeightedRandomSampler(weights, 3, replacement=False))
    assert sorted(unique) == [1, 3, 4]
    assert WeightedRandomSampler(weights, 3).weights.dtype == tcli.float64
    with pytest.raises(ValueError) as e:
        WeightedRandomSampler(weights, True)
    assert_error(e, "num_samples should be a positive integer value, but got num_samples=True", hint=False)
    with pytest.raises(ValueError) as e:
        WeightedRandomSampler([[1.0, 2.0]], 1)
    assert_error(e, "weights should be a 1d sequence but given weights have shape (1, 2)", hint=False)


def test_batch_sampler():
    assert list(BatchSampler(range(10), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(range(10), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4 and len(BatchSampler(range(10), 3, True)) == 3
    assert list(BatchSampler(range(9), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError) as e:
        BatchSampler(range(10), 0, False)
    assert_error(e, "batch_size should be a positive integer value, but got batch_size=0", hint=False)
    with pytest.raises(ValueError) as e:
        BatchSampler(range(10), 2, "yes")
    assert_error(e, "drop_last should be a boolean value, but got drop_last=yes", hint=False)


def test_distributed_sampler_partitions_and_pads():
    data = range(10)
    shards = [list(DistributedSampler(data, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded with the first indices
    assert all(len(DistributedSampler(data, num_replicas=3, rank=r)) == 4 for r in range(3))
    dropped = [list(DistributedSampler(data, num_replicas=3, rank=r, shuffle=False, drop_last=True))
               for r in range(3)]
    assert dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    shuffled = [list(DistributedSampler(data, num_replicas=2, rank=r, seed=1)) for r in range(2)]
    assert sorted(shuffled[0] + shuffled[1]) == list(range(10))


def test_distributed_sampler_epochs_and_errors():
    s = DistributedSampler(range(20), num_replicas=2, rank=0, seed=4)
    first, again = list(s), list(s)
    s.set_epoch(1)
    assert first == again and list(s) != first
    with pytest.raises(ValueError) as e:
        DistributedSampler(range(4), num_replicas=2, rank=2)
    assert_error(e, "Invalid rank 2, rank should be in the interval [0, 1]", hint=False)
    with pytest.raises(RuntimeError) as e:
        DistributedSampler(range(4))
    assert_error(e, "Requires distributed package to be available", hint=True)


# ---- datasets ------------------------------------------------------------------------------------------------

def test_tensor_dataset():
    x, y = tcli.arange(12).reshape(6, 2).float(), tcli.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8.0, 9.0] and b.item() == 4
    with pytest.raises(AssertionError) as e:
        TensorDataset(x, tcli.arange(5))
    assert_error(e, "Size mismatch between tensors", hint=False)


def test_tensor_dataset_getitems_matches_per_sample_path():
    x = tcli.randn(20, 3, 2)
    y = tcli.arange(20)
    ds = TensorDataset(x, y)
    indices = [5, 0, 19, 7, 7, -1]
    batch = ds.__getitems__(indices)
    assert len(batch) == len(indices)
    for got, i in zip(batch, indices):
        want = ds[i]
        assert all(tcli.equal(g, w) for g, w in zip(got, want))
    fast = default_collate(batch)
    slow = default_collate([ds[i] for i in indices])
    assert isinstance(fast, list) and len(fast) == 2
    assert all(tcli.equal(f, s) and f.dtype == s.dtype and f.shape == s.shape for f, s in zip(fast, slow))


def test_tensor_dataset_getitems_odd_keys_fail_as_one_by_one():
    ds = TensorDataset(tcli.arange(4))
    with pytest.raises(IndexError):
        ds.__getitems__([1, 4])
    with pytest.raises(IndexError):
        ds[4]


def test_tensor_dataset_getitems_keeps_autograd():
    w = tcli.randn(5, 2, requires_grad=True)
    (xb,) = default_collate(TensorDataset(w).__getitems__([1, 3, 3]))
    xb.sum().backward()
    assert w.grad[:, 0].tolist() == [0.0, 1.0, 0.0, 2.0, 0.0]


def test_loader_batches_via_getitems_equal_per_sample_loader():
    class OneByOne(TensorDataset):
        __getitems__ = None  # the fetcher then reads samples one by one and stacks them

    x, y = tcli.randn(23, 4), tcli.randint(0, 5, (23,))
    g1, g2 = tcli.Generator().manual_seed(1), tcli.Generator().manual_seed(1)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, generator=g1))
    slow = list(DataLoader(OneByOne(x, y), batch_size=5, shuffle=True, generator=g2))
    assert len(fast) == len(slow) == 5
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert tcli.equal(fx, sx) and tcli.equal(fy, sy)


def test_subset_concat_and_add():
    base = Squares(10)
    sub = Subset(base, [7, 2])
    assert len(sub) == 2 and sub[0]["i"] == 7 and [s["i"] for s in sub.__getitems__([1, 0])] == [2, 7]
    both = base + Squares(3)
    assert isinstance(both, ConcatDataset) and len(both) == 13 and both[11]["i"] == 1 and both[-1]["i"] == 2
    with pytest.raises(ValueError) as e:
        both[-14]
    assert_error(e, "absolute value of index should not exceed dataset length", hint=False)
    with pytest.raises(AssertionError) as e:
        ConcatDataset([])
    assert_error(e, "datasets should not be an empty iterable", hint=False)
    chained = Counted(2) + Counted(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


def test_subset_of_tensor_dataset_uses_batched_fetch():
    x = tcli.arange(10)
    sub = Subset(TensorDataset(x), [9, 8, 7, 6])
    (xb,) = next(iter(DataLoader(sub, batch_size=3)))
    assert xb.tolist() == [9, 8, 7]


def test_stack_dataset():
    ds = StackDataset(TensorDataset(tcli.arange(4)), Squares(4))
    first = ds[1]
    assert first[0][0].item() == 1 and first[1]["i"] == 1
    named = StackDataset(a=Squares(3), b=Squares(3))
    assert named[2] == {"a": {"i": 2, "sq": 4.0}, "b": {"i": 2, "sq": 4.0}}
    assert [s["a"]["i"] for s in named.__getitems__([2, 0])] == [2, 0]
    with pytest.raises(ValueError) as e:
        StackDataset(Squares(3), Squares(4))
    assert_error(e, "Size mismatch between datasets", hint=False)


def test_random_split_sizes():
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]  # 3,3,3 + round-robin 1
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError) as e:
        random_split(range(10), [3, 6])
    assert_error(e, "Sum of input lengths does not equal the length of the input dataset!", hint=False)
    with pytest.raises(ValueError) as e:
        random_split(range(10), [1.5, -0.5])
    assert_error(e, "Fraction at index 0 is not between 0 and 1", hint=False)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(1), [1.0, 0.0])


# ---- collation -----------------------------------------------------------------------------------------------

def test_default_collate_numbers_and_strings():
    floats = default_collate([1.5, 2.0])
    assert floats.dtype == tcli.float64 and floats.tolist() == [1.5, 2.0]
    ints = default_collate([1, 2, 3])
    assert ints.dtype == tcli.int64 and ints.tolist() == [1, 2, 3]
    assert default_collate([True, False]).dtype == tcli.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([np.float32(1), np.float32(2)]).dtype == tcli.float32
    arrays = default_collate([np.zeros(3, np.int16), np.ones(3, np.int16)])
    assert arrays.dtype == tcli.int16 and arrays.shape == (2, 3)


def test_default_collate_containers():
    batch = default_collate([{"x": tcli.ones(2), "name": "a"}, {"x": tcli.zeros(2), "name": "b"}])
    assert set(batch) == {"x", "name"} and batch["x"].shape == (2, 2) and batch["name"] == ["a", "b"]
    pts = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert type(pts) is Point and pts.x.dtype == tcli.int64 and pts.y.dtype == tcli.float64
    pairs = default_collate([(tcli.ones(3), 1), (tcli.zeros(3), 0)])
    assert type(pairs) is list and pairs[0].shape == (2, 3) and pairs[1].tolist() == [1, 0]
    lists = default_collate([[1, 2], [3, 4]])
    assert type(lists) is list and [t.tolist() for t in lists] == [[1, 3], [2, 4]]
    assert default_collate([("a", 1), ("b", 2)])[0] == ("a", "b")


def test_default_collate_errors():
    with pytest.raises(RuntimeError) as e:
        default_collate([[1, 2], [3]])
    assert_error(e, "each element in list of batch should be of equal size", hint=False)
    with pytest.raises(TypeError) as e:
        default_collate([object()])
    assert_error(e, "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    "<class 'object'>", hint=False)


def test_default_convert():
    assert default_convert(np.arange(3)).tolist() == [0, 1, 2]
    assert isinstance(default_convert(np.arange(3)), tcli.Tensor)
    assert default_convert(3) == 3 and default_convert("s") == "s"
    assert type(default_convert((np.zeros(1), 1))) is list
    converted = default_convert(Point(np.int64(1), 2))
    assert type(converted) is Point and isinstance(converted.x, tcli.Tensor) and converted.y == 2
    assert default_convert({"a": np.ones(2)})["a"].dtype == tcli.float64


# ---- DataLoader arguments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(num_workers=-1), "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0"
                              " to enable multiprocessing, otherwise set prefetch_factor to None."),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0, 1]], batch_size=2),
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0, 1]], drop_last=True),
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_size=None, drop_last=True),
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(multiprocessing_context="fork"),
     "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got num_workers=0"),
    (dict(batch_size=0), "batch_size should be a positive integer value, but got batch_size=0"),
])
def test_loader_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as e:
        DataLoader(range(10), **kwargs)
    assert_error(e, message, hint=False)


def test_loader_iterable_dataset_argument_errors():
    with pytest.raises(ValueError) as e:
        DataLoader(Counted(3), shuffle=True)
    assert_error(e, "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True",
                 hint=False)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Counted(3), sampler=[0])


def test_loader_bad_multiprocessing_context():
    with pytest.raises(ValueError, match="multiprocessing_context option should specify a valid start method in"):
        DataLoader(range(4), num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context object"):
        DataLoader(range(4), num_workers=1, multiprocessing_context=3)


def test_loader_attributes_and_frozen_fields():
    gen = tcli.Generator()
    loader = DataLoader(range(10), batch_size=3, shuffle=True, drop_last=True, generator=gen)
    assert loader.batch_size == 3 and loader.drop_last and loader.num_workers == 0 and not loader.pin_memory
    assert isinstance(loader.sampler, RandomSampler) and loader.sampler.generator is gen
    assert isinstance(loader.batch_sampler, BatchSampler) and loader.collate_fn is default_collate
    assert loader.timeout == 0 and loader.generator is gen and loader.dataset == range(10)
    assert len(loader) == 3
    with pytest.raises(ValueError) as e:
        loader.batch_size = 4
    assert_error(e, "batch_size attribute should not be set after DataLoader is initialized", hint=False)


def test_loader_lengths_and_batches():
    loader = DataLoader(Squares(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and _ids(batches) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0]["sq"].dtype == tcli.float64
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(Counted(10), batch_size=4)) == 3
    assert len(DataLoader(Counted(10), batch_size=4, drop_last=True)) == 2
    assert [b.tolist() for b in DataLoader(Counted(5), batch_size=2)] == [[0, 1], [2, 3], [4]]


def test_loader_without_batching_converts_samples():
    loader = DataLoader([np.arange(2), np.arange(2) + 5], batch_size=None)
    got = list(loader)
    assert loader.batch_sampler is None and loader.collate_fn is default_convert and len(loader) == 2
    assert all(isinstance(t, tcli.Tensor) for t in got) and got[1].tolist() == [5, 6]


def test_loader_batch_sampler_and_custom_collate():
    loader = DataLoader(Squares(6), batch_sampler=[[5, 1], [0]], collate_fn=lambda b: [s["i"] for s in b])
    assert list(loader) == [[5, 1], [0]] and loader.batch_size is None and len(loader) == 2


def test_loader_custom_collate_sees_samples_of_tensor_dataset():
    seen = []

    def collate(batch):
        seen.append([tuple(t.tolist() for t in sample) for sample in batch])
        return len(batch)

    ds = TensorDataset(tcli.arange(4), tcli.arange(4) * 10)
    assert list(DataLoader(ds, batch_size=3, collate_fn=collate)) == [3, 1]
    assert seen == [[(0, 0), (1, 10), (2, 20)], [(3, 30)]]


def test_loader_timeout_needs_workers():
    with pytest.raises(AssertionError) as e:
        iter(DataLoader(range(4), timeout=1))
    assert_error(e, "_SingleProcessDataLoaderIter requires timeout == 0", hint=True)


def test_loader_iterable_length_warning():
    class Liar(Counted):
        def __len__(self):
            return 2

    with pytest.warns(UserWarning, match="was reported to be 2"):
        loader = DataLoader(Liar(3), batch_size=None)
        assert len(loader) == 2
        assert list(loader) == [0, 1, 2]


def test_pin_memory_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = list(DataLoader(Squares(3), batch_size=2, pin_memory=True))
    assert _ids(batches) == [[0, 1], [2]]


def test_get_worker_info_is_none_in_main_process():
    assert get_worker_info() is None


# ---- worker processes ----------------------------------------------------------------------------------------

def test_workers_give_the_single_process_batches():
    ds = Squares(23, sleep=0.002)
    expected = _ids(DataLoader(ds, batch_size=3))
    got = _ids(DataLoader(ds, batch_size=3, num_workers=2))
    assert got == expected
    unordered = _ids(DataLoader(ds, batch_size=3, num_workers=2, in_order=False))
    assert sorted(map(tuple, unordered)) == sorted(map(tuple, expected))
    x, y = tcli.randn(30, 3), tcli.arange(30)
    single = list(DataLoader(TensorDataset(x, y), batch_size=8))
    multi = list(DataLoader(TensorDataset(x, y), batch_size=8, num_workers=2, prefetch_factor=1))
    assert len(single) == len(multi) == 4
    assert all(tcli.equal(a, b) for s, m in zip(single, multi) for a, b in zip(s, m))
    assert _no_children_left()


def test_worker_error_surfaces_with_traceback():
    loader = DataLoader(Squares(12, fail_at=[7]), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as e:
        list(loader)
    text = str(e.value)
    assert text.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback")
    assert "bad sample 7" in text and "__getitem__" in text
    del e
    assert _no_children_left()


def test_worker_init_fn_error_surfaces():
    def init(worker_id):
        raise KeyError("no config")

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(DataLoader(Squares(4), num_workers=1, worker_init_fn=init))
    assert _no_children_left()


def test_worker_timeout():
    start = time.monotonic()
    with pytest.raises(RuntimeError) as e:
        list(DataLoader(Sleepy(), num_workers=1, timeout=0.5))
    assert_error(e, "DataLoader timed out after 0.5 seconds", hint=False)
    assert time.monotonic() - start < 10
    assert _no_children_left()


def test_break_early_leaves_no_workers():
    loader = DataLoader(Squares(100), batch_size=2, num_workers=2)
    for i, _ in enumerate(loader):
        if i == 2:
            break
    assert _no_children_left()
    it = iter(loader)
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    assert _no_children_left()


def test_iterable_dataset_sharded_between_workers():
    loader = DataLoader(Shards(0, 10), batch_size=2, num_workers=2)
    values = [v for batch in loader for v in batch.tolist()]
    assert sorted(values) == list(range(10))
    assert [b.tolist() for b in DataLoader(Shards(0, 10), batch_size=2, num_workers=2, drop_last=True)] == \
        [[0, 1], [5, 6], [2, 3], [7, 8]]
    assert _no_children_left()


def test_worker_info_and_seeds():
    def init(worker_id):
        assert get_worker_info().id == worker_id

    g = tcli.Generator().manual_seed(11)
    rows = [row for batch in DataLoader(Seeds(), batch_size=1, num_workers=2, generator=g, worker_init_fn=init)
            for row in zip(*[t.tolist() for t in batch])]
    ids = [int(r[0]) for r in rows]
    seeds = [int(r[1]) for r in rows]
    assert ids == [0, 1, 0, 1] and all(int(r[2]) == 2 for r in rows)
    assert seeds[1] == seeds[0] + 1  # base seed + worker id
    assert rows[0][3] != rows[1][3] and rows[0][4] != rows[1][4]  # workers draw different numbers
    assert seeds[0] == seeds[2]


def test_persistent_workers_across_epochs():
    loader = DataLoader(Squares(7), batch_size=3, num_workers=2, persistent_workers=True)
    first = _ids(loader)
    workers = {w.pid for w in loader._iterator._workers}
    second = _ids(loader)
    assert first == second == [[0, 1, 2], [3, 4, 5], [6]]
    assert {w.pid for w in loader._iterator._workers} == workers
    it = iter(loader)
    next(it)
    assert _ids(loader) == first  # an unfinished epoch is dropped when the next one starts
    stream = DataLoader(Counted(5), batch_size=2, num_workers=1, persistent_workers=True)
    assert [b.tolist() for b in stream] == [b.tolist() for b in stream] == [[0, 1], [2, 3], [4]]
    del loader, it, stream
    assert _no_children_left()


def test_spawn_context_is_used():
    loader = DataLoader(list(range(5)), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert loader.multiprocessing_context.get_start_method() == "spawn"
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert _no_children_left()


def test_ctrl_c_stops_main_and_workers(tmp_path):
    script = tmp_path / "loop.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from tcli.utils.data import DataLoader, Dataset

        class Slow(Dataset):
            def __len__(self):
                return 1000
            def __getitem__(self, i):
                time.sleep(0.05)
                return i

        try:
            for batch in DataLoader(Slow(), batch_size=2, num_workers=2):
                print("batch", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "batch"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: every process in the foreground group
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 3 and "interrupted" in out
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the whole process group, workers included, is gone
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("worker processes outlived the interrupted loader")


# ---- tcli.datasets -------------------------------------------------------------------------------------------

def test_load_iris():
    iris = tcli.datasets.load_iris()
    assert iris.data.shape == (150, 4) and iris.data.dtype == tcli.float32
    assert iris.target.dtype == tcli.int64 and iris.target.bincount().tolist() == [50, 50, 50]
    assert iris.feature_names == ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    assert iris.target_names == ["setosa", "versicolor", "virginica"]
    assert iris.data[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert iris.data[-1].tolist() == pytest.approx([5.9, 3.0, 5.1, 1.8])
    assert iris.data.double().sum(0).tolist() == pytest.approx([876.5, 458.6, 563.7, 179.9])
    x, y = tcli.datasets.load_iris(return_X_y=True)
    assert tcli.equal(x, iris.data) and tcli.equal(y, iris.target)


# ---- the same seed as PyTorch --------------------------------------------------------------------------------

def test_random_sampler_order_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    for seed in (0, 7):
        tcli.manual_seed(seed)
        torch.manual_seed(seed)
        for n, kwargs in [(10, {}), (13, dict(num_samples=30)), (9, dict(replacement=True, num_samples=70))]:
            assert list(RandomSampler(range(n), **kwargs)) == list(tdata.RandomSampler(range(n), **kwargs))
    g, tg = tcli.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert list(RandomSampler(range(40), generator=g)) == list(tdata.RandomSampler(range(40), generator=tg))


def test_shuffled_loader_order_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    x = np.arange(45, dtype=np.float32).reshape(15, 3)
    ours = DataLoader(TensorDataset(tcli.from_numpy(x), tcli.arange(15)), batch_size=4, shuffle=True)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.arange(15)), batch_size=4,
                              shuffle=True)
    tcli.manual_seed(5)
    torch.manual_seed(5)
    for _ in range(2):  # each epoch draws the worker base seed, then the sampler's seed
        got, want = list(ours), list(theirs)
        assert [b[1].tolist() for b in got] == [b[1].tolist() for b in want]
        assert all(np.array_equal(a[0].numpy(), b[0].numpy()) for a, b in zip(got, want))
    g, tg = tcli.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    got = [b.tolist() for b in DataLoader(range(10), batch_size=3, shuffle=True, generator=g)]
    assert got == [b.tolist() for b in tdata.DataLoader(range(10), batch_size=3, shuffle=True, generator=tg)]


def test_other_random_samplers_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    tcli.manual_seed(2)
    torch.manual_seed(2)
    assert list(SubsetRandomSampler([4, 9, 1, 7, 3])) == list(tdata.SubsetRandomSampler([4, 9, 1, 7, 3]))
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    assert list(WeightedRandomSampler(weights, 20)) == list(tdata.WeightedRandomSampler(weights, 20))
    for r in range(3):
        ours = DistributedSampler(range(11), num_replicas=3, rank=r, seed=8)
        theirs = tdata.DistributedSampler(range(11), num_replicas=3, rank=r, seed=8)
        ours.set_epoch(2)
        theirs.set_epoch(2)
        assert list(ours) == list(theirs)


def test_weighted_sampler_without_replacement_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    tcli.manual_seed(2)
    torch.manual_seed(2)
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    assert list(WeightedRandomSampler(weights, 5, False)) == list(tdata.WeightedRandomSampler(weights, 5, False))


def test_random_split_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    tcli.manual_seed(4)
    torch.manual_seed(4)
    for lengths in ([3, 7], [0.3, 0.3, 0.4], [0.33, 0.33, 0.34]):
        ours, theirs = random_split(range(10), lengths), tdata.random_split(range(10), lengths)
        assert [list(p.indices) for p in ours] == [list(p.indices) for p in theirs]
    ours = random_split(range(8), [4, 4], generator=tcli.Generator().manual_seed(1))
    theirs = tdata.random_split(range(8), [4, 4], generator=torch.Generator().manual_seed(1))
    assert [p.indices for p in ours] == [p.indices for p in theirs]


def test_worker_seeds_and_shards_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    class TorchSeeds(tdata.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = tdata.get_worker_info()
            return [info.id, info.seed, info.num_workers, float(torch.rand(1)), float(np.random.rand())]

    ours = list(DataLoader(Seeds(), batch_size=2, num_workers=2, generator=tcli.Generator().manual_seed(6)))
    theirs = list(tdata.DataLoader(TorchSeeds(), batch_size=2, num_workers=2,
                                   generator=torch.Generator().manual_seed(6)))
    assert [[t.tolist() for t in b] for b in ours] == [[t.tolist() for t in b] for b in theirs]

    class TorchShards(tdata.IterableDataset):
        def __iter__(self):
            info = tdata.get_worker_info()
            return iter(range(info.id * 4, min(info.id * 4 + 4, 7)))

    got = [b.tolist() for b in DataLoader(Shards(0, 7), batch_size=3, num_workers=2)]
    assert got == [b.tolist() for b in tdata.DataLoader(TorchShards(), batch_size=3, num_workers=2)]


def _describe(x):
    """A module-independent picture of a collated batch: container types, tensor dtypes, shapes and values."""
    if hasattr(x, "dtype") and hasattr(x, "tolist"):
        return ("tensor", str(x.dtype), tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return ("dict", {k: _describe(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_describe(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_describe(v) for v in x])
    return (type(x).__name__, x)


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    from torch.utils.data import default_convert as torch_convert
    batches = [
        [1.5, 2.5], [1, 2], [True, False], ["a", "b"], [b"x", b"y"],
        [np.float32(1), np.float32(2)], [np.int16(3), np.int16(4)], [np.array([1, 2]), np.array([3, 4])],
        [{"x": 1.0, "s": "p"}, {"x": 2.0, "s": "q"}], [Point(1, 2.5), Point(3, 4.5)],
        [(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)], [[1, 2.0], [3, 4.0]], [("a", 1), ("b", 2)],
        [{"nested": [1, (2.0, True)]}, {"nested": [3, (4.0, False)]}],
    ]
    for batch in batches:
        assert _describe(default_collate(batch)) == _describe(torch_collate(batch)), batch
    samples = [np.arange(3), (np.ones(2), 5), {"a": np.float32(2)}, Point(np.int64(1), "s"), [np.zeros(1)], 7]
    for sample in samples:
        assert _describe(default_convert(sample)) == _describe(torch_convert(sample)), sample
    tensors = [[tcli.ones(2, dtype=tcli.int32), tcli.zeros(2, dtype=tcli.int32)]]
    torch_tensors = [[torch.ones(2, dtype=torch.int32), torch.zeros(2, dtype=torch.int32)]]
    assert _describe(default_collate(tensors[0])) == _describe(torch_collate(torch_tensors[0]))


def test_loader_errors_match_torch():
    torch = pytest.importorskip("torch")

    def iterable(m):
        class Stream(m.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(3))
        return Stream()

    def loader(m, **kwargs):
        return m.utils.data.DataLoader(range(10), **kwargs)

    assert_same_errors(torch, [
        lambda m: loader(m, num_workers=-1),
        lambda m: loader(m, timeout=-2),
        lambda m: loader(m, prefetch_factor=3),
        lambda m: loader(m, persistent_workers=True),
        lambda m: loader(m, sampler=[1, 2], shuffle=True),
        lambda m: loader(m, batch_sampler=[[1]], shuffle=True),
        lambda m: loader(m, batch_sampler=[[1]], sampler=[1]),
        lambda m: loader(m, batch_size=None, drop_last=True),
        lambda m: loader(m, batch_size=-1),
        lambda m: loader(m, num_workers=1, multiprocessing_context="nope"),
        lambda m: loader(m, multiprocessing_context="spawn"),
        lambda m: m.utils.data.DataLoader(iterable(m), shuffle=True),
        lambda m: m.utils.data.DataLoader(iterable(m), batch_sampler=[[0]]),
        lambda m: m.utils.data.TensorDataset(m.zeros(3), m.zeros(4)),
        lambda m: m.utils.data.BatchSampler(range(3), 2, None),
        lambda m: m.utils.data.RandomSampler(range(3), num_samples=-1),
        lambda m: m.utils.data.WeightedRandomSampler([1.0], 0),
        lambda m: m.utils.data.random_split(range(5), [2, 2]),
        lambda m: m.utils.data.ConcatDataset([iterable(m)]),
        lambda m: m.utils.data.StackDataset(),
        lambda m: m.utils.data.default_collate([{1}]),
        lambda m: setattr(loader(m), "sampler", None),
    ])
