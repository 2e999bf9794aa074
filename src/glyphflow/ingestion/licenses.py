"""A best guess at a font's licence from what its name table says.

Fonts state their licence in prose (name ID 13) and a URL (name ID 14), sometimes only
in the copyright notice. The guess is a short identifier, SPDX where one exists, so
that later stages can filter by licence: ``OFL-1.1``, ``Apache-2.0``, ``UFL-1.0``
(Ubuntu Font Licence), ``GPL-with-font-exception``, ``Bitstream-Vera``, ``MIT``, or
``unknown``. It is a guess: the text is kept beside it in the index for a person to read.
"""

from __future__ import annotations

import re

__all__ = ["LICENSE_RULES", "guess_license"]

#: (identifier, pattern) in order of precedence; patterns see lower-cased text.
LICENSE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "OFL-1.1",
        re.compile(r"open font licen[cs]e|scripts\.sil\.org/ofl|openfontlicense\.org|\bofl\b"),
    ),
    ("Apache-2.0", re.compile(r"apache licen[cs]e|apache\.org/licenses")),
    ("UFL-1.0", re.compile(r"ubuntu font licen[cs]e|font\.ubuntu\.com/ufl")),
    (
        "GPL-with-font-exception",
        re.compile(
            r"(gnu general public licen[cs]e|\bgpl\b).*(font exception|special exception"
            r"|as a special exception)|liberation ?fonts? licen[cs]e"
        ),
    ),
    ("Bitstream-Vera", re.compile(r"bitstream vera|dejavu|arev fonts")),
    ("MIT", re.compile(r"\bmit licen[cs]e\b|opensource\.org/licenses/mit")),
)


def guess_license(*texts: str | None) -> str:
    """The first rule matching any of ``texts`` (licence text, URL, copyright), else unknown."""
    joined = " ".join(t for t in texts if t).lower()
    joined = re.sub(r"\s+", " ", joined)
    if not joined:
        return "unknown"
    for identifier, pattern in LICENSE_RULES:
        if pattern.search(joined):
            return identifier
    return "unknown"
