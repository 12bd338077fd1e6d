"""Hostile data files: gzip bombs and forged IDX headers are refused fast, naming the file.

:func:`convlib.datasets.read_idx` decompresses only as much as the IDX header
declares (plus one byte to notice more); these tests build real bombs (a few
MB that inflate to GBs, made without compressing the GBs: after a full flush
every zero block compresses to the same bytes) and check the time, the
memory and the number of bytes decompressed.
"""

from __future__ import annotations

import gzip
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

import convlib.datasets.idx as idx
from convlib.datasets import IDXFormatError, read_idx

CHUNK = 1 << 24  # 16 MiB of zeros per repeated deflate block
_DECOMPRESSOBJ = zlib.decompressobj  # the real one (the test below replaces it in zlib)


def idx_header(shape: tuple[int, ...], magic: int = 2051) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in shape)


def gzip_bomb(path: Path, head: bytes, n_chunks: int) -> Path:
    """A valid gzip file holding ``head`` followed by ``n_chunks * 16 MiB`` of zeros."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(CHUNK)
    block = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(n_chunks):
        crc = zlib.crc32(zeros, crc)
    size = len(head) + n_chunks * CHUNK
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        f.write(first)
        for _ in range(n_chunks):
            f.write(block)
        f.write(tail)
        f.write(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return path


class CountingInflater:
    """Wraps a zlib decompressor and adds up the bytes it returns."""

    total = 0

    def __init__(self, wbits: int) -> None:
        self._inner = _DECOMPRESSOBJ(wbits)

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out = self._inner.decompress(data, max_length)
        CountingInflater.total += len(out)
        return out

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def test_a_small_bomb_is_a_real_bomb(tmp_path):
    # The construction is right: gzip itself inflates it to the full size with a valid CRC.
    path = gzip_bomb(tmp_path / "small.gz", idx_header((10, 28, 28)), 2)
    assert len(gzip.decompress(path.read_bytes())) == 16 + 2 * CHUNK


def test_a_3_gib_gzip_bomb_fails_fast_without_inflating_it(tmp_path, monkeypatch):
    head = idx_header((10, 28, 28))  # declares 7,840 data bytes
    path = gzip_bomb(tmp_path / "train-images-idx3-ubyte.gz", head, 192)  # 3 GiB of zeros
    assert path.stat().st_size < 4 << 20
    CountingInflater.total = 0
    monkeypatch.setattr(idx.zlib, "decompressobj", CountingInflater)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(
            IDXFormatError, match="decompresses to more than the 7856 bytes"
        ) as info:
            read_idx(path, magic=2051)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert "decompression bomb" in str(info.value)
    assert CountingInflater.total == 7856 + 1  # the declared size and one byte more
    assert seconds < 1.0
    assert peak < 32 << 20


def test_a_header_declaring_more_than_the_file_can_hold_is_refused_at_once(tmp_path):
    head = idx_header((60000, 28, 28))  # 47 MB, in a gzip file of a few hundred bytes
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(head + bytes(1000)))
    with pytest.raises(
        IDXFormatError,
        match=r"declares 47040016 bytes, more than a gzip file of \d+ bytes can hold",
    ):
        read_idx(path)


def test_trailing_data_in_a_gzip_file_is_refused(tmp_path):
    data = idx_header((2,), magic=2049) + bytes([3, 4]) + b"extra"
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(IDXFormatError, match="decompresses to more than the 10 bytes"):
        read_idx(path)


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_bounded_reading_still_reads_highly_compressed_valid_files(tmp_path, monkeypatch, chunk):
    # Zeros compress ~1000:1, so the decompressor often holds output back; nothing may be lost.
    arr = np.zeros((500, 28, 28), np.uint8)
    arr[-1, -1, -1] = 7
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_header(arr.shape) + arr.tobytes()))
    monkeypatch.setattr(idx, "_CHUNK", chunk)
    np.testing.assert_array_equal(read_idx(path, magic=2051), arr)
