"""Real fonts from Debian packages: a text face passes, symbol and dingbat fonts fail.

Each test skips, with the package to install, where the machine lacks the font.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.raw_store import make_raw_store
from tests.validation.conftest import Validated, validate

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# PostScript Type 1 (PFA, Debian's .t1) and OpenType versions of the URW symbol fonts.
SYMBOL_T1 = Path("/usr/share/fonts/type1/urw-base35/StandardSymbolsPS.t1")
DINGBATS_OTF = Path("/usr/share/fonts/opentype/urw-base35/D050000L.otf")


def _need(path: Path, package: str) -> bytes:
    if not path.exists():
        pytest.skip(f"{path} is not installed (Debian package {package})")
    return path.read_bytes()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    fonts = [(p.name, p.read_bytes()) for p in (DEJAVU, SYMBOL_T1, DINGBATS_OTF) if p.exists()]
    if not fonts:
        pytest.skip("none of the real test fonts is installed")
    root = tmp_path_factory.mktemp("real")
    raw = make_raw_store(str(root / "raw"), fonts)
    return validate(raw, str(root / "out"), min_accepted=0, max_reject_fraction=1.0)


def _rules(real: Validated, name: str) -> set[str]:
    return {r["rule"] for r in real.rejected if r["source_url"].endswith(name)}


@pytest.mark.slow
def test_dejavu_sans_passes_every_rule(real: Validated) -> None:
    _need(DEJAVU, "fonts-dejavu-core")
    assert _rules(real, DEJAVU.name) == set()
    assert "DejaVu Sans" in [row["family"] for row in real.accepted]


@pytest.mark.slow
def test_type1_symbol_font_fails_as_a_symbol_font(real: Validated) -> None:
    _need(SYMBOL_T1, "fonts-urw-base35")
    rules = _rules(real, SYMBOL_T1.name)
    assert "symbol" in rules
    message = next(
        r["message"]
        for r in real.rejected
        if r["source_url"].endswith(SYMBOL_T1.name) and r["rule"] == "symbol"
    )
    assert "A\u2192Alpha" in message  # its letters are Greek by glyph name
    # FreeType's Unicode map of the font has no Latin letters either.
    assert "coverage" in rules


@pytest.mark.slow
def test_dingbat_font_with_letters_in_its_unicode_cmap_fails(real: Validated) -> None:
    _need(DINGBATS_OTF, "fonts-urw-base35")
    # D050000L.otf maps A-Z to pictures through a Unicode cmap: coverage is complete,
    # only the glyph names (a10, a29...) give it away.
    assert _rules(real, DINGBATS_OTF.name) == {"symbol"}
