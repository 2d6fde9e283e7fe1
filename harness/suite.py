"""The reference models as the host sees them: names and files, never imported here."""
from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
EXPLAINERS = ("deep", "gradient")
DEVICES = ("cpu", "cuda")


def discover(models_dir: Path = MODELS_DIR) -> dict[str, Path]:
    """Model name -> module file, for every ``*.py`` in the suite folder."""
    return {p.stem: p for p in sorted(Path(models_dir).glob("*.py")) if not p.stem.startswith("_")}


def select(names: list[str] | None, models_dir: Path = MODELS_DIR) -> dict[str, Path]:
    models = discover(models_dir)
    if not names:
        return models
    unknown = [n for n in names if n not in models]
    if unknown:
        raise HarnessError(f"unknown model {', '.join(map(repr, unknown))} (known: {', '.join(models)})")
    return {n: models[n] for n in names}


def cases(models, explainers=EXPLAINERS, devices=DEVICES) -> list[dict]:
    """Every (model, explainer, device) case of a cell, in the order the worker runs them."""
    return [{"model": m, "explainer": e, "device": d} for m in models for e in explainers for d in devices]
