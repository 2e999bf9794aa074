"""report.html in a real headless Chromium: thumbnails load, counts show, nothing remote.

The screenshot is kept under test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.validation.conftest import RULE_FONTS, Validated

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_report_is_self_contained(rule_corpus: Validated) -> None:
    html = Path(rule_corpus.output, "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert "<script" not in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)


@pytest.mark.slow
def test_report_opens_in_chromium_with_thumbnails_and_counts(rule_corpus: Validated) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    report = Path(rule_corpus.output, "report.html")
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            widths = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
            )
            # One thumbnail per rejected font (per failed rule) and per accepted font.
            assert len(widths) >= len(RULE_FONTS)
            assert all(width > 0 for width in widths), widths

            fonts = page.locator("#count-fonts .num").inner_text()
            accepted = page.locator("#count-accepted .num").inner_text()
            rejected = page.locator("#count-rejected .num").inner_text()
            assert (fonts, accepted, rejected) == (
                str(len(RULE_FONTS)),
                "1",
                str(len(RULE_FONTS) - 1),
            )
            symbol_row = page.locator('tr[data-rule="symbol"]')
            assert symbol_row.get_attribute("data-failed") == "2"
            assert page.locator("#rule-symbol").is_visible()
            assert "Box Sans" in page.locator("#rejected").inner_text()
            assert "Good Sans" in page.locator("#accepted").inner_text()
            assert page.locator("svg.chart").count() >= 3
            page.screenshot(path=str(ARTIFACTS / "validation-report.png"), full_page=True)
        finally:
            browser.close()
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert (ARTIFACTS / "validation-report.png").stat().st_size > 10_000
