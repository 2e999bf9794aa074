"""Upload checks on their own: WOFF2 streams that lie, and glyph image normalisation."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from glyphflow.serving.config import LimitsConfig
from glyphflow.serving.errors import ApiError
from glyphflow.serving.uploads import read_font, read_glyph_image
from tests.support.fonts import FontSpec, make_font, to_woff

LIMITS = LimitsConfig(max_unpacked_bytes=4_000_000)


def _woff2_with_stream(stream_of: bytes) -> bytes:
    """A real WOFF2 file whose brotli stream is replaced by ``stream_of`` compressed."""
    import brotli
    from fontTools.ttLib.woff2 import WOFF2DirectoryEntry

    data = to_woff(make_font(FontSpec()), "woff2")
    (count,) = struct.unpack(">H", data[12:14])
    (packed,) = struct.unpack(">I", data[20:24])
    rest = data[48:]
    for _ in range(count):
        rest = WOFF2DirectoryEntry().fromString(rest)
    start = len(data) - len(rest)
    stream = brotli.compress(stream_of)
    out = bytearray(data[:start] + stream + data[start + packed :])
    out[8:12] = struct.pack(">I", len(out))
    out[20:24] = struct.pack(">I", len(stream))
    return bytes(out)


def test_a_real_woff2_passes() -> None:
    upload = read_font(to_woff(make_font(FontSpec()), "woff2"), "a.woff2", LIMITS)
    assert upload.format == "woff2" and upload.faces == 1


@pytest.mark.parametrize("size", [10, 3_000_000])
def test_a_woff2_stream_that_unpacks_to_other_than_declared_is_refused(size: int) -> None:
    with pytest.raises(ApiError) as err:
        read_font(_woff2_with_stream(bytes(size)), "liar.woff2", LIMITS)
    assert err.value.status == 422 and "declares" in err.value.message


def test_glyph_image_of_the_model_size_and_convention_is_taken_as_is() -> None:
    image = (np.arange(32 * 32) % 256).astype(np.uint8).reshape(32, 32)
    image[0], image[-1], image[:, 0], image[:, -1] = 0, 0, 0, 0
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    out = read_glyph_image(buffer.getvalue(), "g.png", LIMITS, (32, 32))
    np.testing.assert_array_equal(out, image)


def test_transparent_glyph_image_is_ink_on_paper() -> None:
    rgba = np.zeros((40, 20, 4), np.uint8)
    rgba[10:30, 5:15] = (0, 0, 0, 255)  # an opaque black bar on transparency
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    out = read_glyph_image(buffer.getvalue(), "g.png", LIMITS, (32, 32))
    assert out.shape == (32, 32)
    assert out[16, 16] > 200 and out[1, 1] == 0  # ink bright, paper dark, padded to square
    assert out[16, 3] == 0  # the padding added left of the bar is paper
