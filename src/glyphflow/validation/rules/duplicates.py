"""Rule ``duplicates``: one copy of each typeface, chosen by a stated rule.

Collections hold the same font many times: as TTF and WOFF2, under a new family name,
in two archives. A model evaluated on fonts whose twins it trained on looks better
than it is, so twins are found and all but one rejected:

- same rendered glyphs: the charset rendered as training renders it, hashed (a hash
  over normalised outlines in effect: units per em, format, names and hinting do not
  change it);
- same PostScript name and version (both present).

Twins form groups (transitively). The one kept is, in order: one that passes every
other rule, the preferred format (``prefer_formats``, first best), the most glyphs,
then the smallest id, so the choice never depends on the order fonts were read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from glyphflow.validation.rules.base import CorpusRule, RuleParams

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["DuplicatesParams", "DuplicatesRule"]


class DuplicatesParams(RuleParams):
    rendered: bool = Field(True, description="twins: the same rendered glyphs")
    name_and_version: bool = Field(True, description="twins: same PostScript name and version")
    prefer_formats: list[str] = Field(
        default_factory=lambda: ["otf", "ttf", "otc", "ttc", "woff2", "woff", "pfb", "pfa"],
        description="which twin to keep, by format, best first (unlisted formats last)",
    )


class DuplicatesRule(CorpusRule):
    name: ClassVar[str] = "duplicates"
    title: ClassVar[str] = "Not a duplicate"
    explanation: ClassVar[str] = (
        "No other font renders the same glyphs or has the same PostScript name and "
        "version. Of a group of twins one is kept: one that passes every other rule, "
        "then by format preference, then the most glyphs, then the smallest id."
    )
    advice: ClassVar[str] = (
        "Nothing is lost: the kept twin is among the accepted fonts. Change prefer_formats "
        "to keep another format."
    )
    requires: ClassVar[tuple[str, ...]] = ("parses",)
    Params: ClassVar[type[RuleParams]] = DuplicatesParams

    def check_corpus(
        self, fonts: Sequence[FontFacts], failed: Mapping[str, Sequence[str]]
    ) -> dict[str, str]:
        p = self.params
        assert isinstance(p, DuplicatesParams)
        parent = {f.id: f.id for f in fonts}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def link(members: list[str]) -> None:
            for other in members[1:]:
                parent[find(other)] = find(members[0])

        if p.rendered:
            by_hash: dict[str, list[str]] = {}
            for f in fonts:
                if f.glyph_hash:
                    by_hash.setdefault(f.glyph_hash, []).append(f.id)
            for members in by_hash.values():
                link(members)
        if p.name_and_version:
            by_name: dict[tuple[str, str], list[str]] = {}
            for f in fonts:
                ps, version = f.row.get("postscript_name"), f.row.get("version")
                if ps and version:
                    by_name.setdefault((str(ps), str(version)), []).append(f.id)
            for members in by_name.values():
                link(members)

        groups: dict[str, list[FontFacts]] = {}
        for f in fonts:
            groups.setdefault(find(f.id), []).append(f)
        out: dict[str, str] = {}
        for group in groups.values():
            if len(group) < 2:
                continue
            keeper = min(group, key=lambda f: self._key(f, failed))
            for f in group:
                if f is not keeper:
                    out[f.id] = self._message(f, keeper, failed, p)
        return out

    def _rank(self, fmt: str | None) -> int:
        p = self.params
        assert isinstance(p, DuplicatesParams)
        return p.prefer_formats.index(fmt) if fmt in p.prefer_formats else len(p.prefer_formats)

    def _key(self, f: FontFacts, failed: Mapping[str, Sequence[str]]) -> tuple[Any, ...]:
        return (bool(failed.get(f.id)), self._rank(f.format), -(f.num_glyphs or 0), f.id)

    def _message(
        self,
        f: FontFacts,
        keeper: FontFacts,
        failed: Mapping[str, Sequence[str]],
        p: DuplicatesParams,
    ) -> str:
        same = []
        if p.rendered and f.glyph_hash and f.glyph_hash == keeper.glyph_hash:
            same.append("same rendered glyphs")
        ps, version = f.row.get("postscript_name"), f.row.get("version")
        if (
            p.name_and_version
            and ps
            and version
            and (ps, version) == (keeper.row.get("postscript_name"), keeper.row.get("version"))
        ):
            same.append(f"same PostScript name {ps!r} and version {version!r}")
        if not same:
            same.append("twin of a twin")
        mine, theirs = self._key(f, failed), self._key(keeper, failed)
        if mine[0] != theirs[0]:
            why = "it passes the other rules"
        elif mine[1] != theirs[1]:
            why = f"format {keeper.format} is preferred to {f.format}"
        elif mine[2] != theirs[2]:
            why = f"it has more glyphs ({keeper.num_glyphs} > {f.num_glyphs})"
        else:
            why = "a tie, so the smaller id is kept"
        return (
            f"duplicate of {keeper.id} ({keeper.label()}, {keeper.format}): "
            f"{', '.join(same)}; kept that one because {why}"
        )
