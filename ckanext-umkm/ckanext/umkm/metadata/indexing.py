"""Search index and ``package_show`` additions of the metadata standard.

- Multi-valued answers (links, codes, multi-selects) are indexed into CKAN's
  multi-valued ``vocab_*`` string fields: CKAN's schema.xml (which production
  Solr uses unchanged) has no other multi-valued dynamic field, and its
  catch-all ``*`` is single-valued.
- Region and sector facets are derived from the codes up the hierarchy, so a
  dataset about Kota Bandung counts under Jawa Barat too.
- The national SDI keys are added at show time by ``federation.national_keys``.
"""

from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.metadata.validators import as_list

# Multi-valued fields of the schemas (docs/metadata-standard-design.md).
LINK_FIELDS = ("kegiatan", "variabel", "indikator", "variabel_pembangun",
               "indikator_pembangun", "kegiatan_penghasil")
REGION_FIELDS = ("cakupan_wilayah", "iv_sebagian_cakupan_wilayah")
SECTOR_FIELDS = ("sektor_kbli",)

PROVINCE = "vocab_umkm_provinsi"
REGENCY = "vocab_umkm_kabkota"
KBLI_LEVEL_FIELDS = {
    "kategori": "vocab_umkm_kbli_kategori",
    "golongan_pokok": "vocab_umkm_kbli_golongan_pokok",
    "golongan": "vocab_umkm_kbli_golongan",
    "subgolongan": "vocab_umkm_kbli_subgolongan",
    "kelompok": "vocab_umkm_kbli_kelompok",
}
FACET_SCHEMES = {PROVINCE: "wilayah", REGENCY: "wilayah",
                 **{f: "kbli" for f in KBLI_LEVEL_FIELDS.values()}}

def dataset_facets(facets_dict: dict, package_type: str) -> dict:
    _ = tk._
    if package_type in ("dataset", "kegiatan"):
        facets_dict[PROVINCE] = _("Province")
        facets_dict[REGENCY] = _("Regency/city")
    if package_type == "dataset":
        facets_dict["accessRights"] = _("Access")
        facets_dict[KBLI_LEVEL_FIELDS["kategori"]] = _("KBLI category")
        facets_dict[KBLI_LEVEL_FIELDS["golongan_pokok"]] = _("KBLI division")
        facets_dict[KBLI_LEVEL_FIELDS["golongan"]] = _("KBLI group")
        facets_dict[KBLI_LEVEL_FIELDS["subgolongan"]] = _("KBLI class")
        facets_dict[KBLI_LEVEL_FIELDS["kelompok"]] = _("KBLI subclass")
        facets_dict["jenis_data"] = _("Data type")
    if package_type == "kegiatan":
        facets_dict["sektor_kegiatan"] = _("Activity sector")
        facets_dict["tahun_kegiatan"] = _("Year")
    return facets_dict


def _without_links(text: str) -> str:
    """A stored package JSON without its resources' outside links (CKAN's
    ``data_dict`` also holds the ``validated_data_dict`` text). Uploads keep
    their file name: ``package_show`` reads this copy as its cache, and the
    loader needs it; search results blank it for readers who may not read
    (``actions.access.package_search``)."""
    stored = json.loads(text)
    for res in stored.get("resources", []):
        if res.get("url_type") != "upload":
            res["url"] = ""
    if isinstance(stored.get("validated_data_dict"), str):
        stored["validated_data_dict"] = _without_links(stored["validated_data_dict"])
    return json.dumps(stored)


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    from ckanext.umkm.access import gate as restricted_access
    from ckanext.umkm.federation import national_keys
    from ckanext.umkm.metadata import reference_codes

    # CKAN re-validates the stored copy with the show schema, which drops the
    # computed national keys: search results (what harvesters copy) need them.
    if isinstance(pkg_dict.get("validated_data_dict"), str):
        validated = json.loads(pkg_dict["validated_data_dict"])
        national_keys.add(validated)
        pkg_dict["validated_data_dict"] = json.dumps(validated)
    if restricted_access.is_restricted(pkg_dict):
        # Where a restricted file lives is nobody's search term, and the
        # stored copies (which ``fl`` can return) keep no outside link.
        pkg_dict.pop("res_url", None)
        for key in ("data_dict", "validated_data_dict"):
            if isinstance(pkg_dict.get(key), str):
                pkg_dict[key] = _without_links(pkg_dict[key])

    for key, value in list(pkg_dict.items()):
        if key in _CKAN_LIST_FIELDS or key.startswith(("res_", "vocab_", "extras_")):
            continue
        # Unvalidated dicts (search-index rebuild) hold the stored JSON text.
        if isinstance(value, str) and value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            pkg_dict[f"vocab_{key}"] = [str(v) for v in value]
            pkg_dict[key] = json.dumps(value)
    for key in LINK_FIELDS:
        value = pkg_dict.get(key)
        if isinstance(value, str) and value and not value.startswith("["):
            pkg_dict[f"vocab_{key}"] = [value]

    regions = [c for key in REGION_FIELDS for c in _decoded(pkg_dict.get(key))]
    if regions:
        pkg_dict[PROVINCE] = sorted({c[:2] for c in regions})
        regencies = sorted({c[:5] for c in regions if len(c) >= 5})
        if regencies:
            pkg_dict[REGENCY] = regencies
    sectors = [c for key in SECTOR_FIELDS for c in _decoded(pkg_dict.get(key))]
    if sectors:
        by_level: dict[str, set[str]] = {}
        for code in sectors:
            for ancestor in reference_codes.ancestors("kbli", code):
                by_level.setdefault(ancestor.level, set()).add(ancestor.code)
        for level, codes in by_level.items():
            pkg_dict[KBLI_LEVEL_FIELDS[level]] = sorted(codes)
    return pkg_dict


# Top-level list fields that CKAN's schema.xml declares multi-valued itself.
_CKAN_LIST_FIELDS = {"tags", "groups", "organization", "res_name", "res_description",
                     "res_format", "res_url", "res_type", "permission_labels"}


def _decoded(value: Any) -> list[str]:
    return as_list(value)


def name_facet_items(search_results: dict) -> dict:
    """Facet items of code fields show names, not bare codes."""
    from ckanext.umkm.metadata import reference_codes

    facets = search_results.get("search_facets") or {}
    for field, scheme in FACET_SCHEMES.items():
        items = (facets.get(field) or {}).get("items") or []
        if not items:
            continue
        names = reference_codes.get_many(scheme, [i["name"] for i in items])
        for item in items:
            code = names.get(item["name"])
            if code is not None:
                item["display_name"] = code.name if scheme == "wilayah" else f"{code.code} {code.name}"
    for field in ("accessRights", "jenis_data", "sektor_kegiatan"):
        items = (facets.get(field) or {}).get("items") or []
        for item in items:
            item["display_name"] = choice_label(field, item["name"])
    return search_results


def choice_label(field_name: str, value: str) -> str:
    """The label of an enum value in the current language, from the schemas."""
    from ckanext.scheming.helpers import scheming_choices_label, scheming_get_dataset_schema

    for dataset_type in ("dataset", "kegiatan", "variabel", "indikator"):
        schema = scheming_get_dataset_schema(dataset_type) or {}
        for field in schema.get("dataset_fields", []):
            if field["field_name"] == field_name and field.get("choices"):
                return scheming_choices_label(field["choices"], value)
    return value
