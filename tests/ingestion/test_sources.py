"""Sources list the right items: files (folders, globs, URLs), system and web crawls."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.ingestion.config import HttpConfig
from glyphflow.ingestion.http import HttpClient
from glyphflow.ingestion.items import Failure, Item
from glyphflow.ingestion.sources import SourceContext, pair_companions
from glyphflow.ingestion.sources.files import FilesSource
from glyphflow.ingestion.sources.system import SystemSource, default_font_folders
from glyphflow.ingestion.sources.web import WebSource, extract_links
from tests.support.ingestion import FAST_HTTP
from tests.support.webserver import WebServer


def _list(source_cls: type, tmp_path: Path | None = None, **kwargs: object) -> list[Item | Failure]:
    options = source_cls.Options.model_validate(kwargs)
    context = SourceContext()
    if source_cls is WebSource:
        assert tmp_path is not None
        context.http = HttpClient(HttpConfig.model_validate(FAST_HTTP), str(tmp_path))
    try:
        return list(source_cls("src", options, context).items())
    finally:
        if context.http is not None:
            context.http.close()


def _names(found: list[Item | Failure]) -> list[str]:
    return [Path(i.url).name for i in found if isinstance(i, Item)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "fonts"
    for name in [
        "A.ttf",
        "b.OTF",
        "pack.zip",
        "pack.tar.gz",
        "notes.txt",
        "Type1.pfb",
        "Type1.AFM",
        "other.afm",
        "sub/C.woff2",
        "sub/deeper/D.ttc",
        "__MACOSX/A.ttf",
    ]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return root


def test_folder_is_walked_for_fonts_and_archives(folder: Path) -> None:
    found = _list(FilesSource, urls=[str(folder)], exclude=["*/__MACOSX/*"])
    assert _names(found) == [
        "A.ttf",
        "Type1.pfb",
        "b.OTF",
        "pack.tar.gz",
        "pack.zip",
        "C.woff2",
        "D.ttc",
    ]
    type1 = next(i for i in found if isinstance(i, Item) and i.url.endswith(".pfb"))
    assert type1.companions == (str(folder / "Type1.AFM"),)
    assert all(isinstance(i, Item) and i.kind == "local" for i in found)


def test_not_recursive_and_include(folder: Path) -> None:
    assert _names(_list(FilesSource, urls=[str(folder)], recursive=False, include=["*.ttf"])) == [
        "A.ttf"
    ]


def test_globs_explicit_files_and_missing_paths(folder: Path) -> None:
    found = _list(
        FilesSource,
        urls=[
            str(folder / "*.zip"),
            str(folder / "notes.txt"),  # named explicitly: taken, its content decides
            str(folder / "nothing-*.ttf"),
            str(folder / "missing.ttf"),
            "https://example.org/font.ttf",
        ],
    )
    assert _names(found) == ["pack.zip", "notes.txt", "font.ttf"]
    assert [i.kind for i in found if isinstance(i, Item)] == ["local", "local", "http"]
    failures = [f for f in found if isinstance(f, Failure)]
    assert [f.reason for f in failures] == ["not_found", "not_found"]
    assert "matches nothing" in failures[0].message


def test_explicit_type1_file_finds_its_metrics(folder: Path) -> None:
    (item,) = _list(FilesSource, urls=[str(folder / "Type1.pfb")])
    assert isinstance(item, Item) and item.companions == (str(folder / "Type1.AFM"),)


def test_bucket_prefix_is_listed(s3_bucket: str) -> None:
    import fsspec

    fs = fsspec.filesystem("s3")
    bucket = s3_bucket.removeprefix("s3://")
    for name in ("in/A.ttf", "in/sub/B.woff", "in/readme.md", "other/C.ttf"):
        fs.pipe(f"{bucket}/{name}", b"x")
    found = _list(FilesSource, urls=[f"{s3_bucket}/in/"])
    assert [i.url for i in found if isinstance(i, Item)] == [
        f"{s3_bucket}/in/A.ttf",
        f"{s3_bucket}/in/sub/B.woff",
    ]
    assert {i.kind for i in found if isinstance(i, Item)} == {"fsspec"}
    globbed = _list(FilesSource, urls=[f"{s3_bucket}/**/*.ttf"])
    assert _names(globbed) == ["A.ttf", "C.ttf"]


def test_system_source_on_given_folders(folder: Path) -> None:
    link = folder.parent / "linked"
    link.symlink_to(folder)
    found = _list(SystemSource, folders=[str(folder), str(link)], exclude=["*/__MACOSX/*"])
    # Archives are not system fonts; the symlinked folder adds nothing twice.
    assert _names(found) == ["A.ttf", "Type1.pfb", "b.OTF", "C.woff2", "D.ttc"]


def test_system_source_finds_the_installed_fonts() -> None:
    found = _list(SystemSource)
    paths = [i.url for i in found if isinstance(i, Item)]
    if not Path("/usr/share/fonts").exists():
        pytest.skip("no fonts installed")
    assert any("DejaVu" in p or "Liberation" in p for p in paths)
    assert len(paths) == len(set(paths))


def test_default_folders_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINDIR", r"C:\Windows")
    windows = default_font_folders("win32")
    assert windows[0].startswith("C:\\Windows") and windows[0].endswith("Fonts")
    assert "/Library/Fonts" in default_font_folders("darwin")
    monkeypatch.setenv("XDG_DATA_DIRS", "/opt/share:/usr/share")
    linux = default_font_folders("linux")
    assert "/opt/share/fonts" in linux and "/usr/share/fonts" in linux
    assert len(linux) == len(set(linux))


def test_pair_companions_by_folder_and_stem() -> None:
    pairs = pair_companions(["a/X.pfb", "a/x.afm", "a/X.pfm", "b/X.afm", "a/Y.t1", "a/Z.ttf"])
    assert pairs == {"a/X.pfb": ("a/X.pfm", "a/x.afm")}


# ---------------------------------------------------------------------------- web


def test_extract_links_resolves_and_cleans() -> None:
    html = """<html><head><base href="/fonts/"></head><body>
    <a href="A.ttf">a</a><a href='sub/B.zip#frag'>b</a><a href="A.ttf">again</a>
    <a href="mailto:x@y">mail</a><a href="javascript:void(0)">js</a>
    <link rel="alternate" href="https://other.org/C.otf"><a>no href</a>
    <a href="  /D.woff2  ">d</a>"""
    assert extract_links(html, "http://h.test/index.html") == [
        "http://h.test/fonts/A.ttf",
        "http://h.test/fonts/sub/B.zip",
        "https://other.org/C.otf",
        "http://h.test/D.woff2",
    ]


def test_crawl_depth_patterns_and_host(tmp_path: Path, web: WebServer) -> None:
    web.page(
        "/",
        '<a href="a/One.ttf">1</a><a href="a/Two.zip">2</a><a href="a/Skip.otf">3</a>'
        '<a href="level1/">deeper</a><a href="http://elsewhere.invalid/x.ttf">x</a>'
        '<a href="image.png">png</a>',
    )
    web.page("/level1/", '<a href="Three.woff2">3</a><a href="../level2.html">deeper</a>')
    web.page("/level2.html", '<a href="/Four.ttf">4</a>')
    found = _list(WebSource, tmp_path, url=web.url("/"), depth=1, exclude=["*Skip*"])
    assert [i.url for i in found if isinstance(i, Item)] == [
        web.url("/a/One.ttf"),
        web.url("/a/Two.zip"),
        web.url("/level1/Three.woff2"),
    ]
    assert not web.requests_for("/level2.html")  # beyond depth 1
    assert not web.requests_for("/image.png")  # neither a page nor a font
    deep = _list(WebSource, tmp_path, url=web.url("/"), depth=2, include=["*.ttf"])
    assert _names(deep) == ["One.ttf", "Four.ttf"]


def test_crawl_reports_bad_pages_and_robots(tmp_path: Path, web: WebServer) -> None:
    web.add("/robots.txt", b"User-agent: *\nDisallow: /secret/\n", content_type="text/plain")
    web.page("/", '<a href="gone/">x</a><a href="secret/">y</a><a href="secret/F.ttf">f</a>')
    found = _list(WebSource, tmp_path, url=web.url("/"), depth=1)
    reasons = sorted((Path(f.source_url).name, f.reason) for f in found if isinstance(f, Failure))
    assert reasons == [
        ("F.ttf", "robots_disallowed"),
        ("gone", "http_error"),
        ("secret", "robots_disallowed"),
    ]
    assert not web.requests_for("/secret/")


def test_start_url_naming_an_archive_is_downloaded_directly(tmp_path: Path, web: WebServer) -> None:
    url = web.add("/archive/main.zip", b"PK")
    found = _list(WebSource, tmp_path, url=url)
    assert found == [Item("src", url, "http")]
    assert not web.requests_for("/archive/main.zip")  # listing does not download


def test_max_pages(tmp_path: Path, web: WebServer) -> None:
    web.page("/", "".join(f'<a href="p{i}.html">{i}</a>' for i in range(10)))
    for i in range(10):
        web.page(f"/p{i}.html", f'<a href="F{i}.ttf">f</a>')
    found = _list(WebSource, tmp_path, url=web.url("/"), depth=1, max_pages=4)
    assert _names(found) == ["F0.ttf", "F1.ttf", "F2.ttf"]
