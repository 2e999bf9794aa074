"""Corpora for the validation tests: one FontBuilder font per rule, built once per module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glyphflow.core.manifest import Manifest
from glyphflow.io import shards
from glyphflow.validation.config import ValidationConfig
from glyphflow.validation.stage import run
from tests.support.fonts import ALNUM, FontSpec, make_font, to_woff
from tests.support.raw_store import make_raw_store

GOOD = FontSpec(family="Good Sans", seed="good")

#: family -> the one rule that must reject it (None: accepted).
RULE_FONTS: dict[str, tuple[Any, str | None]] = {
    "Good Sans": (GOOD, None),
    "Symbol Sans": (FontSpec(family="Symbol Sans", seed="symbol", symbol=True), "symbol"),
    "Empty Sans": (FontSpec(family="Empty Sans", seed="empty", empty=ALNUM), "outlines"),
    "Half Sans": (FontSpec(family="Half Sans", seed="half", chars=ALNUM[:31]), "coverage"),
    "Box Sans": (FontSpec(family="Box Sans", seed="box", same_box=True), "symbol"),
    # The good font's outlines under a new name, as WOFF2: ttf is preferred, so the
    # good font is kept and this copy is the duplicate.
    "Copy Sans": (
        ("CopySans-Regular.woff2", to_woff(make_font(GOOD, family="Copy Sans"), "woff2")),
        "duplicates",
    ),
    # 50 units per em, shapes scaled to match: renders normally, only the bound fails.
    "Coarse Sans": (
        FontSpec(
            family="Coarse Sans", seed="coarse", units_per_em=50, width=25, height=35, stroke=4
        ),
        "sanity",
    ),
}


@dataclass
class Validated:
    """A finished validation run and what it wrote."""

    raw: str
    output: str
    manifest: Manifest | None
    rejected: list[dict[str, Any]]
    accepted: list[dict[str, Any]]

    def rules_of(self, family: str) -> set[str]:
        return {r["rule"] for r in self.rejected if r["family"] == family}

    def messages_of(self, family: str) -> dict[str, str]:
        return {r["rule"]: r["message"] for r in self.rejected if r["family"] == family}


def validate(raw: str, output: str, **settings: Any) -> Validated:
    """Run the stage on ``raw`` with ``settings`` and read back its tables."""
    manifest = run(ValidationConfig(raw=raw, output=output, **settings))
    return read_back(raw, output, manifest)


def read_back(raw: str, output: str, manifest: Manifest | None = None) -> Validated:
    return Validated(
        raw=raw,
        output=output,
        manifest=manifest,
        rejected=shards.read_table(f"{output}/rejected.parquet").to_pylist(),
        accepted=shards.read_table(f"{output}/accepted.parquet").to_pylist(),
    )


@pytest.fixture(scope="module")
def rule_corpus(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    """The RULE_FONTS corpus, validated with the default config."""
    root: Path = tmp_path_factory.mktemp("rules")
    raw = make_raw_store(str(root / "raw"), [item for item, _ in RULE_FONTS.values()])
    return validate(raw, str(root / "validated"))


@pytest.fixture
def corpus_maker(tmp_path: Path) -> Callable[..., str]:
    """Build a raw store of the given fonts under a fresh folder; returns its URL."""
    counter = iter(range(1000))

    def make(fonts: list[Any]) -> str:
        return make_raw_store(str(tmp_path / f"raw{next(counter)}"), fonts)

    return make
