"""The style explorer page in a real browser: Debian's Chromium, headless, driven by
Playwright, against the app served by uvicorn on 127.0.0.1.

What a person does: move a slider and watch the characters redraw, drop a font file to
jump to its style, type text, blend two fonts, download the style as a font. Screenshots
go to ``test-artifacts/`` (kept for people to look at). The page must make no request
to anywhere but the server.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")

CHROMIUM = os.environ.get("GLYPHFLOW_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "serving"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:", "blob:"))
            else foreign.append(request.url)
        ),
    )
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(live_server.url)
    page.wait_for_selector("#sheet[data-draws='1']", timeout=20_000)
    yield page
    assert not foreign, f"the page reached outside the server: {foreign}"
    assert not errors, f"script errors on the page: {errors}"
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def canvas_pixels(page: Any) -> str:
    return str(page.evaluate("document.getElementById('sheet').toDataURL()"))


def wait_redrawn(page: Any, after: int) -> None:
    page.wait_for_function(
        f"Number(document.getElementById('sheet').dataset.draws) > {after}"
        " && !document.getElementById('status').classList.contains('error')",
        timeout=20_000,
    )


def draws(page: Any) -> int:
    return int(page.get_attribute("#sheet", "data-draws") or 0)


def test_moving_a_slider_redraws_the_charset(page: Any) -> None:
    shot(page, "01-loaded")
    assert page.locator("#sliders input[type=range]").count() == 8
    before = canvas_pixels(page)
    style_before = page.get_attribute("#sheet", "data-style-id")
    slider = page.locator("#z1")
    slider.focus()
    count = draws(page)
    for _ in range(20):  # the keyboard moves it: 20 steps of 0.05 -> +1.0
        page.keyboard.press("ArrowRight")
    page.wait_for_function("document.getElementById('z1-value').textContent === '1.00'")
    page.wait_for_function(
        "document.getElementById('sheet').dataset.styleId !== " + repr(style_before)
    )
    wait_redrawn(page, count)
    assert canvas_pixels(page) != before
    shot(page, "02-slider-moved")
    # typing text draws it in the current style
    page.fill("#text", "Glyphflow 42")
    width = page.evaluate("document.getElementById('text-canvas').width")
    assert width > 100


def test_dropping_a_font_jumps_to_its_style(page: Any, sans: bytes, client: Any) -> None:
    expected = client.post("/v1/encode", files={"file": ("Sans.ttf", sans)}).json()
    before = canvas_pixels(page)
    count = draws(page)
    payload = base64.b64encode(sans).decode()
    data_transfer = page.evaluate_handle(
        """(payload) => {
            const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "ServeSans.ttf", {type: "font/ttf"}));
            return transfer;
        }""",
        payload,
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": data_transfer})
    page.wait_for_function(
        f"document.getElementById('font-result').dataset.styleId === '{expected['style_id']}'"
    )
    wait_redrawn(page, count)
    assert "Serve Sans" in page.inner_text("#font-result")
    value = float(page.input_value("#z1"))
    assert value == pytest.approx(max(-3.0, min(3.0, expected["style"][0])), abs=0.051)
    assert page.get_attribute("#sheet", "data-style-id") == expected["style_id"]
    assert canvas_pixels(page) != before
    shot(page, "03-font-dropped")


def test_a_bad_file_shows_the_reason(page: Any) -> None:
    page.set_input_files(
        "#font-file", files=[{"name": "notes.ttf", "mimeType": "font/ttf", "buffer": b"just text"}]
    )
    page.wait_for_function(
        "document.getElementById('font-result').textContent.includes('not a font')"
    )
    assert "error" in (page.get_attribute("#status", "class") or "")
    shot(page, "04-bad-file")


def test_blending_two_fonts(page: Any, sans: bytes, serif: bytes) -> None:
    page.set_input_files(
        "#blend-a", files=[{"name": "a.ttf", "mimeType": "font/ttf", "buffer": sans}]
    )
    page.wait_for_function("document.getElementById('blend-result').textContent.includes('Font A')")
    page.set_input_files(
        "#blend-b", files=[{"name": "b.ttf", "mimeType": "font/ttf", "buffer": serif}]
    )
    page.wait_for_function("!document.getElementById('mix').disabled")
    count = draws(page)
    page.locator("#mix").fill("0")
    wait_redrawn(page, count)
    at_a = page.get_attribute("#sheet", "data-style-id")
    count = draws(page)
    page.locator("#mix").fill("1")
    wait_redrawn(page, count)
    at_b = page.get_attribute("#sheet", "data-style-id")
    assert at_a != at_b
    shot(page, "05-blend")


def test_downloading_the_style_as_a_font(page: Any) -> None:
    from fontTools.ttLib import TTFont

    page.click("#random")
    page.wait_for_function("document.getElementById('z1-value').textContent !== '0.00'")
    with page.expect_download(timeout=60_000) as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename.endswith("-Regular.otf")
    path = download.path()
    data = Path(path).read_bytes()
    font = TTFont(io.BytesIO(data))
    assert font.sfntVersion == "OTTO" and "CFF " in font
    charset = page.evaluate("state.info.charset")
    assert {chr(c) for c in font.getBestCmap()} >= set(charset)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Downloaded')")
    shot(page, "06-downloaded")
