"""GPU rows: the real CUDA records of tests/fixtures/gpu/ (an H200, torch 2.11.0+cu130) merged as a GPU
runner's artifacts beside the published CPU results, in the tables and in the page (headless Chromium)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import gpu_records
import pytest
from test_site import browser, browser_cells, select, server_cells  # noqa: F401 (browser is a fixture)

from harness.publish import page as site
from harness.publish import report
from harness.records import merge, store

ROOT = Path(__file__).resolve().parent.parent
ROW = "2.11.0+cu130 · supplied: h200"
RNN = ("gru", "lstm_hidden_state", "lstm_last_output")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The published CPU results with the three H200 records merged in as the fleet merges a GPU shard's."""
    results = tmp_path_factory.mktemp("gpu") / "results"
    shutil.copytree(ROOT / "tests" / "fixtures" / "raw", store.raw_dir(results))
    artifacts = results.parent / "artifacts"
    written = gpu_records.write(artifacts / "gpu")  # gpu/raw/<cell-id>.json, as a GPU shard uploads them
    done = merge.merge(artifacts, results)
    assert sorted(done["added"]) == sorted(("gpu", p.stem) for p in written)
    report.write(results)
    site.write_site(results, results / "site")
    return results


def test_the_records_are_real_supervisor_output():
    for shap in gpu_records.VERSIONS:
        doc = gpu_records.document(shap)
        assert doc["cell"]["id"] == f"torch_2_11_0_cu130-shap_{shap.replace('.', '_')}-supplied-h200"
        assert doc["provenance"] == "supplied environment"
        assert len(doc["cases"]) == 17 * 2 * 2
        assert doc["environment"].get("gpu") in (None, "NVIDIA H200")  # 0.46.0 failed before its hello
    env = gpu_records.document("0.54.1")["environment"]
    assert (env["gpu"], env["torch_cuda"], env["cuda_available"]) == ("NVIDIA H200", "13.0", True)


def test_the_tables_have_a_cuda_heatmap_agreement_and_warm_times(published):
    table = (published / "COMPATIBILITY.md").read_text()
    assert "- GPUs: NVIDIA H200" in table
    assert "supplied environment `h200`" in table
    cuda = table[table.index("## Summary (cuda)"):table.index("## Legend")]
    # one grid per explainer: 8 + 13 of the 17 + 17 cases that ran pass in each of the two cells that imported
    deep, gradient = [line for line in cuda.splitlines() if ROW in line]
    assert [c.strip() for c in deep.split("|")][-4:-1] == ["❌ import · py3.12", "⚠️ 8/17 · py3.12", "⚠️ 8/17 · py3.12"]
    assert [c.strip() for c in gradient.split("|")][-4:-1] == ["❌ import · py3.12", "⚠️ 13/17 · py3.12",
                                                               "⚠️ 13/17 · py3.12"]
    assert cuda.index("### DeepExplainer (cuda)") < cuda.index(deep) < cuda.index("### GradientExplainer (cuda)")
    section = table[table.index("## CPU and CUDA agreement"):]
    assert "judged against 0.01 x max(1, max|phi|): 46 of 46 agree" in section
    assert "12 of 68 cases that ran on CUDA have another outcome than on CPU." in section
    lines = {tuple(c.strip() for c in line.split("|")[1:5]): [c.strip() for c in line.split("|")[5:-1]]
             for line in section.splitlines() if line.startswith(f"| {ROW}")}
    assert len(lines) == 68
    assert lines[(ROW, "0.49.1", "cnn2d", "DeepExplainer")][:4] == ["✅ pass", "✅ pass", "2.28e-06", "✅"]
    for model in RNN:  # outcomes that exist only on a GPU: cuDNN's RNN backward needs training mode
        assert lines[(ROW, "0.54.1", model, "GradientExplainer")][:2] == ["✅ pass", "❌ fail"]
    cpu_warm, cuda_warm, ratio = lines[(ROW, "0.49.1", "mlp", "DeepExplainer")][4:]
    assert (cpu_warm, cuda_warm, ratio) == ("31.6 ms", "54.1 ms", "0.58×")
    rows = json.loads((published / "matrix.json").read_text())["cases"]
    gru = [r for r in rows if r["row"] == ROW and r["model"] == "gru" and r["device"] == "cuda"
           and r["shap"] == "0.49.1"]
    assert {r["error_message"] for r in gru} == {"cudnn RNN backward can only be called in training mode"}


def test_the_page_renders_the_cuda_heatmap_and_the_device_table(published):
    page = (published / "site" / "index.html").read_text()
    cells = server_cells(page)
    # one grid per explainer and device, coloured by pass share (page.SHARES)
    assert cells[f"deep|cuda|{ROW}|0.49.1"] == ("few", "8/17") and cells[f"gradient|cuda|{ROW}|0.49.1"] == ("most", "13/17")
    assert cells[f"deep|cpu|{ROW}|0.49.1"] == ("few", "8/17") and cells[f"gradient|cpu|{ROW}|0.49.1"] == ("most", "16/17")
    assert cells[f"deep|cuda|{ROW}|0.46.0"] == ("none", "0/17")  # import error
    assert cells["deep|cuda|2.4.1|0.46.0"] == ("notrun", "not run")
    table = page[page.index('id="devices"'):]
    assert "46 of 46 compared cases agree;\n    12 of 68 have another outcome on CUDA than on CPU." in table
    assert table.count("<tr data-model=") == 68
    assert "NVIDIA H200" in page


def test_the_gpu_rows_in_chromium(browser, published, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((published / "site" / "index.html").as_uri())
    assert browser_cells(page) == server_cells((published / "site" / "index.html").read_text())
    assert page.is_visible('.grid-block[data-device="cuda"]')
    key = f"gradient|cuda|{ROW}|0.54.1"
    page.click(f'button.cell[data-key="{key}"]')
    page.locator("#details tbody tr").first.wait_for()
    assert f"gradient: torch {ROW} × shap 0.54.1 on cuda (17 cases)" in page.inner_text("#details-title")
    assert "GPU NVIDIA H200" in page.inner_text("#details-meta")
    gru = page.locator("#details tbody tr:not(.more)", has_text="gru")
    assert "fail" in gru.inner_text()
    gru.locator(".toggle").click()
    more = page.locator("#details tr.more:visible").inner_text()
    assert "cudnn RNN backward can only be called in training mode" in more
    visible = page.locator("#devices-table tbody tr:visible")
    assert visible.count() == 68
    select(page, "model", "gru")
    assert visible.count() == 4
    assert re.search(r"\tmismatch\tfail\t", visible.nth(0).inner_text())
    assert browser_cells(page)[key] == ("none", "0/1")
    select(page, "model", "")
    page.screenshot(path=str(tmp_path / "gpu-rows.png"), full_page=True)
    context.close()
    assert errors == []


def test_a_cuda_only_run_keeps_an_untimed_cpu_reference_for_device_agreement(monkeypatch):
    """--device cuda (a GPU shard): each cuda case follows one CPU call of the same case, with no warm repeats,
    whose attributions are compared and which is not recorded; without CUDA no reference runs at all."""
    from harness.cell import supervisor

    planned = supervisor.plan_cases([("mlp", "m.py")], ["deep", "gradient"], ["cuda"])
    assert [(c["explainer"], c["device"], c.get("reference", False)) for c in planned] == [
        ("deep", "cpu", True), ("deep", "cuda", False), ("gradient", "cpu", True), ("gradient", "cuda", False)]
    assert supervisor.plan_cases([("mlp", "m.py")], ["deep"], ["cpu", "cuda"]) == [
        {"model": "mlp", "path": "m.py", "explainer": "deep", "device": d} for d in ("cpu", "cuda")]

    for cuda in (True, False):
        sent = []
        boss = supervisor.Supervisor(threads=1, timeout=5, import_timeout=5)
        monkeypatch.setattr(boss, "start_worker", lambda: {"cuda_available": cuda})

        def run_case(case, boss=boss):
            if boss.hello is None:
                boss.hello = boss.start_worker()
            sent.append((case["device"], case["repeats"], case["keep_attributions"]))
            return {"outcome": "pass", "attributions": [[1.0]] if case["device"] == "cpu" else [[1.5]]}

        monkeypatch.setattr(boss, "run_case", run_case)
        monkeypatch.setattr(supervisor, "compare_devices", lambda a, b: {"max_abs_diff": abs(a[0][0] - b[0][0])})
        records = boss.run(planned, repeats=3)
        assert [(r["explainer"], r["device"]) for r in records] == [("deep", "cuda"), ("gradient", "cuda")]
        if cuda:
            assert sent == [("cpu", 0, True), ("cuda", 3, True)] * 2
            assert [r["device_agreement"] for r in records] == [{"max_abs_diff": 0.5}] * 2
        else:
            assert sent == [("cuda", 3, False)] * 2
            assert not any("device_agreement" in r for r in records)
