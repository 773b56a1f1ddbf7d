"""New versions of released records.

A released record is never edited in place: what the public sees was
checked and approved. To correct or update it, a producer starts a new
version: a private copy (metadata and resources, uploads included) linked to
the released record. The copy is edited with the usual forms and goes
through the whole workflow; the released version stays public meanwhile.
When the copy is released, its content replaces the public record's, the
public record's history notes the new release, and the copy is deleted.
"""

from __future__ import annotations

import os
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from werkzeug.datastructures import FileStorage

from ckanext.umkm import caller
from ckanext.umkm.release import workflow

# Not copied between versions: identity, CKAN's bookkeeping, computed keys.
SKIP = {"id", "name", "resources", "revision_id", "metadata_created", "metadata_modified", "creator_user_id",
        "state", "private", "num_resources", "num_tags", "organization", "relationships_as_object",
        "relationships_as_subject", "tracking_summary", "groups", "isopen", "license_title", "license_url"}
RESOURCE_SKIP = {"id", "package_id", "created", "metadata_modified", "last_modified", "position",
                 "datastore_active", "datastore_contains_all_records_of_source", "url", "url_type", "upload",
                 "tracking_summary", "cache_url", "cache_last_updated", "size", "mimetype"}


def _copy_resources(context: dict[str, Any], source: dict[str, Any], target_id: str) -> None:
    """Each resource of ``source`` into ``target_id``: links as links, uploads
    as new uploads of the same bytes (so each version owns its files)."""
    from ckan.lib import uploader

    for res in source.get("resources", []):
        data = {k: v for k, v in res.items() if k not in RESOURCE_SKIP}
        data["package_id"] = target_id
        if res.get("url_type") == "upload":
            path = uploader.get_resource_uploader(res).get_path(res["id"])
            filename = os.path.basename(res.get("url") or "") or "data"
            with open(path, "rb") as stream:
                data.update(url=filename, upload=FileStorage(stream=stream, filename=filename))
                tk.get_action("resource_create")(dict(context), data)
        else:
            data["url"] = res.get("url") or ""
            tk.get_action("resource_create")(dict(context), data)


def _fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pkg_dict.items() if k not in SKIP}


def start(context: dict[str, Any], pkg: model.Package, user: model.User, role: str) -> dict[str, Any]:
    """Create the private new version of released ``pkg``; returns it."""
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
    actor = {"user": user.name, "auth_user_obj": user}
    copy = tk.get_action("package_create")(dict(actor), data)
    model.Session.execute(workflow.state_table.update().where(
        workflow.state_table.c.package_id == copy["id"]).values(revision_of=pkg.id))
    _copy_resources(dict(actor, ignore_auth=True), source, copy["id"])
    workflow.record_step(pkg, "revise", user=user, role=role,
                         note=tk._("New version in preparation: {name}").format(name=copy["name"]))
    model.repo.commit()
    return tk.get_action("package_show")(caller.site_context(), {"id": copy["id"]})


def publish(copy: model.Package, user: model.User | None, role: str) -> model.Package | None:
    """When a new version is released: its content replaces the public
    record's and the copy is deleted. Returns the public record."""
    row = workflow.get_state(copy.id)
    if row is None or not row["revision_of"]:
        return None
    public = model.Package.get(row["revision_of"])
    if public is None or public.state != "active":
        return None
    context = caller.site_context()
    source = tk.get_action("package_show")(context, {"id": copy.id})
    current = tk.get_action("package_show")(context, {"id": public.id})
    note = tk._("New version released (from {name}); previous version had {count} resources").format(
        name=copy.name, count=len(current.get("resources", [])))
    # The state first: the update below sets the private flag from it.
    workflow.record_step(public, "release", user=user, role=role, note=note, released=True)
    data = dict(_fields(source), id=public.id, name=public.name, type=public.type,
                owner_org=public.owner_org, resources=[])
    tk.get_action("package_update")(dict(context, defer_commit=True), data)
    _copy_resources(dict(context, defer_commit=True), source, public.id)
    tk.get_action("package_delete")(dict(context, defer_commit=True), {"id": copy.id})
    model.repo.commit()
    return public
