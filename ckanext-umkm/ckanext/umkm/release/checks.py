"""Automatic release checks (Permen UMKM 8/2025 Pasal 24(5)) and the
disclosure check, computed when a record is submitted and shown to the
reviewers as a checklist.

One line per requirement:

- ``not_confidential`` — access is ``terbuka`` and the data is not
  by-name-by-address (a BNBA record can never be released to the public:
  no justification overrides it);
- ``analysed`` — the producer's analysis note is present;
- ``standard`` — the record passes its schema (required fields, codes) and
  links only to released kegiatan, variabel and indikator;
- ``consistent`` — every tabular resource conforms to the Table Schema
  derived from the linked variables (column names, types, code lists,
  required values), validated with frictionless;
- ``open_format`` — at least one resource in an open machine-readable
  format;
- ``disclosure`` — no count cell describes fewer businesses than
  ``ckanext.umkm.release.disclosure_threshold`` (default 3). A check that
  examined nothing does not pass: an unreadable file, a resource in a format
  the check does not read, or no count variable to look at make it "not
  checked", which needs a curator's justification as a failure does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import egress
from ckanext.umkm.metadata import reference_codes
from ckanext.umkm.metadata.validators import as_list
from ckanext.umkm.release import workflow

_ = tk._

OPEN_FORMATS = {"CSV", "TSV", "JSON", "GEOJSON", "JSONL", "NDJSON", "XML", "XLSX", "XLS", "ODS",
                "PARQUET", "RDF", "TTL", "JSON-LD", "API", "SHP", "GPKG", "ZIP"}
TABULAR_FORMATS = {"CSV", "TSV", "XLSX", "XLS", "JSON"}
FRICTIONLESS_TYPES = {"CHARACTER": "string", "INTEGER": "integer", "DECIMAL": "number",
                      "DATE": "date", "BOOLEAN": "boolean"}
MAX_PROBLEMS = 20  # per check: enough to act on, short enough to read
NOT_COUNTS = {"", "-", "tahun", "year", "kode", "persen", "%"}


@dataclass
class CheckResult:
    key: str
    passed: bool
    message: str
    problems: list[str] = field(default_factory=list)
    # A failure a curator may not override with a justification.
    blocking: bool = False
    # Nothing could be examined: not passed, and shown as "not checked".
    not_checked: bool = False


def threshold() -> int:
    return tk.asint(tk.config.get("ckanext.umkm.release.disclosure_threshold", 3))


def run(pkg_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The checklist for a ``package_show`` dict, as JSON-ready dicts."""
    variables = linked_columns(pkg_dict)
    results = [
        _not_confidential(pkg_dict),
        _analysed(pkg_dict),
        _standard(pkg_dict),
    ]
    if pkg_dict.get("type") == "dataset":
        tables = list(_tabular_results(pkg_dict, variables))
        results.append(_consistent(tables, variables))
        results.append(_open_format(pkg_dict))
        if pkg_dict.get("accessRights") == "terbatas":
            results.append(CheckResult("disclosure", True, _(
                "Restricted data is not published: agencies receive it under a confidentiality statement")))
        else:
            results.append(_disclosure(pkg_dict, tables, variables))
    return [asdict(r) for r in results]


def failures(checks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [c for c in checks or [] if not c["passed"]]


# --- the checks --------------------------------------------------------------

def _not_confidential(pkg: dict[str, Any]) -> CheckResult:
    if pkg.get("type") != "dataset":
        return CheckResult("not_confidential", True, _("Metadata records are public by nature"))
    if pkg.get("accessRights") == "terbatas":
        # Pasal 25, 27: the public sees that restricted data exists and what
        # it holds; the data itself reaches authorised agencies only.
        return CheckResult("not_confidential", True, _(
            "Restricted (terbatas): only the metadata is released; the data reaches authorised agencies "
            "through the access gate"))
    if pkg.get("bentuk_data") == "BNBA":
        return CheckResult("not_confidential", False, _(
            "By-name-by-address data can never be released to the public"), blocking=True)
    if pkg.get("accessRights") != "terbuka":
        return CheckResult("not_confidential", False, _(
            'Access is "{access}": only "terbuka" data may be released to the public').format(
                access=pkg.get("accessRights")), blocking=True)
    return CheckResult("not_confidential", True, _("Open (terbuka) aggregate data"))


def _analysed(pkg: dict[str, Any]) -> CheckResult:
    if pkg.get("type") != "dataset":
        return CheckResult("analysed", True, _("Not required of metadata records"))
    if (pkg.get("analisis") or "").strip():
        return CheckResult("analysed", True, _("The producer's analysis is present"))
    return CheckResult("analysed", False, _("Add the short analysis of the data (field Analisis singkat)"))


def _ref_fields(package_type: str) -> list[str]:
    schema = tk.h.scheming_get_dataset_schema(package_type) or {}
    return [f["field_name"] for f in schema.get("dataset_fields", [])
            if f.get("form_snippet") == "umkm_package_ref.html"]


def _standard(pkg: dict[str, Any]) -> CheckResult:
    from ckan.lib.plugins import lookup_package_plugin

    problems: list[str] = []
    plugin = lookup_package_plugin(pkg.get("type"))
    context = {"ignore_auth": True, "user": "", "model": model, "session": model.Session}
    data = {k: v for k, v in pkg.items() if k not in ("resources",)}
    _validated, errors = plugin.validate(context, data, plugin.update_package_schema(), "package_update")
    for name, messages in (errors or {}).items():
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        problems.append(f"{name}: {text}")
    for name in _ref_fields(pkg.get("type") or "dataset"):
        for ref in as_list(pkg.get(name)):
            row = workflow.get_state(ref)
            linked = model.Package.get(ref)
            label = linked.name if linked else ref
            if row is None or row["state"] != "released":
                problems.append(_('{field}: "{record}" is not released yet').format(field=name, record=label))
    if problems:
        return CheckResult("standard", False, _("The record does not meet the data standard"),
                           problems[:MAX_PROBLEMS])
    return CheckResult("standard", True, _("Meets the data standard and metadata"))


def _open_format(pkg: dict[str, Any]) -> CheckResult:
    formats = [(r.get("format") or "").strip().upper() for r in pkg.get("resources", [])]
    if not formats:
        return CheckResult("open_format", False, _("The dataset has no resource"))
    if any(f in OPEN_FORMATS for f in formats):
        return CheckResult("open_format", True, _("Open machine-readable format: {formats}").format(
            formats=", ".join(sorted({f for f in formats if f in OPEN_FORMATS}))))
    return CheckResult("open_format", False, _(
        "No resource in an open machine-readable format (CSV, JSON, XLSX, ODS, …); found: {formats}").format(
            formats=", ".join(f or "?" for f in formats)))


# --- tabular resources against the linked variables --------------------------

@dataclass
class Column:
    name: str
    title: str
    kind: str  # frictionless type
    required: bool
    codes: list[str] | None  # value domain codes
    reference: tuple[str, str | None] | None  # (scheme, level)
    is_count: bool


def linked_columns(pkg: dict[str, Any]) -> dict[str, Column]:
    """The table columns the record's linked variables describe, by alias."""
    columns: dict[str, Column] = {}
    for ref in as_list(pkg.get("variabel")):
        var = model.Package.get(ref)
        if var is None or var.state != "active":
            continue
        extras = var.extras
        alias = (extras.get("alias") or "").strip()
        if not alias or alias == "-":
            continue
        rules = (extras.get("aturan_validasi") or "").upper()
        domain = _json_list(extras.get("value_domain"))
        scheme = extras.get("value_domain_reference") or None
        unit = (extras.get("satuan") or "").strip().lower()
        kind = FRICTIONLESS_TYPES.get(extras.get("tipe_data") or "", "string")
        columns[alias] = Column(
            name=alias, title=var.title or alias, kind=kind, required="HARUS TERISI" in rules,
            # Code/label pairs make a code list only for coded (character)
            # variables; a numeric one describes its range in them.
            # ("-" marks a free-text domain, e.g. names).
            codes=[str(d.get("kode")) for d in domain
                   if isinstance(d, dict) and d.get("kode") not in (None, "", "-")] or None
            if kind == "string" else None,
            reference=(scheme, extras.get("value_domain_reference_level") or None) if scheme else None,
            is_count=kind == "integer" and not scheme and unit not in NOT_COUNTS,
        )
    return columns


def _json_list(value: Any) -> list[Any]:
    import json

    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else []


@dataclass
class TableResult:
    resource: str
    columns: list[str]
    problems: list[str]
    small_cells: list[str]
    read: bool


DOWNLOAD_PATH = re.compile(r"^/(?:[a-z]{2}/)?dataset/[^/]+/resource/([0-9a-f-]{36})/download(?:/[^/]*)?$")


def _site_upload(url: str) -> str | None:
    """The stored file behind a link to this portal's own download route,
    when it is an upload of a public dataset that is not restricted (a link
    to anything else of the portal is not followed: the checks would show
    what it holds)."""
    from urllib.parse import urlsplit

    from ckan.lib import uploader

    from ckanext.umkm.access import gate

    site = urlsplit(tk.config.get("ckan.site_url") or "")
    parts = urlsplit(url)
    match = DOWNLOAD_PATH.match(parts.path)
    if not match or (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return None
    res = model.Resource.get(match.group(1))
    if res is None or res.state != "active" or res.url_type != "upload":
        return None
    pkg = tk.get_action("package_show")({"ignore_auth": True, "umkm_no_redact": True}, {"id": res.package_id})
    if pkg.get("private") or pkg.get("state") != "active" or gate.is_restricted(pkg):
        return None
    path = uploader.get_resource_uploader({"id": res.id, "url_type": "upload", "url": res.url}).get_path(res.id)
    return path if os.path.exists(path) else None


@contextlib.contextmanager
def _local_copy(res: dict[str, Any]) -> Iterator[tuple[str | None, str | None]]:
    """(a path to the resource's bytes, or None with the reason): the stored
    upload, a public upload of this portal that a link points to, or a
    size-capped download of a linked file through the egress guard (never
    from inside the portal's network)."""
    from ckan.lib import uploader

    if res.get("url_type") == "upload":
        path = uploader.get_resource_uploader(res).get_path(res["id"])
        yield (path, None) if os.path.exists(path) else (None, _("the stored file is missing"))
        return
    url = res.get("url") or ""
    own = _site_upload(url)
    if own is not None:
        yield own, None
        return
    tmp = tempfile.mkdtemp(prefix="umkm-check-")
    try:
        limit = tk.asint(tk.config.get("ckanext.umkm.release.max_download_mb", 50)) * 1024 * 1024
        target = os.path.join(tmp, "data")
        try:
            with egress.fetch(url, max_bytes=limit, timeout=30) as response:
                if response.status != 200:
                    raise egress.Refused(_("the server answered {status}").format(status=response.status))
                with open(target, "wb") as out:
                    for chunk in response.iter_content():
                        out.write(chunk)
        except egress.Refused as e:
            yield None, e.reason
            return
        yield target, None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _tabular_results(pkg: dict[str, Any], variables: dict[str, Column]) -> Iterator[TableResult]:
    for res in pkg.get("resources", []):
        fmt = (res.get("format") or "").strip().upper()
        if fmt not in TABULAR_FORMATS - {"JSON"}:
            continue
        label = res.get("name") or res["id"]
        with _local_copy(res) as (path, why):
            if path is None:
                yield TableResult(label, [], [_("{resource}: the file cannot be read ({reason})").format(
                    resource=label, reason=why)], [], False)
                continue
            yield _validate_table(label, path, fmt.lower(), variables)


def _validate_table(label: str, path: str, fmt: str, variables: dict[str, Column]) -> TableResult:
    from frictionless import Resource, Schema

    problems: list[str] = []
    small: list[str] = []
    source = Resource(path=os.path.basename(path), basepath=os.path.dirname(path), format=fmt)
    try:
        with source:
            header = [str(h) for h in source.labels]
    except Exception as exc:  # frictionless raises its own error types per format
        return TableResult(label, [], [_("{resource}: the file cannot be read: {error}").format(
            resource=label, error=exc)], [], False)

    fields = []
    for name in header:
        column = variables.get(name)
        if column is None:
            problems.append(_('{resource}: column "{column}" is not one of the linked variables').format(
                resource=label, column=name))
            fields.append({"name": name, "type": "any"})
            continue
        constraints: dict[str, Any] = {}
        if column.required:
            constraints["required"] = True
        if column.codes:
            constraints["enum"] = column.codes
        fields.append({"name": name, "type": column.kind, "constraints": constraints})
    schema = Schema.from_descriptor({"fields": fields})
    report = Resource(path=os.path.basename(path), basepath=os.path.dirname(path), format=fmt,
                      schema=schema).validate()
    for row_number, field_name, kind, note, cell in report.flatten(
            ["rowNumber", "fieldName", "type", "note", "cell"]):
        if kind in ("extra-label", "blank-label", "duplicate-label", "incorrect-label", "missing-label"):
            continue  # reported above by name
        problems.append(_("{resource}, row {row}, column {column}: {problem} ({value})").format(
            resource=label, row=row_number, column=field_name or "-", problem=note or kind,
            value=cell if cell not in (None, "") else _("empty")))

    # Code lists held in the database, and small counts.
    coded = {n: c for n, c in variables.items() if c.reference and n in header}
    counts = [n for n, c in variables.items() if c.is_count and n in header]
    limit = threshold()
    seen: dict[str, dict[str, list[int]]] = {n: {} for n in coded}
    with Resource(path=os.path.basename(path), basepath=os.path.dirname(path), format=fmt,
                  schema=schema) as table:
        for row in table.row_stream:
            for name in coded:
                value = row.get(name)
                if value not in (None, ""):
                    seen[name].setdefault(str(value), []).append(row.row_number)
            for name in counts:
                value = row.get(name)
                if isinstance(value, int) and 0 < value < limit:
                    small.append(_("{resource}, row {row}, column {column}: {value} < {limit}").format(
                        resource=label, row=row.row_number, column=name, value=value, limit=limit))
    for name, values in seen.items():
        scheme, level = coded[name].reference  # type: ignore[misc]
        normalised = {v: reference_codes.normalize(scheme, v) for v in values}
        known = reference_codes.get_many(scheme, normalised.values())
        for value, rows in values.items():
            code = known.get(normalised[value])
            if code is None:
                problems.append(_('{resource}, row {row}, column {column}: unknown {scheme} code "{value}"').format(
                    resource=label, row=rows[0], column=name, scheme=scheme, value=value))
            elif level and code.level != level:
                problems.append(_('{resource}, row {row}, column {column}: "{value}" is a {found} code, '
                                  "expected {level}").format(resource=label, row=rows[0], column=name,
                                                             value=value, found=code.level, level=level))
    return TableResult(label, header, problems, small, True)


def _consistent(tables: list[TableResult], variables: dict[str, Column]) -> CheckResult:
    if not tables:
        return CheckResult("consistent", True, _("No tabular resource to validate"))
    problems = [p for t in tables for p in t.problems]
    present = {c for t in tables for c in t.columns}
    for name, column in variables.items():
        if name not in present:
            problems.append(_('No resource has the column "{column}" of variable "{title}"').format(
                column=name, title=column.title))
    if problems:
        return CheckResult("consistent", False, _(
            "{count} problems of syntax, structure or semantics").format(count=len(problems)),
            problems[:MAX_PROBLEMS])
    return CheckResult("consistent", True, _("Every table conforms to its variables"))


def _disclosure(pkg: dict[str, Any], tables: list[TableResult], variables: dict[str, Column]) -> CheckResult:
    small = [s for t in tables for s in t.small_cells]
    if small:
        return CheckResult("disclosure", False, _(
            "{count} cells count fewer than {limit} businesses: a business could be singled out").format(
                count=len(small), limit=threshold()), small[:MAX_PROBLEMS])
    # What the check could not look at.
    unexamined: list[str] = []
    read = {t.resource for t in tables if t.read}
    for res in pkg.get("resources", []):
        label = res.get("name") or res["id"]
        fmt = (res.get("format") or "").strip().upper()
        if fmt not in TABULAR_FORMATS - {"JSON"}:
            unexamined.append(_("{resource}: the format {format} is not examined").format(
                resource=label, format=fmt or "?"))
        elif label not in read:
            unexamined.append(_("{resource}: the file cannot be read").format(resource=label))
    counts = [n for n, c in variables.items() if c.is_count]
    if not counts:
        unexamined.append(_("No linked variable is a count of businesses (an INTEGER variable with a unit)"))
    else:
        for table in tables:
            if table.read and not set(counts) & set(table.columns):
                unexamined.append(_("{resource}: no count column ({columns})").format(
                    resource=table.resource, columns=", ".join(counts)))
    if not pkg.get("resources"):
        unexamined.append(_("The dataset has no resource"))
    if unexamined:
        return CheckResult("disclosure", False, _("Not checked: small counts could not be looked for"),
                           unexamined[:MAX_PROBLEMS], not_checked=True)
    return CheckResult("disclosure", True, _("No count below {limit}").format(limit=threshold()))
