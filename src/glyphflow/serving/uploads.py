"""Checks on uploaded files before any parser or model sees them.

An upload is hostile until shown otherwise. Fonts: the container is sniffed and checked
by :mod:`glyphflow.io.fontfiles` (the same code ingestion uses, so the service and the
pipeline agree on what a font file is); WOFF and WOFF2 tables are unpacked with a cap on
the output, so a compression bomb costs at most ``max_unpacked_bytes``; a ``.zip`` (fonts
are often downloaded zipped) is read with caps on members, size and ratio and gives its
first font. Images: the header's size is checked before a pixel is decoded.

Every refusal is an :class:`~glyphflow.serving.errors.ApiError` with a 4xx status: 413 for
"too big", 415 for "not a font / not an image", 422 for "a font, but damaged".
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from glyphflow.io import fontfiles
from glyphflow.serving.config import LimitsConfig
from glyphflow.serving.errors import ApiError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["IMAGE_FORMATS", "FontUpload", "read_font", "read_glyph_image"]

#: Image formats accepted for glyph uploads (Pillow's names).
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_ARCHIVE_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"7z\xbc\xaf": "7z",
    b"Rar!": "rar",
}


@dataclass(frozen=True)
class FontUpload:
    """A font upload that passed the checks: its bytes, format and number of faces."""

    data: bytes
    format: str
    faces: int
    name: str  # the file name (or "archive.zip/member.ttf")


def _too_big(what: str, size: int, limit: int, key: str) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"{what} is {size:,} bytes, more than the {limit:,} allowed (limits.{key})",
    )


# ---------------------------------------------------------------------------- fonts


def read_font(data: bytes, name: str, limits: LimitsConfig) -> FontUpload:
    """Check an uploaded font file (or a .zip holding one) and return it."""
    if not data:
        raise ApiError(422, "empty_file", f"{name or 'the upload'} is empty (0 bytes)")
    if len(data) > limits.max_upload_bytes:
        raise _too_big(name or "the upload", len(data), limits.max_upload_bytes, "max_upload_bytes")
    if data[:4] in _ZIP_MAGIC:
        data, name = _font_from_zip(data, name, limits)
    for magic, kind in _ARCHIVE_MAGIC.items():
        if data.startswith(magic):
            raise ApiError(
                415,
                "unsupported_archive",
                f"{name or 'the upload'} is a {kind} archive; upload a font file "
                "(.ttf .otf .ttc .otc .woff .woff2 .pfb .pfa) or a .zip holding one",
            )
    try:
        fmt = fontfiles.check_structure(data)
        faces = fontfiles.count_faces(data)
    except fontfiles.FontFileError as err:
        status = 415 if err.reason == "not_a_font" else 422
        raise ApiError(status, err.reason, f"{name or 'the upload'}: {err}") from None
    if fmt == "woff":
        _check_woff(data, name, limits)
    elif fmt == "woff2":
        _check_woff2(data, name, limits)
    return FontUpload(data=data, format=fmt, faces=faces, name=name)


def check_face(upload: FontUpload, face_index: int) -> None:
    """Refuse a face index the file does not have."""
    if not 0 <= face_index < upload.faces:
        raise ApiError(
            422,
            "bad_face_index",
            f"{upload.name or 'the font'} has {upload.faces} face(s); face_index must be "
            f"0..{upload.faces - 1} (got {face_index})",
        )


def _font_from_zip(data: bytes, name: str, limits: LimitsConfig) -> tuple[bytes, str]:
    label = name or "the upload"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ApiError(422, "corrupt_archive", f"{label} is a damaged zip file: {err}") from None
    if len(members) > limits.max_archive_members:
        raise ApiError(
            413,
            "too_many_members",
            f"{label} holds {len(members):,} entries, more than the "
            f"{limits.max_archive_members:,} allowed (limits.max_archive_members)",
        )
    fonts = sorted(
        (m for m in members if not m.is_dir() and fontfiles.has_font_extension(m.filename)),
        key=lambda m: m.filename,
    )
    if not fonts:
        raise ApiError(
            415,
            "no_font_in_archive",
            f"{label} holds no font file (looked for {' '.join(fontfiles.FONT_EXTENSIONS)})",
        )
    member = fonts[0]
    inner = f"{label}/{member.filename}"
    if member.file_size > limits.max_unpacked_bytes:
        raise _too_big(inner, member.file_size, limits.max_unpacked_bytes, "max_unpacked_bytes")
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > limits.max_compression_ratio:
        raise ApiError(
            413,
            "compression_ratio",
            f"{inner} unpacks {ratio:,.0f} times its packed size, more than the "
            f"{limits.max_compression_ratio:g} allowed (limits.max_compression_ratio); "
            "a zip bomb?",
        )
    try:
        with archive.open(member) as handle:
            # read one byte past the limit: a header that lies about the size is caught too
            content = handle.read(limits.max_unpacked_bytes + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as err:
        raise ApiError(422, "corrupt_archive", f"cannot unpack {inner}: {err}") from None
    if len(content) > limits.max_unpacked_bytes:
        raise _too_big(inner, len(content), limits.max_unpacked_bytes, "max_unpacked_bytes")
    return content, inner


def _check_ratio(label: str, unpacked: int, packed: int, limits: LimitsConfig) -> None:
    if unpacked > limits.max_unpacked_bytes:
        raise _too_big(
            f"{label} unpacked", unpacked, limits.max_unpacked_bytes, "max_unpacked_bytes"
        )
    ratio = unpacked / max(packed, 1)
    if ratio > limits.max_compression_ratio:
        raise ApiError(
            413,
            "compression_ratio",
            f"{label} unpacks {ratio:,.0f} times its packed size, more than the "
            f"{limits.max_compression_ratio:g} allowed (limits.max_compression_ratio)",
        )


def _check_woff(data: bytes, name: str, limits: LimitsConfig) -> None:
    """Unpack every WOFF table with a capped output: a lying header cannot cost memory."""
    label = name or "the WOFF file"
    (num_tables,) = struct.unpack(">H", data[12:14])
    declared = 0
    for i in range(num_tables):
        entry = 44 + 20 * i
        if entry + 20 > len(data):
            raise ApiError(422, "corrupt_font", f"{label}: WOFF table directory is cut short")
        tag, offset, packed, unpacked, _ = struct.unpack(">4sIIII", data[entry : entry + 20])
        declared += unpacked
        _check_ratio(label, declared, len(data), limits)
        if offset + packed > len(data):
            raise ApiError(422, "corrupt_font", f"{label}: WOFF table {tag!r} is cut short")
        if packed > unpacked:
            raise ApiError(
                422,
                "corrupt_font",
                f"{label}: WOFF table {tag!r} is packed into more bytes ({packed}) than it "
                f"declares unpacked ({unpacked})",
            )
        if packed == unpacked:
            continue  # stored, not compressed
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data[offset : offset + packed], unpacked + 1)
        except zlib.error as err:
            raise ApiError(
                422, "corrupt_font", f"{label}: WOFF table {tag!r} does not unpack: {err}"
            ) from None
        if len(out) != unpacked or inflater.unconsumed_tail:
            raise ApiError(
                422,
                "corrupt_font",
                f"{label}: WOFF table {tag!r} unpacks to more or less than the "
                f"{unpacked} bytes its directory declares",
            )


def _check_woff2(data: bytes, name: str, limits: LimitsConfig) -> None:
    """Parse the WOFF2 directory, then unpack its brotli stream with a capped output."""
    import brotli
    from fontTools.ttLib.woff2 import WOFF2DirectoryEntry

    label = name or "the WOFF2 file"
    if len(data) < 48:
        raise ApiError(422, "corrupt_font", f"{label}: WOFF2 header is cut short")
    flavor = data[4:8]
    if flavor == b"ttcf":
        raise ApiError(
            415, "unsupported_format", f"{label} is a WOFF2 collection; upload its faces as fonts"
        )
    (num_tables,) = struct.unpack(">H", data[12:14])
    (total_sfnt,) = struct.unpack(">I", data[16:20])
    (packed,) = struct.unpack(">I", data[20:24])
    _check_ratio(label, total_sfnt, len(data), limits)
    rest = data[48:]
    stream_size = tables = 0
    try:
        for _ in range(num_tables):
            entry = WOFF2DirectoryEntry()
            rest = entry.fromString(rest)
            stream_size += entry.length
            tables += entry.origLength
            _check_ratio(label, max(stream_size, tables), len(data), limits)
    except Exception as err:  # fontTools raises TTLibError, struct.error...
        raise ApiError(422, "corrupt_font", f"{label}: bad WOFF2 table directory: {err}") from None
    stream = rest[:packed]
    decompressor = brotli.Decompressor()
    try:
        produced = len(decompressor.process(stream, output_buffer_limit=stream_size + 1))
        while produced <= stream_size and not decompressor.is_finished():
            more = decompressor.process(b"", output_buffer_limit=stream_size + 1 - produced)
            if not more:
                break  # the stream ends early: caught below as "less"
            produced += len(more)
    except brotli.error as err:
        raise ApiError(422, "corrupt_font", f"{label}: WOFF2 data does not unpack: {err}") from None
    if produced != stream_size:
        raise ApiError(
            422,
            "corrupt_font",
            f"{label}: WOFF2 data unpacks to {'more' if produced > stream_size else 'less'} "
            f"than the {stream_size} bytes its directory declares",
        )


# ---------------------------------------------------------------------------- images


def read_glyph_image(
    data: bytes, name: str, limits: LimitsConfig, shape: tuple[int, int]
) -> NDArray[np.uint8]:
    """An uploaded glyph image as the model sees glyphs: ``shape`` uint8, ink 255 on 0.

    An image already of the model's size with a dark background is taken as is (that is
    how training records look). Any other is made grey, inverted when its background (the
    border) is light, padded to a square and resized to the model's size.
    """
    from PIL import Image, UnidentifiedImageError

    label = name or "the image"
    if not data:
        raise ApiError(422, "empty_file", f"{label} is empty (0 bytes)")
    if len(data) > limits.max_upload_bytes:
        raise _too_big(label, len(data), limits.max_upload_bytes, "max_upload_bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise ApiError(
            413, "image_too_large", f"{label}: the image is far too large to decode"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise ApiError(
            415,
            "not_an_image",
            f"{label} is not an image in a supported format ({', '.join(IMAGE_FORMATS)}): {err}",
        ) from None
    width, height = image.size
    if width * height > limits.max_image_pixels:
        raise ApiError(
            413,
            "image_too_large",
            f"{label} is {width}x{height} = {width * height:,} pixels, more than the "
            f"{limits.max_image_pixels:,} allowed (limits.max_image_pixels)",
        )
    if width < 1 or height < 1:
        raise ApiError(422, "corrupt_image", f"{label} has no pixels ({width}x{height})")
    try:
        image.seek(0)
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            grey = Image.alpha_composite(paper, rgba).convert("L")
        else:
            grey = image.convert("L")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ApiError(422, "corrupt_image", f"{label} cannot be decoded: {err}") from None
    pixels = np.asarray(grey, dtype=np.uint8)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if float(np.median(border)) > 127:
        pixels = 255 - pixels
    if pixels.shape == shape:
        return np.ascontiguousarray(pixels)
    side = max(pixels.shape)
    square = np.zeros((side, side), dtype=np.uint8)
    top = (side - pixels.shape[0]) // 2
    left = (side - pixels.shape[1]) // 2
    square[top : top + pixels.shape[0], left : left + pixels.shape[1]] = pixels
    resized = Image.fromarray(square).resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8).copy()
