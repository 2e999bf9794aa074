"""The preprocessing stage: shards per split, failures as data, reruns, thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glyphflow.core.errors import StageFailedError, UsageError
from glyphflow.glyphs import RenderConfig, render_font
from glyphflow.io import records, shards, storage
from glyphflow.io.outputs import is_complete, read_manifest
from glyphflow.preprocessing.stage import run
from tests.preprocessing.helpers import (
    SPLITS,
    corpus,
    corrupt,
    direct_records,
    glyph_records,
    make_config,
    part_digests,
)
from tests.support.fonts import FontSpec, make_font
from tests.support.rawstore import make_accepted, make_raw_store


@pytest.fixture
def raw(tmp_path: Path) -> str:
    return make_raw_store(str(tmp_path / "raw"), [*corpus(6), corrupt()])


def test_a_raw_store_becomes_split_shards_with_failures_and_a_contact_sheet(
    raw: str, tmp_path: Path
) -> None:
    output = str(tmp_path / "glyphs")
    manifest = run(make_config(raw, output, splits={"train": 0.5, "val": 0.25, "test": 0.25}))
    assert is_complete(output)
    assert manifest.counts["fonts"] == 6 and manifest.counts["fonts_failed"] == 1
    assert sum(manifest.counts[f"fonts_{s}"] for s in SPLITS) == 6
    expected = direct_records(raw)
    assert manifest.counts["glyphs"] == len(expected) > 6 * 50
    # The render config travels in the manifest, resolved, for training and serving.
    assert manifest.config["render"] == RenderConfig().model_dump(mode="json")
    assert manifest.extra["charset"] == RenderConfig().chars

    # Records round-trip: shape and charset from the schema, images as rendered directly.
    table = shards.read_table(storage.join(output, "train"))
    assert records.image_shape(table.schema) == (64, 64)
    assert records.charset_of(table.schema) == RenderConfig().chars
    assert glyph_records(output) == expected

    failures = shards.read_table(storage.join(output, "failures.parquet")).to_pylist()
    assert [(f["reason"], f["family"]) for f in failures] == [("unreadable_font", "Broken")]
    assert failures[0]["source_url"] == "test://Broken"

    sheet = Image.open(tmp_path / "glyphs" / "contact_sheet.png")
    assert sheet.size == (180 + 62 * 65, 6 * 65)


def test_font_layout_holds_every_glyph_and_a_presence_mask(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), [FontSpec(chars="ABCDEFGHIJ")])
    output = str(tmp_path / "glyphs")
    run(make_config(raw, output, layout="font", splits={"train": 1, "val": 0, "test": 0}))
    table = shards.read_table(storage.join(output, "train"))
    assert table.num_rows == 1
    chars = records.charset_of(table.schema)
    images = records.images_from_arrow(table["images"], (len(chars), 64, 64))[0]
    present = records.images_from_arrow(table["present"], (len(chars),))[0]
    assert [c for c, p in zip(chars, present, strict=True) if p] == list("ABCDEFGHIJ")
    direct = render_font(make_font(chars="ABCDEFGHIJ"), 0, RenderConfig())
    assert np.array_equal(images, direct.images)
    assert table["postscript_name"].to_pylist() == ["TestSans-Regular"]


def test_a_validation_output_limits_the_fonts_and_names_the_raw_store(
    raw: str, tmp_path: Path
) -> None:
    index = shards.read_table(storage.join(raw, "fonts.parquet")).to_pylist()
    keep = [row["id"] for row in index[:3]]
    validated = make_accepted(str(tmp_path / "validated"), raw, keep)
    manifest = run(make_config(validated, str(tmp_path / "glyphs")))
    assert manifest.counts["fonts"] == 3 and manifest.counts["fonts_failed"] == 0
    assert {font_id for font_id, _ in glyph_records(str(tmp_path / "glyphs"))} == set(keep)
    assert manifest.input_urls == {"fonts": validated, "raw": raw}


def test_an_input_that_is_not_an_index_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"neither accepted.parquet .* nor fonts.parquet"):
        run(make_config(str(tmp_path / "empty"), str(tmp_path / "glyphs")))


def test_a_rerun_renders_only_new_fonts_and_keeps_old_parts(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), corpus(4))
    output = str(tmp_path / "glyphs")
    config = make_config(raw, output)
    first = run(config)
    before = part_digests(output)
    # Same input, same config: nothing to do, the output is current.
    assert run(config).fingerprint == first.fingerprint
    assert part_digests(output) == before

    make_raw_store(raw, corpus(3, start=4), append=True)
    second = run(config)
    assert second.counts["fonts"] == 7 and second.counts["fonts_new"] == 3
    after = part_digests(output)
    assert {k: after[k] for k in before} == before  # old parts untouched
    assert set(after) - set(before)  # new parts with higher numbers
    assert glyph_records(output) == direct_records(raw)


def test_changing_the_render_config_rebuilds_the_dataset(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), corpus(2))
    output = str(tmp_path / "glyphs")
    run(make_config(raw, output))
    manifest = run(make_config(raw, output, render={"glyph_size": 32}))
    assert manifest.counts["fonts_new"] == 2
    table = shards.read_table(storage.join(output, "train"))
    assert records.image_shape(table.schema) == (32, 32)
    assert glyph_records(output) == direct_records(raw, RenderConfig(glyph_size=32))


def test_parts_left_by_a_killed_run_are_removed_and_redone(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), corpus(3))
    output = tmp_path / "glyphs"
    config = make_config(raw, str(output), splits={"train": 1, "val": 0, "test": 0})
    run(config)
    expected = glyph_records(str(output))
    # A run killed after writing a part but before its checkpoint leaves an orphan part.
    (output / "train" / "part-00007.parquet").write_bytes(b"half a part")
    (output / "_SUCCESS").unlink()
    run(config)
    assert not (output / "train" / "part-00007.parquet").exists()
    assert glyph_records(str(output)) == expected


def test_fonts_that_render_nothing_useful_are_failures(tmp_path: Path) -> None:
    raw = make_raw_store(
        str(tmp_path / "raw"),
        [
            *corpus(3),
            FontSpec(family="Boxes", as_notdef=True),
            FontSpec(family="Same", same_box=True),
        ],
    )
    manifest = run(make_config(raw, str(tmp_path / "glyphs")))
    failures = shards.read_table(str(tmp_path / "glyphs" / "failures.parquet")).to_pylist()
    assert sorted((f["family"], f["reason"]) for f in failures) == [
        ("Boxes", "no_glyphs"),
        ("Same", "too_few_glyphs"),
    ]
    assert manifest.counts["fonts"] == 3


def test_a_run_where_most_fonts_fail_fails_and_is_not_committed(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), [corpus(1)[0], corrupt("A"), corrupt("B")])
    output = tmp_path / "glyphs"
    with pytest.raises(StageFailedError, match="2 of 3 fonts failed"):
        run(make_config(raw, str(output)))
    assert not is_complete(str(output))
    assert (output / "failures.parquet").exists()  # the reasons are there to read
    manifest = run(make_config(raw, str(output), max_failed_fraction=1.0))
    assert manifest.counts["fonts"] == 1


@pytest.mark.slow
def test_outputs_on_s3(s3_bucket: str, tmp_path: Path) -> None:
    raw = make_raw_store(f"{s3_bucket}/raw", corpus(2))
    output = f"{s3_bucket}/glyphs"
    manifest = run(make_config(raw, output, splits={"train": 1, "val": 0, "test": 0}))
    assert is_complete(output)
    assert glyph_records(output) == direct_records(raw)
    assert manifest.counts["glyphs"] == len(direct_records(raw))
    stored = json.loads(storage.read_text(f"{output}/_manifest.json"))
    assert stored["config"]["render"]["glyph_size"] == 64
    assert read_manifest(output) is not None


def test_a_stopped_run_commits_what_it_has_and_a_rerun_finishes(tmp_path: Path) -> None:
    import threading

    raw = make_raw_store(str(tmp_path / "raw"), corpus(4))
    output = str(tmp_path / "glyphs")
    config = make_config(raw, output, commit_every=1)
    stop = threading.Event()
    stop.set()  # already asked to stop: one font, then a clean commit
    partial = run(config, stop=stop)
    assert partial.counts["fonts"] == 1 and partial.extra["partial"] is True
    assert is_complete(output)
    finished = run(config)
    assert finished.counts["fonts"] == 4 and finished.counts["fonts_new"] == 3
    assert finished.extra["partial"] is False and finished.fingerprint != partial.fingerprint
    assert glyph_records(output) == direct_records(raw)
