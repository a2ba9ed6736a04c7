"""load4(array, i): array[i:i + 4] as a tuple, read as one vector load on a GPU (the simulator reads 4 scalars).

The caller guarantees that element i sits at an address aligned to 4 elements (a shared array declared with
that alignment, i a multiple of 4): a misaligned vector load faults. NVVM does not merge neighbouring scalar
loads into vector loads by itself, and shared-memory-bound kernels (the GEMM) need a quarter of the load
instructions that scalar loads take.
"""

from __future__ import annotations

from .launch import SIMULATOR

if SIMULATOR:
    def load4(array, i):
        return array[i], array[i + 1], array[i + 2], array[i + 3]
else:
    from llvmlite import ir
    from numba import types
    from numba.cuda.extending import intrinsic

    @intrinsic
    def load4(typingctx, array, i):
        if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(i, types.Integer)):
            return None
        signature = types.UniTuple(array.dtype, 4)(array, i)

        def codegen(context, builder, sig, args):
            array_type = sig.args[0]
            data = context.make_array(array_type)(context, builder, args[0]).data
            element = context.get_value_type(array_type.dtype)
            vector = ir.VectorType(element, 4)
            address = builder.bitcast(builder.gep(data, [args[1]], inbounds=True), vector.as_pointer())
            loaded = builder.load(address, align=4 * context.get_abi_sizeof(element))
            values = [builder.extract_element(loaded, ir.Constant(ir.IntType(32), lane)) for lane in range(4)]
            return context.make_tuple(builder, sig.return_type, values)

        return signature, codegen
