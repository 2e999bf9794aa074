"""Rendering: golden placements on built fonts, reasons for what is missing, formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from glyphflow.glyphs import (
    METRICS,
    FontRenderError,
    Reason,
    RenderConfig,
    charset,
    render_font,
)
from tests.support.fonts import ALNUM, make_collection, make_font, to_woff

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"


def rect(x0: int, y0: int, x1: int, y1: int) -> Callable[[Any], None]:
    """A drawer for a filled rectangle (font units, y up from the baseline)."""

    def draw(pen: Any) -> None:
        pen.moveTo((x0, y0))
        pen.lineTo((x0, y1))
        pen.lineTo((x1, y1))
        pen.lineTo((x1, y0))
        pen.closePath()

    return draw


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) rows/columns holding ink, inclusive."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


# A 1000-unit em: square A 400 units on the baseline, small square B 200 units on the
# baseline, descender bar C from -200 to 0, capital H 700 units tall.
SHAPES = {
    "A": rect(100, 0, 500, 400),
    "B": rect(100, 0, 300, 200),
    "C": rect(100, -200, 300, 0),
    "H": rect(100, 0, 600, 700),
}


@pytest.fixture(scope="module")
def shapes() -> bytes:
    return make_font(chars="ABCH", drawers=SHAPES)


def test_em_mode_places_squares_on_the_baseline_at_one_scale(shapes: bytes) -> None:
    # 64 px, padding 2: 60 px per em (0.06 px/unit); baseline row 2 + 0.8 * 60 = 50.
    glyphs = render_font(shapes, 0, RenderConfig(charset="ABCH", normalisation="em"))
    a, b, c, _ = glyphs.images
    assert ink_box(a) == (26, 49, 20, 43)  # 24 x 24 px, bottom row just above baseline
    assert ink_box(b) == (38, 49, 26, 37)  # half the size: relative sizes kept
    assert ink_box(c) == (50, 61, 26, 37)  # a descender starts on the baseline row
    # Edges fall on pixel boundaries: fully inked inside, blank outside.
    assert set(np.unique(a)) == {0, 255}
    assert a[26:50, 20:44].min() == 255 and a.sum() == 24 * 24 * 255
    assert glyphs.metric("scale")[0] == pytest.approx(60.0)


def test_cap_height_mode_scales_capital_h_to_the_set_height(shapes: bytes) -> None:
    config = RenderConfig(charset="ABCH", normalisation="cap_height", cap_height=0.6)
    glyphs = render_font(shapes, 0, config)
    top, bottom, _, _ = ink_box(glyphs.images[3])
    assert bottom == 49 and bottom - top + 1 == 36  # 0.6 * 60 px, standing on row 50
    a_top, a_bottom, _, _ = ink_box(glyphs.images[0])
    assert a_bottom - a_top + 1 == round(400 / 700 * 36)  # 20.57 -> partial row


def test_fit_mode_fills_the_padded_box_with_each_glyph(shapes: bytes) -> None:
    glyphs = render_font(shapes, 0, RenderConfig(charset="ACH", normalisation="fit"))
    assert ink_box(glyphs.images[0]) == (2, 61, 2, 61)  # the square fills 60 x 60
    top, bottom, left, right = ink_box(glyphs.images[2])  # H: 500 x 700, tall
    assert (top, bottom) == (2, 61)
    # 60 px tall, 60 * 5/7 = 42.9 px wide: the ink mass says so, edges anti-aliased.
    assert glyphs.images[2].sum() / 255 == pytest.approx(60 * 60 * 5 / 7, rel=0.01)
    assert (left, right) == (10, 53)  # centred: 10.57 .. 53.43


def test_fit_mode_drops_shapes_that_become_identical(shapes: bytes) -> None:
    # A and B are both squares: the same image once each fills the box.
    glyphs = render_font(shapes, 0, RenderConfig(charset="AB", normalisation="fit"))
    assert glyphs.reasons == (None, Reason.DUPLICATE)
    assert glyphs.duplicate_of == {"B": "A"}
    kept = render_font(
        shapes, 0, RenderConfig(charset="AB", normalisation="fit", drop_duplicates=False)
    )
    assert kept.count == 2 and np.array_equal(kept.images[0], kept.images[1])


def test_a_glyph_leaving_the_image_is_clipped_in_em_mode_only() -> None:
    tall = make_font(
        chars="AT", drawers={"A": rect(100, 0, 500, 400), "T": rect(100, 0, 500, 1400)}
    )
    em = render_font(tall, 0, RenderConfig(charset="AT"))
    assert em.reasons == (None, Reason.CLIPPED)
    assert not em.images[1].any()
    fit = render_font(tall, 0, RenderConfig(charset="AT", normalisation="fit"))
    assert fit.reasons == (None, None)


def test_supersampling_averages_down_to_the_same_geometry(shapes: bytes) -> None:
    plain = render_font(shapes, 0, RenderConfig(charset="AB"))
    fine = render_font(shapes, 0, RenderConfig(charset="AB", supersample=4))
    assert fine.images.shape == plain.images.shape == (2, 64, 64)
    # Pixel-aligned squares are exact either way.
    assert np.array_equal(fine.images, plain.images)


def test_a_font_without_lowercase_gives_26_reasons_not_26_boxes() -> None:
    data = make_font(chars=UPPER + "0123456789")
    glyphs = render_font(data, 0, RenderConfig())
    missing = glyphs.missing()
    assert sorted(missing) == sorted(LOWER)
    assert set(missing.values()) == {Reason.NOT_IN_CMAP}
    assert glyphs.count == 36
    assert not glyphs.images[~glyphs.present].any()  # no boxes: zeros where missing
    assert np.isnan(glyphs.metrics[~glyphs.present, METRICS.index("advance")]).all()


def test_a_font_whose_letters_are_all_the_notdef_box_is_caught() -> None:
    glyphs = render_font(make_font(as_notdef=True), 0, RenderConfig())
    assert glyphs.count == 0
    assert set(glyphs.missing().values()) == {Reason.NOTDEF}


def test_a_font_whose_letters_are_all_one_box_keeps_one() -> None:
    glyphs = render_font(make_font(same_box=True), 0, RenderConfig())
    assert glyphs.count == 1 and glyphs.reasons[0] is None
    assert set(glyphs.missing().values()) == {Reason.DUPLICATE}
    assert len(glyphs.duplicate_of) == 61


def test_empty_outlines_are_reported() -> None:
    glyphs = render_font(make_font(empty="AB"), 0, RenderConfig())
    assert glyphs.missing() == {"A": Reason.EMPTY, "B": Reason.EMPTY}
    assert glyphs.metric("advance")[0] > 0  # an empty glyph still has its advance


def test_charset_order_fixes_the_labels() -> None:
    data = make_font(chars="ABC")
    forward = render_font(data, 0, RenderConfig(charset="ABC"))
    backward = render_font(data, 0, RenderConfig(charset="CBA"))
    assert np.array_equal(forward.images[::-1], backward.images)
    assert charset(RenderConfig(charset="uppercase+digits")) == UPPER + "0123456789"
    assert charset(RenderConfig()) == ALNUM


def test_rendering_is_deterministic_and_fonts_differ() -> None:
    one = make_font(seed="1")
    first = render_font(one, 0, RenderConfig())
    again = render_font(one, 0, RenderConfig())
    assert np.array_equal(first.images, again.images)
    assert np.array_equal(first.metrics, again.metrics, equal_nan=True)
    other = render_font(make_font(seed="2"), 0, RenderConfig())
    assert not np.array_equal(first.images, other.images)


@pytest.mark.parametrize("flavor", ["woff", "woff2"])
def test_web_fonts_render_as_their_sfnt(flavor: str) -> None:
    data = make_font(chars="ABC")
    plain = render_font(data, 0, RenderConfig(charset="ABC"))
    web = render_font(to_woff(data, flavor), 0, RenderConfig(charset="ABC"))
    assert np.array_equal(plain.images, web.images)
    assert web.family == "Test Sans"


def test_cff_outlines_render_like_truetype_ones() -> None:
    ttf = render_font(make_font(chars="AB", fmt="ttf"), 0, RenderConfig(charset="AB"))
    otf = render_font(make_font(chars="AB", fmt="otf"), 0, RenderConfig(charset="AB"))
    assert otf.count == 2
    # Straight strokes, same coordinates: at most anti-aliasing differences at edges.
    assert np.abs(ttf.images.astype(int) - otf.images.astype(int)).mean() < 2


def test_collection_faces_by_index() -> None:
    first = make_font(family="First", seed="a", chars="AB")
    second = make_font(family="Second", seed="b", chars="AB")
    ttc = make_collection([first, second])
    config = RenderConfig(charset="AB")
    face1 = render_font(ttc, 1, config)
    assert face1.family == "Second"
    assert np.array_equal(face1.images, render_font(second, 0, config).images)
    with pytest.raises(FontRenderError) as caught:
        render_font(ttc, 5, config)
    assert caught.value.reason == "bad_face_index"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a font at all" * 10, "unreadable_font"),
        (b"wOF2" + b"\0" * 60, "decompress_error"),
        (b"", "unreadable_font"),
    ],
)
def test_broken_files_raise_a_font_error_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FontRenderError) as caught:
        render_font(data, 0, RenderConfig())
    assert caught.value.reason == reason


def test_truncated_font_is_an_error_or_reasons_never_a_crash() -> None:
    data = make_font()
    for cut in (12, 200, len(data) // 2):
        try:
            glyphs = render_font(data[:cut], 0, RenderConfig())
        except FontRenderError as err:
            assert err.reason in {"unreadable_font", "no_outlines"}
        else:
            assert glyphs.images.shape == (62, 64, 64)


REAL_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf",
    "/usr/share/fonts/type1/urw-base35/NimbusSans-Bold.t1",
]


@pytest.mark.parametrize("path", REAL_FONTS, ids=lambda p: Path(p).name)
def test_real_fonts_render_every_alphanumeric(path: str) -> None:
    if not Path(path).exists():
        pytest.skip(f"{path} not installed")
    glyphs = render_font(Path(path).read_bytes(), 0, RenderConfig())
    assert glyphs.count == 62, glyphs.missing()
    # x-height is well below cap height in em mode: 'x' is shorter than 'X'.
    heights = glyphs.metric("ymax")
    assert heights[ALNUM.index("x")] < heights[ALNUM.index("X")]
    ink = glyphs.metric("ink")
    assert (ink > 0.01).all() and (ink < 0.6).all()


def test_threads_render_concurrently_with_the_same_results() -> None:
    from concurrent.futures import ThreadPoolExecutor

    fonts = [make_font(seed=str(i)) for i in range(4)]
    config = RenderConfig()
    alone = [render_font(data, 0, config).images for data in fonts]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda d: render_font(d, 0, config).images, fonts * 5))
    for i, images in enumerate(together):
        assert np.array_equal(images, alone[i % 4])


def test_memoryview_input_is_accepted() -> None:
    data = make_font(chars="AB")
    assert render_font(memoryview(data), 0, RenderConfig(charset="AB")).count == 2


# ---------------------------------------------------------------------------- variable fonts


def _static_instance(data: bytes, weight: float) -> bytes:
    """The named instance as fontTools' instancer builds it, independently of glyphflow."""
    import io

    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = instancer.instantiateVariableFont(TTFont(io.BytesIO(data)), {"wght": weight})
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def test_a_named_instance_renders_as_the_static_instance() -> None:
    from tests.support.variable import make_variable_font

    data = make_variable_font()
    config = RenderConfig(charset=ALNUM)
    light = render_font(data, 0, config, {"wght": 300})
    bold = render_font(data, 0, config, {"wght": 700})
    for weight, glyphs in ((300, light), (700, bold)):
        static = render_font(_static_instance(data, weight), 0, config)
        assert np.array_equal(glyphs.images, static.images)
        assert np.array_equal(glyphs.metrics, static.metrics, equal_nan=True)
    assert min(light.count, bold.count) > 50
    ink_light, ink_bold = np.nanmean(light.metric("ink")), np.nanmean(bold.metric("ink"))
    assert ink_bold > 2 * ink_light  # strokes 40 vs 160 units
    # No instance (or an empty one) is the default instance, wght 400.
    default = render_font(data, 0, config)
    assert np.array_equal(render_font(data, 0, config, {}).images, default.images)
    assert np.array_equal(render_font(data, 0, config, {"wght": 400}).images, default.images)
    assert not np.array_equal(default.images, bold.images)


def test_an_instance_of_a_static_font_is_refused() -> None:
    with pytest.raises(FontRenderError, match="no fvar") as refused:
        render_font(make_font(), 0, RenderConfig(charset=ALNUM), {"wght": 700})
    assert refused.value.reason == "instance_error"
