"""The DataLoader iterator that fetches batches in worker processes.

Tasks (task id, index) go round-robin to the workers' index queues, at most ``prefetch_factor`` per worker ahead;
results come back on one queue and are handed out in task order (or as they arrive with ``in_order=False``).
Workers are daemonic and are stopped when the epoch ends, when the iterator is collected, and when an error
(timeout, a dead worker, Ctrl-C) makes the iterator unusable, so none outlive it.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import os
import pickle
import queue
import signal
import time

from ...errors import hint
from ._worker import CHECK_INTERVAL, ExceptionWrapper, IterableEnd, ResumeIteration, worker_loop
from .dataloader import _BaseIter

_exiting = False  # at interpreter exit multiprocessing itself stops daemonic workers; module state may be gone


def _mark_exiting():
    global _exiting
    _exiting = True


atexit.register(_mark_exiting)


class MultiProcessingIter(_BaseIter):
    _shutdown = True  # nothing to shut down until the workers exist

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
        context = loader.multiprocessing_context or multiprocessing.get_context()
        self._data_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues, self._workers = [], []
        self._owner = os.getpid()  # a forked worker holds a copy of this object: only the owner stops workers
        self._shutdown = False
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()  # exiting must not wait on tasks nobody will read
                worker = context.Process(
                    target=worker_loop, daemon=True,
                    args=(self._iterable, self._dataset, index_queue, self._data_queue, self._done_event,
                          self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                          loader.worker_init_fn, worker_id, self._num_workers))
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
            self._reset(loader, first_iter=True)
        except BaseException:
            self._shutdown_workers()
            raise

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        n = self._num_workers
        self._send_idx = 0  # id of the next task to send
        self._rcvd_idx = 0  # id of the next task to hand out
        self._task_worker = {}  # task id -> worker, for tasks sent and not yet handed out
        self._ready = {}  # task id -> (worker, data) that arrived before its turn
        self._active = [True] * n
        self._worker_tasks = [0] * n
        self._worker_cycle = itertools.cycle(range(n))
        if not first_iter:  # persistent workers: start a new epoch, dropping what is left of the last one
            for q in self._index_queues:
                q.put(ResumeIteration())
            waiting = n
            while waiting:
                idx, _ = self._get_data()
                waiting -= isinstance(idx, ResumeIteration)
        for _ in range(self._prefetch_factor * n):
            self._try_put_index()

    def _try_put_index(self):
        try:
            index = self._next_index()
        except StopIteration:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        for _ in range(self._num_workers):  # the next active worker (with room, when order does not matter)
            worker = next(self._worker_cycle)
            if self._active[worker] and (self._in_order or
                                         self._worker_tasks[worker] < max_tasks // sum(self._active)):
                break
        else:
            return
        self._index_queues[worker].put((self._send_idx, index))
        self._task_worker[self._send_idx] = worker
        self._worker_tasks[worker] += 1
        self._send_idx += 1

    def _next_data(self):
        try:
            return self._next_batch()
        except KeyboardInterrupt:
            self._shutdown_workers()
            raise

    def _next_batch(self):
        while True:
            while self._rcvd_idx < self._send_idx:  # skip tasks of workers whose IterableDataset ran out
                worker = self._task_worker.get(self._rcvd_idx)
                if self._rcvd_idx in self._ready or (worker is not None and self._active[worker]):
                    break
                self._task_worker.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._ready:
                worker, data = self._ready.pop(self._rcvd_idx)
                self._task_worker.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
                return self._process(data, worker)
            idx, payload = self._get_data()
            data = pickle.loads(payload)
            if isinstance(data, IterableEnd):
                self._active[data.worker_id] = False
                if not self._persistent_workers:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                worker = self._task_worker.pop(idx)
                self._rcvd_idx += idx == self._rcvd_idx
                return self._process(data, worker)
            self._ready[idx] = (self._task_worker[idx], data)

    def _process(self, data, worker):
        self._worker_tasks[worker] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _get_data(self):
        """The next (task id, payload) from the workers, checking every interval that they are alive."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = CHECK_INTERVAL if deadline is None else min(CHECK_INTERVAL, max(0.0, deadline - time.monotonic()))
            try:
                return self._data_queue.get(timeout=wait)
            except queue.Empty:
                pass
            self._check_workers_alive()
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _check_workers_alive(self):
        dead = [w for w, active in zip(self._workers, self._active) if active and not w.is_alive()]
        if dead:
            pids = ", ".join(str(w.pid) for w in dead)
            codes = [w.exitcode for w in dead]
            advice = (f"exit code(s) {', '.join(map(str, codes))}; a negative code is the signal that stopped the "
                      "worker (-9 is often the out-of-memory killer).")
            if -signal.SIGTERM in codes:  # how numba's OpenMP layer stops a forked child that uses it
                advice += (" A forked worker that runs tcli's multi-threaded (OpenMP) kernels after this process "
                           "has used them is stopped so: pass multiprocessing_context='spawn'.")
            self._shutdown_workers()
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly" + hint(advice))

    def _shutdown_workers(self):
        if self._shutdown or _exiting or os.getpid() != self._owner:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for q in self._index_queues:
                q.put(None)
            deadline = time.monotonic() + CHECK_INTERVAL
            for w in self._workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            for q in self._index_queues:
                q.close()
        finally:
            for w in self._workers:
                if w.is_alive():  # stuck in the dataset's code: stop it
                    w.terminate()
                    w.join(timeout=CHECK_INTERVAL)

    def __del__(self):
        self._shutdown_workers()
