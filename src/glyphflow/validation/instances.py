"""Named instances of variable fonts as rows of their own.

A variable font is one file but many styles (Light, Regular, Bold...). By default
validation judges its default instance, as ingestion indexed it. With
``expand_variable_instances`` each named instance of ``fvar`` becomes a row: id
``<font id>@wght=700,wdth=100``, its own subfamily, full and PostScript names, weight,
width and italic from its coordinates, and ``instance`` holding the coordinates. Both
validation (judging) and preprocessing (rendering) pin the font there with
:func:`glyphflow.io.fontfiles.instantiate`, so each instance is judged and trained on as
itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from glyphflow.io import fontfiles, storage

__all__ = ["expand_instances", "instance_rows"]

_log = logging.getLogger(__name__)

# usWidthClass from the wdth axis (percent of normal width), OpenType's table.
_WIDTHS = ((50.0, 1), (62.5, 2), (75.0, 3), (87.5, 4), (100.0, 5), (112.5, 6), (125.0, 7),
           (150.0, 8), (200.0, 9))  # fmt: skip


def _width_class(percent: float) -> int:
    return min(_WIDTHS, key=lambda item: abs(item[0] - percent))[1]


def _fmt(value: float) -> str:
    return f"{value:g}"


def instance_rows(row: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """One row per named instance of the variable face in ``row``; [] if it has none."""
    font = fontfiles.open_face(data, int(row.get("face_index") or 0), lazy=True)
    try:
        if "fvar" not in font:
            return []
        names = font.get("name")

        def name(name_id: int | None) -> str | None:
            if names is None or name_id is None or name_id == 0xFFFF:
                return None
            value = names.getDebugName(name_id)
            return str(value).strip() if value else None

        rows = []
        family = row.get("family") or ""
        base_ps = (row.get("postscript_name") or family.replace(" ", "")).split("-")[0]
        for instance in font["fvar"].instances:
            coords = {tag: float(value) for tag, value in instance.coordinates.items()}
            label = ",".join(f"{tag}={_fmt(value)}" for tag, value in coords.items())
            style = name(instance.subfamilyNameID) or label
            ps = name(getattr(instance, "postscriptNameID", None))
            italic = bool(row.get("italic")) or coords.get("ital", 0.0) >= 0.5
            italic = italic or coords.get("slnt", 0.0) != 0.0
            new = dict(row)
            new.update(
                id=f"{row['id']}@{label}",
                subfamily=style,
                full_name=f"{family} {style}".strip(),
                postscript_name=ps or f"{base_ps}-{style.replace(' ', '')}",
                weight_class=round(coords["wght"]) if "wght" in coords else row.get("weight_class"),
                width_class=_width_class(coords["wdth"])
                if "wdth" in coords
                else row.get("width_class"),
                italic=italic,
                instance=[{"tag": tag, "value": value} for tag, value in coords.items()],
            )
            rows.append(new)
        return rows
    finally:
        font.close()


def expand_instances(rows: list[dict[str, Any]], raw_url: str) -> Iterator[dict[str, Any]]:
    """``rows`` with every variable face replaced by its named instances.

    A variable face whose instances cannot be read stays as it is (its default
    instance is judged); the problem is logged.
    """
    for row in rows:
        if not row.get("variable"):
            yield row
            continue
        try:
            data = storage.read_bytes(storage.join(raw_url, str(row["stored_path"])))
            expanded = instance_rows(row, data)
        except Exception as err:  # unreadable: judged as one row, where parsing reports it
            _log.warning("cannot list the instances of %s: %s", row["id"], err)
            expanded = []
        yield from (expanded or [row])
