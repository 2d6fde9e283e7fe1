"""doctor on the seed's user (issue 22 item 1): torch 1.13.0, shap 0.44.1 and numpy<2, nothing else of ours but the
wheel.  Real wheels through uv (torch 1.13.0 is in the shared uv cache after the first run)."""
import subprocess
from pathlib import Path

import pytest

from test_package import ROOT, run, user_env

NOTEBOOK = Path(__file__).parent / "fixtures" / "doctor" / "notebook.py"
LSTM_H_N = ROOT / "models" / "lstm_hidden_state.py"  # the seed's model: an LSTM whose head reads h_n


@pytest.fixture(scope="module")
def seed_user(tmp_path_factory):
    """A fresh venv outside the checkout: the seed's pins and the wheel `uv build` makes."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(["uv", "build", "-q", "--wheel", "-o", str(out), str(ROOT)], check=True)
    wheel, = out.glob("torch_shap_matrix-*.whl")
    venv = tmp_path_factory.mktemp("seed") / "venv"
    subprocess.run(["uv", "venv", "-q", "--python", "3.11", str(venv)], check=True)
    subprocess.run(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "torch==1.13.0",
                    "shap==0.44.1", "numpy<2", str(wheel)], check=True)
    return venv


def hook_order_answer(text: str) -> None:
    """DeepExplainer hits S5 (the hook-order error) with its card; GradientExplainer passes; the pinned alternative."""
    deep = text.split("- DeepExplainer:", 1)[1].split("- GradientExplainer:", 1)[0]
    assert deep.lstrip().startswith("fail (RuntimeError: Module backward hook for grad_input is called before")
    assert "known problem S5" in deep and "appears in (torch/shap): 1.13.0/0.43.0" in deep
    assert "gradient explainer passed on your model" in deep
    assert 'pinned: pip install "torch==1.13.0" "shap==0.44.1" "numpy<2"' in deep
    assert "code: explainer = shap.GradientExplainer(model, background)" in deep
    assert "- GradientExplainer: pass" in text
    assert "Your environment: torch 1.13.0, shap 0.44.1, numpy 1.26" in text
    assert "bundled with the package" in text


@pytest.mark.e2e
def test_doctor_command_on_the_seed_model(seed_user):
    said = run(seed_user, "doctor", str(LSTM_H_N), timeout=600)
    assert said.returncode == 0, said.stdout + said.stderr
    hook_order_answer(said.stdout)


@pytest.mark.e2e
def test_doctor_from_a_notebook_and_a_crashing_model(seed_user):
    said = subprocess.run([str(seed_user / "bin" / "python"), str(NOTEBOOK)], capture_output=True, text=True,
                          cwd=seed_user.parent, env=user_env(seed_user), timeout=900)
    assert said.returncode == 0, said.stdout[-3000:] + said.stderr[-3000:]
    first, crashed = said.stdout.split("FINDINGS", 1)[0], said.stdout.split("FINDINGS", 2)[1]
    hook_order_answer(first)
    assert "- DeepExplainer: crash (killed by signal SIGABRT" in crashed and "this process is unaffected" in crashed
    assert said.stdout.rstrip().endswith("CALLER STILL RUNNING")


@pytest.mark.e2e
def test_doctor_says_what_it_cannot_save(seed_user):
    code = ("import torch, threading\nfrom torch_shap_matrix import doctor\nm = torch.nn.Linear(3, 1)\n"
            "m.lock = threading.Lock()\ntry:\n    doctor.check(m, inputs=torch.randn(4, 3))\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    said = subprocess.run([str(seed_user / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          cwd=seed_user.parent, env=user_env(seed_user), timeout=300)
    assert said.stdout.startswith("HarnessError cannot save the model for an isolated run (TypeError"), said.stdout
