"""What a harvester reading ``package_search`` over the API receives.

The national portal runs ckanext-harvest's stock CKAN harvester: it pages
through ``/api/3/action/package_search`` (all records the first time, then
``fq=metadata_modified:[<last harvest> TO *]``) and creates or updates each
record it is given. It never deletes, and its national schema knows only
datasets. So:

- over the API, a search that names no type answers aggregate datasets only
  (``dataset_type:dataset``, as CKAN's own dataset page does); kegiatan,
  variabel and indikator reach the national side flattened into their
  datasets (``national_keys``), and are searched with an explicit
  ``fq=dataset_type:kegiatan`` etc.;
- a dataset that was public and is no longer (withdrawn, or reopened after
  that) leaves a tombstone in the index: a public document with
  ``state: withdrawn`` that carries only what was public before (id, name,
  title, producer) and tells the receiver ``state: deleted``. Ordinary searches
  never see it (CKAN filters ``+state:active``); a search for changes since a
  time also gets the tombstones of datasets withdrawn since then, so the
  receiving CKAN deletes its copy. Releasing the dataset again removes it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.search.common import make_connection

log = logging.getLogger(__name__)

WITHDRAWN = "withdrawn"  # the tombstones' index state
_TYPE_FILTER = re.compile(r"(^|[\s+(\-!])(dataset_)?type:")
_CHANGED_SINCE = re.compile(r"metadata_modified:\s*[\[{]")


def _api_request() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.path.startswith("/api/")


def scope_search(params: dict[str, Any]) -> dict[str, Any]:
    """``before_dataset_search``: the API's default type, and withdrawals in
    a search for changes."""
    if not _api_request():
        return params
    fq = params.get("fq") or ""
    searched = " ".join([fq, str(params.get("q") or ""), *map(str, params.get("fq_list") or [])])
    if not _TYPE_FILTER.search(searched):
        fq = f"{fq} +dataset_type:dataset".strip()
    if _CHANGED_SINCE.search(fq) and "+state" not in fq:
        fq = f"{fq} +state:(active OR {WITHDRAWN})"
    params["fq"] = fq
    return params


def _tombstone_id(package_id: str) -> str:
    site_id = tk.config.get("ckan.site_id")
    return hashlib.md5(f"{WITHDRAWN}:{package_id}{site_id}".encode()).hexdigest()


def tombstone(pkg: model.Package, withdrawn_at: datetime.datetime) -> dict[str, Any]:
    """What the receiver gets of a withdrawn dataset: enough to find its copy
    and delete it (``state: deleted``), nothing that was not public before."""
    org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
    modified = withdrawn_at.astimezone(datetime.UTC).replace(tzinfo=None).isoformat()
    return {
        "id": pkg.id, "name": pkg.name, "title": pkg.title, "type": pkg.type,
        "state": "deleted", "private": False, "metadata_modified": modified,
        "metadata_created": pkg.metadata_created.isoformat() if pkg.metadata_created else modified,
        "owner_org": pkg.owner_org,
        "organization": {"id": org.id, "name": org.name, "title": org.title} if org else None,
        "resources": [], "tags": [], "extras": [],
        "publishing_status": WITHDRAWN,
    }


def sync(pkg_dict: dict[str, Any]) -> None:
    """``before_dataset_index`` of a workflow dataset: keep its tombstone in
    step with its release state (also rebuilt by ``search-index rebuild``)."""
    from ckanext.umkm.release import workflow

    if pkg_dict.get("type") != "dataset":
        return
    state = workflow.get_state(pkg_dict["id"])
    if state is None:
        return
    pkg = model.Package.get(pkg_dict["id"])
    if pkg is None or state["released_at"] is None:
        return  # never public: nobody outside holds a copy
    try:
        conn = make_connection()
        if not pkg.private and pkg.state == "active":
            # Public again: a tombstone can only exist after a second release.
            if state["release_number"] > 1:
                conn.delete(id=_tombstone_id(pkg.id), commit=_commit())
            return
        record = tombstone(pkg, state["step_started"])
        conn.add(docs=[{
            "index_id": _tombstone_id(pkg.id), "id": pkg.id, "name": pkg.name, "title": pkg.title,
            "title_string": pkg.title, "site_id": tk.config.get("ckan.site_id"),
            "entity_type": "package", "dataset_type": pkg.type, "state": WITHDRAWN,
            "capacity": "public", "permission_labels": ["public"],
            "owner_org": pkg.owner_org, "organization": (record["organization"] or {}).get("name"),
            "metadata_created": record["metadata_created"] + "Z",
            "metadata_modified": record["metadata_modified"] + "Z",
            "validated_data_dict": json.dumps(record), "data_dict": json.dumps(record),
        }], commit=_commit())
    except Exception:  # noqa: BLE001 - the record's own indexing must go on
        log.exception("could not update the withdrawal tombstone of %s", pkg_dict.get("id"))


def _commit() -> bool:
    return tk.asbool(tk.config.get("ckan.search.solr_commit", True))
