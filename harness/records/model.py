"""Typed records: a cell's raw document, its cases and their evidence as dataclasses, read without guards.

The cell side writes plain JSON (it cannot import the host package); the host reads it
through these classes. Every optional evidence field has a typed empty default, so a
view reads ``case.error.type`` or ``case.timing.warm.call.median`` whether or not the
case recorded it (None, or an empty part that is falsy). Keys the classes do not name
are kept in ``extra``, and ``to_dict(from_dict(d)) == d`` for every record the harness
wrote (tests/test_records.py checks the shipped results), so reading through the model
never loses or rewrites a field.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Optional

from ..errors import HarnessError


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
    PARTS: dict = {}  # field -> the _Record class of its JSON object (or, for a JSON list, of each item)

    def __post_init__(self):
        self._keys: tuple = ()  # the keys as read, in order: to_dict writes exactly these (and fields set since)
        self._nulls: frozenset = frozenset()  # named fields read as null where the model has an empty default

    def __bool__(self) -> bool:
        """A part that recorded nothing is falsy, as the empty JSON object it stands for."""
        return any(getattr(self, key) != empty for key, empty in self._names().items()) or bool(self.extra)

    @classmethod
    def of(cls, **values):
        """A record built in code that writes every key given, in that order, even an empty one (a null python,
        no notes): what a writer states is on file, as if it had been read."""
        record = cls(**values)
        record._keys = tuple(values)
        return record

    @classmethod
    def _names(cls) -> dict:
        """{field name: its empty value} (computed once per class: records are read by the thousand)."""
        if "_NAMES" not in cls.__dict__:
            cls._NAMES = {f.name: _empty(f) for f in fields(cls) if f.name != "extra"}
        return cls._NAMES

    @classmethod
    def from_dict(cls, data: dict):
        if not isinstance(data, dict):
            raise RecordError(f"{cls.WHAT} part is a JSON object, not {type(data).__name__}")
        names = cls._names()
        values, nulls = {}, set()
        for key, value in data.items():
            if key not in names:
                continue
            empty = names[key]
            if value is None and empty is not None:
                nulls.add(key)  # null where the model has an empty default: read as empty, written back as null
                continue
            if isinstance(empty, (dict, list, _Record)) and not isinstance(value, list if isinstance(empty, list)
                                                                           else dict):
                raise RecordError(f"{cls.WHAT} {key!r} is not a JSON {'list' if isinstance(empty, list) else 'object'}")
            values[key] = cls._convert(key, value)
        record = cls(**values, extra={k: v for k, v in data.items() if k not in names})
        record._keys, record._nulls = tuple(data), frozenset(nulls)
        return record

    @classmethod
    def _convert(cls, key: str, value):
        part = cls.PARTS.get(key)
        if part is None:
            return value
        return [part.from_dict(item) for item in value] if isinstance(value, list) else part.from_dict(value)

    def _plain(self, key: str):
        value = getattr(self, key)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, _Record):
            return value.to_dict()
        if key in self.PARTS and isinstance(value, list):
            return [item.to_dict() for item in value]
        return value

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


# --- a case's evidence -------------------------------------------------------------------------------------
@dataclass
class ErrorInfo(_Record):
    """What a case (or its cell's import) raised; also shap's own additivity assertion when it fired."""
    WHAT = "an error's"
    type: Optional[str] = None
    message: Optional[str] = None
    frame: Optional[str] = None  # the innermost frame, file:line function
    frame_package: Optional[str] = None  # torch, shap, numpy, models or other
    extra: dict = field(default_factory=dict)  # shap_frame, traceback_tail


@dataclass
class Crash(_Record):
    """How a worker died."""
    WHAT = "a crash's"
    exit: Any = None  # the signal name or the exit code
    extra: dict = field(default_factory=dict)  # returncode, stderr_tail


@dataclass
class Additivity(_Record):
    """The harness's additivity check: sum(phi) + E[f] against f(x)."""
    WHAT = "an additivity check's"
    metric: Optional[str] = None
    error: Optional[float] = None
    tolerance: Optional[float] = None
    criterion: Optional[str] = None  # the rule in words
    ok: Optional[bool] = None
    extra: dict = field(default_factory=dict)  # GradientExplainer's replicates, bias, residuals


@dataclass
class Oracle(_Record):
    """One closed-form check: how far the attributions are from the true Shapley values."""
    WHAT = "an oracle's"
    deviation: Optional[float] = None
    tolerance: Optional[float] = None
    ok: Optional[bool] = None  # None: measured only
    extra: dict = field(default_factory=dict)  # metric, seconds


@dataclass
class Oracles(_Record):
    WHAT = "the oracles'"
    PARTS = {"analytic": Oracle, "exact": Oracle}
    analytic: Oracle = field(default_factory=Oracle)  # affine models: the closed form
    exact: Oracle = field(default_factory=Oracle)  # small models: brute force over all coalitions
    extra: dict = field(default_factory=dict)


@dataclass
class DeviceAgreement(_Record):
    """A cuda case's attributions against the same case on cpu."""
    WHAT = "a device comparison's"
    max_abs_diff: Optional[float] = None
    tolerance: Optional[float] = None
    ok: Optional[bool] = None
    extra: dict = field(default_factory=dict)


@dataclass
class Phases(_Record):
    """Seconds of the first explainer construction and shap_values() call."""
    WHAT = "a timing's"
    construct: Optional[float] = None
    call: Optional[float] = None
    extra: dict = field(default_factory=dict)


@dataclass
class Repeats(_Record):
    """Warm repeats of one phase: median and interquartile range in seconds, and how many."""
    WHAT = "a timing's"
    median: Optional[float] = None
    iqr: Optional[float] = None
    n: Optional[int] = None
    extra: dict = field(default_factory=dict)


@dataclass
class Warm(_Record):
    WHAT = "a timing's"
    PARTS = {"construct": Repeats, "call": Repeats}
    construct: Repeats = field(default_factory=Repeats)
    call: Repeats = field(default_factory=Repeats)
    extra: dict = field(default_factory=dict)


@dataclass
class Timing(_Record):
    """cold: the first construct and call; warm: the repeats after them."""
    WHAT = "a timing's"
    PARTS = {"cold": Phases, "warm": Warm}
    cold: Phases = field(default_factory=Phases)
    warm: Warm = field(default_factory=Warm)
    extra: dict = field(default_factory=dict)


@dataclass
class Note(_Record):
    """A warning raised while the case ran."""
    WHAT = "a note's"
    message: str = ""
    category: Optional[str] = None
    extra: dict = field(default_factory=dict)  # source


def _outcome(value) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        raise RecordError(f"a case has the unknown outcome {value!r} "
                          f"(expected one of {', '.join(o.value for o in Outcome)})") from None


@dataclass
class CaseRecord(_Record):
    """One case (model x explainer x device) of a cell with its evidence."""
    WHAT = "a case's"
    PARTS = {"error": ErrorInfo, "crash": Crash, "additivity": Additivity, "oracles": Oracles,
             "shap_check": ErrorInfo, "device_agreement": DeviceAgreement, "timing": Timing,
             "notes": Note}  # and remedies: RemedyResult, below
    model: str = ""
    explainer: str = ""
    device: str = ""
    outcome: Optional[Outcome] = None
    stage: Optional[str] = None  # where a non-passing case stopped: construct, call, check
    reason: Optional[str] = None  # why a case was skipped or n/a
    error: ErrorInfo = field(default_factory=ErrorInfo)
    crash: Crash = field(default_factory=Crash)
    additivity: Additivity = field(default_factory=Additivity)
    oracles: Oracles = field(default_factory=Oracles)
    shap_check: ErrorInfo = field(default_factory=ErrorInfo)  # shap's own additivity assertion, when it fired
    device_agreement: DeviceAgreement = field(default_factory=DeviceAgreement)
    timing: Timing = field(default_factory=Timing)
    remedies: list = field(default_factory=list)  # RemedyResult
    notes: list = field(default_factory=list)  # Note: warnings the case raised
    side_effects: list = field(default_factory=list)  # global state the case changed, one line per module
    seconds: Optional[float] = None
    concurrent_cells: Optional[int] = None  # cells running at once while it was timed
    extra: dict = field(default_factory=dict)

    @classmethod
    def _convert(cls, key, value):
        return _outcome(value) if key == "outcome" else super()._convert(key, value)


@dataclass
class RemedyResult(CaseRecord):
    """A code remedy tried in the same cell on a case that did not pass: what it gave (its explainer where the
    remedy changes it)."""
    WHAT = "a remedy's"
    remedy: str = ""


CaseRecord.PARTS = dict(CaseRecord.PARTS, remedies=RemedyResult)


# --- a cell's record -----------------------------------------------------------------------------------------
@dataclass
class Constraint(_Record):
    """A grid.toml constraint a cell ran under: which cells, the requirement lines, why."""
    WHAT = "a constraint's"
    applies_to: str = ""
    requires: list = field(default_factory=list)
    reason: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class CellInfo(_Record):
    """What the cell is: its releases, the Python chosen for them, the grids and constraints it belongs to."""
    WHAT = "the cell's"
    PARTS = {"constraints": Constraint}
    id: Optional[str] = None
    torch: str = ""
    shap: str = ""
    python: Optional[str] = None  # None where no Python has wheels of both
    python_reason: Optional[str] = None
    constraints: list = field(default_factory=list)  # Constraint
    notes: list = field(default_factory=list)  # grid.toml notes on this cell
    grids: list = field(default_factory=list)  # the grids that hold it
    grid_axes: dict = field(default_factory=dict)  # grid name -> {"torch": [...], "shap": [...]}
    extra: dict = field(default_factory=dict)


@dataclass
class Host(_Record):
    WHAT = "the host's"
    name: str = ""
    machine_id: Optional[str] = None
    cpu_model: str = ""
    cpu_count: Optional[int] = None
    extra: dict = field(default_factory=dict)  # machine, platform


@dataclass
class RunInfo(_Record):
    """When, where and by which harness commit the cell ran."""
    WHAT = "the run's"
    PARTS = {"host": Host}
    date: str = ""
    host: Host = field(default_factory=Host)
    harness_commit: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Resolved(_Record):
    """What the cell's environment actually held."""
    WHAT = "the resolved versions'"
    torch: Optional[str] = None
    shap: Optional[str] = None
    numpy: Optional[str] = None
    python: Optional[str] = None
    platform: Optional[str] = None
    packages: dict = field(default_factory=dict)  # {distribution: version}
    extra: dict = field(default_factory=dict)


@dataclass
class Environment(_Record):
    """What the worker saw at import time."""
    WHAT = "the environment's"
    torch_threads: Optional[int] = None
    gpu: Optional[str] = None
    platform: Optional[str] = None
    extra: dict = field(default_factory=dict)  # cuda_available, versions, import_notes, ...


@dataclass
class Probe(_Record):
    """The tiny case run once more without the grid's constraints: what installs and happens then."""
    WHAT = "the unconstrained probe's"
    PARTS = {"error": ErrorInfo}
    status: Optional[str] = None
    outcome: Optional[str] = None
    error: ErrorInfo = field(default_factory=ErrorInfo)
    differs: dict = field(default_factory=dict)  # package -> {"constrained": v, "unconstrained": v}
    without: list = field(default_factory=list)  # the requirement lines left out
    extra: dict = field(default_factory=dict)


@dataclass
class Settings(_Record):
    """The suite settings the cell ran with (its reuse key hashes them)."""
    WHAT = "the settings'"
    models: list = field(default_factory=list)
    explainers: list = field(default_factory=list)
    repeats: Optional[int] = None
    timeout: Optional[float] = None
    threads: Optional[int] = None
    memory_limit: Optional[float] = None
    extra: dict = field(default_factory=dict)  # devices, where the run was narrowed to some


@dataclass
class Install(_Record):
    """How long ``uv pip install torch==X shap==Y`` took, and the resolver's words where it failed."""
    WHAT = "the install's"
    seconds: Optional[float] = None
    message: Optional[str] = None
    extra: dict = field(default_factory=dict)


@dataclass
class Reuse(_Record):
    """The reuse key of an installed cell and the parts it hashes (packages, python, host, suite, settings)."""
    WHAT = "the reuse key's"
    key: Optional[str] = None
    parts: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@dataclass
class Supplied(_Record):
    """A supplied environment (harness.run.supplied): its label and interpreter."""
    WHAT = "the supplied environment's"
    label: Optional[str] = None
    interpreter: Optional[str] = None
    extra: dict = field(default_factory=dict)  # prefix, seconds, devices, gpus


@dataclass
class Concurrency(_Record):
    """How many cells ran at once while the cell's cases were timed."""
    WHAT = "the concurrency's"
    cells_at_once: Optional[int] = None
    jobs: Optional[int] = None
    extra: dict = field(default_factory=dict)  # load_average, timing


@dataclass
class CellRecord(_Record):
    """One cell's raw document: what ran where, how it was installed, and its cases."""
    WHAT = "the record's"
    PARTS = {"cell": CellInfo, "run": RunInfo, "resolved": Resolved, "environment": Environment,
             "settings": Settings, "install": Install, "reuse": Reuse, "supplied": Supplied, "unconstrained": Probe,
             "concurrency": Concurrency, "cases": CaseRecord}
    schema: Optional[int] = None
    cell: CellInfo = field(default_factory=CellInfo)
    run: RunInfo = field(default_factory=RunInfo)
    status: Optional[str] = None  # ran, n/a, install-error, import-error
    provenance: str = INSTALLED  # or SUPPLIED; records without the field were installed by the harness
    resolved: Resolved = field(default_factory=Resolved)
    environment: Environment = field(default_factory=Environment)
    settings: Settings = field(default_factory=Settings)
    install: Install = field(default_factory=Install)
    reuse: Reuse = field(default_factory=Reuse)
    supplied: Supplied = field(default_factory=Supplied)  # a supplied environment's label and interpreter
    unconstrained: Probe = field(default_factory=Probe)
    concurrency: Concurrency = field(default_factory=Concurrency)
    model_sources: dict = field(default_factory=dict)  # model name -> the source the cell ran
    worker_starts: Optional[int] = None
    suite_seconds: Optional[float] = None
    cases: list = field(default_factory=list)  # CaseRecord
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> Optional[str]:
        return self.cell.id

    @property
    def host(self) -> Host:
        """The machine that ran the cell."""
        return self.run.host

    @property
    def packages(self) -> dict:
        """{distribution: version} of everything the cell's environment held (empty where none was recorded)."""
        return self.resolved.packages


def case_record(case) -> CaseRecord:
    """A case as a CaseRecord, whether it is one already or a plain dict read from JSON."""
    return case if isinstance(case, CaseRecord) else CaseRecord.from_dict(case)


def cell_record(document) -> CellRecord:
    """A cell document as a CellRecord, whether it is one already or a plain dict read from JSON."""
    return document if isinstance(document, CellRecord) else CellRecord.from_dict(document)
