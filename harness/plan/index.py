"""What the package index knows about torch and shap, without installing anything.

One request per project to the index's JSON simple API gives every file with
its wheel tags and requires-python: enough to list releases and to choose a
Python per cell.  Answers are cached on disk; when the index cannot be
reached, a cached answer of any age is used with a note on stderr.
"""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..errors import HarnessError
from ..records import store

DEFAULT_INDEX = "https://pypi.org/simple"
CACHE_SECONDS = 6 * 3600
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class WheelFile:
    version: Version
    tags: frozenset
    requires_python: str | None


class PackageIndex:
    """A cached client for ``<index>/<project>/`` in PEP 691 JSON form."""

    def __init__(self, url: str | None = None, cache_dir: Path | None = None):
        self.url = (url or os.environ.get("MATRIX_INDEX_URL") or DEFAULT_INDEX).rstrip("/")
        self.cache_dir = Path(cache_dir or os.environ.get("MATRIX_CACHE_DIR") or ".cache") / "index"
        self._projects: dict[str, dict] = {}
        self._wheels: dict[str, dict[Version, list[WheelFile]]] = {}

    def _cache_file(self, project: str) -> Path:
        safe = "".join(c if c.isalnum() else "_" for c in self.url)
        return self.cache_dir / f"{safe}__{project}.json"

    def project(self, project: str) -> dict:
        """The index's JSON page for a project, from memory, disk or network."""
        if project in self._projects:
            return self._projects[project]
        cache = self._cache_file(project)
        fresh = cache.exists() and time.time() - cache.stat().st_mtime < CACHE_SECONDS
        if fresh:
            data = store.read_json(cache, f"cached list of {project} releases")
        else:
            try:
                data = self._fetch(project)
            except HarnessError as problem:
                if not cache.exists():
                    raise
                age = (time.time() - cache.stat().st_mtime) / 3600
                print(f"note: {problem}; using the cached list of {project} releases ({age:.0f} h old)",
                      file=sys.stderr)
                data = store.read_json(cache, f"cached list of {project} releases")
            else:
                store.write_atomic(cache, json.dumps(data))
        self._projects[project] = data
        return data

    def _fetch(self, project: str) -> dict:
        request = urllib.request.Request(
            f"{self.url}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise HarnessError(f"{project} is not on the package index {self.url}") from None
            raise HarnessError(f"the package index {self.url} answered {exc.code} for {project}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HarnessError(f"cannot reach the package index {self.url} ({reason})") from None

    def wheels(self, project: str) -> dict[Version, list[WheelFile]]:
        """The project's non-yanked wheels, by release."""
        if project not in self._wheels:
            by_version: dict[Version, list[WheelFile]] = {}
            for entry in self.project(project)["files"]:
                if entry.get("yanked") or not entry["filename"].endswith(".whl"):
                    continue
                try:
                    _, version, _, tags = parse_wheel_filename(entry["filename"])
                except (InvalidWheelFilename, InvalidVersion):
                    continue
                wheel = WheelFile(version, frozenset(str(t) for t in tags), entry.get("requires-python"))
                by_version.setdefault(version, []).append(wheel)
            self._wheels[project] = by_version
        return self._wheels[project]

    def releases(self, project: str, pre: bool = False) -> list[Version]:
        """Every release with at least one wheel, oldest first (no pre-releases unless asked)."""
        return sorted(v for v in self.wheels(project) if pre or not (v.is_prerelease or v.is_devrelease))

    def supported_pythons(self, project: str, version: Version, compatible_tags) -> set[str]:
        """The "3.x" versions this machine could install a wheel of project==version for.

        ``compatible_tags`` maps "3.x" to the set of wheel tags such an
        interpreter accepts on this platform.
        """
        found = set()
        for wheel in self.wheels(project).get(version, []):
            for python, accepted in compatible_tags.items():
                if python not in found and wheel.tags & accepted and _allows(wheel.requires_python, python):
                    found.add(python)
        return found


def _allows(requires_python: str | None, python: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(f"{python}.0", prereleases=True)
    except InvalidSpecifier:
        return True
