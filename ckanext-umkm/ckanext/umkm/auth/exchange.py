"""Who may download templates, import rows into a kegiatan and export metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk

AuthResult = dict[str, Any]


def _kegiatan(data_dict: dict[str, Any]) -> model.Package | None:
    pkg = model.Package.get(str(data_dict.get("id") or ""))
    if pkg is None or pkg.type != "kegiatan" or pkg.state != model.State.ACTIVE:
        return None
    return pkg


def _allowed(action: str, context: dict[str, Any], data_dict: dict[str, Any]) -> bool:
    # A copy: auth functions cache the package they looked at in the context.
    return authz.is_authorized_boolean(action, dict(context), data_dict)


@tk.auth_allow_anonymous_access
def umkm_metadata_template(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Empty templates hold nothing but the public schema."""
    return {"success": True}


def umkm_metadata_import(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Importing adds records to a kegiatan: the user must see the kegiatan
    and be able to create records in its organization."""
    pkg = _kegiatan(data_dict)
    if pkg is None:
        return {"success": False, "msg": tk._("Kegiatan not found")}
    # Producers of the kegiatan's organization add records to it, whatever
    # the kegiatan's own release state (a released kegiatan gains variables).
    if not _allowed("package_show", context, {"id": pkg.id}):
        return {"success": False, "msg": tk._("You may not see this record")}
    if not _allowed("package_create", context, {"owner_org": pkg.owner_org,
                                                 "type": data_dict.get("kind") or "variabel"}):
        return {"success": False, "msg": tk._("You may not create records in this organization")}
    return {"success": True}


@tk.auth_allow_anonymous_access
def umkm_indah_export(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Whoever may see a record may export it."""
    if not _allowed("package_show", context, {"id": data_dict.get("id")}):
        return {"success": False, "msg": tk._("You may not see this record")}
    return {"success": True}


@tk.auth_allow_anonymous_access
def umkm_kegiatan_export(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Whoever may see the kegiatan; children they cannot see are left out."""
    return umkm_indah_export(context, data_dict)


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_metadata_template": umkm_metadata_template,
        "umkm_metadata_import": umkm_metadata_import,
        "umkm_indah_export": umkm_indah_export,
        "umkm_kegiatan_export": umkm_kegiatan_export,
    }
