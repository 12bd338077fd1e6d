"""Saving and loading models: nothing lost on a failed save, hostile files refused on load.

Fault injection for :meth:`Sequential.save` (an exception or ``KeyboardInterrupt``
mid-write, a file-size limit in a subprocess) and a table of damaged, foreign
and hostile files for :meth:`Sequential.load`, each of which must give a
``ValueError`` naming the file and what is wrong, and leave the model unchanged.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from convlib import Sequential, build_lenet
from convlib.layers import Dense

ROOT = Path(__file__).resolve().parents[1]


def small(seed: int = 0, dtype=np.float64) -> Sequential:
    return Sequential([Dense(3, 2, rng=seed, dtype=dtype)])


def weights(model: Sequential) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in model.state().items()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# ---------------------------------------------------------------------------
# Saving: atomic
# ---------------------------------------------------------------------------


def test_save_returns_the_file_and_gets_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        written = small().save(tmp_path / "w")
    finally:
        os.umask(old)
    assert written == tmp_path / "w.npz"
    assert (written.stat().st_mode & 0o777) == 0o644
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_save_interrupted_mid_write_keeps_the_old_file(tmp_path, monkeypatch, exc):
    path = tmp_path / "m.npz"
    small(seed=0).save(path)
    good = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half of an archive")
        raise exc

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(type(exc)):
        small(seed=1).save(path)
    assert path.read_bytes() == good
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    small(seed=2).load(path)  # still a good model


def test_a_save_hitting_the_file_size_limit_keeps_the_old_file(tmp_path):
    pytest.importorskip("resource")
    path = tmp_path / "m.npz"
    build_lenet(seed=0).save(path)
    good = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from convlib import build_capstone
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        try:
            build_capstone(seed=1).save({str(path)!r})
        except OSError as exc:
            print("OSError", exc.errno)
            sys.exit(0)
        sys.exit("the save did not fail")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OSError")
    assert path.read_bytes() == good
    assert leftovers(tmp_path) == []


def test_save_into_a_missing_folder_is_an_oserror_and_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        small().save(tmp_path / "no" / "m.npz")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# Loading: names, damaged and foreign files
# ---------------------------------------------------------------------------


def test_load_accepts_the_name_given_to_save(tmp_path):
    small(seed=0).save(tmp_path / "w")
    model = small(seed=1).load(tmp_path / "w")
    np.testing.assert_array_equal(model.state()["0.w"], small(seed=0).state()["0.w"])
    with pytest.raises(FileNotFoundError, match=r"'.*nothere' or '.*nothere\.npz'"):
        small().load(tmp_path / "nothere")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _npy(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _damaged(kind: str, good: Path, tmp_path: Path) -> tuple[Path, str]:
    """A damaged or foreign file and a pattern its error message must match."""
    out = tmp_path / f"{kind}.npz"
    data = good.read_bytes()
    members = _members(good)
    if kind == "empty":
        out.write_bytes(b"")
        return out, "is empty"
    if kind == "text":
        out.write_text("w = [1, 2, 3]\n")
        return out, r"not a \.npz archive"
    if kind == "truncated":
        out.write_bytes(data[: len(data) // 2])
        return out, "truncated or damaged"
    if kind == "truncated-tail":
        out.write_bytes(data[:-10])
        return out, "truncated or damaged"
    if kind == "npy":
        out.write_bytes(_npy(np.zeros(3)))
        return out, r"single array \(\.npy\)"
    if kind == "pickle":
        import pickle

        out.write_bytes(pickle.dumps({"0.w": np.zeros((3, 2))}))
        return out, r"not a \.npz archive"
    if kind == "flipped":  # one byte of the weights changed: the CRC catches it
        raw = bytearray(data)
        at = data.index(members["0.w.npy"][-8:])
        raw[at] ^= 0xFF
        out.write_bytes(bytes(raw))
        return out, "damaged"
    if kind == "missing":
        del members["0.b.npy"]
        return _zip(out, members), r"missing from the file: \['0.b'\]"
    if kind == "extra":
        members["9.w.npy"] = _npy(np.zeros(2))
        return _zip(out, members), r"not in this model: \['9.w'\]"
    if kind == "not-npy":
        members["notes.txt"] = b"hello"
        return _zip(out, members), "'notes.txt' is not a .npy array"
    if kind == "short-data":  # the header says (3, 2) float64, 40 data bytes follow
        members["0.w.npy"] = members["0.w.npy"][:-8]
        return _zip(out, members), r"'0.w'.*truncated or damaged"
    if kind == "bad-header":
        members["0.w.npy"] = b"\x93NUMPY\x01\x00\x10\x00{'descr': <junk>}\n" + bytes(48)
        return _zip(out, members), r"'0.w': not a valid \.npy header"
    if kind == "wrong-dtype":
        members["0.w.npy"] = _npy(np.array([["a", "b"]] * 3))
        return _zip(out, members), r"0.w: the file holds non-numeric dtype <U1"
    if kind == "no-format":
        del members["__format__.npy"]
        return _zip(out, members), "not written by Sequential.save"
    if kind == "huge-layers":
        members["__layers__.npy"] = _npy(np.array(["Dense"] * 1000))
        return _zip(out, members), r"'__layers__'.*expected at most 2 entries"
    raise AssertionError(kind)


DAMAGE = [
    "empty", "text", "truncated", "truncated-tail", "npy", "pickle", "flipped", "missing", "extra",
    "not-npy", "short-data", "bad-header", "wrong-dtype", "no-format", "huge-layers",
]  # fmt: skip


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_or_foreign_files_are_a_value_error_naming_the_file(tmp_path, kind):
    good = tmp_path / "good.npz"
    small(seed=0).save(good)
    bad, pattern = _damaged(kind, good, tmp_path)
    model = small(seed=1)
    before = weights(model)
    with pytest.raises(ValueError, match=pattern) as info:
        model.load(bad)
    assert str(bad) in str(info.value)
    for name, value in model.state().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_folder_is_not_a_saved_model(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ValueError, match="is not a file"):
        small().load(tmp_path / "dir.npz")


# ---------------------------------------------------------------------------
# Loading: values that do not fit
# ---------------------------------------------------------------------------


def _with_weight(tmp_path: Path, value: np.ndarray) -> Path:
    path = tmp_path / "m.npz"
    small(seed=0).save(path)
    members = _members(path)
    members["0.w.npy"] = _npy(value)
    return _zip(tmp_path / "edited.npz", members)


@pytest.mark.parametrize(
    "value, pattern",
    [
        (np.full((3, 2), 1e300), r"0.w: value 1e\+300 does not fit the model's dtype float32"),
        (np.array([[0.0, 1.0], [np.nan, 0.0], [0.0, 0.0]]), r"0.w: holds 1 non-finite value"),
        (
            np.array([[0.0, 1.0], [np.inf, 0.0], [0.0, -np.inf]], np.float32),
            r"0.w: holds 2 non-finite",
        ),
    ],
)
def test_values_that_do_not_fit_are_refused_naming_the_parameter(tmp_path, value, pattern):
    model = small(seed=1, dtype=np.float32)
    before = weights(model)
    with pytest.raises(ValueError, match=pattern):
        model.load(_with_weight(tmp_path, value))
    np.testing.assert_array_equal(model.state()["0.w"], before["0.w"])


def test_float64_weights_that_fit_load_into_float32(tmp_path):
    value = np.arange(6, dtype=np.float64).reshape(3, 2) / 7
    model = small(dtype=np.float32).load(_with_weight(tmp_path, value))
    np.testing.assert_array_equal(model.state()["0.w"], value.astype(np.float32))


# ---------------------------------------------------------------------------
# Loading: hostile sizes (headers checked before any data is read)
# ---------------------------------------------------------------------------


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def _zeros_deflated(head: bytes, n_chunks: int, chunk: int = 1 << 24) -> tuple[bytes, int, int]:
    """Raw deflate of ``head`` + ``n_chunks * chunk`` zero bytes, built without compressing them all.

    After a full flush the compressor starts afresh, so every zero chunk
    compresses to the same bytes. Returns (deflate data, crc32, size).
    """
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(chunk)
    block = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    assert co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH) == block
    tail = co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(n_chunks):
        crc = zlib.crc32(zeros, crc)
    return first + block * n_chunks + tail, crc, len(head) + n_chunks * chunk


def _write_zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip archive by hand: entries of (name, stored bytes, method, crc32, uncompressed size)."""
    local, central = b"", b""
    for name, stored, method, crc, size in entries:
        raw = name.encode()
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(stored), size,
            len(raw), 0, 0, 0, 0, 0, len(local),
        ) + raw  # fmt: skip
        local += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(stored), size, len(raw), 0
        ) + raw + stored  # fmt: skip
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0
    )
    path.write_bytes(local + central + end)
    return path


def _stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, data, 0, zlib.crc32(data), len(data)


def _hostile(tmp_path: Path, bomb_entry: tuple[str, bytes, int, int, int]) -> Path:
    small(seed=0).save(tmp_path / "good.npz")
    good = _members(tmp_path / "good.npz")
    entries = [_stored(n, d) for n, d in good.items() if n != "0.w.npy"]
    return _write_zip(tmp_path / "hostile.npz", [*entries, bomb_entry])


def test_a_compressed_2_gib_array_is_refused_fast_without_reading_it(tmp_path):
    head = _npy_header((1 << 28,))  # 2 GiB of float64 zeros, deflated to about 2 MB
    data, crc, size = _zeros_deflated(head, 128)
    path = _hostile(tmp_path, ("0.w.npy", data, 8, crc, size))
    assert path.stat().st_size < 3 << 20
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(
            ValueError, match=r"0.w: the file has shape \(268435456,\), the model expects \(3, 2\)"
        ):
            small().load(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 0.5
    assert peak < 16 << 20


def test_a_header_declaring_a_74_gib_array_is_refused_without_allocating(tmp_path):
    head = _npy_header((100_000, 100_000))
    path = _hostile(tmp_path, _stored("0.w.npy", head + bytes(64)))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"0.w: the file has shape \(100000, 100000\)"):
            small().load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_a_right_shaped_header_over_too_little_data_is_refused_before_reading_it(tmp_path):
    # The header matches the model but the entry is far too small for it: caught from the sizes.
    head = _npy_header((3, 2))
    path = _hostile(tmp_path, _stored("0.w.npy", head + bytes(8)))
    with pytest.raises(ValueError, match=r"'0.w'.*declares shape \(3, 2\).*holds 136 bytes"):
        small().load(path)
