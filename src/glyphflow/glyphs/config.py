"""How glyphs are rendered: the charset, the image size and where a glyph lands in it.

One :class:`RenderConfig` fixes everything that decides the pixels of a glyph record, so
a dataset's manifest can carry it and the serving stage can render an uploaded font
exactly as the training data was rendered.

The charset is a named set (``alphanumeric``, ``uppercase``...; join names with ``+``)
or an explicit string of characters. Labels are positions in the resolved string, so the
order is fixed by the charset text, never by iterating a set.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from glyphflow.core.config import ConfigModel

__all__ = ["NAMED_CHARSETS", "Normalisation", "RenderConfig", "charset", "resolve_charset"]

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"

#: Named character sets, in label order.
NAMED_CHARSETS: dict[str, str] = {
    "uppercase": UPPER,
    "lowercase": LOWER,
    "letters": UPPER + LOWER,
    "digits": DIGITS,
    "alphanumeric": UPPER + LOWER + DIGITS,
}

Normalisation = Literal["em", "cap_height", "fit"]

# Largest supersampled canvas side: beyond this the rasteriser's work per glyph explodes.
_MAX_CANVAS = 2048


@lru_cache(maxsize=128)
def resolve_charset(spec: str) -> str:
    """The characters of a charset spec, in label order; ValueError says what is wrong."""
    if not spec:
        raise ValueError("charset is empty; use a named set (alphanumeric, ...) or characters")
    parts = spec.split("+")
    if all(part in NAMED_CHARSETS for part in parts):
        chars = "".join(NAMED_CHARSETS[part] for part in parts)
    else:
        chars = spec
    seen: set[str] = set()
    for char in chars:
        if char in seen:
            names = ", ".join(NAMED_CHARSETS)
            raise ValueError(
                f"charset lists {char!r} twice; give a named set ({names}, joined with '+') "
                "or a string of distinct characters"
            )
        if not char.isprintable() or char.isspace():
            raise ValueError(
                f"charset holds {char!r}, which draws nothing; use visible characters only"
            )
        seen.add(char)
    return chars


class RenderConfig(ConfigModel):
    """Everything that decides a glyph's pixels; part of every dataset's manifest."""

    charset: str = Field(
        "alphanumeric",
        description=(
            "named set (uppercase, lowercase, letters, digits, alphanumeric; join with '+') "
            "or an explicit string of characters; labels follow this order"
        ),
    )
    glyph_size: int = Field(64, ge=8, le=512, description="side of a glyph image in pixels")
    normalisation: Normalisation = Field(
        "em",
        description=(
            "em: one scale per font (units per em fills the box), baseline on a fixed row; "
            "cap_height: capital H fills `cap_height` of the box, baseline fixed; "
            "fit: each glyph cropped to its ink and fitted to the box"
        ),
    )
    padding: int = Field(2, ge=0, description="empty pixels kept on every side of the box")
    baseline: float = Field(
        0.8,
        gt=0,
        lt=1,
        description="em and cap_height: baseline row as a fraction of the box from its top",
    )
    cap_height: float = Field(
        0.6, gt=0, le=1, description="cap_height: height of capital H as a fraction of the box"
    )
    supersample: int = Field(
        1, ge=1, le=8, description="render this many times larger, then average down"
    )
    clip_tolerance: float = Field(
        0.02,
        ge=0,
        le=0.5,
        description=(
            "a glyph whose ink leaves the image by more than this fraction of its side is "
            "dropped as clipped (em and cap_height)"
        ),
    )
    drop_duplicates: bool = Field(
        True, description="drop a glyph whose image equals an earlier character's image"
    )

    @field_validator("charset")
    @classmethod
    def _charset_resolves(cls, value: str) -> str:
        resolve_charset(value)
        return value

    @model_validator(mode="after")
    def _geometry_fits(self) -> RenderConfig:
        inner = self.glyph_size - 2 * self.padding
        if inner < 4:
            raise ValueError(
                f"padding leaves {inner} pixels of a {self.glyph_size}-pixel glyph; "
                f"padding must be < {(self.glyph_size - 4) // 2 + 1} (got {self.padding})"
            )
        if self.glyph_size * self.supersample > _MAX_CANVAS:
            raise ValueError(
                f"glyph_size * supersample must be <= {_MAX_CANVAS} "
                f"(got {self.glyph_size} * {self.supersample})"
            )
        if self.normalisation == "cap_height" and self.cap_height > self.baseline:
            raise ValueError(
                "cap_height must be <= baseline, or capital letters rise above the image "
                f"(got cap_height {self.cap_height} > baseline {self.baseline})"
            )
        return self

    @property
    def chars(self) -> str:
        """The resolved characters, in label order."""
        return resolve_charset(self.charset)

    @classmethod
    def from_manifest(cls, manifest: Any) -> RenderConfig:
        """The render config a glyph dataset was made with, from its manifest.

        Training and serving call this on the preprocessing output's manifest (a
        :class:`~glyphflow.core.manifest.Manifest` or its JSON as a mapping) so that
        uploads are rendered exactly like the training data.
        """
        config = manifest.get("config") if isinstance(manifest, Mapping) else manifest.config
        render = (config or {}).get("render")
        if render is None:
            raise ValueError("the manifest holds no render config: not a glyph dataset")
        return cls.model_validate(render)


def charset(config: RenderConfig) -> str:
    """The characters ``config`` renders, in label order (label i is ``charset(config)[i]``)."""
    return config.chars
