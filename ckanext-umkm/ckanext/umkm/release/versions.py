"""New versions of released records.

A released record is never edited in place: what the public sees was
checked and approved. To correct or update it, a producer starts a new
version: a private copy (metadata and resources, uploads included) linked to
the released record, each copied resource remembering the released resource
it stands for (``umkm_revision_resource``). The copy is edited with the
usual forms and goes through the whole workflow; the released version stays
public meanwhile.

When the copy is released, ``publish`` puts its content into the released
record in one database transaction, and the copy never becomes public:
metadata and resources are updated in place, so the record keeps its name
and id and every resource that the new version carries over keeps its id and
URL (harvesters, links and DataStore API calls keep working); resources the
new version added are added, those it removed are removed; the new files are
staged beside the old ones. Only after the commit does ``finish`` move the
staged files into place (one rename each), record their SHA-256 and ask the
loader to refresh the DataStore. A failure before the commit leaves the
released record as it was and removes the staged files (``abandon``).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from ckanext.umkm import caller
from ckanext.umkm.release import workflow

log = logging.getLogger(__name__)

# Not CKAN's metadata: CKAN's test resets must not touch this table.
metadata = sa.MetaData()

revision_resource_table = sa.Table(
    "umkm_revision_resource", metadata,
    sa.Column("resource_id", sa.UnicodeText, primary_key=True),
    sa.Column("revision_id", sa.UnicodeText, nullable=False),
    sa.Column("public_resource_id", sa.UnicodeText),
)

# Not copied between versions: identity, CKAN's bookkeeping, computed keys.
SKIP = {"id", "name", "resources", "revision_id", "metadata_created", "metadata_modified", "creator_user_id",
        "state", "private", "num_resources", "num_tags", "organization", "relationships_as_object",
        "relationships_as_subject", "tracking_summary", "groups", "isopen", "license_title", "license_url",
        "umkm_access"}
# Kept by each resource itself, or computed when shown.
RESOURCE_SKIP = {"id", "package_id", "created", "metadata_modified", "position", "datastore_active",
                 "datastore_contains_all_records_of_source_file", "url", "url_type", "upload", "tracking_summary",
                 "cache_url", "cache_last_updated", "hash", "hash_algorithm", "umkm_integrity", "umkm_access"}
STAGED_SUFFIX = ".umkm-release"


def _fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pkg_dict.items() if k not in SKIP}


def _stored_path(res: dict[str, Any]) -> str:
    from ckan.lib import uploader

    return uploader.get_resource_uploader(dict(res)).get_path(res["id"])


def _filename(res: dict[str, Any]) -> str:
    return os.path.basename(res.get("url") or "") or "data"


def _copy_resources(context: dict[str, Any], source: dict[str, Any], target_id: str) -> None:
    """Each resource of ``source`` into the new version ``target_id``: links
    as links, uploads as new uploads of the same bytes (each version owns its
    files), each remembering the released resource it stands for."""
    for res in source.get("resources", []):
        data = {k: v for k, v in res.items() if k not in RESOURCE_SKIP | {"last_modified", "size", "mimetype"}}
        data["package_id"] = target_id
        if res.get("url_type") == "upload":
            with open(_stored_path(res), "rb") as stream:
                data.update(url=_filename(res), upload=FileStorage(stream=stream, filename=_filename(res)))
                created = tk.get_action("resource_create")(dict(context), data)
        else:
            data["url"] = res.get("url") or ""
            created = tk.get_action("resource_create")(dict(context), data)
        model.Session.execute(revision_resource_table.insert().values(
            resource_id=created["id"], revision_id=target_id, public_resource_id=res["id"]))


def start(context: dict[str, Any], pkg: model.Package, user: model.User, role: str) -> dict[str, Any]:
    """Create the private new version of released ``pkg``; returns it. All
    of it is committed at once, or nothing."""
    row = workflow.get_state(pkg.id)
    if row is None or row["state"] != "released":
        raise tk.ValidationError({"state": [tk._("Only a released record gets a new version")]})
    if workflow.open_revision(pkg.id):
        raise tk.ValidationError({"id": [tk._("A new version of this record is already being prepared")]})
    source = tk.get_action("package_show")(caller.site_context(), {"id": pkg.id})
    number = len(workflow.revisions(pkg.id)) + 1
    suffix = f"-revisi-{number}"
    data = _fields(source)
    data.update(name=f"{pkg.name[:100 - len(suffix)]}{suffix}", type=pkg.type, owner_org=pkg.owner_org)
    # The copy is created as the producer (their organization, their activity).
    actor = {"user": user.name, "auth_user_obj": user, "defer_commit": True}
    copy = tk.get_action("package_create")(dict(actor), data)
    model.Session.execute(workflow.state_table.update().where(
        workflow.state_table.c.package_id == copy["id"]).values(revision_of=pkg.id))
    _copy_resources(dict(actor, ignore_auth=True), source, copy["id"])
    workflow.record_step(pkg, "revise", user=user, role=role,
                         note=tk._("New version in preparation: {name}").format(name=copy["name"]))
    model.repo.commit()
    return tk.get_action("package_show")(caller.site_context(), {"id": copy["id"]})


@dataclass
class Published:
    """A new version put into its released record, not yet committed."""

    public: model.Package
    # (staged file, final path, resource id) to move into place after the commit
    staged: list[tuple[str, str, str]] = field(default_factory=list)
    # resources whose DataStore table is loaded again from the new data
    reload: list[str] = field(default_factory=list)


def _carried_over(copy_id: str, public_ids: set[str]) -> dict[str, str]:
    """The new version's resources that stand for one of the released record's."""
    rows = model.Session.execute(sa.select(revision_resource_table).where(
        revision_resource_table.c.revision_id == copy_id)).mappings().all()
    return {r["resource_id"]: r["public_resource_id"] for r in rows if r["public_resource_id"] in public_ids}


def publish(copy: model.Package, user: model.User | None, role: str) -> Published | None:
    """Put a released new version's content into the record it was made
    from, inside the caller's transaction (nothing is committed here; the
    caller commits, then calls ``finish``, or ``abandon`` on failure).
    Returns None when ``copy`` is not a new version."""
    row = workflow.get_state(copy.id)
    if row is None or not row["revision_of"]:
        return None
    public = model.Package.get(row["revision_of"])
    if public is None or public.state != "active":
        return None
    context = caller.site_context(defer_commit=True)
    source = tk.get_action("package_show")(dict(context), {"id": copy.id})
    current = tk.get_action("package_show")(dict(context), {"id": public.id})
    note = tk._("New version released (from {name}); previous version had {count} resources").format(
        name=copy.name, count=len(current.get("resources", [])))
    # The state first: the update below sets the private flag from it.
    workflow.record_step(public, "release", user=user, role=role, note=note, released=True)
    before = {r["id"]: r for r in current.get("resources", [])}
    mapping = _carried_over(copy.id, set(before))
    resources = []
    for res in source.get("resources", []):
        data = {k: v for k, v in res.items() if k not in RESOURCE_SKIP}
        target = mapping.get(res["id"])
        if target:
            data["id"] = target
            # The table stays readable until the loader has refreshed it.
            data["datastore_active"] = before[target].get("datastore_active", False)
        if res.get("url_type") == "upload":
            data.update(url=_filename(res), url_type="upload")
        else:
            data.update(url=res.get("url") or "", url_type=res.get("url_type") or "")
        resources.append(data)
    tk.get_action("package_update")(dict(context), dict(
        _fields(source), id=public.id, name=public.name, type=public.type, owner_org=public.owner_org,
        resources=resources))
    updated = tk.get_action("package_show")(dict(context), {"id": public.id})
    published = Published(public)
    try:
        for src, res in zip(source.get("resources", []), updated.get("resources", []), strict=True):
            if src.get("url_type") == "upload":
                final = _stored_path(res)
                os.makedirs(os.path.dirname(final), exist_ok=True)
                staged = final + STAGED_SUFFIX
                shutil.copyfile(_stored_path(src), staged)
                published.staged.append((staged, final, res["id"]))
            if src.get("url_type") == "upload" or src.get("url") != before.get(res["id"], {}).get("url"):
                published.reload.append(res["id"])
        tk.get_action("package_delete")(dict(context), {"id": copy.id})
        model.Session.execute(revision_resource_table.delete().where(
            revision_resource_table.c.revision_id == copy.id))
    except BaseException:
        abandon(published)
        raise
    return published


def finish(published: Published) -> None:
    """After the commit: the new files in place, their hashes recorded, the
    DataStore refreshed."""
    from ckanext.umkm.audit import file_integrity

    for staged, final, resource_id in published.staged:
        os.replace(staged, final)
        file_integrity.rehash(resource_id)
    model.repo.commit()
    if p.plugin_loaded("xloader"):
        for resource_id in published.reload:
            try:
                tk.get_action("xloader_submit")(caller.site_context(), {"resource_id": resource_id,
                                                                         "ignore_hash": True})
            except Exception:  # noqa: BLE001 - the release is committed; the loader can be asked again
                log.warning("could not ask the loader to refresh the DataStore of %s", resource_id, exc_info=True)


def abandon(published: Published | None) -> None:
    """A release that failed before its commit leaves no staged file."""
    for staged, _final, _id in published.staged if published else []:
        try:
            os.remove(staged)
        except FileNotFoundError:
            pass
