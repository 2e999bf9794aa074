"""Glyph datasets as arrays: both record layouts, filters, seeded order, streaming, ranks, S3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from glyphflow.core.errors import UsageError
from glyphflow.io.glyphsets import (
    FontArrays,
    GlyphArrays,
    MemoryData,
    Selection,
    StreamingData,
    describe,
    load_items,
)
from tests.support.glyphsets import draw_glyph, make_glyph_dataset

CHARSET = "ABCDEF"


@pytest.fixture(scope="module")
def both_layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("layouts")
    kwargs = {
        "n_fonts": 10,
        "charset": CHARSET,
        "size": 12,
        "seed": 3,
        "missing": 0.3,
        "scored": True,
    }
    glyph = make_glyph_dataset(str(root / "glyph"), layout="glyph", **kwargs)  # type: ignore[arg-type]
    font = make_glyph_dataset(str(root / "font"), layout="font", **kwargs)  # type: ignore[arg-type]
    assert [f.font_id for f in glyph.fonts] == [f.font_id for f in font.fonts]
    return glyph.url, font.url


def _sorted_fonts(items: FontArrays) -> tuple[list[str], np.ndarray, np.ndarray]:
    order = np.argsort(items.font_ids)
    return [items.font_ids[i] for i in order], items.images[order], items.present[order]


def test_describe_reads_layout_charset_shape_and_render(both_layouts: tuple[str, str]) -> None:
    glyph_url, font_url = both_layouts
    glyph, font = describe(glyph_url), describe(font_url)
    assert (glyph.layout, font.layout) == ("glyph", "font")
    assert glyph.charset == font.charset == CHARSET
    assert glyph.image_shape == font.image_shape == (12, 12)
    assert glyph.render["glyph_size"] == 12 and glyph.render["charset"] == CHARSET
    assert glyph.manifest is not None and glyph.manifest["stage"] == "preprocessing"


@pytest.mark.parametrize("kind", ["fonts", "glyphs"])
def test_both_layouts_give_the_same_items(both_layouts: tuple[str, str], kind: str) -> None:
    loaded = []
    for url in both_layouts:
        source = describe(url)
        loaded.append(load_items(source, "train", Selection.build(source), kind))
    if kind == "fonts":
        a, b = (_sorted_fonts(x) for x in loaded)  # type: ignore[arg-type]
        assert a[0] == b[0]
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    else:
        a_items, b_items = loaded

        def key(g: GlyphArrays) -> list[tuple[int, int]]:
            return sorted(
                zip(g.labels.tolist(), g.images.reshape(len(g), -1).sum(1).tolist(), strict=True)
            )

        assert len(a_items) == len(b_items) > 0
        assert key(a_items) == key(b_items)


def test_images_are_the_drawn_glyphs(tmp_path: Path) -> None:
    made = make_glyph_dataset(str(tmp_path / "g"), n_fonts=4, charset="XY", size=12, layout="font")
    source = describe(made.url)
    fonts = load_items(source, "train", Selection.build(source), "fonts")
    assert isinstance(fonts, FontArrays)
    first = next(f for f in made.fonts if f.font_id == fonts.font_ids[0])
    assert np.array_equal(fonts.images[0, 1], draw_glyph("Y", first.style, 12))


def test_filters_characters_families_and_confidence(both_layouts: tuple[str, str]) -> None:
    for url in both_layouts:
        source = describe(url)
        sel = Selection.build(source, characters="FB", exclude=["Serif"], min_confidence=0.75)
        assert sel.charset == "BF"  # dataset order, not the filter's
        fonts = load_items(source, "train", sel, "fonts")
        assert isinstance(fonts, FontArrays)
        assert fonts.families and all("Sans" in f for f in fonts.families)
        glyphs = load_items(source, "train", sel, "glyphs")
        assert isinstance(glyphs, GlyphArrays)
        assert set(glyphs.labels.tolist()) <= {0, 1}
        assert len(glyphs) == int(fonts.present.sum())
        everything = load_items(source, "train", Selection.build(source), "glyphs")
        assert 0 < len(glyphs) < len(everything)
    # the kept glyphs are exactly those with confidence >= 0.75 in Sans fonts
    made = make_glyph_dataset(
        str(Path(both_layouts[0]).parent / "again"),
        n_fonts=10,
        charset=CHARSET,
        size=12,
        seed=3,
        missing=0.3,
        scored=True,
        layout="glyph",
    )
    expected = sum(
        1
        for f in made.split("train")
        if "Sans" in f.family
        for c in f.present
        if c in "BF" and f.confidence[c] >= 0.75
    )
    assert len(glyphs) == expected


def test_unknown_characters_are_a_usage_error(both_layouts: tuple[str, str]) -> None:
    source = describe(both_layouts[0])
    with pytest.raises(UsageError, match=r"data.characters: 'Z' not in the dataset's charset"):
        Selection.build(source, characters="AZ")


def test_order_depends_on_seed_and_epoch_only(both_layouts: tuple[str, str]) -> None:
    source = describe(both_layouts[1])
    sel = Selection.build(source)
    items = load_items(source, "train", sel, "glyphs")
    data = MemoryData(items, batch_size=4, seed=7)

    def labels(d: MemoryData, epoch: int, skip: int = 0) -> list[list[int]]:
        return [b.labels.tolist() for b in d.batches(epoch, skip)]  # type: ignore[union-attr]

    assert labels(data, 0) == labels(MemoryData(items, 4, seed=7), 0)
    assert labels(data, 0) != labels(data, 1)
    assert labels(data, 0) != labels(MemoryData(items, 4, seed=8), 0)
    assert labels(data, 1, skip=2) == labels(data, 1)[2:]
    assert len(labels(data, 0)) == data.steps_per_epoch == len(items) // 4


def test_streaming_visits_every_item_once_per_epoch(both_layouts: tuple[str, str]) -> None:
    for url in both_layouts:
        source = describe(url)
        sel = Selection.build(source)
        everything = load_items(source, "train", sel, "glyphs")
        stream = StreamingData(
            source, "train", sel, "glyphs", batch_size=5, seed=1, shuffle_buffer=8
        )
        batches = list(stream.batches(0))
        seen = sum(len(b) for b in batches)
        assert len(everything) - 5 < seen <= len(everything)  # only a last partial batch is dropped
        assert all(len(b) == 5 for b in batches)
        again = [b.labels.tolist() for b in stream.batches(0)]  # type: ignore[union-attr]
        assert again == [b.labels.tolist() for b in batches]  # type: ignore[union-attr]
        assert [b.labels.tolist() for b in stream.batches(0, skip=2)] == again[2:]  # type: ignore[union-attr]


def test_ranks_read_disjoint_parts(tmp_path: Path) -> None:
    made = make_glyph_dataset(
        str(tmp_path / "g"), n_fonts=12, charset="AB", size=8, layout="font", rows_per_part=2
    )
    source = describe(made.url)
    sel = Selection.build(source)
    per_rank = [load_items(source, "train", sel, "fonts", rank=r, world=2) for r in range(2)]
    ids = [set(p.font_ids) for p in per_rank]  # type: ignore[union-attr]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == {f.font_id for f in made.split("train")}
    # more ranks than parts: every rank keeps every world-th item
    spread = [load_items(source, "val", sel, "fonts", rank=r, world=5) for r in range(5)]
    assert sum(len(p) for p in spread) == len(made.split("val"))


def test_reads_shards_from_s3(s3_bucket: str) -> None:
    made = make_glyph_dataset(
        f"{s3_bucket}/glyphs", n_fonts=6, charset="ABC", size=8, layout="glyph"
    )
    source = describe(made.url)
    assert source.layout == "glyph" and source.render["glyph_size"] == 8
    fonts = load_items(source, "train", Selection.build(source), "fonts")
    assert sorted(fonts.font_ids) == sorted(f.font_id for f in made.split("train"))  # type: ignore[union-attr]


def test_render_settings_carried_in_extra_are_read(tmp_path: Path) -> None:
    """Scored records keep the render settings in the manifest's extra, not its config."""
    from glyphflow.core.config import ConfigModel
    from glyphflow.io import outputs, storage

    source = make_glyph_dataset(str(tmp_path / "glyphs"), n_fonts=3, charset=CHARSET, size=12)
    render = describe(source.url).render

    class Passed(ConfigModel):
        glyphs: str = ""

    scored = str(tmp_path / "scored")
    out = outputs.StageOutput(scored, "scoring", Passed(glyphs=source.url)).begin()
    for part in sorted(Path(source.url).rglob("part-*.parquet")):
        relative = part.relative_to(source.url).as_posix()
        storage.copy(str(part), out.path(relative))
    out.extra["render"] = render
    out.commit()
    assert describe(scored).render == render
