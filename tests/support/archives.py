"""Archives for tests, friendly and hostile: zips, tars, bombs, escaping paths, links."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "make_tar",
    "make_zip",
    "tar_bomb",
    "tar_with_links",
    "zip_bomb",
    "zip_lying_about_size",
]


def make_zip(path: Path, members: Mapping[str, bytes]) -> Path:
    """A deflated zip holding ``members`` (names are written as given, even hostile ones)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def make_tar(path: Path, members: Mapping[str, bytes], compression: str = "gz") -> Path:
    """A tar (``compression``: "", "gz", "xz" or "bz2") holding regular files."""
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(path, mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return path


def tar_with_links(path: Path, target: str = "/etc/passwd") -> Path:
    """A tar.gz with a symlink and a hard link named like fonts, pointing at ``target``."""
    with tarfile.open(path, "w:gz") as archive:
        link = tarfile.TarInfo("fonts/passwd.ttf")
        link.type = tarfile.SYMTYPE
        link.linkname = target
        archive.addfile(link)
        hard = tarfile.TarInfo("fonts/hard.ttf")
        hard.type = tarfile.LNKTYPE
        hard.linkname = target.lstrip("/")
        archive.addfile(hard)
    return path


def zip_bomb(path: Path, size: int, name: str = "bomb.ttf") -> Path:
    """A zip whose one member expands to ``size`` zero bytes (about 1000:1).

    Built by repeating one fully flushed deflate block, so making a bomb of hundreds of
    megabytes takes a fraction of a second and no memory.
    """
    chunk = 1 << 20
    count = -(-size // chunk)
    size = count * chunk
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(bytes(chunk)) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    zeros = bytes(chunk)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    packed = len(block) * count + 2
    raw_name = name.encode()
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, packed, size, len(raw_name), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        packed,
        size,
        len(raw_name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    with path.open("wb") as sink:
        sink.write(local + raw_name)
        for _ in range(count):
            sink.write(block)
        sink.write(b"\x03\x00")  # an empty final block ends the deflate stream
        where = sink.tell()
        sink.write(central + raw_name)
        directory = len(central) + len(raw_name)
        sink.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, directory, where, 0))
    return path


def tar_bomb(path: Path, size: int, name: str = "bomb.ttf") -> Path:
    """A tar.gz whose one member is ``size`` zero bytes, built from repeated gzip members."""
    chunk = 1 << 20
    count = -(-size // chunk)
    info = tarfile.TarInfo(name)
    info.size = count * chunk
    zeros = gzip.compress(bytes(chunk), compresslevel=9, mtime=0)
    with path.open("wb") as sink:
        sink.write(gzip.compress(info.tobuf(format=tarfile.GNU_FORMAT), mtime=0))
        for _ in range(count):
            sink.write(zeros)
        sink.write(gzip.compress(bytes(1024), mtime=0))
    return path


def zip_lying_about_size(path: Path, real: bytes, claimed: int, name: str = "liar.ttf") -> Path:
    """A zip whose member says it is ``claimed`` bytes uncompressed but holds ``real``."""
    make_zip(path, {name: real})
    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, claimed)
    struct.pack_into("<I", data, central + 24, claimed)
    path.write_bytes(bytes(data))
    return path
