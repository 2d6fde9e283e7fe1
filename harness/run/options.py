"""The options after ``--`` shared by the matrix, cell and report sessions, parsed into typed settings.

argparse stays here: the layers below get an ``Options`` (and its ``suite``
settings), never an argparse namespace.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OptionParser
from ..plan.settings import SuiteSettings
from ..records.outcomes import DEVICES, EXPLAINERS

ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    p = OptionParser(
        prog="nox -s matrix --",
        description="Run the torch x shap version matrix and write the compatibility table.",
        epilog="Cells can also be run one by one: nox -l lists them; select with -s NAME, "
               "-k 'torch_2_4 and shap_0_46' or -t py3_11.",
    )
    p.add_argument("--grid", default="default",
                   help="named grid from grid.toml to run (default: %(default)s; 'full' runs every minor)")
    p.add_argument("--results", type=Path, default=ROOT / "results",
                   help="folder for raw results and tables (default: results/)")
    p.add_argument("--force", action="store_true",
                   help="re-run every cell, even those whose earlier result still holds")
    p.add_argument("--disk-budget", type=float, metavar="GB",
                   help="run row by row on a private uv cache, deleting each torch release's files and "
                        "virtualenvs after its row; reports the peak disk used (for small CI runners)")
    p.add_argument("--models", action="append", type=Path, metavar="PATH",
                   help="add your own models: a .py file or a folder of them, each defining INPUT_SHAPES and "
                        "build() like models/ (repeatable)")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="run only this model, from models/ or --models (repeatable; default: all)")
    p.add_argument("--explainer", action="append", choices=EXPLAINERS,
                   help="run only this explainer (repeatable; default: both)")
    p.add_argument("--device", action="append", choices=DEVICES,
                   help="run only this device's cases (repeatable; default: both): a GPU shard runs --device cuda, "
                        "since its CPU cases come from a CPU runner")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds one case may take before it is recorded as timeout (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=3,
                   help="warm repeats timed per case after the cold call (default: %(default)s)")
    p.add_argument("--memory-limit", type=float, default=0.0, metavar="GB",
                   help="cap each worker's address space, so a runaway case fails instead of exhausting "
                        "the machine (default: no cap; 6 GB or more leaves room for torch itself)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads in every cell, recorded with the timings (default: %(default)s)")
    p.add_argument("--jobs", type=positive, metavar="N",
                   help="cells run at once (default: from the cores and the free memory; 1: one after another)")
    p.add_argument("--timing", choices=("shared", "exclusive"), default="shared",
                   help="shared: each case records how many cells ran at once; exclusive: a cell's suite (every "
                        "timed call) runs only while no other cell does anything (default: %(default)s)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show every cell's own output (nox's commands, uv's installs), prefixed by the cell")
    return p


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


@dataclass(frozen=True)
class Options:
    """One run's options, typed (names as on the command line); ``suite`` is what each cell is asked to run."""
    grid: str = "default"
    results: Path = ROOT / "results"
    force: bool = False
    disk_budget: float | None = None
    models: list[Path] = field(default_factory=list)
    model: list[str] | None = None
    explainer: list[str] | None = None
    device: list[str] | None = None
    timeout: float = 120.0
    repeats: int = 3
    memory_limit: float = 0.0
    threads: int = 1
    jobs: int | None = None
    timing: str = "shared"
    verbose: bool = False

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace, **more):
        """The parsed command line, with paths made absolute (a cell process may run from elsewhere)."""
        values = {f.name: getattr(namespace, f.name) for f in dataclasses.fields(cls) if hasattr(namespace, f.name)}
        values["results"] = Path(values["results"]).resolve()
        values["models"] = [Path(path).resolve() for path in values.get("models") or []]
        return cls(**values, **more)

    @property
    def suite(self) -> SuiteSettings:
        return SuiteSettings(explainers=tuple(self.explainer or ()), devices=tuple(self.device or ()),
                             repeats=self.repeats, timeout=self.timeout, threads=self.threads,
                             memory_limit=self.memory_limit)


def parse(posargs) -> Options:
    return Options.from_namespace(parser().parse_or_help(posargs))


def forward(options: Options) -> list[str]:
    """Turn parsed options back into posargs for notified cell and report sessions."""
    args = ["--results", str(options.results), "--timeout", str(options.timeout),
            "--repeats", str(options.repeats), "--threads", str(options.threads),
            "--memory-limit", str(options.memory_limit)]
    for path in options.models:
        args += ["--models", str(path)]
    for name in options.model or []:
        args += ["--model", name]
    for name in options.explainer or []:
        args += ["--explainer", name]
    for name in options.device or []:
        args += ["--device", name]
    return args


def publish_parser() -> OptionParser:
    """The publish session's options (the fleet's last step)."""
    p = OptionParser(prog="nox -s publish --", description="Merge a fleet run's shard results into a results "
                     "folder, rebuild the table, diff it against the last publish and build the web page.")
    p.add_argument("--artifacts", type=Path, default=Path("fleet-artifacts"),
                   help="the downloaded raw-* artifacts: <cpu|gpu>/raw/<cell-id>.json (default: %(default)s)")
    p.add_argument("--results", type=Path, default=ROOT / "results",
                   help="results folder to publish into (default: results/)")
    p.add_argument("--description", help="how diff.json names this run (default: the workflow run)")
    return p


def parse_publish(posargs) -> argparse.Namespace:
    """The publish options with absolute paths (relative ones are from where nox was run)."""
    options = publish_parser().parse_or_help(posargs)
    options.artifacts, options.results = options.artifacts.resolve(), options.results.resolve()
    return options
