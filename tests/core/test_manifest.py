"""Fingerprints change with what determines an output, and only with that."""

from glyphflow.core.manifest import Manifest, fingerprint


def test_changed_config_changes_fingerprint() -> None:
    base = fingerprint("training", "0.1.0", {"epochs": 3}, {"glyphs": "abc"})
    assert base == fingerprint("training", "0.1.0", {"epochs": 3}, {"glyphs": "abc"})
    assert base != fingerprint("training", "0.1.0", {"epochs": 4}, {"glyphs": "abc"})
    assert base != fingerprint("training", "0.1.0", {"epochs": 3}, {"glyphs": "abd"})
    assert base != fingerprint("training", "0.2.0", {"epochs": 3}, {"glyphs": "abc"})
    assert base != fingerprint("scoring", "0.1.0", {"epochs": 3}, {"glyphs": "abc"})


def test_input_order_does_not_matter() -> None:
    a = fingerprint("s", "1", {}, {"a": "1", "b": "2"})
    b = fingerprint("s", "1", {}, {"b": "2", "a": "1"})
    assert a == b


def test_manifest_json_round_trip() -> None:
    manifest = Manifest(
        stage="s", package_version="1", config={"x": 1}, config_hash="h", fingerprint="f"
    )
    assert Manifest.model_validate_json(manifest.to_json()) == manifest
