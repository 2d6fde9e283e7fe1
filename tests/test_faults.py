"""Faults injected for real through the nox sessions: the run goes on, the cell records what happened."""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from nox_runner import nox, nox_in_background

pytestmark = pytest.mark.e2e
GRID = '[torch]\nalways = ["2.4.1"]\n[grids.one]\ntorch = ["2.4.1"]\nshap = ["0.46.0"]\n'
FIXTURE = Path(__file__).parent / "fixtures" / "raw" / "torch_1_13_1-shap_0_44_1.json"


def test_an_unreachable_index_during_install_is_the_cells_outcome(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    results = tmp_path / "results"
    (results / "raw").mkdir(parents=True)
    other = results / "raw" / FIXTURE.name
    shutil.copy(FIXTURE, other)
    process = nox("-s", "cell(torch_2_4_1-shap_0_46_0)", "--", "--results", str(results), "--model", "mlp",
                  envdir=tmp_path / ".nox", timeout=600,
                  env={"MATRIX_GRID_FILE": str(grid), "UV_INDEX_URL": "http://127.0.0.1:9/simple"})
    output = process.stdout + process.stderr
    assert "Session cell(torch_2_4_1-shap_0_46_0) was successful" in output  # a failed install is data
    document = json.loads((results / "raw" / "torch_2_4_1-shap_0_46_0.json").read_text())
    assert document["status"] == "install-error"
    assert "127.0.0.1:9" in document["install"]["message"]
    assert {c["outcome"] for c in document["cases"]} == {"install-error"}
    assert all("Connection refused" in c["error"]["message"] for c in document["cases"])
    assert other.read_bytes() == FIXTURE.read_bytes()


def test_a_killed_matrix_resumes_with_only_the_unfinished_cells(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text('[torch]\nalways = ["2.4.1"]\n[grids.two]\ntorch = ["2.4.1"]\nshap = ["0.46.0", "0.49.1"]\n')
    results = tmp_path / "results"
    args = ["-s", "matrix", "--", "--grid", "two", "--results", str(results), "--model", "mlp", "--explainer", "deep"]
    env = {"MATRIX_GRID_FILE": str(grid)}
    first = nox_in_background(*args, envdir=tmp_path / ".nox", env=env, new_session=True)
    finished = results / "raw" / "torch_2_4_1-shap_0_46_0.json"
    deadline = time.time() + 900
    while not finished.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGTERM)  # as a CI runner or `kill` would, mid-way through the second cell
    first.communicate(timeout=60)
    assert finished.exists()
    assert not (results / "raw" / "torch_2_4_1-shap_0_49_1.json").exists()
    assert not list((results / "raw").glob("*.part"))
    again = nox(*args, envdir=tmp_path / ".nox", env=env, timeout=900)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-3000:]
    assert "1 reused (results still hold), 1 to run" in output
    assert "] torch_2_4_1-shap_0_46_0:" not in output  # not run again
    assert re.search(r"\[1/1\] torch_2_4_1-shap_0_49_1: \d+ pass", output), output[-3000:]
    assert json.loads((results / "raw" / "torch_2_4_1-shap_0_49_1.json").read_text())["status"] == "ran"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_while_writing_a_result_is_one_line_and_keeps_earlier_results(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(results)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (results / "raw").mkdir()
        earlier = results / "raw" / FIXTURE.name
        shutil.copy(FIXTURE, earlier)
        filler = results / "filler"
        with open(filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        os.truncate(filler, filler.stat().st_size - 8192)  # leave 8 KB: less than one cell result
        grid = tmp_path / "grid.toml"
        grid.write_text('[grids.one]\ntorch = ["1.13.1"]\nshap = ["0.54.1"]\n')  # n/a here: no install needed
        process = nox("-s", "cell(torch_1_13_1-shap_0_54_1)", "--", "--results", str(results),
                      envdir=tmp_path / ".nox", env={"MATRIX_GRID_FILE": str(grid)}, timeout=300)
        output = process.stdout + process.stderr
        assert process.returncode != 0
        lines = [line for line in output.splitlines() if "aborted:" in line]
        assert len(lines) == 1
        assert "could not write" in lines[0]
        assert "No space left on device" in lines[0]
        assert "Traceback" not in output
        assert earlier.read_bytes() == FIXTURE.read_bytes()
        assert sorted(p.name for p in (results / "raw").iterdir()) == [FIXTURE.name]  # no partial file
    finally:
        subprocess.run(["umount", str(results)])


class CuttableIndex:
    """A loopback proxy for the package index's simple pages that goes dark for good on request.

    It answers every page with "no-cache" so that uv asks again for each install.
    Files still come from their own host, out of uv's cache.
    """

    def __init__(self, upstream="https://pypi.org/simple"):
        self.cut = threading.Event()
        self.seen = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.seen.append(self.path)
                if proxy.cut.is_set():
                    self.connection.close()  # as if the network went away
                    return
                request = urllib.request.Request(upstream + self.path[len("/simple"):],
                                                 headers={"Accept": self.headers.get("Accept", "*/*")})
                with urllib.request.urlopen(request, timeout=60) as answer:
                    body = answer.read()
                    kind = answer.headers.get("Content-Type", "text/html")
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_network_cut_between_two_cells_fails_only_the_second(tmp_path):
    index = CuttableIndex()
    try:
        grid = tmp_path / "grid.toml"
        grid.write_text('[torch]\nalways = ["2.4.1"]\n[grids.two]\ntorch = ["2.4.1"]\nshap = ["0.46.0", "0.49.1"]\n')
        results = tmp_path / "results"
        first = results / "raw" / "torch_2_4_1-shap_0_46_0.json"
        run = nox_in_background("-s", "matrix", "--", "--grid", "two", "--results", str(results), "--model", "mlp",
                                "--explainer", "deep", envdir=tmp_path / ".nox",
                                env={"MATRIX_GRID_FILE": str(grid), "UV_INDEX_URL": index.url})
        deadline = time.time() + 900
        while not first.exists() and run.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        index.cut.set()  # the network goes away after the first cell
        out, err = run.communicate(timeout=900)
    finally:
        index.close()
    assert json.loads(first.read_text())["status"] == "ran"
    second = json.loads((results / "raw" / "torch_2_4_1-shap_0_49_1.json").read_text())
    assert second["status"] == "install-error", out[-2000:] + err[-2000:]
    assert second["install"]["message"]
    assert {c["outcome"] for c in second["cases"]} == {"install-error"}
    assert "] torch_2_4_1-shap_0_49_1: install-error (2 cases)" in out + err  # the run went on
