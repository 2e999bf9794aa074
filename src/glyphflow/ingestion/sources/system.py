"""The ``system`` source: the fonts installed on this machine.

It walks the usual font folders of the platform (Linux and other Unix: the XDG data
folders, ``/usr/share/fonts``, ``/usr/local/share/fonts``, ``~/.fonts``; macOS:
``/System/Library/Fonts``, ``/Library/Fonts``, ``~/Library/Fonts``; Windows:
``%WINDIR%\\Fonts`` and the per-user font folder) and adds every file ``fc-list``
reports where fontconfig is installed. A file reached twice (a symlink, a folder listed
twice) is one item.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

from pydantic import Field

from glyphflow.ingestion.items import Failure, Item
from glyphflow.ingestion.sources import Source, SourceOptions, matches_any, pair_companions
from glyphflow.ingestion.sources.files import walk_local
from glyphflow.io.fontfiles import COMPANION_EXTENSIONS, has_font_extension

__all__ = ["SystemSource", "default_font_folders", "fontconfig_files"]

_log = logging.getLogger(__name__)


class SystemOptions(SourceOptions):
    folders: list[str] | None = Field(
        None, description="folders to walk instead of the platform's usual font folders"
    )
    fontconfig: bool | None = Field(
        None,
        description="add the files `fc-list` reports, if installed (default: only when "
        "`folders` is not given)",
    )
    exclude: list[str] = Field(default_factory=list, description="fnmatch patterns to skip")


def default_font_folders(platform: str | None = None) -> list[str]:
    """The usual font folders of ``platform`` (``sys.platform`` by default)."""
    platform = platform or sys.platform
    home = os.path.expanduser("~")
    if platform.startswith("win"):
        windir = os.environ.get("WINDIR", r"C:\Windows")
        local = os.environ.get("LOCALAPPDATA", os.path.join(home, "AppData", "Local"))
        return [
            os.path.join(windir, "Fonts"),
            os.path.join(local, "Microsoft", "Windows", "Fonts"),
        ]
    if platform == "darwin":
        return [
            "/System/Library/Fonts",
            "/Library/Fonts",
            "/Network/Library/Fonts",
            os.path.join(home, "Library", "Fonts"),
        ]
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    data_dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    folders = [os.path.join(data_home, "fonts"), os.path.join(home, ".fonts")]
    folders += [os.path.join(d, "fonts") for d in data_dirs.split(":") if d]
    folders += ["/usr/share/fonts", "/usr/local/share/fonts"]
    return list(dict.fromkeys(folders))


def fontconfig_files(timeout_s: float = 60.0) -> list[str]:
    """Every font file fontconfig knows (``fc-list``), or nothing where it is missing."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        done = subprocess.run(
            [fc_list, "--format", "%{file}\\n"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        _log.warning("fc-list failed (%s); using the font folders only", err)
        return []
    return sorted({line.strip() for line in done.stdout.splitlines() if line.strip()})


class SystemSource(Source):
    """The fonts installed on this machine (see the module docstring)."""

    Options = SystemOptions
    options: SystemOptions

    def items(self) -> Iterator[Item | Failure]:
        folders = self.options.folders
        if folders is None:
            folders = default_font_folders()
        paths: list[str] = []
        for folder in folders:
            folder = os.path.abspath(os.path.expanduser(folder))
            if os.path.isdir(folder):
                paths.extend(walk_local(folder))
        use_fontconfig = self.options.fontconfig
        if use_fontconfig is None:
            use_fontconfig = self.options.folders is None
        if use_fontconfig:
            paths.extend(p for p in fontconfig_files() if os.path.isfile(p))
        companions = pair_companions(paths)
        seen: set[str] = set()
        for path in sorted(set(paths)):
            if not has_font_extension(path) or path.lower().endswith(COMPANION_EXTENSIONS):
                continue
            if matches_any(path, self.options.exclude):
                continue
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            yield Item(self.name, path, "local", companions.get(path, ()))
