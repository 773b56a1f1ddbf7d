"""`ckan umkm search-service` starts the search service as its own process."""

import os
import subprocess
import sys
import time

import requests

from .conftest import ROOT, free_port


def test_ckan_cli_starts_the_search_service(tmp_path):
    port = free_port()
    ckan = os.path.join(os.path.dirname(sys.executable), "ckan")
    proc = subprocess.Popen(
        [ckan, "-c", os.path.join(ROOT, "config", "test.ini"), "umkm", "search-service",
         "--port", str(port), "--data-dir", str(tmp_path / "index"), "--core", "ckan"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/solr/ckan"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/admin/ping", params={"wt": "json"}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        else:
            raise AssertionError(proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no answer")
        # The service process is not CKAN: the CLI replaced itself with it.
        cmdline = open(f"/proc/{proc.pid}/cmdline", "rb").read().split(b"\0")
        assert b"ckanext.umkm.search_service" in cmdline
        schema = requests.get(f"{url}/schema", params={"wt": "schema.xml"}, timeout=5)
        assert 'name="ckan-2.11"' in schema.text
        assert requests.get(f"http://127.0.0.1:{port}/solr/nope/select", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(10)
