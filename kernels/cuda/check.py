"""Compile every CUDA kernel for a real GPU (sm_90) without one: the check the simulator cannot make.

numba's simulator runs kernels as Python, so a kernel that numba cannot type or compile for the GPU, or one
that silently computes float32 data in float64, passes there. This compiles each kernel family for each op
and dtype tcli launches to PTX with NVVM, and fails on:
- a kernel that does not compile;
- a kernel whose PTX uses local memory (a per-thread array numba could not keep in registers);
- float64 instructions in a kernel over float32 data (tcli computes float32 in float32), except where a
  kernel accumulates in float64 on purpose, as its CPU twin does (``F64_BY_DESIGN``);
- and, where NVIDIA's nvJitLink is installed (it comes with the NVRTC wheels), what ptxas makes of the PTX:
  a kernel that spills registers to local memory, that uses more than 48 KB of static shared memory, or whose
  registers times its block's threads exceed the register file (the launch would fail).
  The check prints the kernel that uses the most registers.

Run it with numba-cuda and NVIDIA's NVVM/NVRTC wheels installed (``pip install 'tcli[cuda]'``) and
``NUMBA_ENABLE_CUDASIM`` unset: ``python -m tcli.kernels.cuda.check``. No driver or GPU is needed.
"""

from __future__ import annotations

import re
import sys
import time
import types as pytypes

import numpy as np

# Kernels that use float64 on float32 data on purpose (their CPU twins do the same).
F64_BY_DESIGN = {
    "variance": "accumulates in float64, as kernels/cpu/reduce.py's variance does",
    "nll_rows": "computes row losses in float64, as the CPU's nll_forward sums in float64",
    "nll_grad": "scales by float64 weights and factors, as the CPU's nll_backward does",
    "nll_partials": "sums the losses and weights in float64, as the CPU's nll_forward does",
    "nll_finish": "adds up the float64 partial sums",
}
# Ops whose float64 instructions and local array are CUDA's own: libdevice's sin/cos/tan reduce huge arguments
# (Payne-Hanek) in float64 through a small local table.
LIBDEVICE = {"sin", "cos", "tan"}


def _signatures():
    """(name, python function, argument types, float32 kernel?) for every kernel tcli launches."""
    import importlib

    from numba import types as nt

    from . import compact as CP
    from . import elementwise as E
    from . import index as IX
    from . import linalg as L
    from . import optim as O
    from . import random as RN
    from . import rows as RW
    from . import sort as S
    R = importlib.import_module(f"{__package__}.reduce")  # the package's `reduce` attribute is the function

    f32, f64, i64, b1, u16 = nt.float32, nt.float64, nt.int64, nt.boolean, nt.uint16

    def arr(t):
        return nt.Array(t, 1, "C")

    shape2 = nt.UniTuple(i64, 2)
    predicates = {"eq_s", "ne_s", "lt_s", "le_s", "gt_s", "ge_s", "isnan", "isinf", "isfinite", "logical_not",
                  "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}
    integer_only = {"bitwise_not", "and_s", "or_s", "xor_s", "bitwise_and", "bitwise_or", "bitwise_xor"}
    for op in E.UNARY:
        if op.endswith("_int"):
            dtypes = (i64,)
        elif op in integer_only:
            dtypes = (i64, b1) if op != "bitwise_not" else (i64,)
        elif op in ("relu", "copy", "fill", "neg", "abs", "sign", "square", "max_s", "min_s", "clamp", "add_s",
                    "sub_s", "mul_s", "eq_s", "lt_s"):
            dtypes = (f32, f64, i64)  # also on integers (integer results must not pass through float64)
        else:
            dtypes = (f32, f64)
        for t in dtypes:
            out = b1 if op in predicates else t
            dt = np.dtype(str(t)) if t != b1 else np.dtype(bool)
            yield (f"unary_dense {op} {t}", E._UNARY_DENSE[op, dt].py_func, (arr(out), arr(t), t, t), t != f64)
            if t == f32:
                yield (f"unary_strided {op} {t}", E._UNARY_STRIDED[op, dt].py_func,
                       (i64, shape2, arr(out), i64, shape2, arr(t), i64, shape2, t, t), True)
    for op in E.BINARY:
        if op.endswith("_int"):
            dtypes = (i64,)
        elif op in integer_only:
            dtypes = (i64, b1)
        elif op in ("logical_and", "logical_or", "logical_xor"):
            dtypes = (b1, f32)
        else:
            dtypes = (f32, f64)
        for t in dtypes:
            out = b1 if op in predicates else t
            dt = np.dtype(str(t)) if t != b1 else np.dtype(bool)
            yield (f"binary_dense {op} {t}", E._BINARY_DENSE[op, dt].py_func, (arr(out), arr(t), arr(t)), t == f32)
            if t == f32:
                yield (f"binary_strided {op} {t}", E._BINARY_STRIDED[op, dt].py_func,
                       (i64, shape2, arr(out), i64, shape2, arr(t), i64, shape2, arr(t), i64, shape2), True)
    for op in E.TERNARY:
        cond = b1 if op in ("where", "masked_grad") else f32
        yield (f"ternary_dense {op} f32", E._TERNARY_DENSE[op, np.dtype(np.float32)].py_func,
               (arr(f32), arr(cond), arr(f32), arr(f32)), True)
    for op in R._OPS:
        for t in ((b1,) if op in ("all", "any") else (f32, f64)):
            for template in (R._per_thread, R._per_block):
                kernel = R._kernel(template, op, np.dtype(str(t)) if t != b1 else np.dtype(bool))
                out = b1 if op in ("all", "any") else t
                yield (f"reduce{template.__name__} {op} {t}", kernel.py_func, (arr(out), arr(t), i64, i64, i64),
                       t == f32)
    for op in ("sum", "prod", "max", "min"):
        for t in (f32, f64, i64):
            yield (f"reduce_partials {op} {t}", R._kernel(R._partials, op, np.dtype(str(t))).py_func,
                   (arr(t), arr(t), i64), t == f32)
    for op in R._SCANS:
        for t in (f32, f64, i64):
            yield (f"scan {op} {t}", R._kernel(R._scan, op, np.dtype(str(t))).py_func, (arr(t), arr(t), i64, i64, i64),
                   t == f32)
    for t in (f32, f64, i64, b1):
        yield (f"gather_dim {t}", IX._gather_dim.py_func, (arr(t), arr(t), i64, shape2, arr(i64), shape2, i64),
               t == f32)
    for t in (f32, f64, i64):
        yield (f"scatter_dim {t}", IX._scatter_dim.py_func, (arr(t), i64, shape2, arr(i64), arr(t), i64, shape2, shape2,
                                                             i64, b1), t == f32)
    for t in (nt.int8, nt.uint8, nt.int16, b1):  # accumulating scatters into narrow dtypes: word compare-and-swap
        u32 = arr(nt.uint32)
        yield (f"scatter_rows_narrow {t}", IX._scatter_rows_narrow.py_func,
               (u32, arr(i64), i64, shape2, shape2, arr(t), i64, b1), False)
        yield (f"scatter_dim_narrow {t}", IX._scatter_dim_narrow.py_func,
               (u32, i64, shape2, arr(i64), arr(t), i64, shape2, shape2, i64, i64, b1), False)
    for t in (f32, f64, i64, nt.int32, nt.int16, nt.int8, nt.uint8, b1):  # every dtype but float16 (sorted as f32)
        yield (f"sort_rows {t}", S._kernel(S._bitonic, np.dtype(str(t))).py_func,
               (arr(t), arr(i64), arr(t), i64, i64, b1), t == f32)
        yield (f"sort_merge {t}", S._kernel(S._merge, np.dtype(str(t))).py_func,
               (arr(t), arr(i64), arr(t), arr(i64), i64, i64, b1), t == f32)
    for t in (f32, f64, i64):
        tiles = L.CONFIGS if t == f32 else [64]  # gemm() takes 128 x 128 tiles for 4-byte values only
        for template, tile in [(L._gemm, None)] + [(L._gemm_blocked, tile) for tile in tiles]:
            kernel = L._kernel(np.dtype(str(t)), template, tile)
            yield (f"gemm{template.__name__}{tile or ''} {t}", kernel.py_func,
                   (arr(t), arr(t), i64, i64, i64, i64, arr(t), i64, i64, i64, i64, i64, i64, i64, i64, i64, arr(t),
                    b1), t == f32)
    for t in (f32, f64):
        yield (f"add_row {t}", L._add_row.py_func, (arr(t), arr(t)), t == f32)
    for t in (f32, f64):
        is32 = t == f32
        yield (f"softmax {t}", RW._softmax.py_func, (arr(t), arr(t), i64, i64, i64, b1), is32)
        yield (f"softmax_backward {t}", RW._softmax_backward.py_func, (arr(t), arr(t), arr(t), i64, i64, i64, b1), is32)
        yield (f"softmax_rows {t}", RW._row_kernel(RW._softmax_rows, np.dtype(str(t))).py_func,
               (arr(t), arr(t), i64, i64, b1), is32)
        yield (f"softmax_backward_rows {t}", RW._row_kernel(RW._softmax_backward_rows, np.dtype(str(t))).py_func,
               (arr(t), arr(t), arr(t), i64, i64, b1), is32)
        yield (f"arg_reduce {t}", RW._arg_reduce.py_func, (arr(t), arr(i64), arr(t), i64, i64, i64, b1), is32)
        yield (f"logsumexp {t}", RW._logsumexp.py_func, (arr(t), arr(t), i64, i64, i64), is32)
        yield (f"variance {t}", RW._variance.py_func, (arr(t), arr(t), i64, i64, i64, i64), is32)
        yield (f"nll_rows {t}", RW._nll_rows.py_func, (arr(t), arr(t), i64, arr(i64), arr(f64), b1, i64), is32)
        yield (f"nll_partials {t}", RW._nll_partials.py_func, (arr(f64), arr(t), i64, arr(i64), arr(f64), b1, i64),
               is32)
        yield (f"nll_finish {t}", RW._nll_finish.py_func, (arr(t), arr(f64), arr(f64), b1), is32)
        yield (f"nll_grad {t}", RW._nll_grad.py_func, (arr(t), i64, arr(i64), arr(f64), b1, i64, arr(t), b1, arr(f64),
                                                       b1), is32)
        yield (f"sgd {t}", O._sgd.py_func, (arr(t), arr(t), arr(t)) + (t,) * 5 + (b1, b1, b1), is32)
        yield (f"adam {t}", O._adam.py_func, (arr(t),) * 5 + (t,) * 10 + (b1, b1), is32)
        yield (f"rmsprop {t}", O._rmsprop.py_func, (arr(t),) * 5 + (t,) * 8 + (b1, b1), is32)
        yield (f"adagrad {t}", O._adagrad.py_func, (arr(t),) * 3 + (t,) * 4, is32)
    for t in (f32, f64, i64, u16):
        yield (f"gather_rows {t}", IX._gather_rows.py_func, (arr(t), arr(t), arr(i64), i64, shape2, shape2), t == f32)
    yield ("one_hot i64", IX._one_hot.py_func, (arr(i64), arr(i64), i64), False)
    for k in (1, 2, 3):  # one signature per count of index tensors
        tup = nt.UniTuple(i64, k)
        yield (f"index_offsets {k}", IX._index_offsets.py_func, (arr(i64), arr(i64), tup, tup, i64, arr(i64)), False)
    yield ("first_outside i64", IX._first_outside.py_func, (arr(i64), arr(i64), i64, i64), False)
    yield ("first_not_increasing i64", IX._first_not_increasing.py_func, (arr(i64), arr(i64)), False)
    for t in (f32, f64, i64):
        yield (f"scatter_rows {t}", IX._scatter_rows.py_func, (arr(t), arr(i64), i64, shape2, shape2, arr(t), b1),
               t == f32)
    for t in (f32, f64, i64, nt.int32, nt.int16, nt.int8, nt.uint8, b1):  # nonzero takes any dtype but float16
        yield (f"chunk_counts {t}", CP._chunk_counts.py_func, (arr(i64), arr(t), b1), t == f32)
        yield (f"write_coordinates {t}", CP._write_coordinates.py_func, (arr(i64), arr(t), arr(i64), arr(i64)),
               t == f32)
    yield ("chunk_offsets i64", CP._chunk_offsets.py_func, (arr(i64), arr(i64)), True)
    for t in (f32, f64, i64, nt.int32, nt.uint8, b1):  # unique's dtypes (float16 is found in float32)
        yield (f"write_runs {t}", CP._write_runs.py_func, (arr(t), arr(i64), arr(i64), arr(t), arr(i64), arr(i64)),
               t == f32)
    yield ("run_lengths i64", CP._run_lengths.py_func, (arr(i64), arr(i64), i64, i64), True)
    u64 = nt.uint64
    for t, kernel in ((f32, RN._draw_f32), (f64, RN._draw_f64)):
        yield (f"philox_floats {t}", kernel.py_func, (arr(t), i64, u64, u64, i64, i64, t, t, t), t == f32)
    yield ("philox_ints i64", RN._draw_int.py_func, (arr(i64), i64, u64, u64, i64, i64, u64, b1), True)
    for t in (f32, f64):
        yield (f"sample_cdf {t}", RN._sample_cdf.py_func, (arr(i64), arr(t), arr(t), arr(t), i64, i64), t == f32)


_SHARED_LIMIT = 48 * 1024  # static shared memory per block without opting in
_REGISTER_FILE = 65536  # 32-bit registers per block: more threads x registers and the launch fails
_BLOCK_THREADS = {"sort_rows": 1024}  # kernels launched with more than the usual 256 threads per block


def _linker():
    """cuda.bindings' nvJitLink module when its library loads, else None (the ptxas part of the check is skipped)."""
    try:
        from cuda.bindings import nvjitlink
        nvjitlink.version()
    except Exception:  # noqa: BLE001 - not installed, or its shared library is missing: nothing to assemble with
        return None
    return nvjitlink


def _assembled(nvjitlink, ptx: str):
    """(registers, spilled bytes, shared bytes) of PTX assembled for sm_90 by nvJitLink (raises if it fails)."""
    handle = nvjitlink.create(2, ["-arch=sm_90", "-verbose"])
    try:
        data = ptx.encode()
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel")
        nvjitlink.complete(handle)
        log = bytearray(nvjitlink.get_info_log_size(handle))
        nvjitlink.get_info_log(handle, log)
    finally:
        nvjitlink.destroy(handle)
    text = log.decode(errors="replace")
    registers = max((int(n) for n in re.findall(r"[Uu]sed (\d+) registers", text)), default=0)
    spilled = sum(int(a) + int(b) for a, b in re.findall(r"(\d+) bytes spill stores, (\d+) bytes spill loads", text))
    shared = max((int(n) for n in re.findall(r"(\d+) bytes smem", text)), default=0)
    return registers, spilled, shared


def _unknown_device_attributes() -> list[str]:
    """The device attributes tcli reads that the driver's enum lacks (the simulator accepts any name)."""
    from cuda.bindings.driver import CUdevice_attribute

    from .random import RESIDENCY_ATTRIBUTES
    return [f"device attribute {name}: the driver has no CU_DEVICE_ATTRIBUTE_{name}" for name in RESIDENCY_ATTRIBUTES
            if not hasattr(CUdevice_attribute, f"CU_DEVICE_ATTRIBUTE_{name}")]


def main() -> int:
    from numba import config
    if config.ENABLE_CUDASIM:
        print("kernels.cuda.check compiles for a real GPU: run it without NUMBA_ENABLE_CUDASIM")
        return 2
    import numba.cuda.dispatcher as dispatcher
    from numba import cuda
    # A kernel's device functions compile for "the current device": with no driver, say it is an sm_90.
    dispatcher.get_current_device = lambda: pytypes.SimpleNamespace(compute_capability=(9, 0))
    failures, leaks, count, assembled, most = [], [], 0, 0, (0, "")
    linker = _linker()
    start = time.perf_counter()
    for name, fn, signature, float32_kernel in _signatures():
        count += 1
        try:
            ptx, _ = cuda.compile_ptx(fn, signature, cc=(9, 0))
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the check fails
            failures.append(f"{name}: {type(error).__name__}: {str(error).strip().splitlines()[0][:300]}")
            continue
        family, op = name.split()[0], name.split()[1]
        if family in LIBDEVICE or op in LIBDEVICE:
            continue
        if ".local" in ptx:  # a cuda.local array not promoted to registers: slow local-memory traffic
            leaks.append(("LOCAL MEMORY", name))
        if linker is not None:
            try:
                registers, spilled, shared = _assembled(linker, ptx)
            except Exception as error:  # noqa: BLE001 - reported, then the check fails
                failures.append(f"{name}: ptxas: {type(error).__name__}: {str(error).strip()[:300]}")
                continue
            assembled += 1
            most = max(most, (registers, name))
            if spilled:
                leaks.append(("REGISTER SPILLS", f"{name}: {spilled} bytes spilled to local memory"))
            threads = _BLOCK_THREADS.get(family, 256)
            if registers * threads > _REGISTER_FILE:
                leaks.append(("TOO MANY REGISTERS", f"{name}: {registers} registers x {threads} threads per block"))
            if shared > _SHARED_LIMIT:
                leaks.append(("SHARED MEMORY", f"{name}: {shared} bytes of shared memory per block"))
        f64_lines = sum(".f64" in line for line in ptx.splitlines())
        if float32_kernel and f64_lines and family not in F64_BY_DESIGN:
            leaks.append(("FLOAT64 IN A FLOAT32 KERNEL", f"{name}: {f64_lines} float64 instructions"))
    print(f"compiled {count - len(failures)} of {count} kernel signatures for sm_90 in "
          f"{time.perf_counter() - start:.0f} s")
    if assembled:
        print(f"ptxas (nvJitLink) assembled {assembled}: no spills or shared memory over 48 KB unless listed below; "
              f"most registers: {most[0]} ({most[1]})")
    else:
        print("ptxas check SKIPPED: nvJitLink (cuda.bindings.nvjitlink) is not installed")
    for line in failures:
        print("DOES NOT COMPILE", line)
    unknown = _unknown_device_attributes()
    for line in unknown:
        print("UNKNOWN", line)
    for kind, line in leaks:
        print(kind, line)
    return 1 if failures or leaks or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
