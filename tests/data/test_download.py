"""download_cifar10 against a local HTTP server on 127.0.0.1 (no network needed)."""

from __future__ import annotations

import hashlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from linviz.data import CIFAR10_CLASSES, download_cifar10, find_cifar10, load_dataset
from linviz.errors import Cancelled, DatasetError

from data_testfiles import write_tarball


@pytest.fixture(scope="module")
def archive_bytes(tmp_path_factory) -> bytes:
    return write_tarball(tmp_path_factory.mktemp("archive") / "cifar-10-python.tar.gz", n=20).read_bytes()


@pytest.fixture
def server(archive_bytes):
    """Serves /cifar (whole), /cut (sends half, then hangs up), /missing (404)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/missing":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(archive_bytes)))
            self.end_headers()
            body = archive_bytes if self.path == "/cifar" else archive_bytes[: len(archive_bytes) // 2]
            for start in range(0, len(body), 4096):
                self.wfile.write(body[start : start + 4096])
            self.wfile.flush()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a cancelled download hangs up: expected
                super().handle_error(request, client_address)

    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_progress_md5_and_cache(server, archive_bytes, tmp_path, monkeypatch):
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    import linviz.data.download as download

    monkeypatch.setattr(download, "CHUNK_BYTES", 1024)  # several progress reports
    calls = []
    md5 = hashlib.md5(archive_bytes).hexdigest()
    path = download_cifar10(url=server + "/cifar", md5=md5, progress=lambda d, t: calls.append((d, t)))
    assert path == tmp_path / "cache" / "cifar-10-python.tar.gz"
    assert path.read_bytes() == archive_bytes
    assert leftovers(path.parent) == ["cifar-10-python.tar.gz"]  # no .part left
    assert calls[0] == (0, len(archive_bytes)) and calls[-1] == (len(archive_bytes), len(archive_bytes))
    assert len(calls) > 3 and all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    # It is where find_cifar10 looks, and it loads.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LINVIZ_DATA", raising=False)
    assert find_cifar10() == path
    assert load_dataset("cifar10").class_names == CIFAR10_CLASSES
    # A second call finds the verified file and does not download again.
    assert download_cifar10(url=server + "/missing", md5=md5, dest_dir=path.parent) == path


def test_bad_checksum_leaves_nothing(server, tmp_path):
    with pytest.raises(DatasetError, match="corrupt: md5"):
        download_cifar10(url=server + "/cifar", md5="0" * 32, dest_dir=tmp_path)
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(server, archive_bytes, tmp_path):
    with pytest.raises(DatasetError, match="interrupted"):
        download_cifar10(url=server + "/cut", md5=hashlib.md5(archive_bytes).hexdigest(), dest_dir=tmp_path)
    assert leftovers(tmp_path) == []


def test_cancel_leaves_nothing(server, tmp_path, monkeypatch):
    import linviz.data.download as download

    monkeypatch.setattr(download, "CHUNK_BYTES", 1024)
    seen = []
    with pytest.raises(Cancelled):
        download_cifar10(
            url=server + "/cifar", md5=None, dest_dir=tmp_path,
            progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) >= 3,
        )
    assert leftovers(tmp_path) == []


def test_http_error_and_unreachable_server(server, tmp_path):
    with pytest.raises(DatasetError, match="cannot download .*/missing"):
        download_cifar10(url=server + "/missing", md5=None, dest_dir=tmp_path)
    with pytest.raises(DatasetError, match="cannot download"):
        download_cifar10(url="http://127.0.0.1:9/nothing", md5=None, dest_dir=tmp_path)
    assert leftovers(tmp_path) == []
