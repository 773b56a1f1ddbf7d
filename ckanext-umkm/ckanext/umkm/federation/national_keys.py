"""The national SDI keys (docs: README "Federation", standard §6) at the top
level of every record, as ``package_show`` and ``package_search`` return it.

The national portal harvests with ckanext-harvest's stock CKAN harvester,
which reads ``package_search`` results and keeps only the keys its own
schema declares. The keys that derive from other records are computed when
the record is shown, so they never go stale, and stored with it in the index
(``validated_data_dict``) so that ``package_search`` carries them too:

- the producer (``produsen_data_*``, ``publisher_type``) from the agency;
- the kegiatan's MS-Keg, flattened (``id_kegiatan``, ``i_…`` to ``viii_…``),
  and the first indikator's MS-Ind fields, as SDI stores them in a dataset;
- counts, links and review status the national schema asks for.

Only a released (public) kegiatan or indikator is flattened into a dataset:
a released dataset must not publish a linked record that is not.
"""

from __future__ import annotations

from typing import Any

import ckan.model as model

from ckanext.umkm.federation import uris
from ckanext.umkm.metadata.validators import as_list

PUBLISHER_TYPES = {
    "KEMENTERIAN_LEMBAGA": "pusat",
    "UNIT_ESELON_I": "pusat",
    "PEMERINTAH_PROVINSI": "daerah-provinsi",
}
# Keys of a kegiatan that SDI keeps in a dataset, besides the Blok I-VIII ones.
KEGIATAN_KEYS = ("id_kegiatan", "tahun_kegiatan", "jenis_statistik", "cara_pengumpulan_data",
                 "sektor_kegiatan", "identitas_rekomendasi")
BLOCK_PREFIXES = ("i_", "ii_", "iii_", "iv_", "v_", "vi_", "vii_", "viii_")
# MS-Ind keys that SDI keeps in a dataset (from the dataset's first indikator).
INDIKATOR_KEYS = ("konsep", "interpretasi", "metode_perhitungan", "rumus", "satuan", "ukuran",
                  "level_estimasi")
# Satu Data Indonesia's kinds of data (Perpres 39/2019 Pasal 2): ours are statistics.
JENIS = "statistik"


def add(pkg_dict: dict[str, Any]) -> None:
    """Add the national keys of ``pkg_dict``'s type to it, in place."""
    kind = pkg_dict.get("type")
    if kind == "kegiatan":
        pkg_dict["judul_kegiatan"] = pkg_dict.get("title")
        return
    if kind != "dataset":
        return
    org = model.Group.get(pkg_dict["owner_org"]) if pkg_dict.get("owner_org") else None
    if org is not None:
        region = org.extras.get("kode_wilayah") or ""
        pkg_dict["produsen_data_name"] = org.title
        pkg_dict["produsen_data_province_code"] = region[:2] or None
        pkg_dict["produsen_data_city_code"] = region[:5].replace(".", "") if len(region) >= 5 else None
        if not pkg_dict.get("publisher_type"):
            pkg_dict["publisher_type"] = publisher_type(org.extras.get("jenis_instansi"), region)
    kegiatan = _records(pkg_dict.get("kegiatan"))
    indikator = _records(pkg_dict.get("indikator"))
    pkg_dict["id_mskeg"] = ",".join(p.extras.get("id_kegiatan") or p.id for p in kegiatan) or None
    pkg_dict["id_msind"] = ",".join(p.id for p in indikator) or None
    pkg_dict["total_msvar"] = len(_records(pkg_dict.get("variabel")))
    pkg_dict["total_msind"] = len(indikator)
    pkg_dict["jenis"] = JENIS
    released = not pkg_dict.get("private") and pkg_dict.get("state", "active") == "active"
    pkg_dict["publishing_status"] = "published" if released else "draft"
    pkg_dict["status_review_pembina"] = "approved" if released else "onprogress"
    for key in ("id_dds", "kriteria_prioritas", "indikator_prioritas", "prioritas_tahun", "id_indikator_mms"):
        pkg_dict.setdefault(key, None)

    first_kegiatan = next((p for p in kegiatan if _public(p)), None)
    flat = _kegiatan_keys(first_kegiatan)
    for key, value in flat.items():
        pkg_dict.setdefault(key, value)
    pkg_dict["judul_kegiatan"] = first_kegiatan.title if first_kegiatan else None
    pkg_dict["kodereferensi"] = (f"{uris.site_url()}/kegiatan/{first_kegiatan.name}"
                                 if first_kegiatan else None)
    pkg_dict["submission_period"] = (flat.get("tahun_kegiatan")
                                     or (pkg_dict.get("temporal_start") or "")[:4] or None)
    first_indikator = next((p for p in indikator if _public(p)), None)
    for key in INDIKATOR_KEYS:
        pkg_dict.setdefault(key, first_indikator.extras.get(key) if first_indikator else None)


def kegiatan_field_names() -> list[str]:
    """Every MS-Keg key a dataset carries, in the kegiatan schema's order."""
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema("kegiatan") or {}
    return [f["field_name"] for f in schema.get("dataset_fields", [])
            if f["field_name"] in KEGIATAN_KEYS or f["field_name"].startswith(BLOCK_PREFIXES)]


def _kegiatan_keys(pkg: model.Package | None) -> dict[str, Any]:
    return {key: (pkg.extras.get(key) if pkg is not None else None) for key in kegiatan_field_names()}


def _records(value: Any) -> list[model.Package]:
    found = (model.Package.get(ref) for ref in as_list(value))
    return [p for p in found if p is not None and p.state == "active"]


def _public(pkg: model.Package) -> bool:
    return not pkg.private and pkg.state == "active"


def publisher_type(agency_type: str | None, region: str) -> str | None:
    if agency_type in PUBLISHER_TYPES:
        return PUBLISHER_TYPES[agency_type]
    if agency_type in ("PEMERINTAH_KABUPATEN_KOTA", "PEMERINTAH_DESA") and len(region) >= 5:
        from ckanext.umkm.metadata import reference_codes

        regency = reference_codes.get("wilayah", region[:5])
        if regency is not None:
            return "daerah-kota" if regency.name.startswith("Kota") else "daerah-kabupaten"
    return None
