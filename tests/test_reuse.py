"""Result keys and the results-folder lock."""
import subprocess
import sys
import dataclasses
import json
from pathlib import Path

from harness.plan import reuse
from harness.plan.resolution import parse_pins
from harness.plan.settings import SuiteSettings
from harness.records import lock
from harness.plan.suite import discover
from nox_runner import ROOT

OPTIONS = SuiteSettings()


def test_key_changes_with_what_determines_a_result():
    models = discover()
    base = reuse.key_parts({"torch": "2.4.1", "numpy": "2.1.0"}, "3.12.1", models, OPTIONS, "cpu")
    same = reuse.key_parts({"numpy": "2.1.0", "torch": "2.4.1"}, "3.12.1", models, OPTIONS, "cpu")
    assert reuse.key(base) == reuse.key(same)
    changed = [
        reuse.key_parts({"torch": "2.4.1", "numpy": "2.2.0"}, "3.12.1", models, OPTIONS, "cpu"),
        reuse.key_parts({"torch": "2.4.1", "numpy": "2.1.0"}, "3.12.2", models, OPTIONS, "cpu"),
        reuse.key_parts({"torch": "2.4.1", "numpy": "2.1.0"}, "3.12.1", models, OPTIONS, "cpu+cuda:GPU 0: H200"),
        reuse.key_parts({"torch": "2.4.1", "numpy": "2.1.0"}, "3.12.1", models, dataclasses.replace(OPTIONS, repeats=5),
                        "cpu"),
        reuse.key_parts({"torch": "2.4.1", "numpy": "2.1.0"}, "3.12.1", {"mlp": models["mlp"]}, OPTIONS, "cpu"),
    ]
    assert len({reuse.key(p) for p in changed} | {reuse.key(base)}) == len(changed) + 1


def test_results_from_another_host_are_not_reused(monkeypatch):
    models = discover()
    here = reuse.key(reuse.key_parts({"torch": "2.4.1"}, "3.12.1", models, OPTIONS, "cpu"))
    monkeypatch.setenv("MATRIX_HOST_NAME", "some-other-runner")
    assert reuse.key(reuse.key_parts({"torch": "2.4.1"}, "3.12.1", models, OPTIONS, "cpu")) != here


def test_pins_are_normalized():
    text = "# header\nNumPy==2.1.0\nnvidia_cublas_cu12==12.1.3.1\ntorch==2.4.1+cu121\n"
    assert parse_pins(text) == {"numpy": "2.1.0", "nvidia-cublas-cu12": "12.1.3.1", "torch": "2.4.1+cu121"}


def test_the_lock_is_shared_within_a_run_and_refused_to_another(tmp_path):
    lock.hold_lock(tmp_path)
    lock.hold_lock(tmp_path)  # the same process (one nox run) may take it again
    child = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); from harness.records import lock; "
                               f"lock.hold_lock({str(tmp_path)!r})"], capture_output=True, text=True)
    assert child.returncode != 0
    assert "HarnessError: another matrix run (pid" in child.stderr
    assert "is writing" in child.stderr


def test_no_previous_result_means_run(tmp_path):
    class Cell:
        id = "torch_2_4_1-shap_0_46_0"
    assert reuse.previous(tmp_path, Cell) is None
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / f"{Cell.id}.json").write_text("{truncated")
    assert reuse.previous(tmp_path, Cell) is None


def test_the_machine_id_is_stable_here_and_differs_on_a_fresh_machine(monkeypatch, tmp_path):
    """Same host name and CPU (many cloud machines are 'vm'), another machine: a different key."""
    from harness.plan import hostinfo
    monkeypatch.delenv("MATRIX_MACHINE_ID", raising=False)
    monkeypatch.setenv("MATRIX_HOST_NAME", "vm")
    monkeypatch.setattr(hostinfo, "MACHINE_TOKEN", tmp_path / "here" / "machine")
    models = discover()
    here = hostinfo.machine_id()
    assert here == hostinfo.machine_id()
    assert (tmp_path / "here" / "machine").exists()
    key_here = reuse.key(reuse.key_parts({"torch": "2.4.1"}, "3.12.1", models, OPTIONS, "cpu"))
    monkeypatch.setattr(hostinfo, "MACHINE_TOKEN", tmp_path / "fresh-machine" / "machine")  # same image, new machine
    assert hostinfo.machine_id() != here
    assert reuse.key(reuse.key_parts({"torch": "2.4.1"}, "3.12.1", models, OPTIONS, "cpu")) != key_here


def test_the_run_says_whether_it_measures_this_machine(monkeypatch, tmp_path):
    import json

    class Cell:
        id = "torch_2_4_1-shap_0_46_0"
    monkeypatch.setenv("MATRIX_MACHINE_ID", "aaaa")
    monkeypatch.setenv("MATRIX_HOST_NAME", "vm")
    assert reuse.provenance_line([Cell], tmp_path, []) == "this machine is vm (id aaaa); this run measures it"
    (tmp_path / "raw").mkdir()
    document = {"schema": 1, "cell": {"id": Cell.id}, "run": {"host": {"name": "vm", "machine_id": "bbbb"}}}
    (tmp_path / "raw" / f"{Cell.id}.json").write_text(json.dumps(document))
    line = reuse.provenance_line([Cell], tmp_path, [])
    assert "holds results from another machine (vm (id bbbb))" in line
    assert "this run measures this machine" in line


def test_the_command_line_becomes_typed_settings_that_key_results_as_before(tmp_path):
    """run/options.py turns the namespace into Options; a shipped result's settings are what the defaults give."""
    from harness.run.options import Options, parse

    given = parse(["--results", str(tmp_path), "--explainer", "deep", "--device", "cpu", "--repeats", "1"])
    assert isinstance(given, Options)
    assert given.results == tmp_path.resolve()
    assert given.suite == SuiteSettings(explainers=("deep",), devices=("cpu",), repeats=1)
    models = discover()
    assert given.suite.record({"mlp": models["mlp"]}) == {"models": ["mlp"], "explainers": ["deep"], "repeats": 1,
                                                         "timeout": 120.0, "threads": 1, "memory_limit": 0.0,
                                                         "devices": ["cpu"]}
    shipped = json.loads((ROOT / "tests" / "fixtures" / "results" / "raw" / "torch_2_4_1-shap_0_46_0.json").read_text())
    recorded = {name: models.get(name, Path(name)) for name in shipped["settings"]["models"]}
    assert parse([]).suite.record(recorded) == shipped["settings"] == shipped["reuse"]["parts"]["settings"]
