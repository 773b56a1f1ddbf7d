"""Search benchmark of the embedded search service, directly and through CKAN (run by hand).

For each catalog size: a fresh service process on a fresh data directory is bulk-loaded with
the documents CKAN would index (JSON update, ``--batch-size`` documents per request, one
commit at the end); then each query class is sent ``--iterations`` times (after a warm-up)
with exactly the Solr parameters CKAN's ``package_search`` sends, over one keep-alive HTTP
session; the service's memory (VmRSS of its process tree) is read from /proc.

With ``--ckan``: a dedicated database (``ckan_bench``) is filled by COPY with the same
catalog, CKAN's ``package_search`` action is timed in-process (anonymous, and as a logged-in
organization member) against the bulk-loaded index, the documents CKAN builds and the Solr
parameters it sends are compared with the ones this benchmark uses, and ``ckan search-index
rebuild`` is timed into a second fresh service.

    .venv/bin/python tests/benchmarks/run_search_benchmark.py --sizes 10000,100000 --ckan --out results.json

See README.md next to this file for the query classes, the figures and the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

from catalog import (  # noqa: E402
    DEFAULT_KBLI_DIR,
    DEFAULT_SEED,
    DEFAULT_SITE_ID,
    DEFAULT_WILAYAH_DIR,
    Catalog,
    solr_document,
)

# Targets at 100k datasets on a 2-core machine (from the issue).
TARGET_SERVICE_P95_MS = 20.0
TARGET_CKAN_P95_MS = 100.0
TARGET_INDEX_DOCS_S = 2000.0
TARGET_RSS_MB = 300.0

# CKAN 2.11 constants (ckan/lib/search/query.py, ckan/config/config_declaration.yaml).
QUERY_FIELDS = "name^4 title^4 tags^2 groups^2 text"
DEFAULT_FACETS = ["organization", "groups", "tags", "res_format", "license_id"]
DEFAULT_SORT = "score desc, metadata_modified desc"
FACET_LIMIT = 50
DATASETS_PER_PAGE = 20


# ---------------------------------------------------------------------------------------------
# Query classes: what a user or a client asks CKAN, and what CKAN then asks Solr
# ---------------------------------------------------------------------------------------------

@dataclass
class Search:
    """One package_search call, as CKAN's dataset search page (``ui``) or an API client makes it."""
    q: str = ""
    fq: str = ""  # the page's facet filters, e.g. 'tags:"umkm" res_format:"CSV"'
    facet_fields: list[str] | None = None
    rows: int = DATASETS_PER_PAGE
    start: int | None = None
    sort: str | None = None
    include_private: bool = False
    ui: bool = True  # the /dataset page adds +dataset_type:dataset, start and include_private
    member: bool = False  # logged in as the organization member (else anonymous)

    def data_dict(self) -> dict[str, Any]:
        """The data_dict handed to the package_search action."""
        if self.ui:
            fq = (self.fq + " +dataset_type:dataset").strip()
            dd: dict[str, Any] = {"q": self.q, "fq": fq, "facet.field": list(self.facet_fields or []),
                                  "rows": self.rows, "start": self.start or 0, "sort": self.sort, "extras": {},
                                  "include_private": self.include_private}
            return dd
        dd = {"q": self.q, "rows": self.rows}
        if self.fq:
            dd["fq"] = self.fq
        if self.start is not None:
            dd["start"] = self.start
        if self.sort:
            dd["sort"] = self.sort
        if self.facet_fields:
            dd["facet.field"] = list(self.facet_fields)
        if self.include_private:
            dd["include_private"] = True
        return dd


def solr_params(search: Search, site_id: str, labels: list[str] | None) -> list[tuple[str, str]]:
    """The Solr request parameters CKAN 2.11 sends for this search: package_search
    (ckan/logic/action/get.py) followed by PackageSearchQuery.run (ckan/lib/search/query.py),
    then pysolr's ``search(q, **query)``. ``labels`` is the user's permission labels (None: a
    sysadmin, no filter)."""
    dd = search.data_dict()
    q = dd.get("q") or ""
    sort = dd.get("sort") or DEFAULT_SORT
    fq = dd.get("fq", "")
    if not dd.get("include_private"):
        fq = "+capacity:public " + fq
    if "+state" not in fq:
        fq += " +state:(active)"
    if not q or q in ('""', "''"):
        q = "*:*"
    rows = int(dd.get("rows", 10))
    rows_to_query = rows + 1 if rows > 0 else rows
    fqs = [fq, f'+site_id:"{site_id}"']
    if not any("+state:" in item for item in fqs):
        fqs.append("+state:active")
    if labels is not None:
        quoted = " OR ".join('"{}"'.format(lab.replace('"', "")) for lab in labels)
        fqs.append(f"+permission_labels:({quoted})")
    params: list[tuple[str, str]] = [("q", q)]
    params += [("fq", f) for f in fqs]
    params += [("rows", str(rows_to_query)), ("sort", sort), ("fl", "id validated_data_dict")]
    if "start" in dd:
        params.append(("start", str(dd["start"])))
    params += [("facet.field", f) for f in dd.get("facet.field", [])]
    params += [("df", "text"), ("facet", "true"), ("facet.limit", str(FACET_LIMIT)), ("facet.mincount", "1"),
               ("wt", "json")]
    if ":" not in q:
        params += [("defType", "dismax"), ("tie", "0.1"), ("mm", "2<-1 5<80%"), ("qf", QUERY_FIELDS)]
    params.append(("q.op", "AND"))
    return params


@dataclass
class QueryClass:
    name: str
    description: str
    variants: list[Search]


def query_classes(cat: Catalog) -> list[QueryClass]:
    prov = [o for o in cat.organizations if o.region and o.region.level == "provinsi"]
    words = ["umkm", "usaha", "data"]  # every dataset's description has all three
    ui = {"facet_fields": DEFAULT_FACETS, "include_private": True}
    two = [
        ("usaha mikro", 'tags:"jawa barat" res_format:"CSV"'),
        ("kredit rakyat", f'organization:"{prov[11].name}" res_format:"XLSX"'),
        ("tenaga kerja", 'groups:"ketenagakerjaan" tags:"2023"'),
        ("sertifikat halal", 'tags:"industri pengolahan" license_id:"cc-by"'),
        ("wirausaha baru", 'tags:"jawa timur" res_format:"CSV"'),
        ("koperasi aktif", 'groups:"koperasi" res_format:"PDF"'),
        ("omzet tahunan", 'tags:"perdagangan besar dan eceran" tags:"2022"'),
        ("ekspor umkm", f'organization:"{prov[14].name}" license_id:"cc-by"'),
    ]
    since = ["2025-10-01T10:59:59.123456", "2025-06-30T11:00:00.654321", "2025-12-01T00:00:00.000001",
             "2024-12-31T23:00:00.500000", "2025-09-15T08:30:00.250000"]
    return [
        QueryClass("free_text", "one word that matches (nearly) every dataset: umkm / usaha / data; /dataset page",
                   [Search(q=w, **ui) for w in words]),  # type: ignore[arg-type]
        QueryClass("two_words_two_facets", "two words (dismax, both required) + two facet filters; /dataset page",
                   [Search(q=w, fq=f, **ui) for w, f in two]),  # type: ignore[arg-type]
        QueryClass("match_all_facets", "*:* with CKAN's 5 default facets; /dataset page 1",
                   [Search(**ui)]),  # type: ignore[arg-type]
        QueryClass("deep_page", "*:* with default facets, start=5000..5180 (page 251..260)",
                   [Search(start=5000 + 20 * i, **ui) for i in range(10)]),  # type: ignore[arg-type]
        QueryClass("modified_range", "metadata_modified:[since TO *], rows=100, sort=id asc: ckanext-harvest's "
                   "CKAN harvester asking the API for changes",
                   [Search(fq=f"metadata_modified:[{s}Z TO *]", rows=100, start=0, sort="id asc", ui=False)
                    for s in since]),
        QueryClass("member_search", "free text as a logged-in member of 2 organizations (permission labels "
                   "public, creator-, 2 x member-); /dataset page",
                   [Search(q=w, member=True, **ui) for w in words]),  # type: ignore[arg-type]
    ]


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------

def percentile(xs: Sequence[float], p: float) -> float:
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


def summary(ms: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(sum(ms) / len(ms), 2), "max_ms": round(max(ms), 2), "n": len(ms)}


def proc_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
    return out


def memory(pid: int) -> dict[str, float]:
    """VmRSS (and its anonymous/file parts) and VmHWM in MB, summed over the process tree."""
    tot: dict[str, float] = {"rss_mb": 0.0, "rss_anon_mb": 0.0, "rss_file_mb": 0.0, "hwm_mb": 0.0, "processes": 0}
    keys = {"VmRSS": "rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb", "VmHWM": "hwm_mb"}
    for p in proc_tree(pid):
        with contextlib.suppress(OSError):
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in keys:
                        tot[keys[k]] += int(v.split()[0]) / 1024
            tot["processes"] += 1
    return {k: round(v, 1) for k, v in tot.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree so far (utime, stime of /proc/<pid>/stat)."""
    total = 0
    for p in proc_tree(pid):
        with contextlib.suppress(OSError):
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def dir_size_mb(path: str) -> float:
    total = 0
    for dp, _, files in os.walk(path):
        for fn in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(dp, fn))
    return round(total / 2**20, 1)


# ---------------------------------------------------------------------------------------------
# The search service
# ---------------------------------------------------------------------------------------------

class Service:
    def __init__(self, port: int, data_dir: str, log_path: str, python: str) -> None:
        self.port, self.data_dir, self.log_path, self.python = port, data_dir, log_path, python
        self.url = f"http://127.0.0.1:{port}/solr/ckan"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = requests.Session()

    def start(self, timeout: float = 120) -> float:
        if _answers(f"http://127.0.0.1:{self.port}/solr/ckan/admin/ping"):
            raise SystemExit(f"something already answers on port {self.port}; choose another --port")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        os.makedirs(self.data_dir)
        t0 = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.python, "-m", "ckanext.umkm.search_service", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", self.data_dir, "--core", "ckan"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while not _answers(f"{self.url}/admin/ping"):
            if self.proc.poll() is not None:
                raise SystemExit(f"search service exited with {self.proc.returncode}; see {self.log_path}")
            if time.perf_counter() - t0 > timeout:
                self.stop()
                raise SystemExit(f"search service did not answer within {timeout}s; see {self.log_path}")
            time.sleep(0.1)
        return time.perf_counter() - t0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        self.http.close()
        self.http = requests.Session()

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def update(self, body: bytes, commit: bool = False) -> None:
        r = self.http.post(f"{self.url}/update", params={"commit": "true"} if commit else None, data=body,
                           headers={"Content-Type": "application/json; charset=utf-8"}, timeout=600)
        if r.status_code != 200:
            raise SystemExit(f"update failed: HTTP {r.status_code}: {r.text[:500]}")

    def commit(self) -> None:
        """What pysolr's ``Solr.commit()`` sends (CKAN's search-index rebuild ends with it)."""
        r = self.http.post(f"{self.url}/update/", params={"commit": "true"}, data=b"<commit />",
                           headers={"Content-type": "text/xml; charset=utf-8"}, timeout=600)
        if r.status_code != 200:
            raise SystemExit(f"commit failed: HTTP {r.status_code}: {r.text[:500]}")

    def select(self, params: list[tuple[str, str]]) -> tuple[float, dict[str, Any]]:
        """One select as pysolr sends it (GET, or a form POST when the query string is long);
        returns (milliseconds until the whole body arrived, decoded response)."""
        from pysolr import safe_urlencode

        encoded = safe_urlencode(params, True)
        t0 = time.perf_counter()
        if len(encoded) < 1024:
            r = self.http.get(f"{self.url}/select/?{encoded}", timeout=60)
        else:
            r = self.http.post(f"{self.url}/select/", data=encoded.encode(),
                               headers={"Content-type": "application/x-www-form-urlencoded; charset=utf-8"},
                               timeout=60)
        body = r.content
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise SystemExit(f"select failed: HTTP {r.status_code}: {body[:500]!r}\nparams: {params}")
        return ms, json.loads(body)


def service_code_fingerprint() -> dict[str, str]:
    """sha256 (first 12 hex digits) of each file of the service, to tell which version was measured."""
    import hashlib

    d = os.path.join(ROOT, "ckanext-umkm", "ckanext", "umkm", "search_service")
    out = {}
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".py"):
            with open(os.path.join(d, fn), "rb") as f:
                out[fn] = hashlib.sha256(f.read()).hexdigest()[:12]
    return out


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def encode_batches(cat: Catalog, size: int, batch_size: int, site_id: str) -> tuple[list[bytes], dict[str, Any]]:
    """The update request bodies (pysolr's JSON encoding of CKAN's documents), built before timing."""
    batches: list[bytes] = []
    docs: list[dict[str, Any]] = []
    n_private = n_bytes = 0
    for pkg in cat.datasets(size):
        docs.append(solr_document(pkg, site_id))
        n_private += pkg["private"]
        if len(docs) == batch_size:
            batches.append(json.dumps(docs).encode())
            docs = []
    if docs:
        batches.append(json.dumps(docs).encode())
    n_bytes = sum(len(b) for b in batches)
    return batches, {"private": n_private, "public": size - n_private, "json_mb": round(n_bytes / 2**20, 1),
                     "avg_doc_kb": round(n_bytes / size / 1024, 2)}


def measure_service_queries(svc: Service, classes: list[QueryClass], cat: Catalog, site_id: str, iterations: int,
                            warmup: int) -> dict[str, Any]:
    anon = cat.user_permission_labels(None)
    member = cat.user_permission_labels(cat.member_user)
    out: dict[str, Any] = {}
    for qc in classes:
        plist = [solr_params(s, site_id, member if s.member else anon) for s in qc.variants]
        found: dict[int, int] = {}
        qtimes: list[float] = []
        for i in range(warmup):
            svc.select(plist[i % len(plist)])
        cpu0 = cpu_seconds(svc.pid)
        ms: list[float] = []
        for i in range(iterations):
            k = i % len(plist)
            t, resp = svc.select(plist[k])
            ms.append(t)
            found[k] = resp["response"]["numFound"]
            if "QTime" in resp.get("responseHeader", {}):
                qtimes.append(float(resp["responseHeader"]["QTime"]))
        res = summary(ms)
        res["service_cpu_ms_per_query"] = round((cpu_seconds(svc.pid) - cpu0) * 1000 / iterations, 1)
        res["numFound"] = [found.get(k) for k in range(len(plist))]
        if qtimes:
            res["qtime_p50_ms"] = percentile(qtimes, 50)
            res["qtime_p95_ms"] = percentile(qtimes, 95)
        out[qc.name] = res
        print(f"  service {qc.name:22s} p50 {res['p50_ms']:8.2f} ms  p95 {res['p95_ms']:8.2f} ms  "
              f"numFound {res['numFound']}", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# CKAN: database, ini, package_search worker, search-index rebuild
# ---------------------------------------------------------------------------------------------

LOGGING = """
[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARN
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


def write_ini(path: str, db_url: str, solr_url: str, site_id: str, plugins: str, storage: str) -> None:
    with open(path, "w") as f:
        f.write(f"""# CKAN config of the search benchmark (written by run_search_benchmark.py)
[DEFAULT]
debug = false

[app:main]
use = config:{ROOT}/config/test-core.ini
testing = false
sqlalchemy.url = {db_url}
solr_url = {solr_url}
ckan.site_id = {site_id}
ckan.plugins = {plugins}
ckan.extra_resource_fields =
ckan.storage_path = {storage}
{LOGGING}""")


def ckan_cmd(venv_bin: str, ini: str, *args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([os.path.join(venv_bin, "ckan"), "-c", ini, *args], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise SystemExit(f"ckan {' '.join(args)} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return p


def recreate_database(db_name: str, owner: str) -> None:
    def pg(*cmd: str) -> None:
        p = subprocess.run(["runuser", "-u", "postgres", "--", *cmd], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: {p.stderr}")
    pg("dropdb", "--if-exists", "--force", db_name)
    pg("createdb", "-O", owner, "-E", "UTF8", "-T", "template0", db_name)


def _copy_value(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    s = v.isoformat() if hasattr(v, "isoformat") else str(v)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class CopyBuffer:
    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table, self.columns, self.buf, self.rows = table, columns, io.StringIO(), 0

    def add(self, *values: Any) -> None:
        self.buf.write("\t".join(_copy_value(v) for v in values) + "\n")
        self.rows += 1

    def flush(self, cur: Any) -> None:
        if self.rows:
            self.buf.seek(0)
            cur.copy_expert(f'COPY {self.table} ({", ".join(self.columns)}) FROM STDIN', self.buf)
        self.buf, self.rows = io.StringIO(), 0


def load_database(db_url: str, cat: Catalog, size: int) -> dict[str, Any]:
    """Fill CKAN's tables with the catalog (what package_create would have written)."""
    import psycopg2

    t0 = time.perf_counter()
    conn = psycopg2.connect(db_url)
    cur = conn.cursor()
    users = CopyBuffer('"user"', ["id", "name", "fullname", "email", "created", "sysadmin", "state", "password"])
    for u in cat.users:
        users.add(u.id, u.name, u.fullname, u.email, u.created, u.sysadmin, "active", None)
    groups = CopyBuffer('"group"', ["id", "name", "title", "description", "created", "state", "type", "approval_status",
                                    "image_url", "is_organization"])
    for g in cat.groups:
        groups.add(g.id, g.name, g.title, g.description, g.created, "active", "group", "approved", "", False)
    for o in cat.organizations:
        groups.add(o.id, o.name, o.title, o.description, o.created, "active", "organization", "approved", "", True)
    members = CopyBuffer("member", ["id", "group_id", "table_id", "state", "table_name", "capacity"])
    for m in cat.memberships:
        members.add(m.id, m.group_id, m.user_id, "active", "user", m.capacity)
    for b in (users, groups):
        b.flush(cur)

    packages = CopyBuffer("package", ["id", "name", "title", "version", "url", "notes", "author", "author_email",
                                      "maintainer", "maintainer_email", "state", "license_id", "type", "owner_org",
                                      "private", "metadata_modified", "creator_user_id", "metadata_created"])
    resources = CopyBuffer("resource", ["id", "url", "format", "description", "position", "hash", "state", "name",
                                        "resource_type", "mimetype", "mimetype_inner", "size", "last_modified",
                                        "cache_url", "cache_last_updated", "created", "url_type", "package_id",
                                        "metadata_modified"])
    extras = CopyBuffer("package_extra", ["id", "key", "value", "state", "package_id"])
    tags = CopyBuffer("tag", ["id", "name", "vocabulary_id"])
    ptags = CopyBuffer("package_tag", ["id", "state", "package_id", "tag_id"])
    seen_tags: set[str] = set()
    counter = 0

    def flush_all() -> None:
        for b in (packages, tags, resources, extras, ptags, members):
            b.flush(cur)

    for pkg in cat.datasets(size):
        pid = pkg["id"]
        packages.add(pid, pkg["name"], pkg["title"], pkg["version"], pkg["url"], pkg["notes"], pkg["author"],
                     pkg["author_email"], pkg["maintainer"], pkg["maintainer_email"], pkg["state"], pkg["license_id"],
                     pkg["type"], pkg["owner_org"], pkg["private"], pkg["metadata_modified"], pkg["creator_user_id"],
                     pkg["metadata_created"])
        for r in pkg["resources"]:
            resources.add(r["id"], r["url"], r["format"], r["description"], r["position"], r["hash"], r["state"],
                          r["name"], r["resource_type"], r["mimetype"], r["mimetype_inner"], r["size"],
                          r["last_modified"], r["cache_url"], r["cache_last_updated"], r["created"], r["url_type"],
                          pid, r["metadata_modified"])
        for e in pkg["extras"]:
            extras.add(e["id"], e["key"], e["value"], e["state"], pid)
        for t in pkg["tags"]:
            if t["id"] not in seen_tags:
                seen_tags.add(t["id"])
                tags.add(t["id"], t["name"], None)
            counter += 1
            ptags.add(f"{pid[:24]}{counter:012x}", "active", pid, t["id"])
        counter += 1
        members.add(f"{pid[:24]}{counter:012x}", pkg["owner_org"], pid, "active", "package", "organization")
        for g in pkg["groups"]:
            counter += 1
            members.add(f"{pid[:24]}{counter:012x}", g["id"], pid, "active", "package", "public")
        if packages.rows >= 5000:
            flush_all()
    flush_all()
    conn.commit()
    conn.autocommit = True
    cur.execute("ANALYZE")
    cur.execute("SELECT count(*) FROM package")
    n = cur.fetchone()[0]
    conn.close()
    return {"packages": n, "tags": len(seen_tags), "seconds": round(time.perf_counter() - t0, 1)}


def run_rebuild(venv_bin: str, ini: str, max_seconds: float, log_path: str) -> dict[str, Any]:
    """``ckan search-index rebuild``, timed; stopped after max_seconds (then the rate is over
    the datasets indexed so far)."""
    t0 = time.perf_counter()
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen([os.path.join(venv_bin, "ckan"), "-c", ini, "search-index", "rebuild"],
                            stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    assert proc.stdout
    os.set_blocking(proc.stdout.fileno(), False)
    done = total = 0
    first_at: float | None = None
    tail = b""
    stopped = False
    while True:
        chunk = proc.stdout.read(65536)
        if chunk:
            tail = (tail + chunk)[-200:]
            last = tail.rsplit(b"\r", 1)[-1]
            if last.startswith(b"Indexing dataset "):
                with contextlib.suppress(ValueError):
                    a, b = last[len(b"Indexing dataset "):].split(b"/")
                    done, total = int(a), int(b.split()[0])
                    if first_at is None:
                        first_at = time.perf_counter()
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.05)
        if time.perf_counter() - t0 > max_seconds and proc.poll() is None:
            stopped = True
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
            break
    elapsed = time.perf_counter() - t0
    log.close()
    if proc.returncode not in (0, None) and not stopped:
        with open(log_path, errors="replace") as f:
            raise SystemExit(f"search-index rebuild failed ({proc.returncode}):\n{f.read()[-4000:]}")
    indexed = done if stopped or not total else total
    startup = (first_at - t0) if first_at else 0.0
    return {
        "datasets": indexed, "of": total, "complete": not stopped, "seconds": round(elapsed, 1),
        "startup_seconds": round(startup, 1),
        "docs_per_s": round(indexed / elapsed, 1) if elapsed else None,
        "docs_per_s_after_startup": round(indexed / (elapsed - startup), 1) if elapsed > startup else None,
    }


def ckan_worker(args: argparse.Namespace) -> None:
    """In a child process: time package_search in-process and check CKAN's documents and Solr
    parameters against this benchmark's. Prints one JSON object on the last stdout line."""
    import pysolr

    captured: list[list[tuple[str, str]]] = []
    solr_ms: list[float] = []
    orig_select = pysolr.Solr._select
    orig_send = pysolr.Solr._send_request

    def select(self: Any, params: dict[str, Any], handler: Any = None) -> Any:
        flat: list[tuple[str, str]] = []
        for k, v in params.items():
            for item in (v if isinstance(v, list | tuple) else [v]):
                flat.append((k, str(item)))
        captured.append(flat)
        return orig_select(self, params, handler)

    def send(self: Any, method: str, path: str = "", *a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return orig_send(self, method, path, *a, **kw)
        finally:
            if path.startswith("select"):
                solr_ms.append((time.perf_counter() - t0) * 1000)

    pysolr.Solr._select = select  # type: ignore[method-assign]
    pysolr.Solr._send_request = send  # type: ignore[method-assign]

    from ckan.cli import CKANConfigLoader
    from ckan.config.middleware import make_app

    app = make_app(CKANConfigLoader(args.ini).get_config())
    flask_app = app._wsgi_app  # type: ignore[attr-defined]
    import ckan.lib.search.index as search_index
    import ckan.model as model
    import ckan.plugins.toolkit as tk

    cat = Catalog(seed=args.seed, wilayah_dir=args.wilayah_dir, kbli_dir=args.kbli_dir or None)
    result: dict[str, Any] = {}

    # 1. CKAN's documents vs solr_document(): index the first datasets through CKAN's own
    #    PackageSearchIndex (as search-index rebuild does) and capture what it sends.
    sent: list[dict[str, Any]] = []

    class Capture:
        def add(self, docs: list[dict[str, Any]], commit: bool = False, **kw: Any) -> None:
            sent.extend(json.loads(json.dumps(d)) for d in docs)

    orig_conn = search_index.make_connection
    search_index.make_connection = lambda *a, **kw: Capture()  # type: ignore[assignment,return-value]
    mismatches: dict[str, int] = {}
    examples: dict[str, Any] = {}
    checked = 0
    with flask_app.test_request_context():
        idx = search_index.PackageSearchIndex()
        for pkg in cat.datasets(args.check_docs):
            show = tk.get_action("package_show")({"ignore_auth": True, "validate": False, "use_cache": False},
                                                {"id": pkg["id"]})
            idx.index_package(show, defer_commit=True)
            ours = solr_document(pkg, args.site_id)
            theirs = {k: v for k, v in sent[-1].items() if v is not None and v != ""}
            checked += 1
            for k in sorted(set(ours) | set(theirs)):
                a, b = ours.get(k), theirs.get(k)
                if k in ("data_dict", "validated_data_dict") and a != b:
                    key = f"{k} (as JSON)" if a and b and json.loads(a) != json.loads(b) else f"{k} (key order only)"
                elif a != b:
                    key = k
                else:
                    continue
                mismatches[key] = mismatches.get(key, 0) + 1
                examples.setdefault(key, {"ours": a if k not in ("data_dict", "validated_data_dict") else
                                          (a or ""), "ckan": b if k not in ("data_dict", "validated_data_dict")
                                          else (b or "")})
        model.Session.remove()
    search_index.make_connection = orig_conn  # type: ignore[assignment]
    result["document_check"] = {"checked": checked, "mismatched_fields": mismatches, "examples": examples}

    # 2. package_search timings, and CKAN's Solr parameters vs solr_params().
    classes = query_classes(cat)
    anon = cat.user_permission_labels(None)
    member = cat.user_permission_labels(cat.member_user)
    timings: dict[str, Any] = {}
    param_diffs: dict[str, Any] = {}
    for qc in classes:
        def call(s: Search) -> dict[str, Any]:
            ctx: dict[str, Any] = {"user": cat.member_user.name if s.member else ""}
            if s.ui:
                ctx["for_view"] = True
            with flask_app.test_request_context():
                try:
                    return tk.get_action("package_search")(ctx, s.data_dict())
                finally:
                    model.Session.remove()

        for i in range(args.warmup):
            call(qc.variants[i % len(qc.variants)])
        captured.clear()
        solr_ms.clear()
        ms: list[float] = []
        counts: dict[int, int] = {}
        for i in range(args.iterations):
            k = i % len(qc.variants)
            t0 = time.perf_counter()
            res = call(qc.variants[k])
            ms.append((time.perf_counter() - t0) * 1000)
            counts[k] = res["count"]
        summ = summary(ms)
        summ["count"] = [counts.get(k) for k in range(len(qc.variants))]
        summ["solr_http_p50_ms"] = round(percentile(solr_ms, 50), 2)
        summ["solr_http_p95_ms"] = round(percentile(solr_ms, 95), 2)
        timings[qc.name] = summ
        for k, s in enumerate(qc.variants[: len(captured)]):
            ours = sorted(solr_params(s, args.site_id, member if s.member else anon))
            theirs = sorted(captured[k])
            if ours != theirs:
                param_diffs.setdefault(qc.name, {"only_ours": sorted(set(ours) - set(theirs)),
                                                 "only_ckan": sorted(set(theirs) - set(ours))})
        print(f"  ckan    {qc.name:22s} p50 {summ['p50_ms']:8.2f} ms  p95 {summ['p95_ms']:8.2f} ms  "
              f"count {summ['count']}", file=sys.stderr, flush=True)
    result["package_search"] = timings
    result["param_check"] = {"identical": not param_diffs, "differences": param_diffs}
    print(json.dumps(result))


def measure_ckan(args: argparse.Namespace, size: int, svc: Service, work: str) -> dict[str, Any]:
    venv_bin = os.path.dirname(args.python)
    out: dict[str, Any] = {}
    ini = os.path.join(work, "ckan-bench.ini")
    db_name = args.db_url.rsplit("/", 1)[1]
    write_ini(ini, args.db_url, svc.url, args.site_id, args.ckan_plugins, os.path.join(work, "storage"))
    print(f"  ckan: database {db_name} (db init + COPY of {size} datasets)", flush=True)
    recreate_database(db_name, args.db_owner)
    ckan_cmd(venv_bin, ini, "db", "init")
    if args.ckan_plugins.strip():
        ckan_cmd(venv_bin, ini, "db", "pending-migrations", "--apply")
    cat = Catalog(seed=args.seed, wilayah_dir=args.wilayah_dir, kbli_dir=args.kbli_dir or None)
    out["db_load"] = load_database(args.db_url, cat, size)

    print("  ckan: package_search in-process (worker)", flush=True)
    wargs = [args.python, os.path.abspath(__file__), "_ckan-worker", "--ini", ini, "--site-id", args.site_id,
             "--seed", str(args.seed), "--wilayah-dir", args.wilayah_dir, "--kbli-dir", args.kbli_dir or "",
             "--iterations", str(args.ckan_iterations), "--warmup", str(args.warmup),
             "--check-docs", str(args.check_docs)]
    p = subprocess.run(wargs, stdout=subprocess.PIPE, stderr=None, text=True, cwd=ROOT)
    if p.returncode != 0:
        raise SystemExit(f"CKAN worker failed ({p.returncode}):\n{p.stdout[-3000:]}")
    out.update(json.loads(p.stdout.strip().splitlines()[-1]))
    out["service_memory_after_package_search"] = memory(svc.pid)

    # search-index rebuild into a second, empty service
    svc.stop()
    rebuild_svc = Service(args.port, os.path.join(work, "rebuild-index"), svc.log_path, args.python)
    rebuild_svc.start()
    try:
        cap = args.rebuild_max_seconds
        print(f"  ckan: search-index rebuild into an empty index (stopped after {cap:.0f}s if not done)", flush=True)
        out["rebuild"] = run_rebuild(venv_bin, ini, cap, os.path.join(work, "rebuild.log"))
        _, resp = rebuild_svc.select([("q", "*:*"), ("rows", "0"), ("wt", "json")])
        out["rebuild"]["indexed_docs"] = resp["response"]["numFound"]
        out["rebuild"]["service_memory"] = memory(rebuild_svc.pid)
        out["rebuild"]["index_disk_mb"] = dir_size_mb(rebuild_svc.data_dir)
        r = out["rebuild"]
        print(f"  ckan: rebuild {r['datasets']}/{r['of']} datasets in {r['seconds']}s = {r['docs_per_s']} docs/s"
              f"{'' if r['complete'] else ' (stopped)'}", flush=True)
    finally:
        rebuild_svc.stop()
    return out


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

def run_size(args: argparse.Namespace, size: int) -> dict[str, Any]:
    work = os.path.join(args.data_dir, f"size-{size}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    res: dict[str, Any] = {"size": size}
    cat = Catalog(seed=args.seed, wilayah_dir=args.wilayah_dir, kbli_dir=args.kbli_dir or None)
    print(f"\n== {size} datasets", flush=True)
    t0 = time.perf_counter()
    batches, stats = encode_batches(cat, size, args.batch_size, args.site_id)
    stats["generate_seconds"] = round(time.perf_counter() - t0, 1)
    res["catalog"] = stats | {"organizations": len(cat.organizations), "groups": len(cat.groups)}
    print(f"  catalog: {stats}", flush=True)

    svc = Service(args.port, os.path.join(work, "index"), os.path.join(work, "service.log"), args.python)
    res["service_code"] = service_code_fingerprint()
    res["service_start_seconds"] = round(svc.start(), 2)
    try:
        res["memory_empty"] = memory(svc.pid)
        cpu0 = cpu_seconds(svc.pid)
        t0 = time.perf_counter()
        for b in batches:
            svc.update(b)
        t_docs = time.perf_counter() - t0
        svc.commit()
        elapsed = time.perf_counter() - t0
        del batches
        _, resp = svc.select([("q", "*:*"), ("rows", "0"), ("wt", "json")])
        res["indexing"] = {"docs": size, "seconds": round(elapsed, 2), "commit_seconds": round(elapsed - t_docs, 2),
                           "docs_per_s": round(size / elapsed, 1), "mb_per_s": round(stats["json_mb"] / elapsed, 1),
                           "batch_size": args.batch_size, "indexed_docs": resp["response"]["numFound"],
                           "service_cpu_seconds": round(cpu_seconds(svc.pid) - cpu0, 1)}
        print(f"  indexing: {res['indexing']}", flush=True)
        res["memory_after_indexing"] = memory(svc.pid)
        res["index_disk_mb"] = dir_size_mb(svc.data_dir)
        print(f"  memory after indexing: {res['memory_after_indexing']}, index on disk {res['index_disk_mb']} MB",
              flush=True)
        res["service_queries"] = measure_service_queries(svc, query_classes(cat), cat, args.site_id, args.iterations,
                                                         args.warmup)
        res["memory_after_queries"] = memory(svc.pid)
        print(f"  memory after queries: {res['memory_after_queries']}", flush=True)
        if args.ckan and size <= args.ckan_max_size:
            res["ckan"] = measure_ckan(args, size, svc, work)
    finally:
        svc.stop()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ok" if ok else " MISS")


def print_table(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for r in results:
        n = r["size"]
        lines.append(f"\n{n:,} datasets ({r['catalog']['public']:,} public, {r['catalog']['private']:,} private; "
                     f"{r['catalog']['avg_doc_kb']} KB/doc)")
        ix = r["indexing"]
        lines.append(f"  service bulk indexing     {ix['docs_per_s']:>9,.0f} docs/s  ({ix['seconds']} s, commit "
                     f"{ix['commit_seconds']} s, service CPU {ix.get('service_cpu_seconds')} s)  "
                     f"target >= {TARGET_INDEX_DOCS_S:,.0f}{_mark(ix['docs_per_s'] >= TARGET_INDEX_DOCS_S)}")
        ck = r.get("ckan", {})
        if ck.get("rebuild"):
            rb = ck["rebuild"]
            lines.append(f"  ckan search-index rebuild {rb['docs_per_s']:>9,.1f} docs/s  ({rb['datasets']:,} of {rb['of']:,} "
                         f"in {rb['seconds']} s{'' if rb['complete'] else ', stopped'})")
        m1, m2 = r["memory_after_indexing"], r["memory_after_queries"]
        worst = max(m1["rss_mb"], m2["rss_mb"])
        lines.append(f"  service RSS               after load {m1['rss_mb']:.0f} MB, after queries {m2['rss_mb']:.0f} MB "
                     f"(anon {m2['rss_anon_mb']:.0f}, file {m2['rss_file_mb']:.0f}, peak {m2['hwm_mb']:.0f})  "
                     f"target <= {TARGET_RSS_MB:.0f}{_mark(worst <= TARGET_RSS_MB)}")
        lines.append(f"  {'query class (ms)':24s} {'service p50':>11s} {'p95':>7s} {'':5s} {'QTime p95':>9s} "
                     f"{'package_search p50':>18s} {'p95':>7s} {'':5s} {'solr http p95':>13s}")
        for name, s in r["service_queries"].items():
            c = ck.get("package_search", {}).get(name)
            svc_ok = s["p95_ms"] <= TARGET_SERVICE_P95_MS
            qt = s.get("qtime_p95_ms")
            line = (f"  {name:24s} {s['p50_ms']:>11.1f} {s['p95_ms']:>7.1f} {_mark(svc_ok):5s} "
                    f"{'' if qt is None else f'{qt:.0f}':>9s}")
            if c:
                line += (f" {c['p50_ms']:>18.1f} {c['p95_ms']:>7.1f} {_mark(c['p95_ms'] <= TARGET_CKAN_P95_MS):5s}"
                         f" {c['solr_http_p95_ms']:>13.1f}")
            lines.append(line)
        if ck.get("document_check"):
            dc = ck["document_check"]
            lines.append(f"  CKAN documents vs catalog.solr_document: {dc['checked']} checked, mismatched fields: "
                         f"{dc['mismatched_fields'] or 'none'}")
            lines.append(f"  CKAN Solr parameters vs solr_params(): "
                         f"{'identical' if ck['param_check']['identical'] else ck['param_check']['differences']}")
    lines.append(f"\nTargets (100k datasets, 2 cores): service p95 <= {TARGET_SERVICE_P95_MS:.0f} ms, package_search "
                 f"p95 <= {TARGET_CKAN_P95_MS:.0f} ms, bulk indexing >= {TARGET_INDEX_DOCS_S:,.0f} docs/s, "
                 f"RSS <= {TARGET_RSS_MB:.0f} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_ckan-worker":
        wp = argparse.ArgumentParser()
        wp.add_argument("--ini", required=True)
        wp.add_argument("--site-id", required=True)
        wp.add_argument("--seed", type=int, required=True)
        wp.add_argument("--wilayah-dir", required=True)
        wp.add_argument("--kbli-dir", default="")
        wp.add_argument("--iterations", type=int, required=True)
        wp.add_argument("--warmup", type=int, required=True)
        wp.add_argument("--check-docs", type=int, required=True)
        ckan_worker(wp.parse_args(argv[1:]))
        return 0

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated catalog sizes (default %(default)s)")
    ap.add_argument("--port", type=int, default=8991, help="port of the search service under test (%(default)s)")
    ap.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "umkm-search-bench"),
                    help="work directory: indexes, logs, CKAN ini (default %(default)s); emptied per size")
    ap.add_argument("--out", default="search-benchmark-results.json", help="JSON results file (%(default)s)")
    ap.add_argument("--iterations", type=int, default=200, help="timed requests per query class (%(default)s)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed requests per query class first (%(default)s)")
    ap.add_argument("--batch-size", type=int, default=1000, help="documents per update request (%(default)s)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--site-id", default=DEFAULT_SITE_ID, help="ckan.site_id of the documents (%(default)s)")
    ap.add_argument("--wilayah-dir", default=DEFAULT_WILAYAH_DIR, help="provinces.csv and regencies.csv")
    ap.add_argument("--kbli-dir", default=DEFAULT_KBLI_DIR, help="kbli_golpok.json ('' = built-in kategori only)")
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"),
                    help="Python that runs the service and CKAN (%(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (indexes, logs)")
    ck = ap.add_argument_group("CKAN (--ckan)")
    ck.add_argument("--ckan", action="store_true", help="also measure package_search and search-index rebuild")
    ck.add_argument("--ckan-max-size", type=int, default=10**9, help="only measure CKAN for sizes up to this")
    ck.add_argument("--ckan-iterations", type=int, default=None, help="package_search calls per class "
                    "(default: --iterations)")
    ck.add_argument("--db-url", default="postgresql://ckan_default:pass@127.0.0.1/ckan_bench",
                    help="benchmark database, DROPPED and recreated (%(default)s)")
    ck.add_argument("--db-owner", default="ckan_default")
    ck.add_argument("--ckan-plugins", default="", help="ckan.plugins of the benchmark instance (default: none, "
                    "CKAN core as in config/test-core.ini)")
    ck.add_argument("--rebuild-max-seconds", type=float, default=300,
                    help="stop search-index rebuild after this long and report the rate so far (%(default)s)")
    ck.add_argument("--check-docs", type=int, default=200,
                    help="datasets whose CKAN-built document is compared with catalog.solr_document (%(default)s)")
    args = ap.parse_args(argv)
    args.ckan_iterations = args.ckan_iterations or args.iterations
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not os.path.isdir(os.path.join(ROOT, "ckanext-umkm", "ckanext", "umkm", "search_service")):
        raise SystemExit("the search service (ckanext/umkm/search_service) is not there")

    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "mem_total_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "command": " ".join([sys.executable, *sys.argv]),
        "config": {k: v for k, v in vars(args).items()},
        "targets": {"service_p95_ms": TARGET_SERVICE_P95_MS, "package_search_p95_ms": TARGET_CKAN_P95_MS,
                    "service_index_docs_per_s": TARGET_INDEX_DOCS_S, "rss_mb": TARGET_RSS_MB},
        "query_classes": {qc.name: {"description": qc.description, "variants": [asdict(v) for v in qc.variants]}
                          for qc in query_classes(Catalog(seed=args.seed, wilayah_dir=args.wilayah_dir,
                                                          kbli_dir=args.kbli_dir or None))},
        "sizes": [],
    }
    os.makedirs(args.data_dir, exist_ok=True)
    lock = open(os.path.join(args.data_dir, ".lock"), "w")  # noqa: SIM115 (held until exit)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"another benchmark is running with --data-dir {args.data_dir}") from None
    if _answers(f"http://127.0.0.1:{args.port}/solr/ckan/admin/ping"):
        raise SystemExit(f"something already answers on port {args.port}; choose another --port")
    for size in sizes:
        results["sizes"].append(run_size(args, size))
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    table = print_table(results["sizes"])
    results["table"] = table
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print(table)
    print(f"\nresults: {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
