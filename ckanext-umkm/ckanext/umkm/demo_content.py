"""Demo content for a new portal: agencies, a kegiatan with its variables and
indicators, and aggregate datasets linked to them, each taken through the
release workflow by demo users of the three roles.

The figures in the demo CSV files are synthetic ("data contoh"); region codes and
names come from the Kemendagri 2025 list (ODbL, attribution in the notes).
Loading is idempotent: records that exist are left untouched.
"""

from __future__ import annotations

import datetime
import os
import secrets
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
        "name": "forum-satu-data-umkm",
        "title": "Forum Satu Data UMKM",
        "description": "Forum yang memutuskan data UMKM yang dapat disebarluaskan (Pasal 4 ayat (1) huruf f).",
        "jenis_instansi": "KEMENTERIAN_LEMBAGA",
    },
    {
        "name": "walidata-umkm",
        "title": "Walidata UMKM - Kementerian UMKM",
        "description": "Unit yang merencanakan, memeriksa, mengelola dan menyebarluaskan data UMKM (Pasal 5).",
        "jenis_instansi": "KEMENTERIAN_LEMBAGA",
    },
    {
        "name": "deputi-usaha-mikro",
        "title": "Deputi Bidang Usaha Mikro - Kementerian UMKM",
        "description": "Produsen Data UMKM tingkat pusat untuk usaha mikro.",
        "jenis_instansi": "UNIT_ESELON_I",
    },
    {
        "name": "dinas-kukm-jawa-barat",
        "title": "Dinas Koperasi dan Usaha Kecil Provinsi Jawa Barat",
        "description": "Produsen Data UMKM tingkat provinsi (kode wilayah 32).",
        "jenis_instansi": "PEMERINTAH_PROVINSI",
        "kode_wilayah": "32",
    },
    {
        "name": "dinas-ppkukm-dki-jakarta",
        "title": "Dinas PPKUKM Provinsi DKI Jakarta",
        "description": "Dinas Perindustrian, Perdagangan, Koperasi, Usaha Kecil dan Menengah Provinsi DKI Jakarta (kode wilayah 31).",
        "jenis_instansi": "PEMERINTAH_PROVINSI",
        "kode_wilayah": "31",
    },
    {
        "name": "diskumkm-kota-bandung",
        "title": "Dinas Koperasi dan UMKM Kota Bandung",
        "description": "Produsen Data UMKM tingkat kabupaten/kota (kode wilayah 32.73).",
        "jenis_instansi": "PEMERINTAH_KABUPATEN_KOTA",
        "kode_wilayah": "32.73",
    },
]


KEGIATAN = "pendataan-umkm-2023"

def _variable(name: str, title: str, alias: str, notes: str, extra: dict[str, Any]) -> dict[str, Any]:
    """A column of the demo tables as an MS-Var record."""
    return {"type": "variabel", "name": name, "title": title, "alias": alias, "konsep": title,
            "notes": notes, "referensi_waktu": "Tahun 2023", "tipe_data": "CHARACTER",
            "apakah_variabel_bisa_diakses_umum": True, **extra}


# One realistic statistical activity with its metadata (MS-Keg), variables
# (MS-Var) and indicators (MS-Ind); the aggregate datasets below link to them.
METADATA: list[dict[str, Any]] = [
    {
        "type": "kegiatan",
        "name": KEGIATAN,
        "title": "Pendataan Usaha Mikro, Kecil, dan Menengah 2023",
        "owner_org": "deputi-usaha-mikro",
        "notes": "Kompilasi data UMKM dari Produsen Data UMKM pusat dan daerah untuk Basis Data Tunggal UMKM.",
        "tahun_kegiatan": 2023,
        "jenis_statistik": "STATISTIK_SEKTORAL",
        "cara_pengumpulan_data": "KOMPILASI_PRODUK_ADMINISTRASI",
        "sektor_kegiatan": "INDUSTRI_DAN_JASA",
        "i_instansi_penyelanggara": "Kementerian Usaha Mikro, Kecil, dan Menengah",
        "i_alamat": "Jl. H.R. Rasuna Said Kav. 3-4, Kuningan, Jakarta Selatan 12940",
        "i_email": "satudata-umkm@example.go.id",
        "ii_unit_eselon1": "Deputi Bidang Usaha Mikro",
        "ii_unit_eselon2": "Asisten Deputi Pendataan dan Informasi",
        "ii_pj_nama": "Kepala Bidang Pengelolaan Data (contoh)",
        "ii_pj_jabatan": "Kepala Bidang",
        "ii_pj_email": "satudata-umkm@example.go.id",
        "iii_latar_belakang_kegiatan": (
            "Permen UMKM 8/2025 mewajibkan data UMKM yang akurat, mutakhir, terpadu dan dapat "
            "dipertanggungjawabkan sebagai dasar perencanaan dan evaluasi program pemberdayaan UMKM."),
        "iii_tujuan_kegiatan": "Menyediakan jumlah UMKM menurut wilayah, skala usaha dan sektor (KBLI 2020).",
        "iii_rencana_jadwal_kegiatan": [
            {"tahap": "PERENCANAAN_KEGIATAN", "awal": "2023-01-02", "akhir": "2023-01-31"},
            {"tahap": "DESAIN", "awal": "2023-02-01", "akhir": "2023-02-28"},
            {"tahap": "PENGUMPULAN_DATA", "awal": "2023-03-01", "akhir": "2023-09-29"},
            {"tahap": "PENGOLAHAN_DATA", "awal": "2023-10-02", "akhir": "2023-11-30"},
            {"tahap": "ANALISIS", "awal": "2023-12-01", "akhir": "2024-01-31"},
            {"tahap": "DISEMINASI_HASIL", "awal": "2024-02-01", "akhir": "2024-06-28"},
            {"tahap": "EVALUASI", "awal": "2024-07-01", "akhir": "2024-07-31"},
        ],
        "iii_variabel_yang_dikumpulkan": [
            {"nama": "Kode wilayah", "konsep": "Wilayah administrasi", "definisi": "Kode Kemendagri lokasi usaha",
             "referensi_waktu": "Tahun 2023"},
            {"nama": "Skala usaha", "konsep": "Kriteria UMKM", "definisi": "Mikro, kecil atau menengah (PP 7/2021)",
             "referensi_waktu": "Tahun 2023"},
        ],
        "iv_kegiatan_ini_dilakukan": "BERULANG",
        "iv_frekuensi_penyelanggara": "TAHUNAN",
        "iv_tipe_pengumpulan_data": "LONGITUDINAL_CROSS_SECTIONAL",
        "iv_cakupan_wilayah_pengumpulan_data": "SELURUH_WILAYAH_INDONESIA",
        "iv_metode_pengumpulan_data": ["PENGUMPULAN_DATA_SEKUNDER"],
        "iv_sarana_pengumpulan_data": ["CAWI"],
        "iv_unit_pengumpulan_data": ["USAHA_ATAU_PERUSAHAAN"],
        "vi_apakah_melakukan_uji_coba": False,
        "vi_metode_pemeriksaan_kualitas_pengumpulan_data": ["SUPERVISI"],
        "vi_apakah_melakukan_penyesuaian_nonrespon": False,
        "vii_tahapan_pengolahan_data": ["EDITING", "CODING", "DATA_ENTRY", "VALIDASI"],
        "vii_metode_analisis": "DESKRIPTIF",
        "vii_unit_analisis": ["USAHA_ATAU_PERUSAHAAN"],
        "vii_tingkat_penyajian_hasil_analisis": ["NASIONAL", "PROVINSI", "KABUPATEN_ATAU_KOTA"],
        "viii_ketersediaan_produk_tercetak": False,
        "viii_ketersediaan_produk_digital": True,
        "viii_ketersediaan_produk_mikrodata": False,
        "viii_rencana_jadwal_rilis_produk_digital": "2024-06-28",
    },
    {
        "type": "variabel", "name": "var-kode-wilayah", "title": "Kode Kabupaten/Kota",
        "alias": "kode_kabupaten_kota", "konsep": "Wilayah administrasi pemerintahan",
        "notes": "Kode kabupaten/kota (Kepmendagri 300.2.2-2138/2025) tempat usaha berlokasi.",
        "referensi_waktu": "Tahun 2023", "tipe_data": "CHARACTER",
        "value_domain_reference": "wilayah", "value_domain_reference_level": "kabupaten_kota",
        "apakah_variabel_bisa_diakses_umum": True,
    },
    {
        "type": "variabel", "name": "var-kategori-kbli", "title": "Kategori KBLI",
        "alias": "kategori_kbli", "konsep": "Lapangan usaha",
        "notes": "Kategori lapangan usaha utama menurut KBLI 2020 (Peraturan BPS 2/2020).",
        "referensi_waktu": "Tahun 2023", "tipe_data": "CHARACTER",
        "value_domain_reference": "kbli", "value_domain_reference_level": "kategori",
        "apakah_variabel_bisa_diakses_umum": True,
    },
    {
        "type": "variabel", "name": "var-skala-usaha", "title": "Skala Usaha",
        "alias": "skala_usaha", "konsep": "Kriteria usaha mikro, kecil dan menengah",
        "notes": ("Skala usaha menurut modal usaha di luar tanah dan bangunan (PP 7/2021): mikro sampai "
                  "Rp1 miliar, kecil lebih dari Rp1 miliar sampai Rp5 miliar, menengah lebih dari Rp5 miliar "
                  "sampai Rp10 miliar."),
        "referensi_waktu": "Tahun 2023", "tipe_data": "CHARACTER",
        "value_domain": [{"kode": "1", "nilai": "Usaha mikro"}, {"kode": "2", "nilai": "Usaha kecil"},
                         {"kode": "3", "nilai": "Usaha menengah"}],
        "aturan_validasi": "HARUS TERISI",
        "kalimat_pertanyaan": "Termasuk skala usaha apakah usaha ini?",
        "apakah_variabel_bisa_diakses_umum": True,
    },
    {
        "type": "variabel", "name": "var-jumlah-tenaga-kerja", "title": "Jumlah Tenaga Kerja",
        "alias": "tenaga_kerja", "konsep": "Tenaga kerja usaha",
        "notes": "Banyaknya orang yang bekerja pada usaha, termasuk pemilik dan pekerja tidak dibayar.",
        "referensi_waktu": "Keadaan akhir tahun 2023", "tipe_data": "INTEGER",
        "ukuran": "Jumlah", "satuan": "Orang",
        "value_domain": [{"kode": ">=1", "nilai": "Bilangan bulat positif"}],
        "aturan_validasi": "HARUS TERISI\nLEBIH DARI 0",
        "apakah_variabel_bisa_diakses_umum": True,
    },
    *[_variable(*spec) for spec in (
        ("var-kode-provinsi", "Kode Provinsi", "kode_provinsi", "Kode provinsi (Kepmendagri 300.2.2-2138/2025).",
         {"value_domain_reference": "wilayah", "value_domain_reference_level": "provinsi",
          "aturan_validasi": "HARUS TERISI"}),
        ("var-nama-provinsi", "Nama Provinsi", "nama_provinsi", "Nama provinsi menurut Kepmendagri.",
         {"value_domain": [{"kode": "-", "nilai": "Nama provinsi menurut Kepmendagri 300.2.2-2138/2025"}]}),
        ("var-nama-kabupaten-kota", "Nama Kabupaten/Kota", "nama_kabupaten_kota",
         "Nama kabupaten/kota menurut Kepmendagri.",
         {"value_domain": [{"kode": "-", "nilai": "Nama kabupaten/kota menurut Kepmendagri 300.2.2-2138/2025"}]}),
        ("var-nama-kategori-kbli", "Nama Kategori KBLI", "nama_kategori_kbli", "Judul kategori KBLI 2020.",
         {"value_domain": [{"kode": "-", "nilai": "Judul kategori menurut KBLI 2020"}]}),
        ("var-tahun", "Tahun", "tahun", "Tahun periode referensi data.",
         {"tipe_data": "INTEGER", "ukuran": "Tahun", "satuan": "Tahun",
          "value_domain": [{"kode": "-", "nilai": "Tahun empat angka"}], "aturan_validasi": "HARUS TERISI"}),
        *[(f"var-usaha-{scale}", f"Jumlah Usaha {scale.title()}", f"usaha_{scale}",
           f"Banyaknya usaha {scale} yang aktif pada akhir tahun.",
           {"tipe_data": "INTEGER", "ukuran": "Jumlah", "satuan": "Unit usaha",
            "value_domain": [{"kode": "-", "nilai": "Bilangan bulat 0 atau lebih"}]})
          for scale in ("mikro", "kecil", "menengah")],
        ("var-jumlah-umkm", "Jumlah UMKM", "jumlah_umkm",
         "Banyaknya usaha mikro, kecil dan menengah yang aktif pada akhir tahun.",
         {"tipe_data": "INTEGER", "ukuran": "Jumlah", "satuan": "Unit usaha",
          "value_domain": [{"kode": "-", "nilai": "Bilangan bulat 0 atau lebih"}],
          "aturan_validasi": "HARUS TERISI"}),
    )],
    {
        "type": "indikator", "name": "ind-jumlah-umkm", "title": "Jumlah UMKM",
        "konsep": "Usaha mikro, kecil dan menengah yang aktif",
        "notes": "Banyaknya usaha mikro, kecil dan menengah yang tercatat aktif pada periode referensi.",
        "interpretasi": "Makin besar nilainya, makin banyak UMKM di wilayah tersebut.",
        "metode_perhitungan": "Jumlah unit usaha menurut skala usaha.",
        "ukuran": "Jumlah", "satuan": "Unit usaha",
        "variabel_disaggregasi": [{"nama": "Wilayah", "sumber": "input-manual"},
                                  {"nama": "Skala usaha", "sumber": "input-manual"}],
        "apakah_indikator_komposit": False,
        "variabel_pembangun": ["var-skala-usaha", "var-kode-wilayah"],
        "level_estimasi": ["NASIONAL", "PROVINSI", "KABUPATEN_KOTA"],
        "apakah_indikator_bisa_diakses_umum": True,
    },
    {
        "type": "indikator", "name": "ind-persentase-usaha-mikro", "title": "Persentase Usaha Mikro",
        "konsep": "Struktur UMKM menurut skala usaha",
        "notes": "Persentase usaha mikro terhadap seluruh UMKM.",
        "interpretasi": "Nilai yang tinggi menunjukkan UMKM didominasi usaha mikro.",
        "metode_perhitungan": "Jumlah usaha mikro dibagi jumlah UMKM, dikali 100.",
        "rumus": r"\frac{UMi}{UMKM} \times 100",
        "ukuran": "Persentase", "satuan": "Persen",
        "variabel_disaggregasi": [{"nama": "Wilayah", "sumber": "input-manual"}],
        "apakah_indikator_komposit": False,
        "variabel_pembangun": ["var-skala-usaha"],
        "level_estimasi": ["NASIONAL", "PROVINSI"],
        "apakah_indikator_bisa_diakses_umum": True,
    },
    {
        "type": "indikator", "name": "ind-rata-rata-tenaga-kerja-umkm", "title": "Rata-rata Tenaga Kerja per UMKM",
        "konsep": "Penyerapan tenaga kerja UMKM",
        "notes": "Rata-rata banyaknya tenaga kerja per unit UMKM.",
        "interpretasi": "Makin tinggi nilainya, makin besar rata-rata penyerapan tenaga kerja per usaha.",
        "metode_perhitungan": "Jumlah tenaga kerja UMKM dibagi jumlah UMKM.",
        "ukuran": "Rasio", "satuan": "Orang per unit usaha",
        "variabel_disaggregasi": [{"nama": "Kategori KBLI", "sumber": "input-manual"}],
        "apakah_indikator_komposit": False,
        "variabel_pembangun": ["var-jumlah-tenaga-kerja", "var-kategori-kbli"],
        "level_estimasi": ["PROVINSI"],
        "apakah_indikator_bisa_diakses_umum": True,
    },
]

# The unit-level (by-name-by-address) table's columns: identity variables
# that make it restricted (Pasal 27(6)).
METADATA += [
    _variable("var-kode-desa", "Kode Desa/Kelurahan", "kode_desa",
              "Kode desa/kelurahan (Kepmendagri 300.2.2-2138/2025) tempat usaha berlokasi.",
              {"value_domain_reference": "wilayah", "value_domain_reference_level": "desa_kelurahan",
               "aturan_validasi": "HARUS TERISI"}),
    _variable("var-kbli-kelompok", "Kelompok KBLI", "kbli",
              "Kelompok lapangan usaha utama (KBLI 2020, 5 digit).",
              {"value_domain_reference": "kbli", "value_domain_reference_level": "kelompok"}),
    _variable("var-nama-usaha", "Nama Usaha", "nama_usaha", "Nama usaha sebagaimana terdaftar.",
              {"value_domain": [{"kode": "-", "nilai": "Teks bebas"}], "apakah_variabel_bisa_diakses_umum": False}),
    _variable("var-nama-pemilik", "Nama Pemilik", "nama_pemilik", "Nama pemilik usaha (data pribadi).",
              {"value_domain": [{"kode": "-", "nilai": "Teks bebas"}], "apakah_variabel_bisa_diakses_umum": False}),
    _variable("var-nik", "NIK Pemilik", "nik", "Nomor Induk Kependudukan pemilik usaha (data pribadi).",
              {"value_domain": [{"kode": "-", "nilai": "16 angka"}], "apakah_variabel_bisa_diakses_umum": False}),
]

COMMON = {
    "accessRights": "terbuka",
    "accrualPeriodicity": "TAHUNAN",
    "data_prioritas": True,
    "prioritas_tahun": 2024,
    "jenis_data": "DATA_TRANSAKSI",
    "bentuk_data": "AGREGAT",
    "temporal_start": "2023-01-01",
    "temporal_end": "2023-12-31",
    "kegiatan": [KEGIATAN],
    "maintainer": "Walidata UMKM - Kementerian UMKM",
}

COUNTS = ["var-usaha-mikro", "var-usaha-kecil", "var-usaha-menengah", "var-jumlah-umkm"]

DATASETS: list[dict[str, Any]] = [
    {
        "name": "jumlah-umkm-menurut-provinsi-2023",
        "title": "Jumlah UMKM menurut Provinsi dan Skala Usaha, 2023",
        "owner_org": "deputi-usaha-mikro",
        "notes": "Jumlah usaha mikro, kecil dan menengah di 38 provinsi menurut skala usaha, tahun 2023.",
        "tags": ["umkm", "provinsi", "skala usaha", "usaha mikro"],
        "tingkat_penyajian": ["NASIONAL", "PROVINSI"],
        "variabel": ["var-kode-provinsi", "var-nama-provinsi", "var-tahun", *COUNTS],
        "analisis": ("Usaha mikro mencakup lebih dari 98% UMKM di setiap provinsi; jumlah terbesar ada di "
                     "provinsi-provinsi Pulau Jawa."),
        "indikator": ["ind-jumlah-umkm", "ind-persentase-usaha-mikro"],
        "resource": ("jumlah-umkm-provinsi-2023.csv", "Jumlah UMKM per provinsi 2023"),
    },
    {
        "name": "jumlah-umkm-jawa-barat-menurut-kabupaten-kota-2023",
        "title": "Jumlah UMKM Provinsi Jawa Barat menurut Kabupaten/Kota, 2023",
        "owner_org": "dinas-kukm-jawa-barat",
        "notes": "Jumlah usaha mikro, kecil dan menengah di 27 kabupaten/kota Provinsi Jawa Barat, tahun 2023.",
        "tags": ["umkm", "jawa barat", "kabupaten-kota"],
        "tingkat_penyajian": ["PROVINSI", "KABUPATEN_KOTA"],
        "cakupan_wilayah": ["32"],
        "variabel": ["var-kode-wilayah", "var-nama-kabupaten-kota", "var-tahun", *COUNTS],
        "analisis": "Kabupaten Bogor memiliki UMKM terbanyak di Jawa Barat, disusul Kabupaten Bandung.",
        "indikator": ["ind-jumlah-umkm"],
        "resource": ("jumlah-umkm-jawa-barat-kabupaten-kota-2023.csv", "Jumlah UMKM per kabupaten/kota 2023"),
    },
    {
        "name": "umkm-dki-jakarta-menurut-kategori-kbli-2023",
        "title": "UMKM dan Tenaga Kerja DKI Jakarta menurut Kategori KBLI, 2023",
        "owner_org": "dinas-ppkukm-dki-jakarta",
        "notes": "Jumlah UMKM dan tenaga kerjanya di Provinsi DKI Jakarta menurut kategori KBLI 2020, tahun 2023.",
        "tags": ["umkm", "dki jakarta", "kbli", "tenaga kerja"],
        "tingkat_penyajian": ["PROVINSI"],
        "cakupan_wilayah": ["31"],
        "sektor_kbli": ["A", "C", "F", "G", "H", "I", "J", "S"],
        "variabel": ["var-kode-provinsi", "var-tahun", "var-kategori-kbli", "var-nama-kategori-kbli",
                     "var-jumlah-umkm", "var-jumlah-tenaga-kerja"],
        "analisis": "Perdagangan (kategori G) menyerap tenaga kerja UMKM terbanyak di DKI Jakarta.",
        "indikator": ["ind-jumlah-umkm", "ind-rata-rata-tenaga-kerja-umkm"],
        "resource": ("umkm-dki-jakarta-kategori-kbli-2023.csv", "UMKM menurut kategori KBLI 2023"),
    },
]


# Restricted: the metadata is public once released; the rows reach an agency
# only within its scope, after the confidentiality statement and a grant.
DATASETS.append({
    "name": "data-umkm-by-name-by-address-contoh-2023",
    "title": "Data UMKM By Name By Address (contoh fiktif), 2023",
    "owner_org": "deputi-usaha-mikro",
    "notes": ("Data tingkat unit usaha dengan identitas pemilik (by name by address). Seluruh nama dan NIK "
              "dalam contoh ini fiktif."),
    "tags": ["umkm", "bnba", "data terbatas"],
    "accessRights": "terbatas",
    "bentuk_data": "BNBA",
    "data_prioritas": False,
    "tingkat_penyajian": ["DESA_KELURAHAN"],
    "variabel": ["var-kode-desa", "var-kbli-kelompok", "var-nama-usaha", "var-nama-pemilik", "var-nik"],
    "analisis": "Tabel unit usaha untuk pembinaan UMKM oleh instansi daerah sesuai kewenangannya.",
    "resource": ("bnba-umkm-contoh-2023.csv", "Data unit usaha UMKM (contoh fiktif)"),
})

# One user per workflow role; the producer edits for every producing agency.
PRODUCER_ORGS = ("deputi-usaha-mikro", "dinas-kukm-jawa-barat", "dinas-ppkukm-dki-jakarta",
                 "diskumkm-kota-bandung")
USERS: list[dict[str, Any]] = [
    {"name": "produsen-demo", "fullname": "Produsen Data (demo)",
     "memberships": [(org, "editor") for org in PRODUCER_ORGS]},
    {"name": "walidata-demo", "fullname": "Pemeriksa Walidata (demo)",
     "memberships": [("walidata-umkm", "member")]},
    {"name": "forum-demo", "fullname": "Kurator Forum Satu Data (demo)",
     "memberships": [("forum-satu-data-umkm", "member")]},
    # An agency user who has not signed the confidentiality statement yet.
    {"name": "instansi-demo", "fullname": "Analis Data Kota Bandung (demo)",
     "memberships": [("diskumkm-kota-bandung", "member")]},
]
# Each record goes through the release workflow as it would for real.
RELEASE_STEPS = (("submit", "produsen-demo"), ("pass", "walidata-demo"), ("approve", "forum-demo"))


def _users(admin: str) -> Iterator[str]:
    context = {"user": admin, "ignore_auth": False}
    for spec in USERS:
        if _exists("user_show", spec["name"]):
            yield f"user {spec['name']}: exists"
            continue
        password = secrets.token_urlsafe(12)
        tk.get_action("user_create")(dict(context), {
            "name": spec["name"], "fullname": spec["fullname"], "password": password,
            "email": f"{spec['name']}@localhost"})
        for org, role in spec["memberships"]:
            tk.get_action("organization_member_create")(
                dict(context), {"id": org, "username": spec["name"], "role": role})
        yield f"user {spec['name']}: created, password {password}"


def _release(name: str) -> str:
    pkg = tk.get_action("package_show")({"ignore_auth": True}, {"id": name})
    state = tk.get_action("umkm_release_show")({"ignore_auth": True}, {"id": pkg["id"]})["state"]
    if state != "draft":
        return state
    for transition, user in RELEASE_STEPS:
        try:
            state = tk.get_action(f"umkm_release_{transition}")(
                {"user": user, "ignore_auth": False}, {"id": pkg["id"]})["state"]
        except tk.ValidationError as e:
            # The portal still starts; the record waits in the Forum's queue.
            return f"{state}, not released: {e.error_summary}"
    return state


def _exists(action: str, name: str) -> bool:
    try:
        tk.get_action(action)({"ignore_auth": True}, {"id": name})
    except tk.ObjectNotFound:
        return False
    return True


def _reload_if_missing(name: str) -> str:
    """A demo table that never reached the DataStore (a loader failure of an
    earlier run) is handed to the loader again."""
    import ckan.plugins as p

    from ckanext.umkm import caller

    pkg = tk.get_action("package_show")(caller.site_context(umkm_no_redact=True), {"id": name})
    missing = [r["id"] for r in pkg.get("resources", []) if not r.get("datastore_active")]
    if not missing or not p.plugin_loaded("xloader"):
        return ""
    for resource_id in missing:
        tk.get_action("xloader_submit")(caller.site_context(), {"resource_id": resource_id, "ignore_hash": True})
    return ", loading its table into the DataStore again"


def load(admin: str) -> Iterator[str]:
    """Create whatever demo record is missing; yield a line per record."""
    context = {"user": admin, "ignore_auth": False}
    for org in ORGANIZATIONS:
        if _exists("organization_show", org["name"]):
            yield f"organization {org['name']}: exists"
            continue
        tk.get_action("organization_create")(dict(context), dict(org))
        yield f"organization {org['name']}: created"
    yield from _users(admin)

    for spec in METADATA:
        if _exists("package_show", spec["name"]):
            yield f"{spec['type']} {spec['name']}: exists"
            continue
        data = {"owner_org": "deputi-usaha-mikro", "license_id": "cc-by", **spec}
        if spec["type"] == "variabel":
            data["kegiatan"] = KEGIATAN
        tk.get_action("package_create")(dict(context), data)
        yield f"{spec['type']} {spec['name']}: created"

    for spec in DATASETS:
        if _exists("package_show", spec["name"]):
            yield f"dataset {spec['name']}: exists{_reload_if_missing(spec['name'])}"
            continue
        filename, res_name = spec["resource"]
        data = {**COMMON, **{k: v for k, v in spec.items() if k not in ("resource", "tags")}}
        data.update(
            notes=f"{spec['notes']}\n\n{DEMO_NOTE}\n\n{REGION_ATTRIBUTION}",
            tags=[{"name": t} for t in spec["tags"]],
            license_id="cc-by",
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

    for spec in [*METADATA, *DATASETS]:
        yield f"{spec.get('type', 'dataset')} {spec['name']}: {_release(spec['name'])}"
    yield _standing_grant()
    try:
        yield from _requests()
    except (tk.ValidationError, tk.ObjectNotFound, tk.NotAuthorized) as e:
        # The portal still starts; the log says why the demo requests are missing.
        yield f"requests: not all created: {e}"
    yield ("restricted data: as instansi-demo, sign the statement (/akses/pernyataan) and turn on two-step "
           "login with an authenticator app (/akun/verifikasi-dua-langkah) to download Kota Bandung's rows")


def _standing_grant() -> str:
    """Walidata's standing grant for Kota Bandung: its rows of restricted data."""
    context = {"user": "walidata-demo", "ignore_auth": False}
    if tk.get_action("umkm_access_grant_list")(dict(context), {"organization_id": "diskumkm-kota-bandung",
                                                                "active_only": True}):
        return "grant diskumkm-kota-bandung: exists"
    until = (datetime.date.today() + datetime.timedelta(days=365)).isoformat()
    tk.get_action("umkm_access_grant_create")(dict(context), {
        "organization_id": "diskumkm-kota-bandung", "purpose": "Pembinaan UMKM Kota Bandung (demo)",
        "valid_until": until})
    return f"grant diskumkm-kota-bandung: created, valid until {until}"


def _letter(title: str) -> str:
    """A one-page PDF standing in for a signed letter, as base64."""
    import base64

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.multi_cell(0, 7, f"{title}\n\n(Contoh untuk demonstrasi portal.)", new_x="LMARGIN", new_y="NEXT")
    return base64.b64encode(bytes(pdf.output())).decode()


def _requests() -> Iterator[str]:
    """One request of each kind at a different step, and a data request
    answered and closed (for the public register and statistics)."""
    from ckanext.umkm.requests import engine

    agency = {"user": "instansi-demo", "ignore_auth": False}
    walidata = {"user": "walidata-demo", "ignore_auth": False}

    def act(number: str, event: str, **kw: Any) -> dict[str, Any]:
        return tk.get_action("umkm_request_act")(dict(walidata), {"id": number, "event": event, **kw})

    def missing(kind: str) -> bool:
        return not engine.all_rows(kind)

    common = {"kind": "data", "organization_id": "diskumkm-kota-bandung", "position": "Analis Data",
              "transparency": True, "letter_pdf": _letter("Surat permohonan data - Dinas KUMKM Kota Bandung")}
    if not missing("data"):
        yield "requests (data): exist"
    else:
        yield from _data_requests(agency, act, common)
    if not missing("akun"):
        yield "requests (account): exist"
    else:
        yield _account_request(act)
    if not missing("berbagi_pakai"):
        yield "requests (data sharing): exist"
    else:
        yield _sharing_request(agency, act)


def _data_requests(agency: dict[str, Any], act: Any, common: dict[str, Any]) -> Iterator[str]:
    answered = tk.get_action("umkm_request_create")(dict(agency), {
        **common, "use_category": "kebijakan", "purpose": "Perencanaan program pembinaan UMKM Kota Bandung 2027",
        "expected_outputs": "Peta sebaran UMKM per kecamatan",
        "datasets": ["jumlah-umkm-jawa-barat-menurut-kabupaten-kota-2023"],
        "period": "2023", "granularity": "agregat"})
    for _ in range(3):
        act(answered["number"], "advance", note="Data tersedia sebagai data terbuka")
    act(answered["number"], "approve")
    act(answered["number"], "advance")
    yield f"request {answered['number']} (data, aggregate): approved and delivered, in the public register"

    waiting = tk.get_action("umkm_request_create")(dict(agency), {
        **common, "use_category": "layanan_publik", "purpose": "Verifikasi penerima program bantuan modal",
        "expected_outputs": "Daftar penerima terverifikasi", "datasets": ["data-umkm-by-name-by-address-contoh-2023"],
        "regions": "32.73", "period": "2023", "granularity": "bnba"})
    act(waiting["number"], "advance")
    act(waiting["number"], "ask", note="Mohon lampirkan surat tugas tim verifikasi.")
    yield f"request {waiting['number']} (data, by name by address): waiting for instansi-demo's answer"


def _account_request(act: Any) -> str:
    account = tk.get_action("umkm_request_create")({"user": "", "ignore_auth": False}, {
        "kind": "akun", "organization_id": "dinas-kukm-jawa-barat", "admin_nik": "3273010101900001",
        "admin_name": "Rina Wulandari (contoh)", "admin_phone": "081234567890", "admin_position": "Pranata Komputer",
        "admin_email": "rina.wulandari@contoh.jabarprov.go.id", "username": "rina-jabar", "accept_controller_duties": True,
        "letter_pdf": _letter("Surat permohonan hak akses - Dinas KUKM Jawa Barat"),
        "statement_pdf": _letter("Pernyataan kerahasiaan - Rina Wulandari")})
    act(account["number"], "advance")
    return f"request {account['number']} (account): in review by Walidata"


def _sharing_request(agency: dict[str, Any], act: Any) -> str:
    sharing = tk.get_action("umkm_request_create")(dict(agency), {
        "kind": "berbagi_pakai", "organization_id": "diskumkm-kota-bandung",
        "background": "Integrasi data pembinaan UMKM dengan SIM UMKM Kota Bandung",
        "admin_nik": "3273010101900002", "admin_name": "Budi Santoso (contoh)", "admin_phone": "081298765432",
        "admin_position": "Pengelola Sistem", "admin_email": "budi.santoso@contoh.bandung.go.id",
        "variables_needed": "kode_desa, kbli, nama_usaha", "variables_offered": "status pembinaan, jenis bantuan",
        "datasets": "data-umkm-by-name-by-address-contoh-2023",
        "letter_pdf": _letter("Surat permohonan berbagi pakai data"),
        "statement_pdf": _letter("Pernyataan kerahasiaan - Budi Santoso")})
    for _ in range(2):
        act(sharing["number"], "advance")
    return f"request {sharing['number']} (data sharing): coordination invitation next"
