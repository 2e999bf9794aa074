"""The ``web`` source: crawl from a page to the font files and archives it links to.

Starting at ``url``, the crawler reads HTML pages breadth first, up to ``depth`` links
away (0: the start page only), staying on the start host unless ``same_host`` is off.
Links whose path ends with a font or archive extension and that match ``include`` and
not ``exclude`` (fnmatch patterns on the full URL or the file name) become downloads;
other links are pages to read while depth remains. If ``url`` itself names a font or an
archive it is downloaded directly (the Google Fonts archive example does this).

robots.txt is honoured for pages and downloads (unless ``robots: false``), requests to
a host keep to ``http.rate_per_host`` (or a longer ``Crawl-delay``), and every request
goes through the run's shared client, with its timeouts, retries and User-Agent.
"""

from __future__ import annotations

import logging
import posixpath
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from pydantic import Field, field_validator

from glyphflow.ingestion.http import DownloadError
from glyphflow.ingestion.items import Failure, Item
from glyphflow.ingestion.sources import Source, SourceOptions, is_wanted_name, matches_any

__all__ = ["WebSource", "extract_links"]

_log = logging.getLogger(__name__)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PAGE_EXTENSIONS = ("", ".html", ".htm", ".xhtml", ".php", ".asp", ".aspx", ".jsp", ".cgi")


class WebOptions(SourceOptions):
    url: str = Field(description="start page (or a font/archive URL to download)")
    depth: int = Field(1, ge=0, le=10, description="links to follow away from the start page")
    include: list[str] = Field(default_factory=lambda: ["*"], description="fnmatch patterns")
    exclude: list[str] = Field(default_factory=list, description="fnmatch patterns")
    same_host: bool = Field(True, description="stay on the start page's host")
    robots: bool = Field(True, description="honour robots.txt")
    max_pages: int = Field(200, ge=1, description="most pages read")
    max_page_bytes: int = Field(5 << 20, gt=0, description="largest page read")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s):// URL (got {value!r})")
        return value


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        elif tag in ("a", "area", "link") and values.get("href"):
            self.links.append(str(values["href"]))


def extract_links(html: str, page_url: str) -> list[str]:
    """Absolute http(s) links of a page, in document order, without fragments or repeats."""
    parser = _LinkParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception as err:  # html.parser is lenient; this is for the truly broken
        _log.debug("could not parse all of %s: %s", page_url, err)
    base = urljoin(page_url, parser.base) if parser.base else page_url
    out: list[str] = []
    for link in parser.links:
        absolute = urldefrag(urljoin(base, link.strip()))[0]
        if urlsplit(absolute).scheme in ("http", "https") and absolute not in out:
            out.append(absolute)
    return out


def _path_of(url: str) -> str:
    return urlsplit(url).path


def _looks_like_page(url: str) -> bool:
    """A link worth reading as a page: no extension, or an HTML-ish one."""
    return posixpath.splitext(_path_of(url))[1].lower() in _PAGE_EXTENSIONS


class WebSource(Source):
    """A polite crawl to font downloads (see the module docstring)."""

    Options = WebOptions
    options: WebOptions

    def items(self) -> Iterator[Item | Failure]:
        http = self.context.http
        if http is None:
            raise RuntimeError("the web source needs the run's HTTP client")
        opts = self.options
        start = opts.url
        host = urlsplit(start).netloc
        if is_wanted_name(_path_of(start)):
            yield from self._file(start)
            return
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        seen_pages = {start}
        seen_files: set[str] = set()
        pages = 0
        while queue and pages < opts.max_pages:
            page_url, depth = queue.popleft()
            if opts.robots and not http.allowed(page_url):
                yield self.failure(
                    page_url, "robots_disallowed", f"robots.txt forbids reading {page_url}"
                )
                continue
            pages += 1
            try:
                page = http.get_page(page_url, opts.max_page_bytes)
            except DownloadError as err:
                yield self.failure(page_url, err.reason, f"page not read: {err}")
                continue
            if page.content_type and page.content_type not in _HTML_TYPES:
                _log.info("skipping %s: not an HTML page (%s)", page_url, page.content_type)
                continue
            for link in extract_links(page.text, page.url):
                if opts.same_host and urlsplit(link).netloc != host:
                    continue
                if is_wanted_name(_path_of(link)):
                    if link in seen_files:
                        continue
                    seen_files.add(link)
                    if matches_any(link, opts.include) and not matches_any(link, opts.exclude):
                        yield from self._file(link)
                elif (
                    depth < opts.depth
                    and link not in seen_pages
                    and _looks_like_page(link)
                    and not matches_any(link, opts.exclude)
                ):
                    seen_pages.add(link)
                    queue.append((link, depth + 1))
        if queue:
            _log.warning(
                "%s: stopped after %d pages (max_pages); %d left unread",
                self.name,
                pages,
                len(queue),
            )

    def _file(self, url: str) -> Iterator[Item | Failure]:
        http = self.context.http
        assert http is not None
        if self.options.robots and not http.allowed(url):
            yield self.failure(url, "robots_disallowed", f"robots.txt forbids downloading {url}")
            return
        yield Item(self.name, url, "http")
