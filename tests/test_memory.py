"""The caching allocator: recycled buffers must never be handed out while anything still uses them."""

import gc

import numpy as np

import tcli
from tcli.kernels.cpu import memory

BIG = 1 << 20  # elements: 4 MiB of float32, well above the pool threshold


def test_numpy_view_outliving_its_tensor_keeps_its_memory():
    t = tcli.zeros(BIG)
    view = t.numpy().reshape(1024, -1)[::2]  # a view of a view: numpy collapses such bases
    del t
    gc.collect()
    others = [tcli.ones(BIG) for _ in range(4)]  # would reuse the block if it had been released
    assert view.max() == 0.0
    assert all(o.numpy().min() == 1.0 for o in others)


def test_a_released_block_is_reused_and_counted():
    memory.empty_cache()
    t = tcli.empty(BIG)
    address = t.data_ptr()
    del t
    gc.collect()
    assert memory.pooled_bytes() >= BIG * 4
    again = tcli.empty(BIG)
    assert again.data_ptr() == address
    assert memory.pooled_bytes() == 0


def test_views_share_and_keep_pooled_storage():
    base = tcli.arange(BIG, dtype=tcli.float32)
    row = base.view(1024, -1)[3]
    del base
    gc.collect()
    filler = [tcli.full((BIG,), 7.0) for _ in range(3)]
    assert row[0].item() == 3 * (BIG // 1024)
    assert filler[0][0].item() == 7.0


def test_small_buffers_are_not_pooled():
    memory.empty_cache()
    t = tcli.empty(100)
    del t
    gc.collect()
    assert memory.pooled_bytes() == 0


def test_pool_buffers_are_writable_and_aligned():
    t = tcli.empty(BIG)
    array = t.numpy()
    assert array.flags.writeable and array.flags.aligned
    np.testing.assert_array_equal(tcli.full((BIG,), 2.5).numpy()[:3], [2.5, 2.5, 2.5])
