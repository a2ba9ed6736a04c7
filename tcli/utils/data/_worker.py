"""What runs inside a DataLoader worker process, and the messages it exchanges with the main process."""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ._fetch import make_fetcher

__all__ = ["WorkerInfo", "get_worker_info"]

CHECK_INTERVAL = 1.0  # seconds between checks that the other side is still alive


@dataclass(frozen=True)
class WorkerInfo:
    """Who this worker is: its ``id`` in [0, num_workers), the ``seed`` it was given, its copy of the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's WorkerInfo inside a DataLoader worker process; None in the main process."""
    return _worker_info


class KeyErrorMessage(str):
    """A KeyError's message that prints as text: KeyError shows repr() of its argument."""

    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback as text."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where
        try:  # a class that cannot be pickled (defined in a function) would never reach the main process
            pickle.dumps(exc_type)
        except Exception:
            exc_type = RuntimeError
        self.exc_type = exc_type

    def reraise(self):
        """Raise the same exception type; its message names the worker and holds the worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # the type needs other constructor arguments
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:  # no exception -> traceback -> this frame -> exception cycle: dropping the error frees the workers
            del exception


@dataclass(frozen=True)
class IterableEnd:
    """Sent by a worker whose copy of an IterableDataset ran out."""

    worker_id: int


@dataclass(frozen=True)
class ResumeIteration:
    """Sent to persistent workers at the start of a new epoch (and echoed back once they are ready)."""


def _use_one_thread():
    """num_workers processes share the cores: each runs tcli's kernels on one thread, as PyTorch's workers do.
    Without numba loaded yet, the environment says so for when it loads (importing it here costs ~0.5 s)."""
    if "numba" in sys.modules:
        from ... import set_num_threads
        set_num_threads(1)
    else:
        os.environ["NUMBA_NUM_THREADS"] = "1"


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, tcli's and numpy's global generators for this worker as PyTorch does; returns the seed."""
    from ...ops.random import manual_seed
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    # numpy's SeedSequence of these words is PyTorch's _generate_state, so numpy draws match PyTorch's workers
    np.random.seed(np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32]).generate_state(4))
    return seed


def worker_loop(iterable, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last,
                base_seed, init_fn, worker_id, num_workers):
    """Fetch batches for the (task id, index) pairs read from ``index_queue`` until told to stop (None) or the
    main process dies. Results go to ``data_queue`` as (task id, pickled batch or ExceptionWrapper)."""
    global _worker_info
    try:
        _use_one_thread()
        seed = seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")  # sent with the first task
        ended = False
        parent = os.getppid()
        while os.getppid() == parent:
            try:
                task = index_queue.get(timeout=CHECK_INTERVAL)
            except queue.Empty:
                continue
            if task is None:
                break
            if isinstance(task, ResumeIteration):
                data_queue.put((task, None))
                ended = False
                fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                continue
            if done_event.is_set() or ended:
                continue
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                data = _fetch(fetcher, index, iterable, worker_id)
                ended = isinstance(data, IterableEnd)
            data_queue.put((idx, _pickled(data, worker_id)))
            del data, task, index
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the main process reports it
        pass
    if done_event.is_set():  # nobody reads the results any more: do not block exit flushing them
        data_queue.cancel_join_thread()
        data_queue.close()


def _fetch(fetcher, index, iterable, worker_id):
    try:
        return fetcher.fetch(index)
    except StopIteration:
        if iterable:
            return IterableEnd(worker_id)
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    except Exception:
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}")


def _pickled(data, worker_id) -> bytes:
    """Pickle here rather than in the queue's feeder thread, so a batch that cannot be pickled becomes an error
    the main process raises instead of a batch that never arrives."""
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps(ExceptionWrapper(f"in DataLoader worker process {worker_id}"))
