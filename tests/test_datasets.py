"""Tests for convlib.datasets: IDX parsing, search order, verification, downloads.

Nothing here touches the network or the real home folder: every test runs
with ``HOME``, ``XDG_CACHE_HOME`` and ``LOCALAPPDATA`` inside ``tmp_path``,
``CONVLIB_DATA`` unset, and the default mirror lists pointing at a closed
port on 127.0.0.1. Downloads are exercised against a small HTTP server on
127.0.0.1 (ephemeral port) that serves synthetic IDX files made here, good,
corrupted, truncated mid-transfer, missing or slow depending on the URL.

The last test loads the real MNIST from ``$CONVLIB_DATA/mnist`` when that
folder holds the files (it does in CI) and is skipped otherwise.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import convlib.datasets as ds
import convlib.datasets.checksums as checksums
from convlib.datasets import (
    FILE_NAMES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    DatasetNotFoundError,
    DatasetWarning,
    IDXFormatError,
    candidate_dirs,
    fetch_files,
    load_fashion_mnist,
    load_mnist,
    read_idx,
    user_cache_dir,
)

# Captured before the autouse fixture below removes it from the environment.
_REAL_DATA = os.environ.get("CONVLIB_DATA", "")

_CLOSED_PORT_MIRROR = ("http://127.0.0.1:1/no-network-in-tests/",)


# ---------------------------------------------------------------------------
# Synthetic IDX files
# ---------------------------------------------------------------------------


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    """Serialize ``arr`` as an IDX file (big-endian header, data as given)."""
    arr = np.asarray(arr)
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f8"): 0x0E}
    if magic is None:
        magic = (codes[arr.dtype] << 8) | arr.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Synthetic:
    """A tiny stand-in for MNIST: 6 training and 4 test images of 28x28."""

    arrays: dict[str, np.ndarray]  # base name -> array
    raw: dict[str, bytes]  # base name -> uncompressed IDX bytes
    gz: dict[str, bytes]  # base name + ".gz" -> gzip bytes

    @property
    def checksums(self) -> dict[str, dict[str, str]]:
        table = {name: {"sha256": sha256(data)} for name, data in self.gz.items()}
        table.update({name: {"sha256": sha256(data)} for name, data in self.raw.items()})
        return table

    def write(self, folder: Path, compressed: bool = True, names=FILE_NAMES) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for base in names:
            if compressed:
                (folder / (base + ".gz")).write_bytes(self.gz[base + ".gz"])
            else:
                (folder / base).write_bytes(self.raw[base])
        return folder


def make_synthetic(seed: int = 0, n_train: int = 6, n_test: int = 4) -> Synthetic:
    rng = np.random.default_rng(seed)
    arrays = {
        TRAIN_IMAGES: rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        TRAIN_LABELS: rng.integers(0, 10, size=n_train, dtype=np.uint8),
        TEST_IMAGES: rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        TEST_LABELS: rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    raw = {name: idx_bytes(arr) for name, arr in arrays.items()}
    gz = {name + ".gz": gzip.compress(data, mtime=0) for name, data in raw.items()}
    return Synthetic(arrays, raw, gz)


def flip_byte(data: bytes, where: int | None = None) -> bytes:
    """Same length, one byte changed."""
    i = len(data) // 2 if where is None else where
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]


def assert_same_as(synthetic: Synthetic, result) -> None:
    (x_train, y_train), (x_test, y_test) = result
    got = {TRAIN_IMAGES: x_train, TRAIN_LABELS: y_train, TEST_IMAGES: x_test, TEST_LABELS: y_test}
    for name, arr in got.items():
        assert arr.dtype == np.uint8
        np.testing.assert_array_equal(arr, synthetic.arrays[name])


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Everything under ``folder``: relative path -> (mode, size, mtime_ns)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.stat()
            out[str(p.relative_to(folder))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def part_files(folder: Path) -> list[Path]:
    return list(folder.rglob("*.part")) if folder.exists() else []


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real home, cache, data folder, proxy or network; no back-off sleeps."""
    monkeypatch.delenv("CONVLIB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "localappdata"))
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    monkeypatch.setattr(ds, "MNIST_MIRRORS", _CLOSED_PORT_MIRROR)
    monkeypatch.setattr(ds, "FASHION_MNIST_MIRRORS", _CLOSED_PORT_MIRROR)
    monkeypatch.setattr(ds, "RETRY_BACKOFF", 0.0)
    monkeypatch.setattr(ds, "DOWNLOAD_TIMEOUT", 5.0)
    checksums._VERIFIED.clear()
    yield
    checksums._VERIFIED.clear()


@pytest.fixture
def syn() -> Synthetic:
    return make_synthetic()


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return tmp_path / "xdg-cache" / "convlib"


@pytest.fixture
def read_only():
    """Call with a folder to remove every write bit below it (restored after)."""
    folders: list[Path] = []

    def make(folder: Path) -> Path:
        for dirpath, _, filenames in os.walk(folder, topdown=False):
            for name in filenames:
                os.chmod(Path(dirpath) / name, 0o444)
            os.chmod(dirpath, 0o555)
        folders.append(folder)
        return folder

    yield make
    for folder in folders:
        for dirpath, _, filenames in os.walk(folder):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(Path(dirpath) / name, 0o644)


class _MirrorServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _MirrorHandler)
        self.files = files
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{mode}/"

    def count(self, mode: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.startswith(f"/{mode}/"))

    def handle_error(self, request, client_address) -> None:  # clients that hang up on purpose
        pass


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    """``/<mode>/<file name>``; mode says how to misbehave."""

    server: _MirrorServer

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append(self.path)
            seen = self.server.requests.count(self.path)
        mode, _, name = self.path.lstrip("/").partition("/")
        data = self.server.files.get(name)
        if data is None or mode == "missing":
            self.send_error(404)
            return
        if mode == "unavailable":
            self.send_error(503)
            return
        if mode == "flaky":  # drops the first request for each file
            mode = "drop" if seen == 1 else "good"
        if mode == "corrupt":
            data = flip_byte(data)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode != "drop-nolength":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode in ("drop", "drop-nolength"):  # hang up half-way
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "slow":  # stall longer than the client's timeout
            self.wfile.write(data[:10])
            self.wfile.flush()
            time.sleep(0.6)
            data = data[10:]
        with contextlib.suppress(OSError):
            self.wfile.write(data)


@pytest.fixture
def mirror(syn):
    server = _MirrorServer(dict(syn.gz))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------------------
# IDX parsing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [True, False])
def test_read_idx_reads_gz_and_uncompressed(tmp_path, syn, compressed):
    folder = syn.write(tmp_path, compressed=compressed)
    for base in FILE_NAMES:
        path = folder / (base + ".gz" if compressed else base)
        magic = ds.IMAGES_MAGIC if "images" in base else ds.LABELS_MAGIC
        got = read_idx(path, magic=magic)
        assert got.dtype == np.uint8
        assert got.flags.writeable
        np.testing.assert_array_equal(got, syn.arrays[base])


@pytest.mark.parametrize("dtype", [">i4", ">f8"])
def test_read_idx_other_types_come_back_in_native_byte_order(tmp_path, dtype):
    arr = np.random.default_rng(1).normal(size=(3, 2)).astype(dtype) * 1000
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(arr.astype(dtype)))
    got = read_idx(path)
    assert got.dtype.isnative and got.shape == (3, 2)
    np.testing.assert_array_equal(got, arr.astype(dtype))


def test_read_idx_multi_member_gzip(tmp_path, syn):
    data = syn.raw[TRAIN_LABELS]
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(data[:5], mtime=0) + gzip.compress(data[5:], mtime=0))
    np.testing.assert_array_equal(read_idx(path, magic=2049), syn.arrays[TRAIN_LABELS])


def test_read_idx_bad_magic_names_the_file(tmp_path, syn):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(syn.raw[TRAIN_LABELS])
    with pytest.raises(
        IDXFormatError, match=r"train-labels-idx1-ubyte.*magic number 2049.*expected 2051"
    ):
        read_idx(path, magic=2051)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00", "too short"),
        (b"PK\x03\x04" + bytes(100), "not an IDX header"),
        ((2051).to_bytes(4, "big") + bytes(6), "truncated header"),
    ],
)
def test_read_idx_rejects_non_idx_content(tmp_path, content, message):
    path = tmp_path / "weird.bin"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("compressed", [True, False])
def test_read_idx_truncated_file(tmp_path, syn, compressed):
    data = syn.raw[TRAIN_IMAGES][:-100]
    path = tmp_path / ("images.gz" if compressed else "images")
    path.write_bytes(gzip.compress(data, mtime=0) if compressed else data)
    with pytest.raises(IDXFormatError, match=r"truncated.*dimensions \(6, 28, 28\)") as info:
        read_idx(path, magic=2051)
    assert str(path) in str(info.value)


def test_read_idx_trailing_bytes(tmp_path, syn):
    path = tmp_path / "images"
    path.write_bytes(syn.raw[TRAIN_IMAGES] + b"\x00")
    with pytest.raises(IDXFormatError, match="trailing bytes"):
        read_idx(path, magic=2051)


@pytest.mark.parametrize("cut", ["end", "crc"])
def test_read_idx_damaged_gzip_stream(tmp_path, syn, cut):
    gz = syn.gz[TRAIN_IMAGES + ".gz"]
    damaged = gz[:-20] if cut == "end" else flip_byte(gz, len(gz) - 6)  # the CRC/size trailer
    path = tmp_path / "images.gz"
    path.write_bytes(damaged)
    with pytest.raises(IDXFormatError, match="not a valid gzip file") as info:
        read_idx(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------------
# The loader's own structural checks (files that pass their checksums)
# ---------------------------------------------------------------------------


def _load_from(folder: Path, files: dict[str, bytes]):
    """Write ``files`` (gz names -> bytes) and load them with matching checksums."""
    (folder / "mnist").mkdir(parents=True)
    for name, data in files.items():
        (folder / "mnist" / name).write_bytes(data)
    checksums = {name: sha256(data) for name, data in files.items()}
    return load_mnist(folder, checksums=checksums, download=False)


def test_loader_rejects_swapped_files(tmp_path, syn):
    files = dict(syn.gz)
    images, labels = TEST_IMAGES + ".gz", TEST_LABELS + ".gz"
    files[images], files[labels] = files[labels], files[images]
    with pytest.raises(IDXFormatError, match=r"t10k-images-idx3-ubyte\.gz: magic number 2049"):
        _load_from(tmp_path, files)


def test_loader_rejects_count_mismatch(tmp_path, syn):
    files = dict(syn.gz)
    files[TEST_LABELS + ".gz"] = gzip.compress(idx_bytes(syn.arrays[TEST_LABELS][:3]), mtime=0)
    with pytest.raises(
        IDXFormatError, match=r"4 images but .*t10k-labels-idx1-ubyte\.gz holds 3 labels"
    ):
        _load_from(tmp_path, files)


def test_loader_rejects_labels_out_of_range(tmp_path, syn):
    labels = syn.arrays[TRAIN_LABELS].copy()
    labels[2] = 10
    files = dict(syn.gz)
    files[TRAIN_LABELS + ".gz"] = gzip.compress(idx_bytes(labels), mtime=0)
    with pytest.raises(
        IDXFormatError, match=r"train-labels-idx1-ubyte\.gz: label 10 is out of range"
    ):
        _load_from(tmp_path, files)


def test_loader_rejects_wrong_image_size(tmp_path, syn):
    files = dict(syn.gz)
    files[TRAIN_IMAGES + ".gz"] = gzip.compress(
        idx_bytes(syn.arrays[TRAIN_IMAGES][:, :27, :]), mtime=0
    )
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte\.gz: images are 27x28"):
        _load_from(tmp_path, files)


# ---------------------------------------------------------------------------
# Where the files are looked for
# ---------------------------------------------------------------------------


def test_search_order_root_alone_else_env_then_cache(tmp_path, monkeypatch, syn, cache_dir):
    root, env = tmp_path / "root", tmp_path / "env"
    for base in (root, env, cache_dir.parent / "convlib"):
        syn.write(base / "mnist")
    kwargs = dict(checksums=syn.checksums, download=False)
    monkeypatch.setenv("CONVLIB_DATA", str(env))

    assert candidate_dirs("mnist", root) == [root / "mnist"]
    assert candidate_dirs("mnist") == [env / "mnist", cache_dir / "mnist"]
    assert {p.parent for p in fetch_files("mnist", root, **kwargs).values()} == {root / "mnist"}
    assert {p.parent for p in fetch_files("mnist", **kwargs).values()} == {env / "mnist"}
    monkeypatch.delenv("CONVLIB_DATA")
    assert {p.parent for p in fetch_files("mnist", **kwargs).values()} == {cache_dir / "mnist"}
    assert_same_as(syn, load_mnist(**kwargs))


def test_each_file_falls_through_from_env_to_the_cache(monkeypatch, tmp_path, syn, cache_dir):
    env = tmp_path / "env"
    syn.write(env / "mnist", names=(TRAIN_IMAGES, TRAIN_LABELS))
    syn.write(cache_dir / "mnist")
    monkeypatch.setenv("CONVLIB_DATA", str(env))
    paths = fetch_files("mnist", checksums=syn.checksums, download=False)
    assert paths[TRAIN_IMAGES] == env / "mnist" / (TRAIN_IMAGES + ".gz")
    assert paths[TEST_IMAGES] == cache_dir / "mnist" / (TEST_IMAGES + ".gz")


def test_an_explicit_root_is_searched_alone(tmp_path, monkeypatch, syn, cache_dir):
    # Half the files in root, all of them in $CONVLIB_DATA and the cache: root is what was asked for.
    root, env = tmp_path / "root", tmp_path / "env"
    syn.write(root / "mnist", names=(TRAIN_IMAGES, TRAIN_LABELS))
    syn.write(env / "mnist")
    syn.write(cache_dir / "mnist")
    monkeypatch.setenv("CONVLIB_DATA", str(env))
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_files("mnist", root, checksums=syn.checksums, download=False)
    message = str(info.value)
    assert f"1. {root / 'mnist'}  (root= argument, searched alone): not there" in message
    assert str(env) not in message and str(cache_dir) not in message
    assert "2. " not in message


def test_an_explicit_root_gets_the_download_even_when_env_has_the_files(
    tmp_path, monkeypatch, syn, mirror, cache_dir
):
    root, env = tmp_path / "root", tmp_path / "env"
    syn.write(env / "mnist")
    monkeypatch.setenv("CONVLIB_DATA", str(env))
    paths = fetch_files(
        "mnist", root, mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True
    )
    assert {p.parent for p in paths.values()} == {root / "mnist"}
    assert mirror.count("good") == 4
    assert not cache_dir.exists()


@pytest.mark.parametrize("via", ["env", "root"])
def test_a_file_where_a_data_folder_is_expected_is_a_clear_error(tmp_path, monkeypatch, via):
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("not a folder")
    root = None
    if via == "env":
        monkeypatch.setenv("CONVLIB_DATA", str(not_a_folder))
        pattern = r"environment variable CONVLIB_DATA='.*data\.txt' names a file, not a folder"
    else:
        root = not_a_folder
        pattern = r"root='.*data\.txt' is a file, not a folder"
    with pytest.raises(ValueError, match=pattern):
        load_mnist(root, download=False)


def test_user_cache_dir_is_pooch_os_cache(tmp_path):
    pooch = pytest.importorskip("pooch")
    assert user_cache_dir() == Path(pooch.os_cache("convlib"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
def test_user_cache_dir_follows_xdg_then_home(tmp_path, monkeypatch):
    assert user_cache_dir() == tmp_path / "xdg-cache" / "convlib"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG spec says
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "convlib"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "convlib"


def test_fashion_mnist_uses_its_own_subfolder(tmp_path, monkeypatch, syn):
    syn.write(tmp_path / "data" / "mnist")  # must not be picked up
    monkeypatch.setenv("CONVLIB_DATA", str(tmp_path / "data"))
    assert candidate_dirs("fashion_mnist")[0] == tmp_path / "data" / "fashion-mnist"
    with pytest.raises(DatasetNotFoundError, match="fashion-mnist"):
        load_fashion_mnist(checksums=syn.checksums, download=False)
    syn.write(tmp_path / "data" / "fashion-mnist")
    assert_same_as(syn, load_fashion_mnist(checksums=syn.checksums, download=False))


def test_uncompressed_files_are_accepted(tmp_path, syn):
    syn.write(tmp_path / "mnist", compressed=False)
    paths = fetch_files("mnist", tmp_path, checksums=syn.checksums, download=False)
    assert paths[TRAIN_IMAGES] == tmp_path / "mnist" / TRAIN_IMAGES
    assert_same_as(syn, load_mnist(tmp_path, checksums=syn.checksums, download=False))


def test_gz_is_preferred_over_uncompressed_in_the_same_folder(tmp_path, syn):
    syn.write(tmp_path / "mnist", compressed=False)
    syn.write(tmp_path / "mnist", compressed=True)
    paths = fetch_files("mnist", tmp_path, checksums=syn.checksums, download=False)
    assert all(p.name.endswith(".gz") for p in paths.values())


def test_uncompressed_file_without_checksum_gets_structural_checks(tmp_path, syn):
    gz_only = {name: d for name, d in syn.checksums.items() if name.endswith(".gz")}
    folder = syn.write(tmp_path / "mnist", compressed=False)
    assert_same_as(syn, load_mnist(tmp_path, checksums=gz_only, download=False))
    (folder / TRAIN_IMAGES).write_bytes(syn.raw[TRAIN_IMAGES][:-1])
    with (
        pytest.warns(DatasetWarning, match="size"),
        pytest.raises(DatasetNotFoundError, match="the header implies"),
    ):
        load_mnist(tmp_path, checksums=gz_only, download=False)


@pytest.mark.parametrize("via", ["root", "env"])
def test_read_only_folder_with_valid_files_is_used_without_writing(
    tmp_path, monkeypatch, syn, read_only, cache_dir, via
):
    shared = tmp_path / "shared"
    syn.write(shared / "mnist")
    read_only(shared)
    before = snapshot(shared)
    if via == "env":
        monkeypatch.setenv("CONVLIB_DATA", str(shared))
    root = shared if via == "root" else None
    assert_same_as(syn, load_mnist(root, checksums=syn.checksums, quiet=True))
    assert snapshot(shared) == before
    assert not cache_dir.exists()


def test_valid_read_only_copy_wins_over_an_empty_writable_cache(
    tmp_path, monkeypatch, syn, read_only, mirror, cache_dir
):
    shared = tmp_path / "shared"
    syn.write(shared / "mnist")
    read_only(shared)
    monkeypatch.setenv("CONVLIB_DATA", str(shared))
    assert_same_as(
        syn, load_mnist(mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    )
    assert mirror.requests == []
    assert not cache_dir.exists()


# ---------------------------------------------------------------------------
# Verification of files already on disk
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_corrupt_file_in_writable_folder_is_replaced(tmp_path, syn, mirror, damage):
    folder = syn.write(tmp_path / "mnist")
    bad = folder / (TRAIN_IMAGES + ".gz")
    good = syn.gz[bad.name]
    bad.write_bytes(good[:-30] if damage == "truncated" else flip_byte(good))
    with pytest.warns(DatasetWarning, match=r"train-images-idx3-ubyte\.gz.*checksum mismatch"):
        result = load_mnist(
            tmp_path, mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True
        )
    assert_same_as(syn, result)
    assert bad.read_bytes() == good
    assert mirror.requests == [f"/good/{bad.name}"]
    assert part_files(tmp_path) == []


def test_corrupt_file_in_read_only_folder_is_never_used(tmp_path, syn, read_only):
    folder = syn.write(tmp_path / "shared" / "mnist")
    (folder / (TEST_LABELS + ".gz")).write_bytes(flip_byte(syn.gz[TEST_LABELS + ".gz"]))
    read_only(tmp_path / "shared")
    with pytest.warns(DatasetWarning), pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path / "shared", checksums=syn.checksums, download=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz is not usable: checksum mismatch" in message
    assert str(folder) in message and "download=False" in message


def test_corrupt_read_only_copy_is_replaced_by_a_download_into_the_cache(
    tmp_path, monkeypatch, syn, read_only, mirror, cache_dir
):
    shared = tmp_path / "shared"
    folder = syn.write(shared / "mnist")
    (folder / (TEST_IMAGES + ".gz")).write_bytes(syn.gz[TEST_IMAGES + ".gz"][:100])
    read_only(shared)
    before = snapshot(shared)
    monkeypatch.setenv("CONVLIB_DATA", str(shared))
    with pytest.warns(DatasetWarning):
        assert_same_as(
            syn, load_mnist(mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
        )
    assert snapshot(shared) == before
    assert sorted(p.name for p in (cache_dir / "mnist").iterdir()) == [TEST_IMAGES + ".gz"]


def test_checksum_of_an_unchanged_file_is_computed_once(tmp_path, monkeypatch, syn):
    hashed: list[str] = []
    real = checksums._file_digests

    def counting(path, algorithms):
        hashed.append(Path(path).name)
        return real(path, algorithms)

    monkeypatch.setattr(checksums, "_file_digests", counting)
    folder = syn.write(tmp_path / "mnist")
    for _ in range(3):
        assert_same_as(syn, load_mnist(tmp_path, checksums=syn.checksums, download=False))
    assert sorted(hashed) == sorted(n + ".gz" for n in FILE_NAMES)
    # A changed file (new mtime) is checked again; so is a different checksum table.
    target = folder / (TRAIN_LABELS + ".gz")
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    load_mnist(tmp_path, checksums=syn.checksums, download=False)
    assert hashed.count(TRAIN_LABELS + ".gz") == 2 and len(hashed) == 5


# ---------------------------------------------------------------------------
# Re-compressed copies, verified by the digest of their content
# ---------------------------------------------------------------------------


def recompress(data: bytes) -> bytes:
    """The same content gzipped differently (another level and header time)."""
    return gzip.compress(data, compresslevel=1, mtime=12345)


def write_recompressed(syn: Synthetic, folder: Path, raw: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for base in FILE_NAMES:
        data = recompress((raw or {}).get(base, syn.raw[base]))
        assert data != syn.gz[base + ".gz"]  # the .gz digests differ for real
        (folder / (base + ".gz")).write_bytes(data)
    return folder


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_a_recompressed_copy_is_accepted_by_its_content_digest(tmp_path, syn, dataset, recwarn):
    folder = write_recompressed(syn, tmp_path / dataset)
    paths = fetch_files(dataset, tmp_path, checksums=syn.checksums, download=False)
    assert paths == {base: folder / (base + ".gz") for base in FILE_NAMES}
    load = load_mnist if dataset == "mnist" else load_fashion_mnist
    assert_same_as(syn, load(tmp_path, checksums=syn.checksums, download=False))
    assert not [w for w in recwarn if issubclass(w.category, DatasetWarning)]


def test_a_recompressed_copy_needs_a_content_digest(tmp_path, syn):
    write_recompressed(syn, tmp_path / "fashion-mnist")
    gz_only = {name: d for name, d in syn.checksums.items() if name.endswith(".gz")}
    with (
        pytest.warns(DatasetWarning, match="checksum mismatch"),
        pytest.raises(DatasetNotFoundError),
    ):
        load_fashion_mnist(tmp_path, checksums=gz_only, download=False)


def test_recompressed_content_differing_by_one_byte_is_refused(tmp_path, syn):
    raw = {TRAIN_LABELS: flip_byte(syn.raw[TRAIN_LABELS], where=len(syn.raw[TRAIN_LABELS]) - 1)}
    folder = write_recompressed(syn, tmp_path / "fashion-mnist", raw)
    name = TRAIN_LABELS + ".gz"
    with (
        pytest.warns(DatasetWarning, match="decompressed content") as caught,
        pytest.raises(DatasetNotFoundError) as info,
    ):
        load_fashion_mnist(tmp_path, checksums=syn.checksums, download=False)
    message = str(info.value)
    assert (
        f"{name} is not usable: checksum mismatch: sha256 is {sha256((folder / name).read_bytes())}"
        in message
    )
    assert f"expected {syn.checksums[name]['sha256']}" in message
    assert (
        f"its decompressed content ({len(syn.raw[TRAIN_LABELS])} bytes) does not match either: "
        f"sha256 is {sha256(raw[TRAIN_LABELS])}, expected {syn.checksums[TRAIN_LABELS]['sha256']}"
    ) in message
    assert str(folder / name) in str(caught[0].message)


def test_content_check_decompresses_no_more_than_the_header_declares(tmp_path, syn):
    # Valid content followed by a megabyte of zeros: refused by the bounded reader.
    raw = {TEST_IMAGES: syn.raw[TEST_IMAGES] + bytes(1 << 20)}
    write_recompressed(syn, tmp_path / "mnist", raw)
    with (
        pytest.warns(
            DatasetWarning, match="its content cannot be checked: .*decompresses to more than"
        ),
        pytest.raises(DatasetNotFoundError),
    ):
        load_mnist(tmp_path, checksums=syn.checksums, download=False)


def test_content_digest_of_an_unchanged_file_is_computed_once(tmp_path, monkeypatch, syn):
    hashed: list[str] = []
    real = checksums._content_digests

    def counting(path, algorithms):
        hashed.append(Path(path).name)
        return real(path, algorithms)

    monkeypatch.setattr(checksums, "_content_digests", counting)
    write_recompressed(syn, tmp_path / "fashion-mnist")
    for _ in range(3):
        assert_same_as(syn, load_fashion_mnist(tmp_path, checksums=syn.checksums, download=False))
    assert sorted(hashed) == sorted(n + ".gz" for n in FILE_NAMES)


def test_a_download_is_still_verified_by_the_gz_digest(tmp_path, syn, mirror):
    # A mirror serving re-compressed archives is refused, even though their content is right.
    mirror.files.update({name + ".gz": recompress(syn.raw[name]) for name in FILE_NAMES})
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        load_fashion_mnist(
            tmp_path, mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True
        )
    assert list((tmp_path / "fashion-mnist").iterdir()) == []


@pytest.mark.parametrize("table", ["MNIST_CHECKSUMS", "FASHION_MNIST_CHECKSUMS"])
def test_the_default_tables_give_a_content_digest_for_every_file(table):
    digests = getattr(ds, table)
    for base in FILE_NAMES:
        assert set(digests[base + ".gz"]) >= {"sha256", "md5"}
        assert (
            len(digests[base]["sha256"]) == 64
            and digests[base]["sha256"] != digests[base + ".gz"]["sha256"]
        )


# ---------------------------------------------------------------------------
# Downloads from the local mirror server
# ---------------------------------------------------------------------------


def test_download_into_root_then_reuse(tmp_path, syn, mirror):
    result = load_mnist(
        tmp_path / "root", mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True
    )
    assert_same_as(syn, result)
    folder = tmp_path / "root" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(n + ".gz" for n in FILE_NAMES)
    assert all((folder / name).read_bytes() == data for name, data in syn.gz.items())
    assert mirror.count("good") == 4
    assert_same_as(
        syn, load_mnist(tmp_path / "root", mirrors=[mirror.url("good")], checksums=syn.checksums)
    )
    assert mirror.count("good") == 4


def test_download_goes_to_the_first_writable_location(
    tmp_path, monkeypatch, syn, mirror, read_only, cache_dir
):
    env = tmp_path / "env"
    (env / "mnist").mkdir(parents=True)
    read_only(env)
    monkeypatch.setenv("CONVLIB_DATA", str(env))
    load_mnist(mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    assert len(list((cache_dir / "mnist").iterdir())) == 4
    assert list((env / "mnist").iterdir()) == []


def test_a_read_only_root_is_an_error_not_a_download_elsewhere(
    tmp_path, monkeypatch, syn, mirror, read_only, cache_dir
):
    root, env = tmp_path / "root", tmp_path / "env"
    (root / "mnist").mkdir(parents=True)
    read_only(root)
    monkeypatch.setenv("CONVLIB_DATA", str(env))
    with pytest.raises(DatasetNotFoundError, match=r"root= folder .*root is not writable"):
        load_mnist(root, mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    assert mirror.requests == []
    assert not env.exists() and not cache_dir.exists()


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_downloaded_files_get_the_mode_of_a_new_file(tmp_path, syn, mirror, umask):
    old = os.umask(umask)
    try:
        load_mnist(tmp_path, mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "mnist").iterdir()}
    assert modes == {n + ".gz": 0o666 & ~umask for n in FILE_NAMES}


def test_default_download_location_is_the_user_cache(syn, mirror, cache_dir):
    load_mnist(mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    assert len(list((cache_dir / "mnist").iterdir())) == 4


@pytest.mark.parametrize(
    "bad_mode, tries", [("missing", 1), ("corrupt", 1), ("drop", 2), ("drop-nolength", 1)]
)
def test_bad_mirror_is_skipped_for_the_next(tmp_path, syn, mirror, bad_mode, tries):
    # 404 and a wrong checksum are not retried; a dropped connection whose
    # Content-Length shows the truncation is retried (retries=1) first.
    mirrors = [mirror.url(bad_mode), mirror.url("good")]
    result = load_mnist(tmp_path, mirrors=mirrors, checksums=syn.checksums, retries=1, quiet=True)
    assert_same_as(syn, result)
    assert mirror.count(bad_mode) == 4 * tries
    assert mirror.count("good") == 4
    assert part_files(tmp_path) == []


def test_transient_failures_are_retried_on_the_same_mirror(tmp_path, syn, mirror):
    mirrors = [mirror.url("flaky")]
    result = load_mnist(tmp_path, mirrors=mirrors, checksums=syn.checksums, retries=1, quiet=True)
    assert_same_as(syn, result)
    assert mirror.count("flaky") == 8


def test_every_mirror_failing_gives_a_clear_error(tmp_path, syn, mirror):
    mirrors = [
        mirror.url("missing"),
        mirror.url("corrupt"),
        mirror.url("drop"),
        mirror.url("unavailable"),
    ]
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(
            tmp_path / "root", mirrors=mirrors, checksums=syn.checksums, retries=1, quiet=True
        )
    err = info.value
    message = str(err)
    assert err.file_name == TRAIN_IMAGES + ".gz"
    assert len(err.failures) == 1 + 1 + 2 + 2
    for expected in (
        f"{mirrors[0]}{TRAIN_IMAGES}.gz: HTTP 404",
        f"{mirrors[1]}{TRAIN_IMAGES}.gz: checksum mismatch",
        f"{mirrors[1]}{TRAIN_IMAGES}.gz: checksum mismatch: sha256 is ",
        f"expected {syn.checksums[TRAIN_IMAGES + '.gz']['sha256']}",
        f"{mirrors[2]}{TRAIN_IMAGES}.gz (attempt 2 of 2): connection closed before the end",
        f"{mirrors[3]}{TRAIN_IMAGES}.gz (attempt 1 of 2): HTTP 503",
        str(tmp_path / "root" / "mnist"),
        "CONVLIB_DATA=<dir>",
    ):
        assert expected in message
    # Nothing that looks like a data file is left behind.
    assert list((tmp_path / "root" / "mnist").iterdir()) == []


def test_a_stalled_mirror_times_out(tmp_path, syn, mirror):
    with pytest.raises(DatasetNotFoundError, match="timed out"):
        load_mnist(
            tmp_path,
            mirrors=[mirror.url("slow")],
            checksums=syn.checksums,
            timeout=0.2,
            retries=0,
            quiet=True,
        )
    assert part_files(tmp_path) == []


def test_fashion_mnist_downloads_from_its_own_mirrors(tmp_path, monkeypatch, syn, mirror):
    monkeypatch.setattr(ds, "FASHION_MNIST_MIRRORS", (mirror.url("good"),))
    assert_same_as(syn, load_fashion_mnist(tmp_path, checksums=syn.checksums, quiet=True))
    assert len(list((tmp_path / "fashion-mnist").iterdir())) == 4


def test_download_shows_progress_unless_quiet(tmp_path, syn, mirror, capsys):
    load_mnist(tmp_path / "a", mirrors=[mirror.url("good")], checksums=syn.checksums)
    err = capsys.readouterr().err
    assert f"Downloading MNIST into {tmp_path / 'a' / 'mnist'}" in err
    assert TRAIN_IMAGES + ".gz" in err
    load_mnist(tmp_path / "b", mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------
# Downloads go through pooch; what convlib adds to it
# ---------------------------------------------------------------------------


def test_every_download_is_one_pooch_retrieve_per_attempt(tmp_path, monkeypatch, syn, mirror):
    pooch = pytest.importorskip("pooch")
    calls: list[str] = []
    real = pooch.retrieve

    def counting(url, *args, **kwargs):
        calls.append(url)
        return real(url, *args, **kwargs)

    monkeypatch.setattr(pooch, "retrieve", counting)
    mirrors = [mirror.url("missing"), mirror.url("good")]
    assert_same_as(syn, load_mnist(tmp_path, mirrors=mirrors, checksums=syn.checksums, quiet=True))
    assert sorted(calls) == sorted(m + n + ".gz" for m in mirrors for n in FILE_NAMES)


def test_a_download_must_match_every_digest_not_only_the_one_pooch_checks(tmp_path, syn, mirror):
    # pooch checks the SHA-256; a wrong MD5 in the table still refuses the download.
    table = syn.checksums
    table[TRAIN_LABELS + ".gz"] = {**table[TRAIN_LABELS + ".gz"], "md5": "0" * 32}
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url("good")], checksums=table, quiet=True)
    assert f"{TRAIN_LABELS}.gz: checksum mismatch: md5 is " in str(info.value)
    assert not (tmp_path / "mnist" / (TRAIN_LABELS + ".gz")).exists()
    assert part_files(tmp_path) == [] and len(list((tmp_path / "mnist").iterdir())) == 1


def test_a_copy_pooch_would_keep_is_still_checked_against_every_digest(tmp_path, syn, mirror):
    # The file on disk has the right SHA-256 (so pooch keeps it without downloading)
    # but not the MD5 the table gives: it is refused, not taken as downloaded.
    syn.write(tmp_path / "mnist")
    table = {name: d for name, d in syn.checksums.items() if name.endswith(".gz")}  # no content
    table[TEST_LABELS + ".gz"] = {**table[TEST_LABELS + ".gz"], "md5": "0" * 32}
    with pytest.warns(DatasetWarning, match="md5 is"), pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path, mirrors=[mirror.url("good")], checksums=table, quiet=True)
    assert f"{TEST_LABELS}.gz: checksum mismatch: md5 is " in str(info.value)


def test_a_folder_on_disk_is_a_mirror_through_a_file_url(tmp_path, syn):
    source = syn.write(tmp_path / "source")
    result = load_mnist(
        tmp_path / "root", mirrors=[source.as_uri()], checksums=syn.checksums, quiet=True
    )
    assert_same_as(syn, result)
    assert sorted(p.name for p in (tmp_path / "root" / "mnist").iterdir()) == sorted(syn.gz)


def test_pooch_logs_nothing_of_its_own(tmp_path, syn, mirror):
    import logging

    pooch = pytest.importorskip("pooch")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = pooch.get_logger()  # a logger of its own, not under the root logger
    logger.addHandler(handler)
    level = logger.level
    try:
        load_mnist(tmp_path, mirrors=[mirror.url("good")], checksums=syn.checksums, quiet=True)
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == []
    assert logger.level == level  # and its level is restored


def test_local_loads_need_no_pooch_and_downloads_say_how_to_get_it(
    tmp_path, monkeypatch, syn, mirror
):
    monkeypatch.setitem(sys.modules, "pooch", None)  # `import pooch` raises ImportError
    syn.write(tmp_path / "env" / "mnist")
    monkeypatch.setenv("CONVLIB_DATA", str(tmp_path / "env"))
    assert_same_as(syn, load_mnist(checksums=syn.checksums, download=False))
    assert candidate_dirs("mnist") == [tmp_path / "env" / "mnist"]  # no cache without pooch
    assert_same_as(syn, load_mnist(tmp_path / "env", checksums=syn.checksums, download=False))
    with pytest.raises(ImportError, match=r"needs pooch.*pip install pooch"):
        load_mnist(tmp_path / "new", mirrors=[mirror.url("good")], checksums=syn.checksums)
    assert mirror.requests == []


def test_importing_convlib_datasets_does_not_import_pooch_or_requests():
    import subprocess

    code = (
        "import sys, convlib, convlib.datasets; "
        "print(sorted(m for m in ('pooch', 'requests') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_pooch_in_a_kernel_without_ipywidgets_warns_nothing():
    # pooch imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns
    # "IProgress not found": a stderr block on every book page that loaded MNIST.
    # A fake kernel (what tqdm.autonotebook looks at) in a fresh interpreter.
    import subprocess

    fake_kernel = (
        "import sys, types, warnings\n"
        "ipython = types.ModuleType('IPython')\n"
        "ipython.get_ipython = lambda: types.SimpleNamespace()\n"
        "sys.modules.update({'IPython': ipython, 'ipywidgets': None,\n"
        "                    'ipykernel.zmqshell': types.ModuleType('ipykernel.zmqshell')})\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    STATEMENT\n"
        "print([str(w.message)[:40] for w in caught])\n"
    )

    def warnings_of(statement):
        code = fake_kernel.replace("STATEMENT", statement)
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return run.stdout.strip()

    if "IProgress not found" not in warnings_of("import tqdm.auto"):
        pytest.skip("this tqdm does not warn in a kernel without ipywidgets")
    imported = "from convlib.datasets.download import _import_pooch; _import_pooch()"
    assert warnings_of(imported) == "[]"


# ---------------------------------------------------------------------------
# Nothing found, nothing downloadable
# ---------------------------------------------------------------------------


def test_not_found_error_lists_every_place_and_how_to_fix(tmp_path, monkeypatch, cache_dir):
    monkeypatch.setenv("CONVLIB_DATA", str(tmp_path / "env"))
    for root, places in [
        (
            tmp_path / "root",
            [f"1. {tmp_path / 'root' / 'mnist'}  (root= argument, searched alone): not there"],
        ),
        (
            None,
            [
                f"1. {tmp_path / 'env' / 'mnist'}  (environment variable CONVLIB_DATA): not there",
                f"2. {cache_dir / 'mnist'}  (per-user cache): not there",
            ],
        ),
    ]:
        with pytest.raises(DatasetNotFoundError) as info:
            load_mnist(root, download=False)
        assert isinstance(info.value, FileNotFoundError)
        message = str(info.value)
        for expected in (
            *places,
            "download=False",
            "CONVLIB_DATA=<dir>",
            "<dir>/mnist/",
            *(n + ".gz" for n in FILE_NAMES),
        ):
            assert expected in message
    assert not (tmp_path / "root").exists() and not cache_dir.exists()


def test_offline_download_error_names_the_mirrors(tmp_path):
    # The default mirrors point at a closed local port here, as if offline.
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path, retries=0, quiet=True)
    message = str(info.value)
    assert f"{_CLOSED_PORT_MIRROR[0]}{TRAIN_IMAGES}.gz (attempt 1 of 1): cannot connect" in message
    assert "failed on every mirror" in message


def test_no_writable_location_is_an_error(tmp_path, monkeypatch, read_only):
    (tmp_path / "env" / "mnist").mkdir(parents=True)
    (tmp_path / "ro-cache").mkdir()
    read_only(tmp_path / "env")
    read_only(tmp_path / "ro-cache")
    monkeypatch.setenv("CONVLIB_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ro-cache"))
    with pytest.raises(DatasetNotFoundError, match="None of these locations is writable"):
        load_mnist(quiet=True)


# ---------------------------------------------------------------------------
# Arguments and checksum tables
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(checksums={"train-images-idx3-ubyte.gz": "00"}), ValueError, "missing: train-labels"),
        (dict(checksums=["not", "a", "mapping"]), TypeError, "checksums must be a mapping"),
        (dict(mirrors=[1]), TypeError, "mirrors must be a sequence"),
        (dict(mirrors=[]), ValueError, "at least one"),
        (dict(timeout=0), ValueError, "timeout"),
        (dict(retries=-1), ValueError, "retries"),
        (dict(root=123), TypeError, "root must be a path"),
        (dict(root=b"bytes"), TypeError, "root must be a path"),
        # Flags are bools: "no" is not read by its truth value (which would download).
        (dict(download="no"), TypeError, "download must be a bool, got 'no'"),
        (dict(download=1), TypeError, "download must be a bool"),
        (dict(quiet="yes"), TypeError, "quiet must be a bool"),
        (dict(timeout="10"), TypeError, "timeout must be a real number"),
        (dict(timeout=float("inf")), ValueError, "timeout must be a finite number"),
        (dict(timeout=float("nan")), ValueError, "timeout"),
    ],
)
def test_invalid_arguments(kwargs, error, message):
    # Should a bad row reach the download code, the mirror refuses at once (the discard port).
    kwargs = {"download": False, "mirrors": ["http://127.0.0.1:9/"], "retries": 0, **kwargs}
    with pytest.raises(error, match=message):
        load_mnist(**kwargs)


def test_numpy_flags_and_numbers_are_accepted(tmp_path, syn):
    syn.write(tmp_path / "mnist")
    result = load_mnist(
        tmp_path,
        checksums=syn.checksums,
        download=np.bool_(False),
        quiet=np.bool_(True),
        timeout=np.float32(5),
        retries=np.int64(0),
    )
    assert_same_as(syn, result)


def test_candidate_dirs_checks_root():
    with pytest.raises(TypeError, match="root must be a path"):
        ds.candidate_dirs("mnist", root=3)


def test_unknown_hash_algorithm_and_dataset(syn):
    table = dict(syn.checksums)
    table[TRAIN_IMAGES + ".gz"] = {"sha999": "00"}
    with pytest.raises(ValueError, match="unknown hash algorithm 'sha999'"):
        load_mnist(checksums=table, download=False)
    with pytest.raises(ValueError, match="dataset must be one of"):
        fetch_files("cifar10")


@pytest.mark.parametrize("table", [ds.MNIST_CHECKSUMS, ds.FASHION_MNIST_CHECKSUMS])
def test_default_checksum_tables_are_complete(table):
    lengths = {"md5": 32, "sha256": 64}
    for base in FILE_NAMES:
        digests = table[base + ".gz"]
        assert set(digests) == {"md5", "sha256"}
        for algo, value in digests.items():
            assert len(value) == lengths[algo] and int(value, 16) >= 0


def test_md5_is_verified_too(tmp_path, syn):
    folder = syn.write(tmp_path / "mnist")
    table = {name: {"md5": hashlib.md5(data).hexdigest()} for name, data in syn.gz.items()}
    assert_same_as(syn, load_mnist(tmp_path, checksums=table, download=False))
    table[TEST_IMAGES + ".gz"] = {"md5": "0" * 32, "sha256": sha256(syn.gz[TEST_IMAGES + ".gz"])}
    with pytest.warns(DatasetWarning, match="md5 is"), pytest.raises(DatasetNotFoundError):
        load_mnist(tmp_path, checksums=table, download=False)
    assert (folder / (TEST_IMAGES + ".gz")).exists()


# ---------------------------------------------------------------------------
# The real MNIST (CI sets CONVLIB_DATA)
# ---------------------------------------------------------------------------


def _real_mnist_dir() -> Path | None:
    if not _REAL_DATA:
        return None
    folder = Path(_REAL_DATA).expanduser() / "mnist"
    if all((folder / (n + ".gz")).is_file() or (folder / n).is_file() for n in FILE_NAMES):
        return folder
    return None


@pytest.mark.skipif(
    _real_mnist_dir() is None, reason="CONVLIB_DATA does not point at a folder with mnist/ files"
)
def test_real_mnist_from_convlib_data(monkeypatch, cache_dir):
    folder = _real_mnist_dir()
    monkeypatch.setenv("CONVLIB_DATA", _REAL_DATA)
    paths = fetch_files("mnist", download=False)
    assert {p.parent for p in paths.values()} == {folder}

    # Checksums recomputed here, against the module's table and, when the
    # folder has one, its SHA256SUMS file.
    sums_file = folder / "SHA256SUMS"
    listed = {}
    if sums_file.is_file():
        listed = dict(
            line.split()[::-1] for line in sums_file.read_text().splitlines() if line.strip()
        )
    for path in paths.values():
        digest = sha256(path.read_bytes())
        assert digest == ds.MNIST_CHECKSUMS[path.name]["sha256"]
        if path.name in listed:
            assert digest == listed[path.name]

    (x_train, y_train), (x_test, y_test) = load_mnist(download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    for y in (y_train, y_test):
        np.testing.assert_array_equal(np.unique(y), np.arange(10))
    assert x_train.min() == 0 and x_train.max() == 255
    assert not cache_dir.exists()


def _real_fashion_dir() -> Path | None:
    if not _REAL_DATA:
        return None
    folder = Path(_REAL_DATA).expanduser() / "fashion-mnist"
    if all((folder / (n + ".gz")).is_file() or (folder / n).is_file() for n in FILE_NAMES):
        return folder
    return None


@pytest.mark.skipif(
    _real_fashion_dir() is None,
    reason="CONVLIB_DATA does not point at a folder with fashion-mnist/ files",
)
def test_real_fashion_mnist_from_convlib_data(monkeypatch, cache_dir, recwarn):
    # The offline copy (Debian's re-compressed archives) loads, verified by content,
    # and agrees with the facts published for the data set.
    folder = _real_fashion_dir()
    monkeypatch.setenv("CONVLIB_DATA", _REAL_DATA)
    paths = fetch_files("fashion-mnist", download=False)
    assert {p.parent for p in paths.values()} == {folder}
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(download=False)
    assert not [w for w in recwarn if issubclass(w.category, DatasetWarning)]
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
    assert round(float(x_train.mean(dtype=np.float64)), 2) == 72.94
    assert len(ds.FASHION_MNIST_CLASSES) == 10
    assert not cache_dir.exists()


# ---------------------------------------------------------------------------
# The package layout
# ---------------------------------------------------------------------------

# Every public name of the single module convlib.datasets before it became a
# package (its __all__ plus the constants the tests and users imported).
_OLD_NAMES = (
    "DatasetNotFoundError DatasetWarning FASHION_MNIST_CHECKSUMS FASHION_MNIST_CLASSES "
    "FASHION_MNIST_MIRRORS IDXFormatError MNIST_CHECKSUMS MNIST_MIRRORS candidate_dirs fetch_files "
    "load_fashion_mnist load_mnist one_hot read_idx to_float_nhwc user_cache_dir ENV_VAR FILE_NAMES "
    "TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS IMAGES_MAGIC LABELS_MAGIC "
    "DOWNLOAD_TIMEOUT DOWNLOAD_RETRIES RETRY_BACKOFF"
).split()


@pytest.mark.parametrize("name", _OLD_NAMES)
def test_every_old_name_is_still_importable(name):
    assert getattr(ds, name) is not None
    assert name in dir(ds)


def test_settings_assigned_on_the_package_reach_the_loaders(monkeypatch):
    import convlib.datasets.download as download
    import convlib.datasets.mnist as mnist

    # The autouse fixture assigned these on the package; the modules that read them see it.
    assert mnist.MNIST_MIRRORS == _CLOSED_PORT_MIRROR and download.RETRY_BACKOFF == 0.0
    monkeypatch.setattr(ds, "DOWNLOAD_RETRIES", 7)
    assert download.DOWNLOAD_RETRIES == 7 and ds.DOWNLOAD_RETRIES == 7
    monkeypatch.setattr(mnist, "MNIST_CHECKSUMS", {"x": "y"})  # one value, seen from both sides
    assert ds.MNIST_CHECKSUMS == {"x": "y"}
    with pytest.raises(AttributeError, match="no attribute 'NO_SUCH_SETTING'"):
        ds.NO_SUCH_SETTING  # noqa: B018


def test_modules_stay_small():
    folder = Path(ds.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert set(sizes) >= {
        "idx.py",
        "checksums.py",
        "locate.py",
        "download.py",
        "mnist.py",
        "preprocessing.py",
        "synthetic.py",
    }
    assert max(sizes.values()) < 700, sizes


# ---------------------------------------------------------------------------
# Generated stand-in data
# ---------------------------------------------------------------------------


def test_synthetic_digits():
    from convlib.datasets import synthetic_digits

    x, y = synthetic_digits(50, seed=3)
    assert (
        x.shape == (50, 28, 28) and x.dtype == np.uint8 and y.shape == (50,) and y.dtype == np.uint8
    )
    x2, y2 = synthetic_digits(50, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert set(np.unique(y)) <= set(range(10))
    assert not np.array_equal(synthetic_digits(50, seed=4)[0], x)
    assert synthetic_digits(0)[0].shape == (0, 28, 28)
    with pytest.raises(ValueError, match="n must be >= 0"):
        synthetic_digits(-1)
