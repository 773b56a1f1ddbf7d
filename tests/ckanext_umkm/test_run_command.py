"""End to end: the README's run command installs and serves the portal with
demo content loaded into the DataStore; Ctrl-C stops what it started; a second
run keeps all data. Runs bin/run as a user would, as its own instance."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import requests

from .conftest import ROOT, free_port


def _drop_instance(instance: str) -> None:
    for sql in (f'DROP DATABASE IF EXISTS "ckan_{instance}" WITH (FORCE)',
                f'DROP DATABASE IF EXISTS "datastore_{instance}" WITH (FORCE)'):
        subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-qc", sql], check=True)


def _start(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(["bash", os.path.join(ROOT, "bin", "run")], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(proc: subprocess.Popen, logfile: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = open(logfile, encoding="utf-8", errors="replace").read()
        if "press Ctrl-C to stop" in text:
            return text
        assert proc.poll() is None, f"bin/run exited early:\n{text[-4000:]}"
        time.sleep(1)
    raise AssertionError("bin/run did not become ready:\n" + open(logfile).read()[-4000:])


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
    proc.wait(60)


def _counts(base: str) -> dict[str, int]:
    facets = _api(base, "package_search", rows=0, **{"facet.field": '["dataset_type"]'})["result"]
    return facets["facets"]["dataset_type"]


def _api(base: str, action: str, **params):
    r = requests.get(f"{base}/api/3/action/{action}", params=params, timeout=30)
    return r.json()


def test_run_command_serves_demo_portal_and_keeps_data(tmp_path):
    instance = "e2e"
    _drop_instance(instance)
    port, search_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, UMKM_VAR=str(tmp_path / "var"), UMKM_INSTANCE=instance,
               UMKM_PORT=str(port), UMKM_SEARCH_PORT=str(search_port), UMKM_REDIS_DB="3",
               UMKM_SITE_URL=base)
    env.pop("CKAN_INI", None)

    logfile = str(tmp_path / "run1.log")
    with open(logfile, "w") as log:
        proc = _start(env, log)
        try:
            out = _wait_ready(proc, logfile)
            m = re.search(r"Sysadmin:\s+(\S+) / (\S+)", out)
            assert m, out
            assert "dataset jumlah-umkm-menurut-provinsi-2023: created" in out

            home = requests.get(base + "/", timeout=30)
            assert home.status_code == 200 and "Portal Satu Data UMKM" in home.text
            assert _counts(base) == {"dataset": 4, "kegiatan": 1, "variabel": 18, "indikator": 3}
            assert _api(base, "organization_list")["result"]
            editions = {e["scheme"]: e for e in _api(base, "umkm_reference_edition_list")["result"]}
            assert editions["wilayah"]["levels"]["desa_kelurahan"] == 83762
            assert editions["kbli"]["levels"]["kategori"] == 21
            kegiatan = _api(base, "package_show", id="pendataan-umkm-2023")["result"]
            assert kegiatan["judul_kegiatan"] == kegiatan["title"]
            page = requests.get(f"{base}/kegiatan/pendataan-umkm-2023", timeout=30).text
            assert "Jumlah UMKM menurut Provinsi dan Skala Usaha, 2023" in page  # linked dataset

            # The background worker loads the uploaded CSV into the DataStore.
            pkg = _api(base, "package_show", id="jumlah-umkm-menurut-provinsi-2023")["result"]
            res_id = pkg["resources"][0]["id"]
            deadline = time.monotonic() + 180
            rows = None
            while time.monotonic() < deadline:
                r = _api(base, "datastore_search", resource_id=res_id, limit=100)
                # The loader creates the table before it copies the rows in.
                if r.get("success") and r["result"]["records"]:
                    rows = r["result"]["records"]
                    break
                time.sleep(2)
            assert rows is not None, "demo CSV was not loaded into the DataStore"
            assert len(rows) == 38 and {"kode_provinsi", "jumlah_umkm"} <= set(rows[0])
            # ...and the preview view exists for it.
            views = _api(base, "resource_view_list", id=res_id)["result"]
            assert any(v["view_type"] == "datatables_view" for v in views)

            # Restricted demo data: released metadata, the rows behind the gate.
            assert "data-umkm-by-name-by-address-contoh-2023: released" in out
            assert "grant diskumkm-kota-bandung: created" in out and "/akun/verifikasi-dua-langkah" in out
            bnba = _api(base, "package_show", id="data-umkm-by-name-by-address-contoh-2023")["result"]
            assert bnba["umkm_access"]["access"] == "denied"
            refused = requests.get(f"{base}/api/3/action/datastore_search",
                                   params={"resource_id": bnba["resources"][0]["id"]}, timeout=30)
            assert refused.status_code == 403

            # A sysadmin can log in with the printed credentials.
            s = requests.Session()
            form = s.get(base + "/user/login", timeout=30).text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', form).group(1)
            s.post(base + "/user/login", data={"login": m.group(1), "password": m.group(2),
                                               "_csrf_token": token}, timeout=30)
            me = s.get(base + "/dashboard/datasets", timeout=30)
            assert me.status_code == 200 and "/user/login" not in me.url
        finally:
            _stop(proc)

    for p in (port, search_port):
        try:
            requests.get(f"http://127.0.0.1:{p}/", timeout=2)
            raise AssertionError(f"port {p} still served after Ctrl-C")
        except requests.ConnectionError:
            pass

    # Second run: same data, nothing recreated. The index is marked as written
    # by an older search service: it must be moved aside and rebuilt.
    layout = tmp_path / "var" / "search" / "ckan" / "umkm-search-layout.json"
    assert layout.exists()
    layout.write_text('{"layout": 1}')
    logfile = str(tmp_path / "run2.log")
    with open(logfile, "w") as log:
        proc = _start(env, log)
        try:
            out = _wait_ready(proc, logfile)
            assert "dataset jumlah-umkm-menurut-provinsi-2023: exists" in out
            assert "created" not in out
            assert "rebuilding the search index" in out
            assert list((tmp_path / "var" / "search").glob("ckan.layout-1.*"))
            assert _counts(base)["dataset"] == 4
            pkg2 = _api(base, "package_show", id="jumlah-umkm-menurut-provinsi-2023")["result"]
            assert pkg2["id"] == pkg["id"]
        finally:
            _stop(proc)
