"""API actions of the metadata exchange: templates, bulk import, INDAH export.

The logic lives in ``ckanext.umkm.metadata`` (``schema_columns``,
``import_templates``, ``bulk_import``, ``indah_export``); these check access
and translate between the API and it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.metadata import bulk_import, import_templates, indah_export, schema_columns

_ = tk._


def _kind(data_dict: dict[str, Any], kinds: tuple[str, ...] = schema_columns.KINDS) -> str:
    kind = str(data_dict.get("kind") or "")
    if kind not in kinds:
        raise tk.ValidationError({"kind": [_("Choose one of: {kinds}").format(kinds=", ".join(kinds))]})
    return kind


def _kegiatan(context: dict[str, Any], ref: Any) -> dict[str, Any]:
    if not ref:
        raise tk.ValidationError({"id": [_("Missing value")]})
    pkg = tk.get_action("package_show")(caller.nested_context(context), {"id": ref})
    if pkg.get("type") != "kegiatan":
        raise tk.ObjectNotFound(_("Kegiatan not found"))
    return pkg


@tk.side_effect_free
def umkm_metadata_template(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """An empty import template.

    :param kind: ``variabel`` or ``indikator``
    :param format: ``csv`` or ``xlsx`` (default ``xlsx``)
    :param id: id or name of the kegiatan the template is for (optional)
    :returns: ``{filename, content_type, content}``, content base64-encoded
    """
    tk.check_access("umkm_metadata_template", context, data_dict)
    kind = _kind(data_dict)
    fmt = str(data_dict.get("format") or "xlsx")
    if fmt not in import_templates.CONTENT_TYPES:
        raise tk.ValidationError({"format": [_("Choose one of: {kinds}").format(
            kinds=", ".join(import_templates.CONTENT_TYPES))]})
    kegiatan = _kegiatan(context, data_dict["id"]) if data_dict.get("id") else None
    content = import_templates.build_template(kind, fmt, kegiatan)
    return {"filename": import_templates.template_filename(kind, fmt, kegiatan),
            "content_type": import_templates.CONTENT_TYPES[fmt],
            "content": base64.b64encode(content).decode("ascii")}


def umkm_metadata_import(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Create variabel or indikator records in a kegiatan from a CSV/XLSX file,
    all rows or none.

    :param id: id or name of the kegiatan
    :param kind: ``variabel`` or ``indikator``
    :param upload: the file (multipart form field)
    :returns: ``{created: [{id, name, title}], count}``; a ValidationError
        with ``rows: [{row, column, label, messages}]`` lists every problem
    """
    tk.check_access("umkm_metadata_import", context, data_dict)
    kind = _kind(data_dict)
    upload = data_dict.get("upload")
    if upload is None or isinstance(upload, str):
        raise tk.ValidationError({"upload": [_("Upload a .csv or .xlsx file")]})
    kegiatan = _kegiatan(context, data_dict.get("id"))
    filename = getattr(upload, "filename", None) or str(data_dict.get("filename") or "")
    return bulk_import.import_rows(context, kegiatan["id"], kind, filename, upload)


def _record(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    if not data_dict.get("id"):
        raise tk.ValidationError({"id": [_("Missing value")]})
    return tk.get_action("package_show")(caller.nested_context(context), {"id": data_dict["id"]})


@tk.side_effect_free
def umkm_indah_export(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """A kegiatan, variabel or indikator as an INDAH v2 submission envelope.

    :param id: id or name of the record
    """
    tk.check_access("umkm_indah_export", context, data_dict)
    pkg = _record(context, data_dict)
    if pkg.get("type") not in schema_columns.RECORD_TYPES:
        raise tk.ValidationError({"id": [_("Only kegiatan, variabel and indikator records can be exported")]})
    return indah_export.indah_envelope(pkg, context)


@tk.side_effect_free
def umkm_kegiatan_export(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """A kegiatan with the variables and indicators the user may see, each as
    an INDAH envelope: ``{kegiatan, variabel: [...], indikator: [...]}``.

    :param id: id or name of the kegiatan
    """
    tk.check_access("umkm_kegiatan_export", context, data_dict)
    pkg = _record(context, data_dict)
    if pkg.get("type") != "kegiatan":
        raise tk.ValidationError({"id": [_("Not a kegiatan record")]})
    return indah_export.kegiatan_bundle(pkg, context)


def get_actions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_metadata_template": umkm_metadata_template,
        "umkm_metadata_import": umkm_metadata_import,
        "umkm_indah_export": umkm_indah_export,
        "umkm_kegiatan_export": umkm_kegiatan_export,
    }
