"""End to end: the README's run command installs and serves the portal with
demo content loaded into the DataStore; Ctrl-C stops what it started; a second
run keeps all data. Runs bin/run as a user would, as its own instance."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import time

import requests

from .conftest import ROOT, free_port

REDIS_DB = 3  # the instance's own Redis database


def _drop_instance(instance: str) -> None:
    """A fresh instance: its databases, and its Redis database (jobs, harvest
    queues, abuse-limit counters of an earlier run)."""
    import redis

    redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").flushdb()
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
    # Over the API a search without a type answers datasets only: name them all.
    facets = _api(base, "package_search", rows=0, fq="dataset_type:(dataset OR kegiatan OR variabel OR indikator)",
                  **{"facet.field": '["dataset_type"]'})["result"]
    return facets["facets"]["dataset_type"]


def _api(base: str, action: str, **params):
    r = requests.get(f"{base}/api/3/action/{action}", params=params, timeout=30)
    return r.json()


def _csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" (?:value|content)="([^"]+)"', html).group(1)


def _instansi_demo_gets_kota_bandung(base: str, out: str, bnba: dict) -> None:
    """The steps bin/run prints, as instansi-demo takes them in the browser:
    the loader put the restricted table into the DataStore (with the
    portal's service token, through the gate), and after the statement and
    two-step login the download holds exactly Kota Bandung's rows."""
    res = bnba["resources"][0]
    deadline = time.monotonic() + 180
    while not _api(base, "package_show", id=bnba["name"])["result"]["resources"][0].get("datastore_active"):
        assert time.monotonic() < deadline, "the restricted demo table never reached the DataStore"
        time.sleep(2)
    password = re.search(r"user instansi-demo: created, password (\S+)", out).group(1)
    s = requests.Session()
    form = s.get(f"{base}/user/login", timeout=30).text
    s.post(f"{base}/user/login", data={"login": "instansi-demo", "password": password, "_csrf_token": _csrf(form)},
           timeout=30)
    page = s.get(f"{base}/akses/pernyataan", timeout=30).text
    version = re.search(r'name="template_version" value="(\d+)"', page).group(1)
    signed = s.post(f"{base}/akses/pernyataan", timeout=30, data={
        "_csrf_token": _csrf(page), "template_version": version, "full_name": "Analis Data Kota Bandung",
        "nip_nik": "198001012005012001", "agency": "Dinas KUMKM Kota Bandung", "position": "Analis Data",
        "accept_controller_duties": "on"})
    assert signed.status_code == 200
    page = s.get(f"{base}/akun/verifikasi-dua-langkah", timeout=30).text
    page = s.post(f"{base}/akun/verifikasi-dua-langkah", data={"op": "setup", "_csrf_token": _csrf(page)},
                  timeout=30).text
    secret = re.search(r'class="umkm-mfa-secret">([A-Z2-7]+)<', page).group(1)
    import pyotp

    done = s.post(f"{base}/akun/verifikasi-dua-langkah", timeout=30, data={
        "op": "confirm", "code": pyotp.TOTP(secret).now(), "password": password, "_csrf_token": _csrf(page)})
    assert done.status_code == 200 and "umkm-mfa-recovery" in done.text
    got = s.get(f"{base}/dataset/{bnba['name']}/resource/{res['id']}/download", timeout=60)
    assert got.status_code == 200, got.text[:500]
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    demo = os.path.join(ROOT, "ckanext-umkm", "ckanext", "umkm", "demo", "bnba-umkm-contoh-2023.csv")
    with open(demo, encoding="utf-8") as f:
        bandung = [r for r in csv.DictReader(f) if r["kode_desa"].startswith("32.73.")]
    assert rows and sorted(r["nik"] for r in rows) == sorted(r["nik"] for r in bandung)


def test_run_command_serves_demo_portal_and_keeps_data(tmp_path):
    instance = "e2e"
    _drop_instance(instance)
    port, search_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, UMKM_VAR=str(tmp_path / "var"), UMKM_INSTANCE=instance,
               UMKM_PORT=str(port), UMKM_SEARCH_PORT=str(search_port), UMKM_EGRESS_PORT=str(free_port()),
               UMKM_REDIS_DB=str(REDIS_DB),
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
            # Harvesting of regional portals: both consumers and the scheduler.
            assert "harvest gather consumer" in out and "harvest fetch consumer" in out
            assert "harvest scheduler" in out

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
            # ...and the preview view exists for it (the loader adds it after the rows).
            deadline = time.monotonic() + 90
            while True:
                views = _api(base, "resource_view_list", id=res_id)["result"]
                if any(v["view_type"] == "datatables_view" for v in views) or time.monotonic() > deadline:
                    break
                time.sleep(2)
            assert any(v["view_type"] == "datatables_view" for v in views), views

            # Restricted demo data: released metadata, the rows behind the gate.
            assert "data-umkm-by-name-by-address-contoh-2023: released" in out
            assert "grant diskumkm-kota-bandung: created" in out and "/akun/verifikasi-dua-langkah" in out
            bnba = _api(base, "package_show", id="data-umkm-by-name-by-address-contoh-2023")["result"]
            assert bnba["umkm_access"]["access"] == "denied"
            refused = requests.get(f"{base}/api/3/action/datastore_search",
                                   params={"resource_id": bnba["resources"][0]["id"]}, timeout=30)
            assert refused.status_code == 403
            _instansi_demo_gets_kota_bandung(base, out, bnba)

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
