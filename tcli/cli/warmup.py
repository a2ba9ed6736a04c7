"""``tcli warmup``: compile (or load from the disk cache) the kernels a typical session uses."""

from __future__ import annotations

import time


def _workload():
    """Touch the common kernels: float32/float64/int64 arithmetic, reductions, matmul, autograd."""
    import tcli
    for dtype in (tcli.float32, tcli.float64):
        a = tcli.rand(8, 8, dtype=dtype, requires_grad=True)
        b = tcli.rand(8, 8, dtype=dtype)
        y = ((a * b + 1 - a / 2) ** 2).clamp(min=0).relu().sigmoid().tanh().exp().log()
        loss = (y @ b.t()).softmax(-1).sum() + a.mean() + a.max() + a.var()
        loss.backward()
        with tcli.no_grad():
            a -= 0.1 * a.grad
            a.grad.zero_()
        _ = a[1:3, ::2] + a.t()[0, ::2]
    i = tcli.arange(10)
    _ = (i + 1) * 2 - i // 3, i.sum(), i.max(), i == 3, i.float().mean()


def run(quiet: bool = False) -> float:
    from tcli.kernels.cpu import compiled_signatures
    start = time.perf_counter()
    _workload()
    elapsed = time.perf_counter() - start
    if quiet:
        print(f"{elapsed:.2f} s")
    else:
        print(f"warmup: {compiled_signatures()} kernel signatures ready in {elapsed:.2f} s "
              "(first run compiles; later runs load from the cache)")
    return elapsed
