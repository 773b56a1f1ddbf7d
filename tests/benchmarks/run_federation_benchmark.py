"""Federation benchmark (issue 14): the portal serving its whole DCAT catalogue page by page,
and the national SDI portal harvesting it, at 10,000 and 100,000 released datasets.

For each size, a portal instance (the portal's plugins, config/test.ini, its own database
``ckan_bench_fed`` and search service) is filled with the seeded catalog of ``catalog.py``,
written as this portal's records: the organizations and packages go into PostgreSQL with COPY
and the index documents straight into the search service (what CKAN would index for them, the
scheming fields and national keys at the top level). It is served by waitress, as bin/run does.

1. **Catalogue**: ``/catalog.ttl`` and ``/catalog.jsonld`` are read page by page (100 datasets
   a page, ckanext-dcat's default) from the first to the last, anonymously as a harvester does,
   twice: the first walk ("cold") builds each record's stored fragment, the second ("warm")
   reads them. Each page's time, the whole walk's time and the web server's resident memory
   after every page (VmRSS; flat = the last pages use no more than the first ones) are recorded.
2. **Harvest**: first the harvester's gather alone (``package_search``, 100 rows a page, sorted
   by id, to the end: what the national portal costs this one), then a second CKAN 2.11
   instance with the national schema and ckanext-harvest's stock
   ``ckan_harvester`` (as in tests/ckanext_umkm/test_national_harvest.py) harvests the portal
   with ``ckan harvester run-test``; the time of the whole harvest is recorded. When it would
   take longer than ``--harvest-max-seconds``, it is stopped and the rate so far (datasets
   created on the national side per second, from its database) gives a projected total,
   marked as such.

Run as root (databases are created with runuser -u postgres), with PostgreSQL and Redis up:

    .venv/bin/python tests/benchmarks/run_federation_benchmark.py --sizes 10000,100000 --out var/federation-bench.json

Targets (issue 14): a 100-dataset catalogue page in <= 300 ms at 100k; the whole 100k
catalogue in <= 5 minutes, with memory flat across pages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

from catalog import DEFAULT_SEED, Catalog, solr_document, validated_data_dict  # noqa: E402
from run_search_benchmark import (  # noqa: E402
    LOGGING,
    Service,
    ckan_cmd,
    load_database,
    memory,
    recreate_database,
    summary,
)

VENV_BIN = os.path.join(ROOT, ".venv", "bin")
DB = "ckan_bench_fed"
DB_URL = f"postgresql://ckan_default:pass@127.0.0.1/{DB}"
PAGE = 100  # ckanext-dcat's catalogue page size


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_portal_record(pkg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The catalog's dataset as this portal's ``dataset`` record: (index document's source,
    validated dict), the metadata standard's fields and the national keys at the top level."""
    extras = {e["key"]: e["value"] for e in pkg.get("extras", [])}
    year = extras.get("tahun_data") or "2024"
    region = extras.get("kode_wilayah") or ""
    sector = extras.get("kbli") or ""
    org = pkg.get("organization") or {}
    fields: dict[str, Any] = {
        "accessRights": "terbuka", "accrualPeriodicity": "TAHUNAN", "jenis_data": "DATA_TRANSAKSI",
        "bentuk_data": "AGREGAT", "data_prioritas": False, "temporal_start": f"{year}-01-01",
        "temporal_end": f"{year}-12-31", "walidata": "Walidata Kementerian UMKM",
        "jenis": "statistik", "publishing_status": "published", "status_review_pembina": "approved",
        "produsen_data_name": org.get("title"), "submission_period": year, "total_msvar": 0, "total_msind": 0,
    }
    lists = {"tingkat_penyajian": ["PROVINSI" if len(region) == 2 else "KABUPATEN_KOTA"]}
    if region[:2].isdigit():
        lists["cakupan_wilayah"] = [region]
    if sector:
        lists["sektor_kbli"] = [sector]
    shown = {k: v for k, v in pkg.items() if k != "extras"} | fields
    shown["extras"] = []
    indexed = dict(shown) | {k: json.dumps(v) for k, v in lists.items()}
    return indexed, shown | lists


def index_catalog(svc: Service, cat: Catalog, size: int, site_id: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    batch: list[dict[str, Any]] = []
    public = 0
    for pkg in cat.datasets(size):
        indexed, shown = as_portal_record(pkg)
        doc = solr_document(indexed, site_id)
        doc["validated_data_dict"] = json.dumps(validated_data_dict(shown))
        public += 0 if pkg["private"] else 1
        batch.append(doc)
        if len(batch) == 1000:
            svc.update(json.dumps(batch).encode())
            batch = []
    if batch:
        svc.update(json.dumps(batch).encode())
    svc.commit()
    return {"documents": size, "public": public, "seconds": round(time.perf_counter() - t0, 1)}


def write_ini(path: str, port: int, solr_url: str, storage: str, site_id: str) -> None:
    with open(path, "w") as f:
        f.write(f"""# The portal of the federation benchmark (written by run_federation_benchmark.py)
[DEFAULT]
debug = false

[app:main]
use = config:{ROOT}/config/test.ini
testing = false
sqlalchemy.url = {DB_URL}
solr_url = {solr_url}
ckan.site_id = {site_id}
ckan.site_url = http://127.0.0.1:{port}
ckan.storage_path = {storage}
ckan.redis.url = redis://127.0.0.1:6379/11
{LOGGING}""")


@contextlib.contextmanager
def serve(ini: str, port: int, log_path: str):
    log = open(log_path, "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([os.path.join(VENV_BIN, "waitress-serve"), f"--listen=127.0.0.1:{port}",
                             "--threads=8", "ckanext.umkm.wsgi:application"],
                            env=dict(os.environ, CKAN_INI=ini), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"http://127.0.0.1:{port}/api/3/action/status_show", timeout=5).ok:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"portal did not start; see {log_path}")
            time.sleep(0.5)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
        log.close()


def walk_catalogue(base: str, fmt: str, pid: int, max_pages: int | None) -> dict[str, Any]:
    """Every page of /catalog.<fmt>, timed; RSS of the server after each page."""
    http = requests.Session()
    times: list[float] = []
    rss: list[float] = []
    datasets = 0
    t0 = time.perf_counter()
    page = 1
    while max_pages is None or page <= max_pages:
        started = time.perf_counter()
        r = http.get(f"{base}/catalog.{fmt}", params={"page": page}, timeout=120)
        body = r.content
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code == 404:  # past the last page
            times.pop()
            break
        if r.status_code != 200:
            raise SystemExit(f"/catalog.{fmt}?page={page}: HTTP {r.status_code} {body[:300]!r}")
        found = body.count(b"dcat:Dataset") if fmt == "ttl" else body.count(b'"dcat:Dataset"') + body.count(
            b'"http://www.w3.org/ns/dcat#Dataset"')
        datasets += found
        rss.append(memory(pid)["rss_mb"])
        if found == 0:
            break
        page += 1
    total = time.perf_counter() - t0
    tenth = max(1, len(rss) // 10)
    return {"pages": len(times), "datasets_seen": datasets, "total_s": round(total, 1),
            "page_ms": summary(times), "rss_mb_first_pages": round(max(rss[:tenth]), 1),
            "rss_mb_last_pages": round(max(rss[-tenth:]), 1), "rss_mb_max": round(max(rss), 1)}


def walk_api(base: str) -> dict[str, Any]:
    """The national harvester's gather over this portal: package_search, 100 rows a page
    sorted by id, to the end (what ckanext-harvest's CKAN harvester sends)."""
    http = requests.Session()
    times: list[float] = []
    seen = 0
    t0 = time.perf_counter()
    while True:
        started = time.perf_counter()
        r = http.get(f"{base}/api/3/action/package_search",
                     params={"rows": 100, "start": seen, "sort": "id asc"}, timeout=120)
        page = r.json()["result"]["results"]
        times.append((time.perf_counter() - started) * 1000)
        if not page:
            break
        seen += len(page)
    return {"datasets": seen, "pages": len(times), "total_s": round(time.perf_counter() - t0, 1),
            "page_ms": summary(times)}


def national_count(db: str) -> int:
    out = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-tAc",
                          "SELECT count(*) FROM package WHERE type = 'dataset' AND state = 'active'", db],
                         capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def harvest(base: str, work: str, public: int, max_seconds: float) -> dict[str, Any]:
    from tests.ckanext_umkm.other_portal import other_portal

    schema = os.path.join(ROOT, "tests", "ckanext_umkm", "national", "sdi_dataset.yaml")
    extra = (f"scheming.dataset_schemas = file://{schema}\nscheming.presets = ckanext.scheming:presets.json\n"
             "ckan.harvest.mq.type = redis")
    with other_portal(work, "benchnational", "Portal Satu Data Indonesia", "harvest ckan_harvester scheming_datasets",
                      extra=extra, redis_db=12) as sdi:
        org = sdi.api("organization_create", name="sekretariat-sdi", title="Sekretariat SDI")
        source = sdi.api("harvest_source_create", name="portal-umkm", title="Portal Satu Data UMKM", url=base,
                         source_type="ckan", owner_org=org["id"], frequency="MANUAL", config="{}")
        t0 = time.perf_counter()
        proc = subprocess.Popen([os.path.join(VENV_BIN, "ckan"), "-c", sdi.ini, "harvester", "run-test", source["id"]],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "harvest.log"), "wb"))
        stopped = False
        while proc.poll() is None:
            time.sleep(5)
            if time.perf_counter() - t0 > max_seconds:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
                stopped = True
        seconds = time.perf_counter() - t0
        created = national_count("ckan_benchnational")
        result: dict[str, Any] = {"public_datasets": public, "created_nationally": created,
                                  "seconds": round(seconds, 1), "stopped": stopped}
        if stopped and created:
            result["projected_seconds"] = round(seconds * public / created, 1)
        return result


def run_size(args: argparse.Namespace, size: int) -> dict[str, Any]:
    work = os.path.join(args.work_dir, str(size))
    os.makedirs(work, exist_ok=True)
    cat = Catalog(seed=args.seed)
    svc = Service(args.search_port, os.path.join(work, "search"), os.path.join(work, "search.log"),
                  os.path.join(VENV_BIN, "python"))
    port = free_port()
    ini = os.path.join(work, "portal.ini")
    write_ini(ini, port, svc.url, os.path.join(work, "storage"), "umkm")
    result: dict[str, Any] = {"size": size}
    recreate_database(DB, "ckan_default")
    ckan_cmd(VENV_BIN, ini, "db", "init")
    ckan_cmd(VENV_BIN, ini, "db", "upgrade")
    result["database"] = load_database(DB_URL, cat, size)
    svc.start()
    try:
        result["index"] = index_catalog(svc, cat, size, "umkm")
        with serve(ini, port, os.path.join(work, "web.log")) as web:
            base = f"http://127.0.0.1:{port}"
            walks = ("cold", "warm")
            if size > args.cold_max_size:
                # A cold walk of every page would take the better part of an hour: the
                # fragments are built as a deployment does after a bulk load, then walked.
                t0 = time.perf_counter()
                done = ckan_cmd(VENV_BIN, ini, "umkm", "dcat", "warm").stdout.strip().splitlines()[-1]
                result["dcat_warm"] = {"seconds": round(time.perf_counter() - t0, 1), "output": done}
                print(size, "ckan umkm dcat warm", json.dumps(result["dcat_warm"]), flush=True)
                walks = ("warm",)
            # A cold walk builds each record's fragment, a warm one reads them.
            for fmt in ("ttl", "jsonld"):
                for walk in walks:
                    key = f"catalogue_{fmt}_{walk}"
                    result[key] = walk_catalogue(base, fmt, web.pid, args.max_pages)
                    print(size, fmt, walk, json.dumps(result[key]), flush=True)
            result["api_walk"] = walk_api(base)
            print(size, "package_search walk", json.dumps(result["api_walk"]), flush=True)
            if size <= args.harvest_max_size:
                result["harvest"] = harvest(base, work, result["index"]["public"], args.harvest_max_seconds)
                print(size, "harvest", json.dumps(result["harvest"]), flush=True)
    finally:
        svc.stop()
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| size | format | walk | pages | page p50 / p95 ms | whole catalogue s | RSS first / last / max MB |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for fmt, walk in (("ttl", "cold"), ("ttl", "warm"), ("jsonld", "cold"), ("jsonld", "warm")):
            c = r.get(f"catalogue_{fmt}_{walk}")
            if c:
                lines.append(f"| {r['size']:,} | {fmt} | {walk} | {c['pages']} | {c['page_ms']['p50_ms']:.0f} / "
                             f"{c['page_ms']['p95_ms']:.0f} | {c['total_s']} | {c['rss_mb_first_pages']} / "
                             f"{c['rss_mb_last_pages']} / {c['rss_mb_max']} |")
    for r in results:
        a = r.get("api_walk")
        if a:
            lines.append(f"\n{r['size']:,}: package_search as the harvester pages it: {a['pages']} pages in "
                         f"{a['total_s']} s (p50 {a['page_ms']['p50_ms']:.0f} ms, p95 {a['page_ms']['p95_ms']:.0f} ms)")
    for r in results:
        if r.get("dcat_warm"):
            lines.append(f"\n{r['size']:,}: ckan umkm dcat warm took {r['dcat_warm']['seconds']} s "
                         f"({r['dcat_warm']['output']})")
    for r in results:
        h = r.get("harvest")
        if h:
            projected = f", projected {h['projected_seconds']} s" if h.get("projected_seconds") else ""
            lines.append(f"\nharvest of {r['size']:,} ({h['public_datasets']:,} public): {h['created_nationally']:,} "
                         f"created in {h['seconds']} s{' (stopped)' if h['stopped'] else ''}{projected}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--search-port", type=int, default=8993)
    ap.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "umkm-federation-bench"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--max-pages", type=int, default=None, help="read at most this many pages (default: all)")
    ap.add_argument("--harvest-max-size", type=int, default=10**9, help="harvest only catalogues up to this size")
    ap.add_argument("--cold-max-size", type=int, default=10**9,
                    help="above this size, build the fragments with 'ckan umkm dcat warm' instead of a cold walk")
    ap.add_argument("--harvest-max-seconds", type=float, default=3600,
                    help="stop a harvest after this long and project its total from the rate so far")
    ap.add_argument("--out", default="federation-benchmark-results.json")
    args = ap.parse_args(argv)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        results.append(run_size(args, size))
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
