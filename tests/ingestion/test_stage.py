"""One ingestion run over every kind of source, its rows and failures, and a no-op rerun.

The world: a local folder (TTF, OTF, WOFF2, a TTC, WOFF in a sub-folder, a Type 1
font with its AFM), a zip and a tar.gz, a web page on a real HTTP server (a font, an
archive, a second page, a 404, a link slower than the timeout, a cut download, a link
robots.txt forbids, a link to another host) and a bucket on a real S3 server (moto).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from glyphflow.core.manifest import Manifest
from glyphflow.ingestion import run
from glyphflow.io.outputs import is_complete, read_manifest
from tests.support.archives import make_tar, make_zip
from tests.support.fonts import make_collection, make_font, to_woff
from tests.support.ingestion import failures_by_reason, make_config, read
from tests.support.webserver import WebServer, serve

APACHE = "Licensed under the Apache License, Version 2.0"
UFL = "Licensed under the Ubuntu Font Licence 1.0"
TYPE1 = Path("/usr/share/fonts/type1/urw-base35/C059-Roman.t1")


@dataclass
class World:
    root: Path
    output: Path
    web: WebServer
    bucket: str
    fonts: dict[str, bytes]
    manifest: Manifest
    index: pa.Table
    failures: pa.Table

    def config(self) -> Any:
        return make_config(
            self.output,
            [
                {
                    "class": "files",
                    "kwargs": {
                        "name": "local",
                        "urls": [
                            str(self.root / "local"),
                            str(self.root / "packs" / "*.zip"),
                            str(self.root / "packs" / "eta.tar.gz"),
                        ],
                    },
                },
                {"class": "web", "kwargs": {"name": "web", "url": self.web.url("/index.html")}},
                {"class": "files", "kwargs": {"name": "bucket", "urls": [f"{self.bucket}/fonts/"]}},
            ],
        )


def _fonts() -> dict[str, bytes]:
    return {
        "alpha": make_font(family="Alpha Sans"),
        "beta": make_font(
            family="Beta Serif",
            style="Bold",
            weight=700,
            fmt="otf",
            license=APACHE,
            license_url="http://www.apache.org/licenses/LICENSE-2.0",
        ),
        "gamma": to_woff(make_font(family="Gamma Script", style="Italic", italic=True), "woff2"),
        "delta": make_collection(
            [
                make_font(family="Delta Sans", seed="d1"),
                make_font(family="Delta Sans", style="Bold", weight=700, seed="d2"),
            ]
        ),
        "epsilon": to_woff(
            make_font(family="Epsilon Mono", license=None, license_url=None), "woff"
        ),
        "zeta": make_font(family="Zeta Round", license=UFL, license_url=None),
        "eta": make_font(family="Eta Slab", fmt="otf", width_class=3),
        "theta": make_font(family="Theta Web"),
        "iota": make_font(family="Iota Zipped"),
        "kappa": to_woff(make_font(family="Kappa Deep"), "woff2"),
        "lambda": make_font(family="Lambda Private"),
        "mu": make_font(family="Mu Bucket"),
        "nu": make_font(family="Nu Bucket Zip"),
        "cut": make_font(family="Cut Short"),
    }


def _build(root: Path, web: WebServer, bucket: str, fonts: dict[str, bytes]) -> None:
    import fsspec

    local = root / "local"
    (local / "sub").mkdir(parents=True)
    (local / "Alpha-Regular.ttf").write_bytes(fonts["alpha"])
    (local / "Beta-Bold.otf").write_bytes(fonts["beta"])
    (local / "Gamma-Italic.woff2").write_bytes(fonts["gamma"])
    (local / "Delta.ttc").write_bytes(fonts["delta"])
    (local / "sub" / "Epsilon.woff").write_bytes(fonts["epsilon"])
    (local / "notes.txt").write_text("not a font, not listed")
    if TYPE1.exists():
        shutil.copy(TYPE1, local / "C059-Roman.t1")
        shutil.copy(TYPE1.with_suffix(".afm"), local / "C059-Roman.afm")
    packs = root / "packs"
    packs.mkdir()
    make_zip(
        packs / "zeta.zip",
        {
            "fonts/Zeta-Regular.ttf": fonts["zeta"],
            "fonts/Alpha-Regular.ttf": fonts["alpha"],  # the same font as in the folder
            "README.txt": b"hello",
        },
    )
    make_tar(packs / "eta.tar.gz", {"Eta/Eta-Regular.otf": fonts["eta"], "Eta/OFL.txt": b"x"})

    web.add("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    web.page(
        "/index.html",
        """<html><body><h1>Fonts</h1>
        <a href="fonts/Theta.ttf">Theta</a>
        <a href="/fonts/iota.zip">Iota pack</a>
        <a href="fonts/missing.ttf">gone</a>
        <a href="fonts/slow.ttf">slow</a>
        <a href="fonts/cut.ttf">cut</a>
        <a href="/private/Lambda.ttf">private</a>
        <a href="http://fonts.example.invalid/Other.ttf">elsewhere</a>
        <a href="more.html#top">more fonts</a>
        </body></html>""",
    )
    web.page("/more.html", '<a href="/fonts/Kappa.woff2">Kappa</a><a href="index.html">back</a>')
    web.add("/fonts/Theta.ttf", fonts["theta"])
    iota = make_zip(root / "iota.zip", {"Iota-Regular.ttf": fonts["iota"]}).read_bytes()
    web.add("/fonts/iota.zip", iota, content_type="application/zip")
    web.add("/fonts/Kappa.woff2", fonts["kappa"], etag='"kappa-1"')
    web.add("/fonts/slow.ttf", fonts["theta"], delay_s=2.0)
    web.add("/fonts/cut.ttf", fonts["cut"][:1000], declared_length=len(fonts["cut"]))
    web.add("/private/Lambda.ttf", fonts["lambda"])

    fs = fsspec.filesystem("s3")
    name = bucket.removeprefix("s3://")
    fs.pipe(f"{name}/fonts/Mu-Regular.ttf", fonts["mu"])
    nu = make_zip(root / "nu.zip", {"Nu-Regular.ttf": fonts["nu"]}).read_bytes()
    fs.pipe(f"{name}/fonts/packs/nu.zip", nu)
    fs.pipe(f"{name}/fonts/readme.md", b"# not a font")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[World]:
    import uuid

    import boto3
    import s3fs

    bucket = f"gf-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    s3fs.S3FileSystem.clear_instance_cache()
    root = tmp_path_factory.mktemp("world")
    fonts = _fonts()
    with serve() as web:
        _build(root, web, f"s3://{bucket}", fonts)
        world = World(root, root / "raw", web, f"s3://{bucket}", fonts, None, None, None)  # type: ignore[arg-type]
        world.manifest = run(world.config())
        world.index = read(world.output, "fonts.parquet")
        world.failures = read(world.output, "failures.parquet")
        yield world


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _by_family(index: pa.Table) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in index.to_pylist():
        out.setdefault(row["family"], []).append(row)
    return out


def test_every_source_gives_its_faces(world: World) -> None:
    families = _by_family(world.index)
    expected = {
        "Alpha Sans": ("local", "ttf"),
        "Beta Serif": ("local", "otf"),
        "Gamma Script": ("local", "woff2"),
        "Delta Sans": ("local", "ttc"),
        "Epsilon Mono": ("local", "woff"),
        "Zeta Round": ("local", "ttf"),
        "Eta Slab": ("local", "otf"),
        "Theta Web": ("web", "ttf"),
        "Iota Zipped": ("web", "ttf"),
        "Kappa Deep": ("web", "woff2"),
        "Mu Bucket": ("bucket", "ttf"),
        "Nu Bucket Zip": ("bucket", "ttf"),
    }
    if TYPE1.exists():
        expected["C059"] = ("local", "pfa")
    assert set(families) == set(expected)
    for family, (source, fmt) in expected.items():
        rows = families[family]
        assert {r["source"] for r in rows} == {source}, family
        assert {r["format"] for r in rows} == {fmt}, family
    assert len(families["Delta Sans"]) == 2  # one row per face of the collection
    assert world.index.num_rows == len(expected) + 1


def test_rows_describe_each_face(world: World) -> None:
    families = _by_family(world.index)
    beta = families["Beta Serif"][0]
    assert (beta["subfamily"], beta["weight_class"], beta["italic"]) == ("Bold", 700, False)
    assert beta["license_id"] == "Apache-2.0"
    assert beta["license_url"] == "http://www.apache.org/licenses/LICENSE-2.0"
    assert beta["postscript_name"] == "BetaSerif-Bold"
    assert beta["full_name"] == "Beta Serif Bold"
    assert beta["version"] == "Version 1.000"
    assert beta["num_glyphs"] == 64  # 62 characters, .notdef and space
    assert families["Gamma Script"][0]["italic"] is True
    assert families["Eta Slab"][0]["width_class"] == 3
    assert families["Alpha Sans"][0]["license_id"] == "OFL-1.1"
    assert families["Zeta Round"][0]["license_id"] == "UFL-1.0"
    epsilon = families["Epsilon Mono"][0]
    assert (epsilon["license_id"], epsilon["license_text"]) == ("unknown", None)
    assert all(r["variable"] is False and r["axes"] == [] for r in world.index.to_pylist())


def test_ids_paths_and_bytes(world: World) -> None:
    families = _by_family(world.index)
    delta = sorted(families["Delta Sans"], key=lambda r: r["face_index"])
    sha = _sha(world.fonts["delta"])
    assert [r["id"] for r in delta] == [f"{sha}#0", f"{sha}#1"]
    assert [r["subfamily"] for r in delta] == ["Regular", "Bold"]
    for row in world.index.to_pylist():
        stored = world.output / row["stored_path"]
        assert not Path(row["stored_path"]).is_absolute()
        assert row["stored_path"] == f"files/{row['sha256'][:2]}/{row['sha256']}.{row['format']}"
        assert _sha(stored.read_bytes()) == row["sha256"]
        assert stored.stat().st_size == row["bytes"]
        if row["format"] != "ttc":
            assert row["id"] == row["sha256"]
    zeta = families["Zeta Round"][0]
    assert zeta["source_url"] == str(world.root / "packs" / "zeta.zip")
    assert zeta["archive_path"] == "fonts/Zeta-Regular.ttf"
    assert families["Eta Slab"][0]["archive_path"] == "Eta/Eta-Regular.otf"
    assert families["Iota Zipped"][0]["source_url"] == world.web.url("/fonts/iota.zip")
    assert families["Mu Bucket"][0]["source_url"] == f"{world.bucket}/fonts/Mu-Regular.ttf"
    assert families["Nu Bucket Zip"][0]["archive_path"] == "Nu-Regular.ttf"


def test_a_font_found_twice_is_stored_and_indexed_once(world: World) -> None:
    alpha = _by_family(world.index)["Alpha Sans"]
    assert len(alpha) == 1
    assert alpha[0]["source_url"] == str(world.root / "local" / "Alpha-Regular.ttf")
    assert alpha[0]["duplicates"] == [
        {
            "source_url": str(world.root / "packs" / "zeta.zip"),
            "archive_path": "fonts/Alpha-Regular.ttf",
        }
    ]
    assert world.manifest.counts["duplicates"] == 1


@pytest.mark.skipif(not TYPE1.exists(), reason="URW Type 1 fonts not installed")
def test_type1_font_keeps_its_metrics_file(world: World) -> None:
    c059 = _by_family(world.index)["C059"][0]
    assert c059["postscript_name"] == "C059-Roman"
    assert c059["companions"] == [f"files/{c059['sha256'][:2]}/{c059['sha256']}.afm"]
    stored = (world.output / c059["companions"][0]).read_bytes()
    assert stored == TYPE1.with_suffix(".afm").read_bytes()


def test_failures_have_reasons(world: World) -> None:
    assert failures_by_reason(world.output) == {
        "http_error": [("missing.ttf", None)],
        "timeout": [("slow.ttf", None)],
        "truncated_download": [("cut.ttf", None)],
        "robots_disallowed": [("Lambda.ttf", None)],
    }
    messages = {r["reason"]: r["message"] for r in world.failures.to_pylist()}
    assert "404" in messages["http_error"]
    assert "robots.txt" in messages["robots_disallowed"]
    assert world.web.downloads("/private/Lambda.ttf") == 0  # never even asked
    assert not world.web.requests_for("/fonts/Other.ttf")


def test_polite_client(world: World) -> None:
    agents = {r.headers.get("user-agent") for r in world.web.log}
    assert len(agents) == 1
    assert str(agents.pop()).startswith("glyphflow/")
    assert len(world.web.requests_for("/fonts/slow.ttf")) == 2  # one retry, then give up
    assert len(world.web.requests_for("/robots.txt")) == 1


def test_manifest_counts_per_source_and_reason(world: World) -> None:
    assert is_complete(str(world.output))
    counts = world.manifest.counts
    assert counts["faces"] == world.index.num_rows
    assert counts["failures"] == 4
    assert counts["failures.timeout"] == counts["failures.robots_disallowed"] == 1
    assert counts["source.web.faces"] == 3
    assert counts["source.bucket.faces"] == 2
    assert counts["source.web.failures"] == 4
    assert counts["files_written"] == counts["files"] + (1 if TYPE1.exists() else 0)
    manifest = read_manifest(str(world.output))
    assert manifest is not None
    listed = {o.path: o for o in manifest.outputs}
    assert {"fonts.parquet", "failures.parquet", "items.parquet"} <= set(listed)
    for row in world.index.to_pylist():
        assert listed[row["stored_path"]].sha256 == row["sha256"]
    assert not any(p.startswith(("_journal", ".tmp")) for p in listed)


def test_rerun_is_a_no_op(world: World) -> None:
    before = {p: p.stat().st_mtime_ns for p in (world.output / "files").rglob("*")}
    world.web.clear_log()
    manifest = run(world.config())
    counts = manifest.counts
    assert counts["files_written"] == 0
    assert counts["bytes_fetched"] == 0
    # Every item but the three that failed on the network last time was reused.
    assert counts["items_reused"] == counts["items"] - 3
    for path in ("/fonts/Theta.ttf", "/fonts/iota.zip", "/fonts/Kappa.woff2"):
        assert world.web.downloads(path) == 0, path
        assert [r.status for r in world.web.requests_for(path)] == [304]
    assert {p: p.stat().st_mtime_ns for p in (world.output / "files").rglob("*")} == before
    assert read(world.output, "fonts.parquet").equals(world.index)
    assert read(world.output, "failures.parquet").equals(world.failures)
