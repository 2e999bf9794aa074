"""Generated glyphs to an installable OpenType (CFF) font.

The model draws small grey images; a font needs outlines. Each glyph is upsampled
(bicubic, ``export.upsample`` times), smoothed (Gaussian, ``export.smooth`` model
pixels), thresholded at ``export.threshold`` and traced to Bézier outlines with potrace
(the ``potracer`` package: a pure-Python port of Peter Selinger's potrace, so no C
library is needed). fontTools' FontBuilder then makes the font:

- glyph outlines as CFF charstrings (outer contours counter-clockwise, holes clockwise,
  as PostScript outlines want);
- ``cmap`` for every exported character, plus ``space`` and ``.notdef``;
- ``hmtx`` from ink bounds: each glyph gets ``export.sidebearing`` ems on either side
  of its ink, so spacing follows the shapes;
- ``name``: family ``<family_prefix> <style id>``, and the model and style ids in the
  unique id and description, so a font can always be traced back to what made it;
- vertical metrics (``hhea``, ``OS/2``) from the render settings the model was trained
  with: the image row of the baseline and the scale (em box, cap height or fit) decide
  where the baseline and the ascender and descender fall.

Pixel (x, y) of the upsampled image (y down) maps to font units
``(x * s, (baseline_px - y) * s)`` with ``s`` font units per upsampled pixel.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glyphflow.core.errors import MissingDependencyError
from glyphflow.glyphs import RenderConfig
from glyphflow.serving.config import ExportConfig

if TYPE_CHECKING:
    from fontTools.pens.recordingPen import RecordingPen
    from numpy.typing import NDArray

__all__ = ["FontNames", "Geometry", "build_otf", "geometry_of", "glyph_name", "trace_glyphs"]

#: Advance of the space, and of a glyph with no ink, as a fraction of the em.
SPACE = 0.3


@dataclass(frozen=True)
class FontNames:
    """Who a font says it is."""

    family: str
    style_id: str
    model_id: str
    version: str = "Version 1.000"

    @property
    def postscript(self) -> str:
        base = re.sub(r"[^A-Za-z0-9]", "", self.family)[:50] or "Glyphflow"
        return f"{base}-Regular"


@dataclass(frozen=True)
class Geometry:
    """Where glyph pixels land in font units (see the module doc)."""

    units_per_em: int
    scale: float  # font units per *model* pixel
    baseline_px: float  # baseline row in model pixels, from the top
    ascender: int
    descender: int  # negative
    cap_height: int
    x_height: int


def geometry_of(render: RenderConfig, units_per_em: int) -> Geometry:
    """Metrics of an exported font from the render settings of the model's data."""
    size = render.glyph_size
    box = size - 2 * render.padding  # the padded box, in which ``baseline`` is a fraction
    if render.normalisation == "cap_height":
        # capital H is cap_height of the box; give it a typical 0.7 em
        scale = 0.7 * units_per_em / (render.cap_height * box)
        baseline = render.padding + render.baseline * box
    elif render.normalisation == "em":
        scale = units_per_em / box  # the padded box is one em
        baseline = render.padding + render.baseline * box
    else:  # fit: glyphs fill the padded box; sit them on its bottom edge
        scale = units_per_em / box
        baseline = float(render.padding + box)
    ascender = round(baseline * scale)
    descender = -round((size - baseline) * scale)
    return Geometry(
        units_per_em=units_per_em,
        scale=scale,
        baseline_px=baseline,
        ascender=ascender,
        descender=descender,
        cap_height=round(0.7 * units_per_em)
        if render.normalisation == "cap_height"
        else round(min(ascender, 0.72 * units_per_em)),
        x_height=round(0.5 * units_per_em),
    )


def glyph_name(char: str) -> str:
    """The AGL name of a character (``A``, ``zero``, ``uni0416``...)."""
    from fontTools.agl import UV2AGL

    code = ord(char)
    return UV2AGL.get(code) or (f"uni{code:04X}" if code <= 0xFFFF else f"u{code:05X}")


def _potrace() -> Any:
    try:
        import potrace
    except ImportError:
        raise MissingDependencyError("font export", "serve", "potrace") from None
    if not hasattr(potrace, "Bitmap"):
        raise MissingDependencyError("font export (the potracer package)", "serve", "potrace")
    return potrace


def _upsampled_ink(images: NDArray[np.floating[Any]], config: ExportConfig) -> NDArray[np.bool_]:
    """(N, H, W) coverage in [0, 1] -> (N, H*u, W*u) ink masks, upsampled and smoothed."""
    import torch
    import torch.nn.functional as functional

    pixels = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None]
    factor = config.upsample
    if factor > 1:
        pixels = functional.interpolate(
            pixels, scale_factor=factor, mode="bicubic", align_corners=False
        )
    sigma = config.smooth * factor
    if sigma > 0:
        radius = max(1, round(3 * sigma))
        offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernel = kernel / kernel.sum()
        pixels = functional.pad(pixels, (radius, radius, radius, radius), mode="replicate")
        pixels = functional.conv2d(pixels, kernel.view(1, 1, 1, -1))
        pixels = functional.conv2d(pixels, kernel.view(1, 1, -1, 1))
    ink: NDArray[np.bool_] = (pixels[:, 0] >= config.threshold).numpy()
    return ink


def trace_glyphs(
    images: NDArray[np.floating[Any]], geometry: Geometry, config: ExportConfig
) -> list[RecordingPen]:
    """Outlines of each image ``(N, H, W)`` in font units (x from the image's left edge)."""
    from fontTools.pens.areaPen import AreaPen
    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.pens.reverseContourPen import ReverseContourPen

    potrace = _potrace()
    factor = config.upsample
    unit = geometry.scale / factor  # font units per upsampled pixel
    base = geometry.baseline_px * factor

    def point(p: Any) -> tuple[float, float]:
        return (p.x * unit, (base - p.y) * unit)

    pens: list[RecordingPen] = []
    for ink in _upsampled_ink(images, config):
        raw = RecordingPen()
        if ink.any():
            # potracer traces the dark pixels of its input, so hand it the paper
            path = potrace.Bitmap(~ink).trace(
                turdsize=config.turdsize,
                alphamax=config.alphamax,
                opticurve=config.opttolerance > 0,
                opttolerance=config.opttolerance,
            )
            for curve in path:
                raw.moveTo(point(curve.start_point))
                for segment in curve.segments:
                    if segment.is_corner:
                        raw.lineTo(point(segment.c))
                        raw.lineTo(point(segment.end_point))
                    else:
                        raw.curveTo(point(segment.c1), point(segment.c2), point(segment.end_point))
                raw.closePath()
        # potrace alternates orientation between outlines and holes; make the largest
        # (always an outline) counter-clockwise, which turns every contour the right way
        largest = 0.0
        for contour in _contours(raw):
            area = AreaPen()
            contour.replay(area)
            if abs(area.value) > abs(largest):
                largest = area.value
        if largest < 0:
            fixed = RecordingPen()
            raw.replay(ReverseContourPen(fixed))
            raw = fixed
        pens.append(raw)
    return pens


def _contours(pen: RecordingPen) -> list[RecordingPen]:
    from fontTools.pens.recordingPen import RecordingPen

    out: list[RecordingPen] = []
    current = RecordingPen()
    for operator, operands in pen.value:
        current.value.append((operator, operands))
        if operator in ("closePath", "endPath"):
            out.append(current)
            current = RecordingPen()
    return out


def build_otf(
    images: NDArray[np.floating[Any]],
    chars: Sequence[str],
    render: RenderConfig,
    names: FontNames,
    config: ExportConfig | None = None,
) -> bytes:
    """An OTF (CFF outlines) of glyph images ``(N, H, W)`` in [0, 1] for ``chars``."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.misc.transform import Transform
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.pens.transformPen import TransformPen

    config = config or ExportConfig()
    if len(chars) != len(images):
        raise ValueError(f"one image per character (got {len(images)} images, {len(chars)})")
    if len(set(chars)) != len(chars):
        raise ValueError("characters of a font must be distinct")
    upm = config.units_per_em
    geometry = geometry_of(render, upm)
    outlines = trace_glyphs(images, geometry, config)
    side = round(config.sidebearing * upm)
    space = round(SPACE * upm)

    order = [".notdef", "space"]
    cmap = {32: "space"}
    charstrings: dict[str, Any] = {}
    metrics: dict[str, tuple[int, int]] = {}

    notdef = T2CharStringPen(round(0.5 * upm), None)
    _box(notdef, side, 0, round(0.5 * upm) - side, geometry.ascender - side)
    charstrings[".notdef"] = notdef.getCharString()
    metrics[".notdef"] = (round(0.5 * upm), side)
    empty = T2CharStringPen(space, None)
    charstrings["space"] = empty.getCharString()
    metrics["space"] = (space, 0)

    for char, outline in zip(chars, outlines, strict=True):
        name = glyph_name(char)
        if name in charstrings:
            continue
        order.append(name)
        cmap[ord(char)] = name
        bounds = BoundsPen(None)
        outline.replay(bounds)
        if bounds.bounds is None:
            pen = T2CharStringPen(space, None)
            charstrings[name] = pen.getCharString()
            metrics[name] = (space, 0)
            continue
        xmin, _, xmax, _ = bounds.bounds
        advance = round(xmax - xmin) + 2 * side
        pen = T2CharStringPen(advance, None)
        outline.replay(TransformPen(pen, Transform().translate(side - xmin, 0)))
        charstrings[name] = pen.getCharString()
        shifted = BoundsPen(None)
        outline.replay(TransformPen(shifted, Transform().translate(side - xmin, 0)))
        lsb = round(shifted.bounds[0]) if shifted.bounds else side
        metrics[name] = (advance, lsb)

    builder = FontBuilder(upm, isTTF=False)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    full_name = f"{names.family} Regular"
    builder.setupCFF(
        names.postscript,
        {"FullName": full_name, "FamilyName": names.family, "Weight": "Regular"},
        charstrings,
        {},
    )
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=geometry.ascender, descent=geometry.descender)
    builder.setupNameTable(
        {
            "familyName": names.family,
            "styleName": "Regular",
            "uniqueFontIdentifier": f"glyphflow:{names.model_id}:{names.style_id}",
            "fullName": full_name,
            "psName": names.postscript,
            "version": names.version,
            "description": (
                f"Generated by glyphflow from model {names.model_id}, style {names.style_id}."
            ),
        }
    )
    builder.setupOS2(
        sTypoAscender=geometry.ascender,
        sTypoDescender=geometry.descender,
        sTypoLineGap=0,
        usWinAscent=max(geometry.ascender, 0),
        usWinDescent=max(-geometry.descender, 0),
        sxHeight=geometry.x_height,
        sCapHeight=geometry.cap_height,
        achVendID="GLFL",
        fsType=0,  # installable embedding
    )
    builder.setupPost()
    buffer = io.BytesIO()
    builder.save(buffer)
    return buffer.getvalue()


def _box(pen: Any, x0: int, y0: int, x1: int, y1: int) -> None:
    pen.moveTo((x0, y0))
    pen.lineTo((x1, y0))
    pen.lineTo((x1, y1))
    pen.lineTo((x0, y1))
    pen.closePath()
