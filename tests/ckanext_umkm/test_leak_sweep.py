"""The leak sweep (issue 12): restricted data must not leave the portal by
any path, including the paths nobody thought of.

Markers are planted in restricted data: row values of a BNBA table (names
and NIKs), a string only in its stored file, and an outside link of a
released restricted dataset. The DataStore table also gets an alias. The
sweep then enumerates every registered action (CKAN's action registry) and
every URL rule of the Flask app, and calls each one over HTTP with the
restricted dataset's, resource's, view's and alias's identifiers, as:

- anonymous;
- an out-of-scope agency (Ministry of Agriculture, sector A), with a signed
  statement, a grant and two-step login;
- an in-scope agency member without a statement, with two-step login;

and fails if any answer (body or headers) holds a marker. A fourth reader,
the in-scope agency with statement, grant and two-step login, gets Kota
Bandung's rows: its answers must hold no other region's row, nor the file's
or the link's marker. Whatever legitimately needs an exception is listed in
``EXCEPTIONS`` with the reason (none today).
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from ckan.tests import helpers
from werkzeug.datastructures import FileStorage

from . import metadata_records as records
from . import test_restricted_access as restricted
from . import two_factor_steps as steps

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

world = restricted.world

ALIAS = f"bnba_alias_sapuan_{uuid.uuid4().hex[:8]}"  # the DataStore outlives the test database resets
FILE_MARKER = "BERKAS-7Q3Z-HANYA-DI-FILE"
LINK_HOST = "simpan-rahasia.example.go.id"
LINK = f"https://{LINK_HOST}/internal/bnba-2024.csv"
OTHER_REGIONS = [r for r in restricted.ROWS if not r["kode_desa"].startswith("32.73.")]
ROW_MARKERS = [v for r in restricted.ROWS for v in (r["nama_usaha"], r["nik"])]
OTHER_ROW_MARKERS = [v for r in OTHER_REGIONS for v in (r["nama_usaha"], r["nik"])]

# action or URL rule -> why its answer may hold a marker for these readers
EXCEPTIONS: dict[str, str] = {}


@dataclass(frozen=True)
class Ids:
    dataset_id: str
    dataset_name: str
    resource_id: str
    view_id: str
    link_dataset_id: str
    link_resource_id: str
    # The last activity of each dataset (its data holds the dataset as it was).
    activity_ids: tuple[str, ...]

    def of(self, kind: str) -> list[str]:
        return {
            "dataset": [self.dataset_id, self.dataset_name, self.link_dataset_id],
            "resource": [self.resource_id, ALIAS, self.link_resource_id],
            "view": [self.view_id],
            "activity": list(self.activity_ids),
            "any": [self.dataset_name, self.link_dataset_id, self.resource_id, ALIAS, self.view_id,
                    self.link_resource_id, *self.activity_ids],
        }[kind]


def _plant(w: dict) -> Ids:
    """The markers: a file holding a column the DataStore does not, an
    alias of the table, a released restricted dataset with an outside link."""
    admin = {"user": w["admin"]["name"]}
    text = "kode_desa,kbli,nama_usaha,nik,catatan\n" + "".join(
        f"{r['kode_desa']},{r['kbli']},{r['nama_usaha']},{r['nik']},{FILE_MARKER}\n" for r in restricted.ROWS)
    helpers.call_action("resource_patch", context=dict(admin), id=w["resource"]["id"],
                        upload=FileStorage(stream=io.BytesIO(text.encode()), filename="bnba.csv"))
    helpers.call_action("datastore_create", context=dict(admin), resource_id=w["resource"]["id"], force=True,
                        aliases=[ALIAS])
    (view,) = helpers.call_action("resource_view_list", context=dict(admin), id=w["resource"]["id"])
    link = helpers.call_action("package_create", context={"user": w["producer"]["name"]}, **records.dataset(
        w["pkg"]["owner_org"], name="bnba-tautan-luar-sapuan", accessRights="terbatas", bentuk_data="BNBA",
        resources=[{"url": LINK, "format": "CSV", "name": "Tautan BNBA"}]))
    records.release(link["id"])
    activities = tuple(helpers.call_action("package_activity_list", context=dict(admin), id=pkg_id,
                                           include_hidden_activity=True)[0]["id"]
                       for pkg_id in (w["pkg"]["id"], link["id"]))
    return Ids(w["pkg"]["id"], w["pkg"]["name"], w["resource"]["id"], view["id"], link["id"],
               link["resources"][0]["id"], activities)


@dataclass
class Reader:
    name: str
    headers: dict[str, str]
    markers: list[str]


def _readers(w: dict, base: str) -> list[Reader]:
    every = [*ROW_MARKERS, FILE_MARKER, LINK_HOST]
    out = [Reader("anonymous", {}, every)]
    for who in ("outsider", "no_nda", "bandung"):
        token = steps.token(base, steps.login(base, w[who], steps.enrol(w[who])), w[who])
        markers = [*OTHER_ROW_MARKERS, FILE_MARKER, LINK_HOST] if who == "bandung" else every
        out.append(Reader(who, {"Authorization": token}, markers))
    return out


# --- the requests ------------------------------------------------------------

PARAM = re.compile(r":param (\w+)")
ID_PARAMS = {"id": "any", "resource_id": "resource", "package_id": "dataset", "view_id": "view",
             "resource_view_id": "view", "name_or_id": "dataset", "dataset_id": "dataset"}


def _action_params(name: str) -> set[str]:
    from ckan import logic

    doc = logic._actions[name].__doc__ or ""
    return set(PARAM.findall(doc))


def _id_kind(action: str, param: str) -> str:
    """Which identifiers an action's parameter takes (every kind when in doubt)."""
    if param != "id":
        return ID_PARAMS[param]
    for prefix, kind in (("package_", "dataset"), ("dcat_dataset", "dataset"), ("resource_view", "view"),
                         ("resource_", "resource"), ("datastore_", "resource"), ("activity_", "activity")):
        if action.startswith(prefix):
            return kind
    return "any"


# Actions about datasets, resources, tables, views and activities: every
# identifier is tried even where the docstring names no parameter.
ABOUT_DATA = ("package_", "resource_", "datastore_", "activity_", "dcat_", "umkm_", "xloader_", "format_",
              "current_package", "recently_changed", "dashboard_", "member_", "group_package", "organization_",
              "group_activity", "user_activity")


def _action_bodies(name: str, ids: Ids) -> Iterator[dict]:
    named = sorted(p for p in _action_params(name) if p in ID_PARAMS)
    if not named and name.startswith(ABOUT_DATA):
        named = ["id", "resource_id"]
    for param in named:
        for value in ids.of(_id_kind(name, param)):
            yield {param: value}
    if not named:
        yield {"id": ids.dataset_name, "resource_id": ids.resource_id, "package_id": ids.dataset_id}
    # Searches and queries that could find restricted data by what it holds.
    yield {"q": "BNBA", "fq": "", "rows": 1000, "include_private": True, "fl": "*",
           "query": ["url:" + LINK_HOST.split(".")[0]], "resource_id": ALIAS, "limit": 1000,
           "sql": f'SELECT * FROM "{ALIAS}"'}
    yield {"query": "name:Tautan", "q": "Roti", "resource_id": ids.resource_id, "filters": {},
           "sql": f'SELECT * FROM "{ids.resource_id}"', "id": ids.dataset_name}


def _rule_urls(flask_app, ids: Ids) -> Iterator[tuple[str, str, str]]:
    """(rule, method, URL) for every URL rule, its arguments filled with the
    restricted identifiers: the dataset with its resource and view, the
    table's alias, the dataset with the outside link, and every argument a
    resource id."""
    def assignments(rule: str) -> list[dict[str, str]]:
        out = [{"id": ids.dataset_name, "resource_id": ids.resource_id, "view_id": ids.view_id,
                "resource_view_id": ids.view_id, "signature_id": ids.resource_id},
               {"id": ids.link_dataset_id, "resource_id": ids.link_resource_id}]
        if any(word in rule for word in ("resource", "datastore", "datatables", "dictionary", "view")):
            out += [{"id": ids.dataset_id, "resource_id": ALIAS}, {"id": ids.resource_id}, {"id": ALIAS}]
        if "activit" in rule or "changes" in rule:
            out += [{"id": a} for a in ids.activity_ids]
        return out

    fixed = {"package_type": "dataset", "dataset_type": "dataset", "group_type": "organization",
             "filename": "bnba.csv", "logic_function": "package_show", "ver": "3"}
    for rule in flask_app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith(("/webassets", "/base/", "/api/i18n")):
            continue
        seen: set[str] = set()
        for assignment in assignments(rule.rule):
            values = {}
            for arg in rule.arguments:
                options = sorted(getattr(rule._converters.get(arg), "items", ()))
                values[arg] = options[0] if options else fixed.get(arg) or assignment.get(arg) or ids.resource_id
            try:
                path = rule.build(values, append_unknown=False)[1]
            except Exception:  # noqa: BLE001 - a converter refusing the value: nothing to try
                continue
            if path in seen:
                continue
            seen.add(path)
            for method in ("GET", "POST"):
                if method in (rule.methods or ()):
                    yield rule.rule, method, path


@dataclass
class Finding:
    reader: str
    where: str
    request: str
    marker: str
    status: int


def _check(reader: Reader, where: str, request: str, reply: requests.Response) -> list[Finding]:
    seen = reply.content.decode("utf-8", "replace") + "\n" + json.dumps(dict(reply.headers))
    seen_unquoted = urllib.parse.unquote(seen)
    return [Finding(reader.name, where, request, m, reply.status_code) for m in reader.markers
            if m in seen or m in seen_unquoted]


def _sweep(base: str, readers: list[Reader], calls: list[tuple[str, str, str, dict | None]]) -> list[Finding]:
    """Each call (where, method, path, JSON body) as each reader."""
    def run(reader: Reader) -> list[Finding]:
        session = requests.Session()
        found: list[Finding] = []
        for where, method, path, body in calls:
            try:
                reply = session.request(method, base + path, json=body, headers=reader.headers, timeout=60,
                                        allow_redirects=False)
            except requests.RequestException as e:
                found.append(Finding(reader.name, where, f"{method} {path}", f"no answer: {e}", 0))
                continue
            found += _check(reader, where, f"{method} {path} {json.dumps(body) if body else ''}", reply)
        return found

    with ThreadPoolExecutor(len(readers)) as pool:
        return [f for part in pool.map(run, readers) for f in part if f.where not in EXCEPTIONS]


def test_no_action_and_no_url_leaks_restricted_data(world, live_portal, app):
    from ckan import logic

    ids = _plant(world)
    readers = _readers(world, live_portal)
    logic.get_action("package_show")
    actions = sorted(logic._actions)
    calls: list[tuple[str, str, str, dict | None]] = [
        (name, "POST", f"/api/3/action/{name}", body) for name in actions for body in _action_bodies(name, ids)]
    urls = list(_rule_urls(app.flask_app, ids))
    calls += [(rule, method, path, None) for rule, method, path in urls]
    assert len(actions) > 200 and len(urls) > 200, (len(actions), len(urls))

    print(f"sweep: {len(actions)} actions, {len(urls)} URL rules/variants, {len(calls)} calls per reader")
    findings = _sweep(live_portal, readers, calls)
    report = "\n".join(f"{f.reader}: {f.marker!r} in {f.request} (HTTP {f.status})" for f in findings[:60])
    assert not findings, f"{len(findings)} leaks of restricted data:\n{report}"

    # The sweep had something to find: the in-scope agency reads its rows,
    # and the custodian the whole file.
    bandung = readers[-1]
    rows = requests.post(f"{live_portal}/api/3/action/datastore_search", json={"resource_id": ALIAS},
                         headers=bandung.headers, timeout=30).json()["result"]["records"]
    assert {r["nama_usaha"] for r in rows} == restricted.BANDUNG
    everything = helpers.call_action("datastore_search", context={"user": world["admin"]["name"]},
                                     resource_id=ALIAS)
    assert len(everything["records"]) == len(restricted.ROWS)
