"""The CPU kernel of an op that has no CUDA kernel yet, run on host copies of its device buffers.

Every device buffer an op passes is copied to the host, the CPU kernel runs, and the buffers are copied back
(the kernel contract does not say which arguments it writes). The answer is the CPU's, at the price of two
transfers; the first use of each such op in a process warns, so slow steps are never a mystery.
"""

from __future__ import annotations

import warnings

from .buffer import DeviceBuffer, public_caller, to_host


class HostFallbackWarning(UserWarning):
    """An op ran on the host because tcli has no CUDA kernel for it yet."""


_warned: set = set()


def on_host(name, cpu_kernel):
    def run(*args):
        op = public_caller() or name
        if op not in _warned:
            _warned.add(op)
            warnings.warn(f"tcli has no CUDA kernel for '{op}' yet: it ran on the host, copying its tensors from "
                          "the device and back (the same result, slower)", HostFallbackWarning, stacklevel=2)
        copies: dict = {}  # id -> (device buffer, its host copy): a buffer passed twice is copied once

        def host(a):
            if isinstance(a, DeviceBuffer):
                if id(a) not in copies:
                    copies[id(a)] = (a, to_host(a))
                return copies[id(a)][1]
            if isinstance(a, tuple):
                return tuple(host(x) for x in a)
            return a

        result = cpu_kernel(*[host(a) for a in args])
        for buf, h in copies.values():
            if h.shape[0]:
                buf.array.copy_to_device(h)
        return result

    run.__name__ = name
    return run
