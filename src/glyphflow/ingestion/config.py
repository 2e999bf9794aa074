"""The ingestion config: where fonts come from, where the raw store goes, and the limits.

Example (``configs/examples/ingest-folder.yaml``)::

    version: 1
    ingestion:
      output: data/raw
      sources:
        - class: files
          kwargs: {urls: [~/fonts, downloads/*.zip]}
        - class: system
      limits:
        max_file_bytes: 268435456

Every source's kwargs are validated here, with the config, by the source's own
``Options`` model: a typo in a source option is a config error before anything runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, field_validator

from glyphflow import __version__
from glyphflow.core.config import ComponentSpec, ConfigModel
from glyphflow.ingestion.sources import SOURCES, SourceOptions

__all__ = ["USER_AGENT", "HttpConfig", "IngestionConfig", "Limits", "SourceSpec"]

USER_AGENT = f"glyphflow/{__version__} (+https://github.com/glyphflow)"

_MiB = 1 << 20
_GiB = 1 << 30


def _check_kwargs(spec: ComponentSpec) -> ComponentSpec:
    """Validate a source's kwargs with its ``Options`` model; keep them with defaults filled."""
    source_cls = SOURCES.get(spec.class_)
    options_model: type[SourceOptions] = getattr(source_cls, "Options", SourceOptions)
    try:
        options = options_model.model_validate(spec.kwargs)
    except ValidationError as err:
        problems = []
        for error in err.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"])
            problems.append(f"kwargs.{where}: {_message(error, options_model)}")
        raise ValueError(f"source {spec.class_!r}: " + "; ".join(problems)) from None
    spec.kwargs = options.model_dump(mode="json")
    return spec


_COMPARISONS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def _message(error: Any, model: type[SourceOptions]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown option; valid: {', '.join(sorted(model.model_fields))}"
    if kind == "missing":
        return "required, missing"
    if kind in _COMPARISONS:
        limit = next(iter((error.get("ctx") or {}).values()), "?")
        message = f"must be {_COMPARISONS[kind]} {limit}"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message.replace("Input should be", "must be")
    if "(got " not in message and not isinstance(error.get("input"), (dict, list)):
        message += f" (got {error.get('input')!r})"
    return message


if TYPE_CHECKING:
    SourceSpec = ComponentSpec
else:
    SourceSpec = Annotated[SOURCES.spec_type(), AfterValidator(_check_kwargs)]


class Limits(ConfigModel):
    """Safety limits: what a hostile or broken input may cost at most."""

    max_file_bytes: int = Field(
        256 * _MiB, gt=0, description="largest font file (or archive member) read"
    )
    max_download_bytes: int = Field(
        8 * _GiB, gt=0, description="largest item downloaded or copied (archives included)"
    )
    max_archive_members: int = Field(
        100_000, gt=0, description="most entries an archive may hold; more stops the archive"
    )
    max_archive_bytes: int = Field(
        16 * _GiB, gt=0, description="most uncompressed bytes read from one archive"
    )
    max_compression_ratio: float = Field(
        100.0, gt=1, description="largest uncompressed/compressed size ratio (zip bombs)"
    )


class HttpConfig(ConfigModel):
    """How downloads and web crawls talk to servers."""

    timeout_s: float = Field(30.0, gt=0, description="connect and read timeout per request")
    retries: int = Field(3, ge=0, le=20, description="retries after a timeout or 429/5xx")
    backoff_s: float = Field(1.0, ge=0, description="first retry delay; doubles each retry")
    rate_per_host: float = Field(2.0, gt=0, description="most requests per second to one host")
    max_seconds: float = Field(3600.0, gt=0, description="longest one download may take")
    user_agent: str = Field(USER_AGENT, min_length=1, description="User-Agent header sent")


class IngestionConfig(ConfigModel):
    """Gather font files from ``sources`` into the raw store at ``output``."""

    output: str = Field(min_length=1, description="URL of the raw store folder")
    sources: list[SourceSpec] = Field(
        min_length=1, description="where fonts come from: {class: files|system|web, kwargs}"
    )
    limits: Limits = Field(default_factory=Limits)
    http: HttpConfig = Field(default_factory=HttpConfig)
    workers: int = Field(4, ge=1, le=64, description="threads fetching and reading items")
    checkpoint_items: int = Field(
        100, ge=1, description="save progress after this many items (resume after a kill)"
    )
    checkpoint_seconds: float = Field(30.0, gt=0, description="... or after this many seconds")
    temp_dir: str | None = Field(
        None,
        description="local folder for downloads in flight; default: <output>/.tmp for a "
        "local output, else the system temp folder",
    )
    min_fonts: int = Field(
        1, ge=0, description="fewer indexed faces than this fails the run (exit code 1)"
    )

    @field_validator("output")
    @classmethod
    def _output_is_not_root(cls, value: str) -> str:
        if value.rstrip("/") in ("", "/", "file:", "s3:", "gs:"):
            raise ValueError(f"must be a folder URL below the root (got {value!r})")
        if value.startswith(("http://", "https://")):
            raise ValueError(f"must be a writable storage URL, not http(s) (got {value!r})")
        return value

    def source_names(self) -> list[str]:
        """A unique label per source: its ``name`` option, else its class (+ a number)."""
        names: list[str] = []
        for spec in self.sources:
            kwargs: dict[str, Any] = spec.kwargs
            base = kwargs.get("name") or spec.class_
            label, n = base, 2
            while label in names:
                label, n = f"{base}-{n}", n + 1
            names.append(label)
        return names
