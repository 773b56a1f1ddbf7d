"""Valid records of each metadata type, for the portal's tests.

Each builder returns a dict that passes the schema as it is; a test changes
the one thing it is about.
"""

from __future__ import annotations

from typing import Any

from ckan.tests import factories


def agency(**extra: Any) -> dict[str, Any]:
    data = {"jenis_instansi": "PEMERINTAH_PROVINSI", "kode_wilayah": "32"}
    data.update(extra)
    return factories.Organization(**data)


def kegiatan(owner_org: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "kegiatan",
        "title": "Pendataan UMKM Jawa Barat 2024",
        "owner_org": owner_org,
        "tahun_kegiatan": 2024,
        "jenis_statistik": "STATISTIK_SEKTORAL",
        "cara_pengumpulan_data": "KOMPILASI_PRODUK_ADMINISTRASI",
        "sektor_kegiatan": "INDUSTRI_DAN_JASA",
        "i_instansi_penyelanggara": "Dinas Koperasi dan Usaha Kecil Provinsi Jawa Barat",
        "ii_pj_nama": "Kepala Bidang Data",
        "iii_latar_belakang_kegiatan": "Kebutuhan data UMKM daerah.",
        "iii_tujuan_kegiatan": "Menyediakan jumlah UMKM per kabupaten/kota.",
        "iii_rencana_jadwal_kegiatan": [
            {"tahap": "PENGUMPULAN_DATA", "awal": "2024-03-01", "akhir": "2024-06-30"},
        ],
        "iv_kegiatan_ini_dilakukan": "HANYA_SEKALI",
        "iv_tipe_pengumpulan_data": "CROSS_SECTIONAL",
        "iv_cakupan_wilayah_pengumpulan_data": "SELURUH_WILAYAH_INDONESIA",
        "iv_metode_pengumpulan_data": ["PENGUMPULAN_DATA_SEKUNDER"],
        "iv_sarana_pengumpulan_data": ["CAWI"],
        "iv_unit_pengumpulan_data": ["USAHA_ATAU_PERUSAHAAN"],
        "vi_apakah_melakukan_uji_coba": False,
        "vi_metode_pemeriksaan_kualitas_pengumpulan_data": ["SUPERVISI"],
        "vi_apakah_melakukan_penyesuaian_nonrespon": False,
        "vii_metode_analisis": "DESKRIPTIF",
        "vii_unit_analisis": ["USAHA_ATAU_PERUSAHAAN"],
        "vii_tingkat_penyajian_hasil_analisis": ["PROVINSI"],
        "viii_ketersediaan_produk_tercetak": False,
        "viii_ketersediaan_produk_digital": True,
        "viii_ketersediaan_produk_mikrodata": False,
        "viii_rencana_jadwal_rilis_produk_digital": "2024-12-20",
    }
    data.update(extra)
    return data


SURVEY = {
    "cara_pengumpulan_data": "SURVEI",
    "rekomendasi_dari_bps": False,
    "v_jenis_rancangan_sampel": "MULTI_STAGE_ATAU_PHASE",
    "v_metode_pemilihan_sampel_tahap_terakhir": "SAMPEL_PROBABILITAS",
    "v_metode_yang_digunakan": "STRATIFIED_RANDOM_SAMPLING",
    "v_kerangka_sampel_tahap_terakhir": "LIST_FRAME",
    "v_unit_sampel": "Usaha",
    "v_unit_observasi": "Usaha",
}


def variabel(owner_org: str, kegiatan_id: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "variabel",
        "title": "Skala Usaha",
        "owner_org": owner_org,
        "kegiatan": kegiatan_id,
        "konsep": "Kriteria UMKM",
        "notes": "Skala usaha menurut PP 7/2021.",
        "referensi_waktu": "Tahun 2024",
        "tipe_data": "CHARACTER",
        "value_domain": [{"kode": "1", "nilai": "Mikro"}, {"kode": "2", "nilai": "Kecil"}],
        "apakah_variabel_bisa_diakses_umum": True,
    }
    data.update(extra)
    return data


def indikator(owner_org: str, variabel_ids: list[str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "indikator",
        "title": "Jumlah UMKM",
        "owner_org": owner_org,
        "konsep": "UMKM aktif",
        "notes": "Banyaknya UMKM aktif.",
        "interpretasi": "Makin besar makin banyak UMKM.",
        "metode_perhitungan": "Jumlah unit usaha.",
        "ukuran": "Jumlah",
        "satuan": "Unit usaha",
        "apakah_indikator_komposit": False,
        "variabel_pembangun": variabel_ids,
        "level_estimasi": ["PROVINSI"],
        "apakah_indikator_bisa_diakses_umum": True,
    }
    data.update(extra)
    return data


def dataset(owner_org: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "dataset",
        "title": "Jumlah UMKM Jawa Barat 2024",
        "owner_org": owner_org,
        "notes": "Jumlah UMKM per kabupaten/kota.",
        "accessRights": "terbuka",
        "accrualPeriodicity": "TAHUNAN",
        "data_prioritas": False,
        "jenis_data": "DATA_TRANSAKSI",
        "bentuk_data": "AGREGAT",
        "temporal_start": "2024-01-01",
        "tingkat_penyajian": ["KABUPATEN_KOTA"],
    }
    data.update(extra)
    return data


def release(package_id: str) -> dict[str, Any]:
    """Take a record through the release workflow as a sysadmin, so that the
    public sees it; returns its workflow state."""
    from ckan.tests import helpers

    admin = factories.Sysadmin()["name"]
    state: dict[str, Any] = {}
    for transition, extra in (("submit", {}), ("pass", {}),
                              ("approve", {"justification": "Rekaman uji: daftar periksa tidak dinilai"})):
        state = helpers.call_action(f"umkm_release_{transition}", context={"user": admin}, id=package_id, **extra)
    return state
