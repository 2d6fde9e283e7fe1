"""The package index client: cache, offline fallback and clear errors (a real HTTP server on loopback)."""
import http.server
import json
import os
import threading
import time

import pytest
from packaging.version import Version

from harness.errors import HarnessError
from harness.plan.index import PackageIndex

PAGE = {"meta": {"api-version": "1.1"}, "name": "torch", "versions": ["2.4.1", "2.5.0rc1"], "files": [
    {"filename": "torch-2.4.1-cp312-cp312-manylinux1_x86_64.whl", "requires-python": ">=3.8", "yanked": False},
    {"filename": "torch-2.5.0rc1-cp312-cp312-manylinux1_x86_64.whl", "requires-python": ">=3.9", "yanked": False},
    {"filename": "torch-2.3.9-cp312-cp312-manylinux1_x86_64.whl", "requires-python": ">=3.8", "yanked": True},
]}


@pytest.fixture
def index_server():
    """Serves PAGE for /simple/torch/ and 404 for anything else."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/simple/torch/":
                body = json.dumps(PAGE).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/simple"
    yield server
    server.shutdown()
    server.server_close()


def test_releases_skip_yanked_and_pre_releases_unless_asked(index_server, tmp_path):
    index = PackageIndex(index_server.url, tmp_path)
    assert index.releases("torch") == [Version("2.4.1")]
    assert index.releases("torch", pre=True) == [Version("2.4.1"), Version("2.5.0rc1")]


def test_unknown_project_is_named(index_server, tmp_path):
    with pytest.raises(HarnessError, match="torchh is not on the package index"):
        PackageIndex(index_server.url, tmp_path).releases("torchh")


def test_offline_uses_the_cache_with_a_note(index_server, tmp_path, capsys):
    PackageIndex(index_server.url, tmp_path).releases("torch")  # fills the cache
    cache = next((tmp_path / "index").glob("*torch.json"))
    old = time.time() - 3 * 24 * 3600
    os.utime(cache, (old, old))
    index_server.shutdown()
    index_server.server_close()  # the same URL now refuses connections
    assert PackageIndex(index_server.url, tmp_path).releases("torch") == [Version("2.4.1")]
    note = capsys.readouterr().err
    assert "cannot reach the package index" in note
    assert "using the cached list of torch releases (72 h old)" in note


def test_no_network_and_no_cache_is_one_line(tmp_path):
    with pytest.raises(HarnessError) as info:
        PackageIndex("http://127.0.0.1:9/simple", tmp_path).releases("torch")
    assert str(info.value).startswith("cannot reach the package index http://127.0.0.1:9/simple")
    assert "\n" not in str(info.value)
