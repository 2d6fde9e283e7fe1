"""Typed records: a cell's raw document and its cases as dataclasses, read back without guards for absent keys.

The cell side writes plain JSON (it cannot import the host package); the host reads it
through these classes. Every optional evidence field has a typed empty default, so a
view reads ``case.error.get("type")`` whether or not the case recorded an error. Keys the
classes do not name are kept in ``extra``, and ``to_dict(from_dict(d)) == d`` for every
record the harness wrote (tests/test_records.py checks the shipped results), so reading
through the model never loses or rewrites a field.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Optional

from harness.errors import HarnessError


class Outcome(str, Enum):
    """What a case's outcome can be; the values are the strings the cell side writes."""
    PASS = "pass"
    MISMATCH = "mismatch"
    FAIL = "fail"
    CRASH = "crash"
    TIMEOUT = "timeout"
    SKIP = "skip"
    INSTALL_ERROR = "install-error"
    IMPORT_ERROR = "import-error"
    NA = "n/a"

    def __str__(self) -> str:
        return self.value


# A record's "provenance": a cell the harness installed (records without the field too), or an existing
# interpreter tested as it is (harness.run.supplied), which gets a table row of its own.
INSTALLED = "installed by the harness"
SUPPLIED = "supplied environment"


class RecordError(HarnessError):
    """A raw record that is not what the harness writes (one line; the reader names the file)."""


class _Record:
    """from_dict/to_dict for a dataclass: named fields typed, other keys in ``extra``, the key order kept."""
    WHAT = "a record's"  # how an error names the part of the file
    CONVERTED: frozenset = frozenset()  # the fields _convert reads into a type of their own

    def __post_init__(self):
        self._keys: tuple = ()  # the keys as read, in order: to_dict writes exactly these (and fields set since)
        self._nulls: frozenset = frozenset()  # named fields read as null where the model has an empty default

    @classmethod
    def _names(cls) -> dict:
        """{field name: its empty value} (computed once per class: records are read by the thousand)."""
        if "_NAMES" not in cls.__dict__:
            cls._NAMES = {f.name: _empty(f) for f in fields(cls) if f.name != "extra"}
        return cls._NAMES

    @classmethod
    def from_dict(cls, data: dict):
        if not isinstance(data, dict):
            raise RecordError(f"a {cls.__name__} is a JSON object, not {type(data).__name__}")
        names = cls._names()
        values, nulls = {}, set()
        for key, value in data.items():
            if key not in names:
                continue
            empty = names[key]
            if value is None and empty is not None:
                nulls.add(key)  # null where the model has an empty default: read as empty, written back as null
                continue
            if isinstance(empty, (dict, list)) and not isinstance(value, type(empty)):
                raise RecordError(f"{cls.WHAT} {key!r} is not a JSON {'object' if isinstance(empty, dict) else 'list'}")
            values[key] = cls._convert(key, value) if key in cls.CONVERTED else value
        record = cls(**values, extra={k: v for k, v in data.items() if k not in names})
        record._keys, record._nulls = tuple(data), frozenset(nulls)
        return record

    @classmethod
    def _convert(cls, key: str, value):
        return value

    def _plain(self, key: str):
        value = getattr(self, key)
        return value.value if isinstance(value, Enum) else value

    def to_dict(self) -> dict:
        names = self._names()
        out = {}
        for key in self._keys:
            if key in names:
                out[key] = None if key in self._nulls and getattr(self, key) == names[key] else self._plain(key)
            elif key in self.extra:
                out[key] = self.extra[key]
        for key, empty in names.items():  # fields set after reading, or on a record built in code
            if key not in out and getattr(self, key) != empty:
                out[key] = self._plain(key)
        out.update((k, v) for k, v in self.extra.items() if k not in out)
        return out


def _empty(spec):
    return spec.default_factory() if callable(spec.default_factory) else spec.default


@dataclass
class CaseRecord(_Record):
    """One case (model x explainer x device) of a cell, or a remedy's result on it, with its evidence."""
    WHAT = "a case's"
    CONVERTED = frozenset({"outcome"})
    model: str = ""
    explainer: str = ""
    device: str = ""
    outcome: Optional[Outcome] = None
    stage: Optional[str] = None  # where a non-passing case stopped: construct, call, check
    reason: Optional[str] = None  # why a case was skipped or n/a
    error: dict = field(default_factory=dict)  # type, message, frame, frame_package
    crash: dict = field(default_factory=dict)  # exit: the signal or code the worker died with
    additivity: dict = field(default_factory=dict)  # metric, error, tolerance, criterion, ok
    oracles: dict = field(default_factory=dict)  # analytic / exact: deviation, tolerance, ok
    shap_check: dict = field(default_factory=dict)  # shap's own additivity check: message
    device_agreement: dict = field(default_factory=dict)  # max_abs_diff, tolerance, ok
    timing: dict = field(default_factory=dict)  # cold: construct, call; warm: construct/call median, iqr, n
    remedies: list = field(default_factory=list)  # each remedy's result (a CaseRecord dict of its own)
    notes: list = field(default_factory=list)  # warnings the case raised: message
    side_effects: list = field(default_factory=list)  # global state the case changed
    seconds: Optional[float] = None
    concurrent_cells: Optional[int] = None  # cells running at once while it was timed
    extra: dict = field(default_factory=dict)

    @property
    def cold(self) -> dict:
        """Seconds of the first construct and call (empty where the case was not timed)."""
        return self.timing.get("cold") or {}

    def warm(self, phase: str) -> dict:
        """median, iqr and n of the warm repeats of ``phase`` ("construct" or "call"); empty where not timed."""
        return (self.timing.get("warm") or {}).get(phase) or {}

    def oracle(self, name: str) -> dict:
        """One closed-form check ("analytic" or "exact"): deviation, tolerance, ok; empty where it did not apply."""
        return self.oracles.get(name) or {}

    @classmethod
    def _convert(cls, key, value):  # outcome
        try:
            return Outcome(value)
        except ValueError:
            raise RecordError(f"a case has the unknown outcome {value!r} "
                              f"(expected one of {', '.join(o.value for o in Outcome)})") from None


@dataclass
class CellRecord(_Record):
    """One cell's raw document: what ran where, how it was installed, and its cases."""
    WHAT = "the record's"
    CONVERTED = frozenset({"cases"})
    schema: Optional[int] = None
    cell: dict = field(default_factory=dict)  # id, torch, shap, python, constraints, grids, grid_axes
    run: dict = field(default_factory=dict)  # date, host, harness_commit
    status: Optional[str] = None  # ran, n/a, install-error, import-error
    provenance: str = INSTALLED  # or SUPPLIED; records without the field were installed by the harness
    resolved: dict = field(default_factory=dict)  # torch, shap, numpy, python, platform, packages
    environment: dict = field(default_factory=dict)  # torch_threads, gpu
    settings: dict = field(default_factory=dict)  # threads, timeouts
    install: dict = field(default_factory=dict)
    reuse: dict = field(default_factory=dict)
    supplied: dict = field(default_factory=dict)  # label, interpreter: a supplied environment's
    unconstrained: dict = field(default_factory=dict)  # the probe without the grid's constraints
    concurrency: dict = field(default_factory=dict)
    model_sources: dict = field(default_factory=dict)  # model name -> the source the cell ran
    worker_starts: Optional[int] = None
    suite_seconds: Optional[float] = None
    cases: list = field(default_factory=list)  # CaseRecord
    extra: dict = field(default_factory=dict)

    @classmethod
    def _convert(cls, key, value):  # cases
        return [CaseRecord.from_dict(case) for case in value]

    def _plain(self, key: str):
        if key == "cases":
            return [case.to_dict() for case in self.cases]
        return super()._plain(key)

    @property
    def id(self) -> Any:
        return self.cell.get("id")

    @property
    def host(self) -> dict:
        """The machine that ran the cell: name, machine_id, cpu_model, cpu_count."""
        return self.run.get("host") or {}

    @property
    def packages(self) -> dict:
        """{distribution: version} of everything the cell's environment held (empty where none was recorded)."""
        return self.resolved.get("packages") or {}


def case_record(case) -> CaseRecord:
    """A case as a CaseRecord, whether it is one already or a plain dict read from JSON."""
    return case if isinstance(case, CaseRecord) else CaseRecord.from_dict(case)


def cell_record(document) -> CellRecord:
    """A cell document as a CellRecord, whether it is one already or a plain dict read from JSON."""
    return document if isinstance(document, CellRecord) else CellRecord.from_dict(document)
