"""The CLI: help is fast and light, user mistakes give one message and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import Field

from glyphflow import __version__
from glyphflow.core.config import ConfigModel
from glyphflow.pipeline import catalogue


class EchoConfig(ConfigModel):
    """A tiny real stage used to exercise the CLI's config commands."""

    output: str = "out"
    epochs: int = Field(3, ge=1)
    lr: float = Field(0.1, gt=0)


def run_echo(config: EchoConfig) -> None:
    return None


@pytest.fixture
def echo_stage() -> Iterator[str]:
    entry = catalogue.StageEntry(
        "echo", "echo", f"{__name__}:EchoConfig", f"{__name__}:run_echo", "A test stage."
    )
    catalogue.STAGES.register("echo", entry)
    yield "echo"
    catalogue.STAGES._items.pop("echo", None)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glyphflow", *args], capture_output=True, text=True, timeout=60
    )


def test_help_and_version() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    assert "config" in result.stdout
    version = _cli("--version")
    assert version.stdout.strip() == f"glyphflow {__version__}"


def test_help_imports_no_heavy_package() -> None:
    probe = (
        "import sys; from glyphflow.cli import main\n"
        "heavy = {'torch', 'mlflow', 'apache_beam', 'fastapi', 'pyarrow', 'pydantic'}\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_config_with_mistakes_exits_2_listing_all(echo_stage: str, tmp_path: Path) -> None:
    from glyphflow.cli import main

    path = tmp_path / "echo.yaml"
    path.write_text("version: 1\necho:\n  epochs: 0\n  lr: -1\n  typo: 1\n")
    with pytest.raises(SystemExit) as caught:
        main(["config", "check", str(path)])
    assert caught.value.code == 2


def test_config_error_message_has_no_traceback(
    echo_stage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from glyphflow.cli import main

    path = tmp_path / "echo.yaml"
    path.write_text("version: 1\necho:\n  epochs: 0\n  lr: -1\n  typo: 1\n")
    with pytest.raises(SystemExit):
        main(["config", "check", str(path)])
    err = capsys.readouterr().err
    assert f"{path}:3:3: echo.epochs: must be >= 1 (got 0)" in err
    assert f"{path}:4:3: echo.lr: must be > 0.0 (got -1)" in err
    assert f"{path}:5:3: echo.typo: unknown setting" in err
    assert "Traceback" not in err


def test_config_show_applies_overrides(
    echo_stage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from glyphflow.cli import main

    path = tmp_path / "echo.yaml"
    path.write_text("echo:\n  epochs: 2\n")
    with pytest.raises(SystemExit) as caught:
        main(["config", "show", str(path), "--set", "echo.lr=0.5"])
    assert caught.value.code == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown == {"version": 1, "echo": {"output": "out", "epochs": 2, "lr": 0.5}}


def test_misspelt_override_suggests(
    echo_stage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from glyphflow.cli import main

    path = tmp_path / "echo.yaml"
    path.write_text("echo: {}\n")
    with pytest.raises(SystemExit) as caught:
        main(["config", "show", str(path), "--set", "echo.epoch=4"])
    assert caught.value.code == 2
    assert "did you mean 'echo.epochs'" in capsys.readouterr().err


def test_config_schema_prints_json_schema(
    echo_stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from glyphflow.cli import main

    with pytest.raises(SystemExit):
        main(["config", "schema", "echo"])
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["echo"]["$ref"].endswith("EchoConfig")
    assert schema["$defs"]["EchoConfig"]["properties"]["epochs"]["minimum"] == 1


def test_unknown_stage_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from glyphflow.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["config", "schema", "nosuchstage"])
    assert caught.value.code == 2
    assert "unknown stage 'nosuchstage'" in capsys.readouterr().err


def test_missing_config_file_is_a_clear_error(
    echo_stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from glyphflow.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["config", "check", "/nonexistent/echo.yaml"])
    assert caught.value.code == 2
    assert "file not found" in capsys.readouterr().err


def test_unknown_option_is_usage_error() -> None:
    result = _cli("--no-such-flag")
    assert result.returncode == 2
