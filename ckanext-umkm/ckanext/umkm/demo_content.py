"""Demo content for a new portal: a few agencies and public aggregate datasets.

The figures in the demo CSV files are synthetic ("data contoh"); region codes and
names come from the Kemendagri 2025 list (ODbL, attribution in the notes).
Loading is idempotent: records that exist are left untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import ckan.plugins.toolkit as tk
from werkzeug.datastructures import FileStorage

DEMO_DIR = os.path.join(os.path.dirname(__file__), "demo")

REGION_ATTRIBUTION = (
    "Kode dan nama wilayah: Kepmendagri 300.2.2-2138/2025, melalui idn-area-data "
    "(Open Database License 1.0)."
)
DEMO_NOTE = "Angka pada dataset ini adalah **data contoh** untuk demonstrasi portal."

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "name": "walidata-umkm",
        "title": "Walidata UMKM - Kementerian UMKM",
        "description": "Unit yang merencanakan, memeriksa, mengelola dan menyebarluaskan data UMKM (Pasal 5).",
    },
    {
        "name": "deputi-usaha-mikro",
        "title": "Deputi Bidang Usaha Mikro - Kementerian UMKM",
        "description": "Produsen Data UMKM tingkat pusat untuk usaha mikro.",
    },
    {
        "name": "dinas-kukm-jawa-barat",
        "title": "Dinas Koperasi dan Usaha Kecil Provinsi Jawa Barat",
        "description": "Produsen Data UMKM tingkat provinsi (kode wilayah 32).",
    },
    {
        "name": "dinas-ppkukm-dki-jakarta",
        "title": "Dinas PPKUKM Provinsi DKI Jakarta",
        "description": "Dinas Perindustrian, Perdagangan, Koperasi, Usaha Kecil dan Menengah Provinsi DKI Jakarta (kode wilayah 31).",
    },
]

DATASETS: list[dict[str, Any]] = [
    {
        "name": "jumlah-umkm-menurut-provinsi-2023",
        "title": "Jumlah UMKM menurut Provinsi dan Skala Usaha, 2023",
        "owner_org": "deputi-usaha-mikro",
        "notes": "Jumlah usaha mikro, kecil dan menengah di 38 provinsi menurut skala usaha, tahun 2023.",
        "tags": ["umkm", "provinsi", "skala usaha", "usaha mikro"],
        "resource": ("jumlah-umkm-provinsi-2023.csv", "Jumlah UMKM per provinsi 2023"),
    },
    {
        "name": "jumlah-umkm-jawa-barat-menurut-kabupaten-kota-2023",
        "title": "Jumlah UMKM Provinsi Jawa Barat menurut Kabupaten/Kota, 2023",
        "owner_org": "dinas-kukm-jawa-barat",
        "notes": "Jumlah usaha mikro, kecil dan menengah di 27 kabupaten/kota Provinsi Jawa Barat, tahun 2023.",
        "tags": ["umkm", "jawa barat", "kabupaten-kota"],
        "resource": ("jumlah-umkm-jawa-barat-kabupaten-kota-2023.csv", "Jumlah UMKM per kabupaten/kota 2023"),
    },
    {
        "name": "umkm-dki-jakarta-menurut-kategori-kbli-2023",
        "title": "UMKM dan Tenaga Kerja DKI Jakarta menurut Kategori KBLI, 2023",
        "owner_org": "dinas-ppkukm-dki-jakarta",
        "notes": "Jumlah UMKM dan tenaga kerjanya di Provinsi DKI Jakarta menurut kategori KBLI 2020, tahun 2023.",
        "tags": ["umkm", "dki jakarta", "kbli", "tenaga kerja"],
        "resource": ("umkm-dki-jakarta-kategori-kbli-2023.csv", "UMKM menurut kategori KBLI 2023"),
    },
]


def _exists(action: str, name: str) -> bool:
    try:
        tk.get_action(action)({"ignore_auth": True}, {"id": name})
    except tk.ObjectNotFound:
        return False
    return True


def load(admin: str) -> Iterator[str]:
    """Create whatever demo record is missing; yield a line per record."""
    context = {"user": admin, "ignore_auth": False}
    for org in ORGANIZATIONS:
        if _exists("organization_show", org["name"]):
            yield f"organization {org['name']}: exists"
            continue
        tk.get_action("organization_create")(dict(context), dict(org))
        yield f"organization {org['name']}: created"

    for spec in DATASETS:
        if _exists("package_show", spec["name"]):
            yield f"dataset {spec['name']}: exists"
            continue
        filename, res_name = spec["resource"]
        data = {k: v for k, v in spec.items() if k not in ("resource", "tags")}
        data.update(
            notes=f"{spec['notes']}\n\n{DEMO_NOTE}\n\n{REGION_ATTRIBUTION}",
            tags=[{"name": t} for t in spec["tags"]],
            license_id="cc-by",
            private=False,
        )
        pkg = tk.get_action("package_create")(dict(context), data)
        with open(os.path.join(DEMO_DIR, filename), "rb") as stream:
            # A real file upload, so that the background worker loads it into
            # the DataStore exactly as it would a producer's upload.
            tk.get_action("resource_create")(
                dict(context),
                {
                    "package_id": pkg["id"],
                    "name": res_name,
                    "format": "CSV",
                    "url": filename,
                    "upload": FileStorage(stream=stream, filename=filename, content_type="text/csv"),
                },
            )
        yield f"dataset {spec['name']}: created"
