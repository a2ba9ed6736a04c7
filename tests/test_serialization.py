"""tcli.save / tcli.load: PyTorch's zip checkpoint format, views kept sharing, and loading that never runs code."""

import io
import os
import pickle
import re
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from helpers import DTYPE_NAMES, DTYPES, NP_OF, rng_for, sample, to_numpy

import tcli
from tcli.serialization import load, save


def round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer, **load_kwargs)


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    save(obj, buffer)
    return buffer.getvalue()


def rewritten(raw: bytes, changes: dict) -> io.BytesIO:
    """The archive ``raw`` re-zipped by Python's zipfile, with the records named in ``changes`` (without the
    'archive/' folder) replaced, or left out where the change is None."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = changes.get(name.partition("/")[2], src.read(name))
            if data is not None:
                dst.writestr(name, data)
    out.seek(0)
    return out


def data_pkl(raw: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return zf.read("archive/data.pkl")


def assert_same_tensor(got, expected):
    assert got.dtype == expected.dtype
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.stride() == expected.stride()
    assert got.storage_offset() == expected.storage_offset()
    np.testing.assert_array_equal(to_numpy(got), to_numpy(expected))


# ---- round trips -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_every_dtype_round_trips_exactly_into_a_dense_tensor(name):
    dt = DTYPES[name]
    values = sample("special" if dt.is_floating_point else "real", dt, (3, 5), rng_for("save", name))
    got = round_trip(tcli.tensor(values))
    assert got.dtype == dt and tuple(got.shape) == (3, 5)
    np.testing.assert_array_equal(to_numpy(got), values)
    # the dense fast paths need an aligned, writable, C-contiguous buffer of the dtype
    assert got._dense and got._buf.flags.aligned and got._buf.flags.writeable and got._buf.dtype == NP_OF[dt]
    got[0, 0] = values[1, 1]
    assert to_numpy(got)[0, 0] == values[1, 1]


def test_zero_dim_and_empty_tensors():
    got = round_trip({"scalar": tcli.tensor(2.5), "empty": tcli.empty(0, 3, dtype=tcli.int64), "none": tcli.ones(0)})
    assert tuple(got["scalar"].shape) == () and got["scalar"].item() == 2.5
    assert tuple(got["empty"].shape) == (0, 3) and got["empty"].dtype == tcli.int64
    assert got["none"].numel() == 0 and got["none"].dtype == tcli.float32


def test_views_are_saved_as_one_storage_and_load_sharing_it():
    base = tcli.arange(12.0).reshape(3, 4)
    views = {"base": base, "t": base.t(), "row": base[1], "step": base[:, ::2], "col": base[:, 3],
             "expanded": base[0:1].expand(5, 4)}
    raw = saved(views)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert [n for n in zf.namelist() if "/data/" in n] == ["archive/data/0"]
    got = load(io.BytesIO(raw))
    for key, view in views.items():
        assert_same_tensor(got[key], view)
    got["base"][1, 3] = -1.0  # one memory: the write shows through every view of it
    assert got["t"][3, 1].item() == -1.0 and got["row"][3].item() == -1.0 and got["col"][1].item() == -1.0
    assert got["base"]._dense and not got["step"]._dense


def test_a_view_of_a_large_tensor_saves_the_whole_storage_as_pytorch_does():
    big = tcli.arange(1000, dtype=tcli.int32)
    got = round_trip(big[10:12])
    assert got.tolist() == [10, 11] and got.storage_offset() == 10 and got._buf.shape[0] == 1000
    assert round_trip(big[10:12].clone())._buf.shape[0] == 2


def test_nested_containers_keep_their_types():
    t = tcli.tensor([1, 2, 3])
    obj = {"list": [t, 1, 2.5, None, True, "s"], "tuple": (t, (False, -7)), "od": OrderedDict(b=1, a=2),
           "size": tcli.Size([2, 3]), "dtype": tcli.float16, "device": tcli.device("cpu"), 3: {"deep": [[t]]}}
    got = round_trip(obj)
    assert got["list"][1:] == [1, 2.5, None, True, "s"] and type(got["list"][2]) is float
    assert type(got["tuple"]) is tuple and got["tuple"][1] == (False, -7)
    assert type(got["od"]) is OrderedDict and list(got["od"]) == ["b", "a"]
    assert type(got["size"]) is tcli.Size and got["size"] == (2, 3)
    assert got["dtype"] is tcli.float16 and got["device"] == tcli.device("cpu")
    # one tensor reached three ways is one tensor again
    assert got["list"][0] is got["tuple"][0] is got[3]["deep"][0][0]
    assert got["list"][0].tolist() == [1, 2, 3]


def test_requires_grad_is_kept_and_a_non_leaf_loads_as_a_leaf():
    w = tcli.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    got = round_trip({"w": w, "y": w * 3, "plain": tcli.ones(2), "ints": tcli.tensor([1, 2])})
    assert got["w"].requires_grad and got["w"].is_leaf and got["w"].grad is None  # .grad is not saved
    assert got["y"].requires_grad and got["y"].is_leaf and got["y"].tolist() == [3.0, 3.0, 3.0]
    assert not got["plain"].requires_grad and not got["ints"].requires_grad


def test_a_state_dicts_metadata_attribute_round_trips():
    state = OrderedDict(weight=tcli.ones(2))
    state._metadata = OrderedDict({"": {"version": 1}})
    got = round_trip(state)
    assert got._metadata == {"": {"version": 1}} and got["weight"].tolist() == [1.0, 1.0]


def test_parameter_round_trips_as_a_parameter():
    parameter = pytest.importorskip("tcli.nn.parameter").Parameter
    p = parameter(tcli.tensor([1.0, 2.0]))
    frozen = parameter(tcli.tensor([3.0]), requires_grad=False)
    got = round_trip({"p": p, "frozen": frozen})
    assert type(got["p"]) is parameter and got["p"].requires_grad and got["p"].tolist() == [1.0, 2.0]
    assert type(got["frozen"]) is parameter and not got["frozen"].requires_grad


def test_files_paths_and_buffers(tmp_path):
    t = tcli.arange(5)
    save(t, tmp_path / "model.pt")  # pathlib.Path
    assert load(tmp_path / "model.pt").tolist() == [0, 1, 2, 3, 4]
    with zipfile.ZipFile(tmp_path / "model.pt") as zf:  # PyTorch names the archive folder after the file
        assert zf.namelist()[0] == "model/data.pkl"
    save({"t": t}, str(tmp_path / "other.tar"))
    with open(tmp_path / "other.tar", "rb") as f:
        assert load(f)["t"].tolist() == [0, 1, 2, 3, 4]
    buffer = io.BytesIO(b"prefix")  # written from the current position, and read back from there
    buffer.seek(6)
    save(t, buffer)
    buffer.seek(6)
    assert load(buffer).tolist() == [0, 1, 2, 3, 4]


def test_records_are_laid_out_as_pytorch_writes_them():
    raw = saved({"a": tcli.ones(3), "b": tcli.zeros(0), "c": tcli.tensor([1], dtype=tcli.int8)})
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [
            "archive/data.pkl", "archive/.format_version", "archive/.storage_alignment", "archive/byteorder",
            "archive/data/0", "archive/data/1", "archive/data/2", "archive/version", "archive/.data/serialization_id"]
        assert zf.read("archive/version") == b"3\n" and zf.read("archive/.storage_alignment") == b"64"
        assert len(zf.read("archive/.data/serialization_id")) == 40
    for info in infos:
        name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
        start = info.header_offset + 30 + name_len + extra_len
        assert start % 64 == 0, info.filename
        assert raw[start - extra_len:start - extra_len + 2] == b"FB"  # the padding field
        descriptor = raw[start + info.file_size:start + info.file_size + 4]
        assert (descriptor == b"PK\x07\x08") == (info.file_size > 0)


def test_big_endian_files_and_other_zip_writers_load():
    values = np.array([1.5, -2.25, 3.0], np.float32)
    raw = saved({"x": tcli.tensor(values), "i": tcli.tensor([1, -2], dtype=tcli.int16)})
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        keys = {n.rpartition("/")[2]: zf.read(n) for n in zf.namelist() if "/data/" in n}
    swapped = {f"data/{k}": np.frombuffer(v, np.float32 if len(v) == 12 else np.int16).byteswap().tobytes()
               for k, v in keys.items()}
    got = load(rewritten(raw, {"byteorder": b"big", **swapped}))
    np.testing.assert_array_equal(got["x"].numpy(), values)
    assert got["i"].tolist() == [1, -2]


# ---- map_location -------------------------------------------------------------------------------------------------


def test_map_location_forms_and_cuda_locations():
    raw = saved({"x": tcli.tensor([1.0, 2.0])})
    on_cuda = data_pkl(raw).replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    for where in (None, "cpu", tcli.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage,
                  lambda storage, location: None):
        assert load(io.BytesIO(raw), map_location=where)["x"].tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError) as e:
        load(rewritten(raw, {"data.pkl": on_cuda}))
    assert str(e.value).startswith("Attempting to deserialize object on a CUDA device but "
                                   "torch.cuda.is_available() is False.")
    assert "\nhint: pass map_location='cpu'" in str(e.value)
    for where in ("cpu", tcli.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: storage):
        assert load(rewritten(raw, {"data.pkl": on_cuda}), map_location=where)["x"].tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="CUDA device"):
        load(io.BytesIO(raw), map_location="cuda")
    with pytest.raises(RuntimeError, match="don't know how to restore data location"):
        load(io.BytesIO(raw), map_location="mps")


# ---- safety -------------------------------------------------------------------------------------------------------


class _Shell:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


class _Eval:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return eval, (f"__import__('pathlib').Path({str(self.sentinel)!r}).touch()",)


@pytest.mark.parametrize("payload, function", [(_Shell, "system"), (_Eval, "eval")])
@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, payload, function, protocol):
    sentinel = tmp_path / "ran"
    evil = pickle.dumps({"weights": [payload(sentinel)]}, protocol=protocol)
    raw = saved({"weights": [1]})
    with pytest.raises(pickle.UnpicklingError) as e:
        load(rewritten(raw, {"data.pkl": evil}), weights_only=False)  # weights_only=False does not lift the restriction
    lines = str(e.value).split("\n")
    assert lines[0].startswith("Weights only load failed.")
    assert re.search(rf"GLOBAL (posix|os|builtins|__builtin__)\.{function} was not an allowed global", lines[0])
    assert lines[1].startswith("hint: ")
    assert not sentinel.exists()


def test_setting_attributes_on_a_tensor_is_refused():
    raw = saved(tcli.arange(4.0))
    # BUILD with {'_offset': 1 << 20}: would move the tensor's view far outside its buffer
    evil = data_pkl(raw)[:-1] + b"}X\x07\x00\x00\x00_offsetJ\x00\x00\x10\x00sb."
    with pytest.raises(pickle.UnpicklingError, match="Can only build OrderedDict"):
        load(rewritten(raw, {"data.pkl": evil}))


def test_a_view_outside_its_storage_is_refused():
    buf = np.zeros(4, np.float32)
    outside = tcli.Tensor._make(buf, (3,), (2,), 0, tcli.float32)  # reaches element 4 of 4: never read here
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 16"):
        round_trip(outside)
    with pytest.raises(pickle.UnpicklingError, match="Malformed tensor"):
        round_trip(tcli.Tensor._make(buf, (2,), (-1,), 1, tcli.float32))


def test_a_storage_record_of_the_wrong_size_or_missing_is_refused():
    raw = saved(tcli.ones(4))
    with pytest.raises(pickle.UnpicklingError, match="Malformed storage size"):
        load(rewritten(raw, {"data/0": b"\x00" * 8}))
    with pytest.raises(RuntimeError, match="^PytorchStreamReader failed locating file data/0: file not found$"):
        load(rewritten(raw, {"data/0": None}))


def test_non_zip_and_legacy_files_are_refused():
    with pytest.raises(RuntimeError, match="not a file written by torch.save or tcli.save"):
        load(io.BytesIO(b"certainly not a checkpoint"))
    legacy = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."
    with pytest.raises(RuntimeError, match="legacy format") as e:
        load(io.BytesIO(legacy))
    assert "\nhint: " in str(e.value)


def test_save_refuses_what_load_would_refuse_before_touching_the_file(tmp_path):
    path = tmp_path / "x.pt"
    for bad in (np.zeros(2), {1, 2}, lambda: 0, _Shell("x"), b"bytes", 1j, [tcli.float32, int]):
        with pytest.raises(pickle.PicklingError, match="tcli.save cannot save an object of type"):
            save({"bad": bad}, path)
    assert not path.exists()


def test_one_memory_saved_as_two_dtypes_is_refused():
    x = tcli.ones(3)
    with pytest.raises(RuntimeError, match="Cannot save multiple tensors or storages that view the same data as "
                                           "different types"):
        save([x, x.view(tcli.int32)], io.BytesIO())


# ---- errors -------------------------------------------------------------------------------------------------------


def test_file_errors_are_pytorchs(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")
    with pytest.raises(RuntimeError, match="^Parent directory .*nope does not exist.$"):
        save(tcli.ones(1), tmp_path / "nope" / "x.pt")
    with pytest.raises(AttributeError, match="expected 'f' to be string, path, or a file-like object"):
        save(tcli.ones(1), 42)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
        load(io.BytesIO(saved(1)), pickle_module=pickle)


def test_unseekable_files_are_refused_with_pytorchs_message():
    class Pipe(io.RawIOBase):
        def readable(self):
            return True

    with pytest.raises(io.UnsupportedOperation, match="You can only torch.load from a file that is seekable"):
        load(Pipe())


def test_the_package_exports_save_and_load():
    if not hasattr(tcli, "save"):
        pytest.skip("tcli/__init__.py does not import tcli.serialization yet")
    assert tcli.save is save and tcli.load is load


# ---- PyTorch reads tcli's files and tcli reads PyTorch's ----------------------------------------------------------


def test_pytorch_loads_what_tcli_saves(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = {name: tcli.tensor(sample("real", dt, (2, 3), rng_for("to torch", name))) for name, dt in DTYPES.items()}
    base = tcli.arange(12.0).reshape(3, 4)
    views = {"base": base, "t": base.t(), "step": base[:, ::2], "row": base[2], "scalar": tcli.tensor(7),
             "empty": tcli.zeros(0, 2), "grad": tcli.ones(2, requires_grad=True)}
    save({**tensors, **views, "meta": [tcli.Size([1, 2]), tcli.float64, (1, 2.5, None, "s")]}, tmp_path / "m.pt")
    got = torch.load(tmp_path / "m.pt")  # weights_only=True: PyTorch 2.6+'s default
    for key, t in {**tensors, **views}.items():
        theirs = got[key]
        assert str(theirs.dtype) == str(t.dtype) and tuple(theirs.shape) == tuple(t.shape)
        assert theirs.stride() == t.stride() and theirs.storage_offset() == t.storage_offset()
        assert theirs.requires_grad == t.requires_grad
        np.testing.assert_array_equal(theirs.detach().numpy(), to_numpy(t))
    assert got["t"].untyped_storage().data_ptr() == got["base"].untyped_storage().data_ptr()
    assert got["meta"] == [torch.Size([1, 2]), torch.float64, (1, 2.5, None, "s")]


def test_tcli_loads_what_pytorch_saves(tmp_path):
    torch = pytest.importorskip("torch")
    linear = torch.nn.Linear(3, 2)
    base = torch.arange(12.0).reshape(3, 4)
    state = {name: torch.from_numpy(sample("real", dt, (4,), rng_for("from torch", name))) for name, dt in
             DTYPES.items()}
    state.update(base=base, t=base.t(), col=base[:, 1], linear=linear.state_dict(), param=torch.nn.Parameter(base))
    torch.save(state, tmp_path / "m.pt")
    got = load(tmp_path / "m.pt")
    for key in (*DTYPES, "base", "t", "col"):
        theirs = state[key]
        assert str(got[key].dtype) == str(theirs.dtype) and tuple(got[key].shape) == tuple(theirs.shape)
        assert got[key].stride() == theirs.stride() and got[key].storage_offset() == theirs.storage_offset()
        np.testing.assert_array_equal(to_numpy(got[key]), theirs.numpy())
    assert got["linear"]._metadata == linear.state_dict()._metadata
    np.testing.assert_array_equal(to_numpy(got["linear"]["weight"]), linear.weight.detach().numpy())
    assert got["param"].requires_grad and got["param"].tolist() == base.tolist()
    got["base"][0, 1] = 100.0
    assert got["t"][1, 0].item() == 100.0 and got["col"][0].item() == 100.0


def test_the_pickle_and_layout_are_pytorchs_byte_for_byte(tmp_path):
    torch = pytest.importorskip("torch")

    def state(m):
        base = m.arange(10.0)
        return OrderedDict(w=base, v=base[2:5], t=m.ones(2, 3).t(), b=m.tensor(3, dtype=m.int16),
                           r=m.ones(3, requires_grad=True), e=m.empty(0), s=m.Size([2, 3]), d=m.float16,
                           misc=[1, 2.5, None, "x", (True,)])

    save(state(tcli), tmp_path / "m.pt")
    torch.save(state(torch), tmp_path / "m.torch")
    with zipfile.ZipFile(tmp_path / "m.pt") as ours, zipfile.ZipFile(tmp_path / "m.torch") as theirs:
        assert ours.read("m/data.pkl") == theirs.read("m/data.pkl")
        assert ([(i.filename, i.header_offset, i.file_size, i.CRC) for i in ours.infolist()][:-1]
                == [(i.filename, i.header_offset, i.file_size, i.CRC) for i in theirs.infolist()][:-1])


def test_pytorch_mmap_finds_the_storages_where_its_own_layout_puts_them(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    config = pytest.importorskip("torch.utils.serialization").config
    monkeypatch.setenv("TORCH_SERIALIZATION_DEBUG", "1")  # asserts each computed offset against the zip's
    monkeypatch.setattr(config.load, "calculate_storage_offsets", True)
    tensors = [tcli.arange(n, dtype=tcli.float32) for n in (1, 0, 100, 3)]
    save(tensors, tmp_path / "m.pt")
    got = torch.load(tmp_path / "m.pt", mmap=True)
    assert [g.tolist() for g in got] == [t.tolist() for t in tensors]
