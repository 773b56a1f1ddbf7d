"""A real search service process on a free port with a fresh index directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests


@dataclass
class Service:
    url: str  # .../solr/ckan
    data_dir: str
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        port = int(self.url.split(":")[2].split("/")[0])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ckanext.umkm.search_service", "--port", str(port),
             "--data-dir", self.data_dir, "--core", "ckan", "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/admin/ping", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("search service did not start")

    def stop(self, graceful: bool = True) -> None:
        if self.proc and self.proc.poll() is None:
            (self.proc.terminate if graceful else self.proc.kill)()
            self.proc.wait(15)

    def select(self, **params) -> dict:
        params.setdefault("wt", "json")
        r = requests.get(f"{self.url}/select", params=params, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def add(self, docs: list[dict], commit: bool = True) -> requests.Response:
        return requests.post(f"{self.url}/update", params={"commit": str(commit).lower()},
                             json=docs, timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def service(tmp_path) -> Iterator[Service]:
    svc = Service(f"http://127.0.0.1:{_free_port()}/solr/ckan", os.fspath(tmp_path / "index"))
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()


def doc(i: int | str, **fields) -> dict:
    """A CKAN-shaped document (the fields CKAN's indexer always sends)."""
    base = {
        "index_id": f"idx-{i}", "id": f"id-{i}", "site_id": "test", "entity_type": "package",
        "dataset_type": "dataset", "state": "active", "name": f"name-{i}", "title": f"Title {i}",
        "capacity": "public", "permission_labels": ["public"],
        "metadata_created": "2024-01-01T00:00:00Z", "metadata_modified": "2024-01-01T00:00:00Z",
    }
    base.update(fields)
    return base
