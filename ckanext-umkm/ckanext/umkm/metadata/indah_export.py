"""Export of metadata records to BPS's INDAH format: the envelope of
section 5 of the metadata standard, with the v2 keys of sections 2-4
(spellings *sic*), one record or a kegiatan with its variables and
indicators."""

from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.metadata.bulk_import import MAX_ROWS
from ckanext.umkm.metadata.schema_columns import KINDS, schema_for, schema_text
from ckanext.umkm.metadata.validators import as_list, yes_no
from ckanext.umkm.release import workflow as release_workflow

_ = tk._


STAGES = ("PERENCANAAN_KEGIATAN", "DESAIN", "PENGUMPULAN_DATA", "PENGOLAHAN_DATA",
          "ANALISIS", "DISEMINASI_HASIL", "EVALUASI")

# INDAH's objects of booleans for multi-selects: (CKAN field, INDAH options,
# CKAN field of the "lainnya" text, INDAH key of that text).
MULTI = {
    "metode_pengumpulan_data": (
        "iv_metode_pengumpulan_data",
        ("WAWANCARA", "MENGISI_KUESIONER_SENDIRI", "PENGAMATAN", "PENGUMPULAN_DATA_SEKUNDER", "LAINNYA"),
        "iv_metode_pengumpulan_lainnya", "metode_pengumpulan_lainnya"),
    "sarana_pengumpulan_data": (
        "iv_sarana_pengumpulan_data", ("PAPI", "CAPI", "CATI", "CAWI", "MAIL", "LAINNYA"),
        "iv_sarana_pengumpulan_lainnya", "sarana_pengumpulan_lainnya"),
    "unit_pengumpulan_data": (
        "iv_unit_pengumpulan_data", ("INDIVIDU", "RUMAH_TANGGA", "USAHA_ATAU_PERUSAHAAN", "LAINNYA"),
        "iv_unit_pengumpulan_lainnya", "unit_pengumpulan_data_lainnya"),
    "metode_pemeriksaan_kualitas_pengumpulan_data": (
        "vi_metode_pemeriksaan_kualitas_pengumpulan_data",
        ("KUNJUNGAN_KEMBALI", "SUPERVISI", "TASKFORCE", "LAINNYA"),
        "vi_metode_pemeriksaan_kualitas_lainnya", "metode_pemeriksaan_kualitas_pengumpulan_data_lainnya"),
    "tahapan_pengolahan_data": (
        "vii_tahapan_pengolahan_data", ("EDITING", "CODING", "DATA_ENTRY", "VALIDASI"), None, None),
    "unit_analsis": (
        "vii_unit_analisis", ("INDIVIDU", "RUMAH_TANGGA", "USAHA_ATAU_PERUSAHAAN", "LAINNYA"),
        "vii_unit_analisis_lainnya", "unit_analisis_lainnya"),
    "tingkat_penyajian_hasil_analisis": (
        "vii_tingkat_penyajian_hasil_analisis",
        ("NASIONAL", "PROVINSI", "KABUPATEN_ATAU_KOTA", "KECAMATAN", "LAINNYA"),
        "vii_tingkat_penyajian_hasil_analisis_lainnya", "tingkat_penyajian_hasil_analisis_lainnya"),
}


def _text(pkg: dict[str, Any], key: str) -> str | None:
    value = pkg.get(key)
    if value is None or value == "" or value == []:
        return None
    return str(value)


def _bool(pkg: dict[str, Any], key: str) -> bool:
    return yes_no(pkg.get(key)) is True


def _int(pkg: dict[str, Any], key: str) -> int | None:
    try:
        return int(pkg.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _lines(value: Any) -> list[str]:
    """A text answer INDAH takes as a list (konsep, aturan validasi): one item per line."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not value:
        return []
    return [line.strip() for line in str(value).splitlines() if line.strip()]


def _multi(pkg: dict[str, Any], key: str) -> dict[str, Any]:
    field, options, other_field, other_key = MULTI[key]
    chosen = set(as_list(pkg.get(field)))
    out: dict[str, Any] = {option.lower(): option in chosen for option in options}
    if other_key:
        out[other_key] = (_text(pkg, other_field) or "") if other_field else ""
    return out


def _bps_code(code: str) -> str:
    """Kemendagri ``32.73`` as BPS writes it: ``3273``."""
    return code.replace(".", "")


def _region_name(code: str) -> str | None:
    from ckanext.umkm.metadata import reference_codes

    found = reference_codes.get("wilayah", code)
    return found.name if found is not None else None


def _region(code: str | None) -> dict[str, Any]:
    """Province and regency/city of a region code, as INDAH's organisation holds them."""
    code = (code or "").strip()
    province = code[:2] if len(code) >= 2 else None
    city = code[:5] if len(code) >= 5 else None
    return {
        "province": {"code": province, "name": _region_name(province) if province else None},
        "city": {"code": _bps_code(city) if city else None, "name": _region_name(city) if city else None},
    }


def _coverage(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for code in as_list(pkg.get("iv_sebagian_cakupan_wilayah")):
        province = code[:2]
        city = code[:5] if len(code) >= 5 else None
        rows.append({
            "kode_provinsi": province,
            "nama_provinsi": _region_name(province),
            "kode_kabupaten_kota": _bps_code(city) if city else None,
            "nama_kabupaten_kota": _region_name(city) if city else None,
        })
    return rows


def _schedule(pkg: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {stage.lower(): [] for stage in STAGES}
    for row in pkg.get("iii_rencana_jadwal_kegiatan") or []:
        stage = str(row.get("tahap") or "").lower()
        if stage in out:
            out[stage].append({"awal": row.get("awal") or None, "akhir": row.get("akhir") or None})
    return out


def _release_dates(pkg: dict[str, Any], product: str) -> list[str]:
    if not _bool(pkg, f"viii_ketersediaan_produk_{product}"):
        return []
    return as_list(pkg.get(f"viii_rencana_jadwal_rilis_produk_{product}"))


def kegiatan_data(pkg: dict[str, Any]) -> dict[str, Any]:
    """``data`` of an MS-Keg submission (standard §2)."""
    return {
        "judul_kegiatan": pkg.get("title"),
        "tahun": _int(pkg, "tahun_kegiatan"),
        "jenis_statistik": _text(pkg, "jenis_statistik"),
        "cara_pengumpulan_data": _text(pkg, "cara_pengumpulan_data"),
        "sektor_kegiatan": _text(pkg, "sektor_kegiatan"),
        "identitas_rekomendasi": _text(pkg, "identitas_rekomendasi"),
        "blok_i": {
            "instansi_penyelanggara": _text(pkg, "i_instansi_penyelanggara"),
            "alamat_instansi_penyelenggara": {
                "alamat": _text(pkg, "i_alamat"),
                "telepon": _text(pkg, "i_telepon"),
                "faksimile": _text(pkg, "i_faksimile"),
                "email": _text(pkg, "i_email"),
            },
        },
        "blok_ii": {
            "unit_penanggung_jawab": {
                "eselon1": _text(pkg, "ii_unit_eselon1"),
                "eselon2": _text(pkg, "ii_unit_eselon2"),
            },
            "penanggung_jawab_teknis": {
                part: _text(pkg, f"ii_pj_{part}")
                for part in ("nama", "jabatan", "alamat", "telepon", "faksimile", "email")
            },
        },
        "blok_iii": {
            "latar_belakang_kegiatan": _text(pkg, "iii_latar_belakang_kegiatan"),
            "tujuan_kegiatan": _text(pkg, "iii_tujuan_kegiatan"),
            "rencana_jadwal_kegiatan": _schedule(pkg),
            "variabel_yang_dikumpulkan": [
                {key: (row.get(key) or None) for key in ("nama", "konsep", "definisi", "referensi_waktu")}
                for row in pkg.get("iii_variabel_yang_dikumpulkan") or []
            ],
        },
        "blok_iv": {
            "kegiatan_ini_dilakukan": _text(pkg, "iv_kegiatan_ini_dilakukan"),
            "frekuensi_penyelanggara": _text(pkg, "iv_frekuensi_penyelanggara"),
            "tipe_pengumpulan_data": _text(pkg, "iv_tipe_pengumpulan_data"),
            "cakupan_wilayah_pengumpulan_data": _text(pkg, "iv_cakupan_wilayah_pengumpulan_data"),
            "sebagian_cakupan_wilayah_pengumpulan_data": _coverage(pkg),
            "metode_pengumpulan_data": _multi(pkg, "metode_pengumpulan_data"),
            "sarana_pengumpulan_data": _multi(pkg, "sarana_pengumpulan_data"),
            "unit_pengumpulan_data": _multi(pkg, "unit_pengumpulan_data"),
        },
        "blok_v": {
            key: _text(pkg, f"v_{key}")
            for key in ("jenis_rancangan_sampel", "metode_pemilihan_sampel_tahap_terakhir",
                        "metode_yang_digunakan", "kerangka_sampel_tahap_terakhir",
                        "fraksi_sampel_keseluruhan", "nilai_perkiraan_sampling_error_variabel_utama",
                        "unit_sampel", "unit_observasi")
        },
        "blok_vi": {
            "apakah_melakukan_uji_coba": _bool(pkg, "vi_apakah_melakukan_uji_coba"),
            "metode_pemeriksaan_kualitas_pengumpulan_data": _multi(
                pkg, "metode_pemeriksaan_kualitas_pengumpulan_data"),
            "apakah_melakukan_penyesuaian_nonrespon": _bool(pkg, "vi_apakah_melakukan_penyesuaian_nonrespon"),
            "petugas_pengumpulan_data": _text(pkg, "vi_petugas_pengumpulan_data"),
            "persyaratan_pendidikan_terendah_petugas_pengumpulan_data": _text(
                pkg, "vi_persyaratan_pendidikan_terendah_petugas_pengumpulan_data"),
            "jumlah_petugas_supervisor": _int(pkg, "vi_jumlah_petugas_supervisor"),
            "jumlah_petugas_enumerator": _int(pkg, "vi_jumlah_petugas_enumerator"),
            "apakah_melakukan_pelatihan_petugas": _bool(pkg, "vi_apakah_melakukan_pelatihan_petugas"),
        },
        "blok_vii": {
            "tahapan_pengolahan_data": _multi(pkg, "tahapan_pengolahan_data"),
            "metode_analisis": _text(pkg, "vii_metode_analisis"),
            "unit_analsis": _multi(pkg, "unit_analsis"),
            "tingkat_penyajian_hasil_analisis": _multi(pkg, "tingkat_penyajian_hasil_analisis"),
        },
        "blok_viii": {
            **{f"ketersediaan_produk_{p}": _bool(pkg, f"viii_ketersediaan_produk_{p}")
               for p in ("tercetak", "digital", "mikrodata")},
            **{f"rencana_jadwal_rilis_produk_{p}": _release_dates(pkg, p)
               for p in ("tercetak", "digital", "mikrodata")},
        },
    }


def _value_domain(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    pairs = [{"kode": str(row.get("kode") or ""), "nilai": str(row.get("nilai") or "")}
             for row in pkg.get("value_domain") or [] if row.get("kode") or row.get("nilai")]
    reference = _text(pkg, "value_domain_reference")
    if reference:
        # A whole code list is named, not enumerated (Kemendagri kab/kota alone has 514 codes).
        names = {"wilayah": "Kode wilayah Kemendagri", "kbli": "KBLI 2020"}
        level = _text(pkg, "value_domain_reference_level")
        nilai = names.get(reference, reference) + (f", tingkat {level.replace('_', ' ')}" if level else "")
        pairs.append({"kode": reference.upper(), "nilai": nilai})
    return pairs


def variabel_data(pkg: dict[str, Any]) -> dict[str, Any]:
    """``data`` of an MS-Var submission (standard §3); "-" where the form says so."""
    return {
        "nama": pkg.get("title"),
        "alias": _text(pkg, "alias") or "-",
        "konsep": _lines(pkg.get("konsep")),
        "definisi": _text(pkg, "notes"),
        "referensi_pemilihan": _lines(pkg.get("referensi_pemilihan")) or ["-"],
        "referensi_waktu": _text(pkg, "referensi_waktu"),
        "ukuran": _text(pkg, "ukuran"),
        "satuan": _text(pkg, "satuan"),
        "tipe_data": _text(pkg, "tipe_data"),
        "value_domain": _value_domain(pkg),
        "aturan_validasi": _lines(pkg.get("aturan_validasi")),
        "kalimat_pertanyaan": _text(pkg, "kalimat_pertanyaan") or "-",
        "apakah_variabel_bisa_diakses_umum": _bool(pkg, "apakah_variabel_bisa_diakses_umum"),
        "id_sds": _text(pkg, "id_sds"),
    }


def _package(ref: str) -> model.Package | None:
    pkg = model.Package.get(ref)
    return pkg if pkg is not None and pkg.state == model.State.ACTIVE else None


def _titles(refs: Any) -> list[str]:
    return [p.title or p.name for p in (_package(r) for r in as_list(refs)) if p is not None]


def _record_url(pkg: model.Package) -> str:
    site = (tk.config.get("ckan.site_url") or "").rstrip("/")
    return f"{site}/{pkg.type}/{pkg.name}"


def _choice_labels(kind: str, field_name: str, values: list[str]) -> list[str]:
    for field in schema_for(kind).get("dataset_fields", []):
        if field["field_name"] == field_name:
            labels = {str(c["value"]): schema_text(c.get("label")) for c in field.get("choices") or []}
            return [labels.get(v) or v for v in values]
    return values


def indikator_data(pkg: dict[str, Any]) -> dict[str, Any]:
    """``data`` of an MS-Ind submission (standard §4)."""
    components = []
    for ref in as_list(pkg.get("indikator_pembangun")):
        component = _package(ref)
        if component is None:
            continue
        url = _record_url(component)
        components.append({
            "nama": component.title or component.name,
            "sumber_publikasi": [url],
            "ketersediaan_publikasi": [{
                "nama": tk.config.get("ckan.site_title") or "Portal Satu Data UMKM",
                "link_eksternal_yang_bisa_diakses": url,
                "file": {"nama": None, "ekstensi": None, "url_download": None},
            }],
        })
    variables = []
    for ref in as_list(pkg.get("variabel_pembangun")):
        variable = _package(ref)
        if variable is None:
            continue
        variables.append({"nama": variable.title or variable.name,
                          "kegiatan_penghasil": _titles(variable.extras.get("kegiatan"))})
    levels = _choice_labels("indikator", "level_estimasi", as_list(pkg.get("level_estimasi")))
    return {
        "nama": pkg.get("title"),
        "konsep": _lines(pkg.get("konsep")),
        "definisi": _text(pkg, "notes"),
        "interpretasi": _text(pkg, "interpretasi"),
        "metode_perhitungan": _text(pkg, "metode_perhitungan"),
        "rumus": _text(pkg, "rumus"),
        "ukuran": _text(pkg, "ukuran"),
        "satuan": _text(pkg, "satuan"),
        "variabel_disaggregasi": [
            {"nama": row.get("nama") or None, "sumber": row.get("sumber") or "input-manual"}
            for row in pkg.get("variabel_disaggregasi") or [] if row.get("nama")
        ],
        "apakah_indikator_komposit": _bool(pkg, "apakah_indikator_komposit"),
        "indikator_pembangun": components,
        "variabel_pembangun": variables,
        # INDAH takes free text here ("Nasional, Provinsi").
        "level_estimasi": ", ".join(levels) or None,
        "apakah_indikator_bisa_diakses_umum": _bool(pkg, "apakah_indikator_bisa_diakses_umum"),
        "id_sds": _text(pkg, "id_sds"),
    }


DATA_BUILDERS = {"kegiatan": kegiatan_data, "variabel": variabel_data, "indikator": indikator_data}


def _parent_kegiatan(pkg: dict[str, Any]) -> dict[str, Any] | None:
    """The kegiatan a variabel belongs to, or the first kegiatan producing an indikator."""
    refs = as_list(pkg.get("kegiatan") if pkg.get("type") == "variabel" else pkg.get("kegiatan_penghasil"))
    for ref in refs:
        if _package(ref) is not None:
            return tk.get_action("package_show")({"ignore_auth": True}, {"id": ref})
    return None


def _organization(org_id: str | None) -> dict[str, Any]:
    group = model.Group.get(org_id) if org_id else None
    if group is None:
        return {"id": org_id, "name": None, "extras": {}}
    return {"id": group.id, "name": group.title or group.name, "extras": dict(group.extras)}


def _submitter(pkg: dict[str, Any], org: dict[str, Any], address: str | None,
               show_email: bool) -> dict[str, Any]:
    user = model.User.get(pkg["creator_user_id"]) if pkg.get("creator_user_id") else None
    region = _region(org["extras"].get("kode_wilayah"))
    return {
        "username": user.name if user else None,
        "name": (user.fullname or user.name) if user else None,
        # An export may be public; the address is only for those who may edit.
        "email": user.email if user and show_email else None,
        "organization": {
            "id": org["id"],
            "name": org["name"],
            "address": org["extras"].get("alamat") or address,
            "province": region["province"],
            "city": region["city"],
        },
    }


def _may_edit(context: dict[str, Any] | None, pkg: dict[str, Any]) -> bool:
    if context is None:
        return True
    # The producers of the record's organization (editing may be locked by
    # the release workflow, authorship is not).
    try:
        tk.check_access("package_create", caller.nested_context(context),
                        {"owner_org": pkg.get("owner_org"), "type": pkg.get("type")})
    except tk.NotAuthorized:
        return False
    return True


def indah_envelope(pkg: dict[str, Any], context: dict[str, Any] | None = None, *,
                   kegiatan: dict[str, Any] | None = None) -> dict[str, Any]:
    """One kegiatan, variabel or indikator as an INDAH v2 submission (§5).

    ``pkg`` is a ``package_show`` dict; ``kegiatan`` the parent when the
    caller has it already (a bundle); ``context`` decides whether the
    submitter's e-mail is shown (only to those who may edit the record)."""
    kind = pkg.get("type")
    if kind not in DATA_BUILDERS:
        raise tk.ValidationError({"id": [_("Only kegiatan, variabel and indikator records can be exported")]})
    parent = pkg if kind == "kegiatan" else (kegiatan or _parent_kegiatan(pkg))
    org = _organization(pkg.get("owner_org"))
    region_code = org["extras"].get("kode_wilayah") or ""
    region = _region(region_code)
    may_edit = _may_edit(context, pkg)
    review = release_workflow.indah_review(pkg["id"])
    if not may_edit:
        review["reviews"] = []  # reviewers' names and notes stay with those who edit it
    envelope: dict[str, Any] = {
        "base_id": pkg["id"],
        "submission_period": _int(parent, "tahun_kegiatan") if parent else None,
        "data": DATA_BUILDERS[kind](pkg),
        **review,
        "submitter": _submitter(pkg, org, (parent or {}).get("i_alamat"), may_edit),
        "produsen_data": {
            "id": org["id"],
            "name": org["name"],
            "province_code": region["province"]["code"],
            "city_code": region["city"]["code"],
        },
        "walidata_pusat": None,
        "version": "v2",
        "changes": [],
    }
    if kind != "kegiatan":
        envelope["ms_keg_id"] = ((parent.get("id_kegiatan") or parent["id"]) if parent else None)
    return envelope


def children(context: dict[str, Any], kegiatan_id: str, kind: str) -> list[dict[str, Any]]:
    """The variabel or indikator records of a kegiatan that the user may see."""
    field = "kegiatan" if kind == "variabel" else "vocab_kegiatan_penghasil"
    result = tk.get_action("package_search")(caller.nested_context(context), {
        "fq": f'+dataset_type:{kind} +{field}:"{kegiatan_id}"',
        "include_private": True, "rows": MAX_ROWS, "sort": "title_string asc"})
    return result["results"]


def kegiatan_bundle(pkg: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
    """A kegiatan with its variables and indicators, each as an INDAH envelope."""
    if pkg.get("type") != "kegiatan":
        raise tk.ValidationError({"id": [_("Not a kegiatan record")]})
    context = context if context is not None else {"ignore_auth": True}
    return {
        "kegiatan": indah_envelope(pkg, context),
        **{kind: [indah_envelope(child, context, kegiatan=pkg) for child in children(context, pkg["id"], kind)]
           for kind in KINDS},
    }


def envelope_filename(pkg: dict[str, Any], bundle: bool = False) -> str:
    return f"{pkg['name']}-{'export' if bundle else 'indah'}.json"
