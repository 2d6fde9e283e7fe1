"""The reference models as the host sees them: names and files, never imported here."""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from ..errors import HarnessError
from ..records.outcomes import DEVICES, EXPLAINERS

_PACKAGED_MODELS = Path(__file__).resolve().parents[1] / "models"  # the wheel ships models/ inside the package
MODELS_DIR = _PACKAGED_MODELS if _PACKAGED_MODELS.is_dir() else Path(__file__).resolve().parents[2] / "models"
CELL_CODE = Path(__file__).resolve().parents[1] / "cell"


def discover(models_dir: Path = MODELS_DIR) -> dict[str, Path]:
    """Model name -> module file, for every ``*.py`` in the suite folder."""
    return {p.stem: p for p in sorted(Path(models_dir).glob("*.py")) if not p.stem.startswith("_")}


def check_contract(path: Path) -> None:
    """A user's model file must define INPUT_SHAPES and build(); checked without importing it (no torch here)."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read models file {path}: {exc}") from None
    except SyntaxError as exc:
        raise HarnessError(f"models file {path} is not valid Python (line {exc.lineno}: {exc.msg})") from None
    names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [what for what, ok in (("INPUT_SHAPES = [...]", "INPUT_SHAPES" in names),
                                     ("def build()", "build" in functions)) if not ok]
    if missing:
        raise HarnessError(f"models file {path} does not follow the models contract: no {' and no '.join(missing)} "
                           "(see docs/models.md#your-own-models)")


def user_models(paths: list[Path] | None) -> dict[str, Path]:
    """Model name -> file for each --models PATH (a .py file, or a folder of them), contract-checked."""
    found: dict[str, Path] = {}
    reference = discover()
    for path in paths or []:
        path = Path(path).resolve()
        if path.is_dir():
            files = [p for p in sorted(path.glob("*.py")) if not p.stem.startswith("_")]
        elif path.suffix == ".py" and path.is_file():
            files = [path]
        else:
            raise HarnessError(f"--models {path}: no such .py file or folder")
        for file in files:
            check_contract(file)
            if file.stem in found or file.stem in reference:
                raise HarnessError(f"model name {file.stem!r} ({file}) is already taken; rename the file")
            found[file.stem] = file
    return found


def select(names: list[str] | None, models_dir: Path = MODELS_DIR, extra: list[Path] | None = None) -> dict[str, Path]:
    """The models a run uses: the reference suite plus the user's files, narrowed to ``names``."""
    models = dict(discover(models_dir), **user_models(extra))
    if not names:
        return models
    unknown = [n for n in names if n not in models]
    if unknown:
        raise HarnessError(f"unknown model {', '.join(map(repr, unknown))} (known: {', '.join(models)})")
    return {n: models[n] for n in names}


def cases(models, explainers=EXPLAINERS, devices=DEVICES) -> list[dict]:
    """Every (model, explainer, device) case of a cell, in the order the worker runs them."""
    return [{"model": m, "explainer": e, "device": d} for m in models for e in explainers for d in devices]


def suite_hash(models: dict[str, Path]) -> str:
    """A digest of the selected model files and of the code that runs them (part of every reuse key)."""
    digest = hashlib.sha256()
    for path in sorted(CELL_CODE.glob("*.py")) + [models[name] for name in sorted(models)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
