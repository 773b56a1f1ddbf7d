"""The metadata standard: each schema, every validator, links both ways,
national keys at the top level, region/KBLI facets (issue 3)."""

from __future__ import annotations

import pytest
from ckan import model
from ckan.logic import ValidationError
from ckan.tests import factories, helpers

from . import metadata_records as records

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")


_ADMIN: dict = {}


@pytest.fixture(autouse=True)
def _admin(clean_portal_db) -> None:
    """Writes need a real user: the activity stream records who made them."""
    _ADMIN["name"] = factories.Sysadmin()["name"]


def call_action(action: str, context: dict | None = None, **kwargs):
    return helpers.call_action(action, context=dict({"user": _ADMIN["name"]}, **(context or {})), **kwargs)


def _errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.error_dict


def _count_packages() -> int:
    return model.Session.query(model.Package).count()


@pytest.fixture()
def org() -> dict:
    return records.agency()


@pytest.fixture()
def keg(org: dict) -> dict:
    return call_action("package_create", **records.kegiatan(org["id"], name="keg-jabar-2024"))


# --- kegiatan ---------------------------------------------------------------

class TestKegiatan:
    def test_valid_kegiatan_keeps_coded_answers_as_enums_lists_and_booleans(self, keg: dict) -> None:
        shown = call_action("package_show", id=keg["id"])
        assert shown["type"] == "kegiatan"
        assert shown["judul_kegiatan"] == shown["title"]
        assert shown["tahun_kegiatan"] == 2024
        assert shown["sektor_kegiatan"] == "INDUSTRI_DAN_JASA"
        assert shown["iv_metode_pengumpulan_data"] == ["PENGUMPULAN_DATA_SEKUNDER"]
        assert shown["vi_apakah_melakukan_uji_coba"] is False
        assert shown["viii_ketersediaan_produk_digital"] is True
        assert shown["iii_rencana_jadwal_kegiatan"] == [
            {"tahap": "PENGUMPULAN_DATA", "awal": "2024-03-01", "akhir": "2024-06-30"}]
        # The flattened Bappenas SDI keys are top-level keys, not extras.
        assert shown["i_instansi_penyelanggara"].startswith("Dinas Koperasi")
        assert not [e for e in shown.get("extras", []) if e["key"].startswith("i_")]

    def test_missing_required_fields_are_each_named_and_nothing_is_saved(self, org: dict) -> None:
        data = records.kegiatan(org["id"])
        for key in ("tahun_kegiatan", "sektor_kegiatan", "i_instansi_penyelanggara",
                    "iv_metode_pengumpulan_data", "vii_metode_analisis"):
            del data[key]
        before = _count_packages()
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **data)
        errors = _errors(exc)
        assert {"tahun_kegiatan", "sektor_kegiatan", "i_instansi_penyelanggara",
                "iv_metode_pengumpulan_data", "vii_metode_analisis"} <= set(errors)
        assert _count_packages() == before

    @pytest.mark.parametrize(("field", "value"), [
        ("sektor_kegiatan", "PERTAMBANGAN"),
        ("jenis_statistik", "3"),
        ("iv_sarana_pengumpulan_data", ["CAWI", "TELEPATI"]),
        ("vi_apakah_melakukan_uji_coba", "mungkin"),
        ("tahun_kegiatan", "dua ribu"),
        ("tahun_kegiatan", 1850),
        ("viii_rencana_jadwal_rilis_produk_digital", "20-12-2024"),
        ("i_email", "bukan-email"),
    ])
    def test_bad_answers_are_refused_with_the_field_named(self, org: dict, field: str, value: object) -> None:
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], **{field: value}))
        assert field in _errors(exc)

    def test_survey_requires_blok_v_and_other_methods_drop_it(self, org: dict) -> None:
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], cara_pengumpulan_data="SURVEI"))
        assert {"v_jenis_rancangan_sampel", "v_metode_pemilihan_sampel_tahap_terakhir",
                "v_unit_sampel"} <= set(_errors(exc))

        survey = call_action("package_create", **records.kegiatan(org["id"], name="survei", **records.SURVEY))
        assert survey["v_metode_yang_digunakan"] == "STRATIFIED_RANDOM_SAMPLING"

        # Not a survey: Blok V answers sent anyway are not kept.
        other = call_action("package_create", **records.kegiatan(
            org["id"], name="kompilasi", **{k: v for k, v in records.SURVEY.items()
                                            if k.startswith("v_")}))
        assert "v_metode_yang_digunakan" not in other
        assert "v_unit_sampel" not in call_action("package_show", id=other["id"])

    def test_frequency_only_for_repeated_activities(self, org: dict) -> None:
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], iv_kegiatan_ini_dilakukan="BERULANG"))
        assert "iv_frekuensi_penyelanggara" in _errors(exc)
        once = call_action("package_create", **records.kegiatan(
            org["id"], name="sekali", iv_frekuensi_penyelanggara="TAHUNAN"))
        assert "iv_frekuensi_penyelanggara" not in once

    def test_partial_coverage_needs_province_or_regency_codes(self, org: dict) -> None:
        partial = {"iv_cakupan_wilayah_pengumpulan_data": "SEBAGIAN_WILAYAH_INDONESIA"}
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], **partial))
        assert "iv_sebagian_cakupan_wilayah" in _errors(exc)
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(
                org["id"], iv_sebagian_cakupan_wilayah=["32.73.01"], **partial))
        assert "kecamatan" in str(_errors(exc)["iv_sebagian_cakupan_wilayah"])
        pkg = call_action("package_create", **records.kegiatan(
            org["id"], name="sebagian", iv_sebagian_cakupan_wilayah="32, 32.73", **partial))
        assert pkg["iv_sebagian_cakupan_wilayah"] == ["32", "32.73"]

    def test_nested_condition_rekomendasi_identity(self, org: dict) -> None:
        survey = dict(records.SURVEY, rekomendasi_dari_bps=True)
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], **survey))
        assert "identitas_rekomendasi" in _errors(exc)
        # Not a survey: the recommendation questions do not apply at all.
        pkg = call_action("package_create", **records.kegiatan(
            org["id"], name="bukan-survei", rekomendasi_dari_bps=True))
        assert "rekomendasi_dari_bps" not in pkg and "identitas_rekomendasi" not in pkg

    def test_stage_ending_before_it_starts(self, org: dict) -> None:
        stages = [{"tahap": "DESAIN", "awal": "2024-05-01", "akhir": "2024-04-01"}]
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], iii_rencana_jadwal_kegiatan=stages))
        assert "iii_rencana_jadwal_kegiatan" in _errors(exc)

    def test_oversized_text(self, org: dict) -> None:
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.kegiatan(org["id"], i_instansi_penyelanggara="x" * 5000))
        assert "i_instansi_penyelanggara" in _errors(exc)


# --- variabel and indikator -------------------------------------------------

class TestVariabelIndikator:
    def test_variabel_links_to_its_kegiatan(self, org: dict, keg: dict) -> None:
        var = call_action("package_create", **records.variabel(org["id"], keg["name"], name="v1"))
        assert var["kegiatan"] == keg["id"]  # names are stored as ids
        assert var["value_domain"] == [{"kode": "1", "nilai": "Mikro"}, {"kode": "2", "nilai": "Kecil"}]

    @pytest.mark.parametrize("ref", ["tidak-ada", "__self_type__"])
    def test_link_to_missing_or_wrong_type_record(self, org: dict, keg: dict, ref: str) -> None:
        if ref == "__self_type__":
            ref = call_action("package_create", **records.dataset(org["id"], name="ds-x"))["name"]
        before = _count_packages()
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.variabel(org["id"], ref))
        assert "kegiatan" in _errors(exc)
        assert _count_packages() == before

    def test_private_record_of_another_agency_cannot_be_linked(self, org: dict) -> None:
        other = records.agency(kode_wilayah="31")
        hidden = call_action("package_create", **records.kegiatan(other["id"], name="rahasia", private=True))
        user = factories.User()
        call_action("member_create", id=org["id"], object=user["name"], object_type="user", capacity="editor")
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", context={"user": user["name"], "ignore_auth": False},
                        **records.variabel(org["id"], hidden["id"]))
        assert "kegiatan" in _errors(exc)

    def test_value_domain_is_required_as_pairs_or_code_list(self, org: dict, keg: dict) -> None:
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.variabel(org["id"], keg["id"], value_domain=[]))
        assert "value_domain" in _errors(exc)
        ref = call_action("package_create", **records.variabel(
            org["id"], keg["id"], name="v-wil", value_domain=[], value_domain_reference="wilayah",
            value_domain_reference_level="kabupaten_kota"))
        assert ref["value_domain_reference"] == "wilayah"
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.variabel(
                org["id"], keg["id"], value_domain=[], value_domain_reference="kbli",
                value_domain_reference_level="kabupaten_kota"))
        assert "value_domain_reference_level" in _errors(exc)

    def test_indikator_links_and_kegiatan_penghasil_from_variables(self, org: dict, keg: dict) -> None:
        var = call_action("package_create", **records.variabel(org["id"], keg["id"], name="v1"))
        ind = call_action("package_create", **records.indikator(org["id"], [var["name"]], name="i1"))
        assert ind["variabel_pembangun"] == [var["id"]]
        assert ind["kegiatan_penghasil"] == [keg["id"]]
        assert ind["level_estimasi"] == ["PROVINSI"]

    def test_composite_needs_components_and_cycles_are_refused(self, org: dict, keg: dict) -> None:
        var = call_action("package_create", **records.variabel(org["id"], keg["id"], name="v1"))
        a = call_action("package_create", **records.indikator(org["id"], [var["id"]], name="ind-a"))
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.indikator(
                org["id"], [], name="ind-b", apakah_indikator_komposit=True))
        assert "indikator_pembangun" in _errors(exc)
        b = call_action("package_create", **records.indikator(
            org["id"], [], name="ind-b", apakah_indikator_komposit=True, indikator_pembangun=["ind-a"]))
        c = call_action("package_create", **records.indikator(
            org["id"], [], name="ind-c", apakah_indikator_komposit=True, indikator_pembangun=["ind-b"]))
        # a := composite of c would close the circle a → c → b → a.
        with pytest.raises(ValidationError) as exc:
            call_action("package_patch", id=a["id"], apakah_indikator_komposit=True,
                        indikator_pembangun=[c["id"]])
        message = str(_errors(exc)["indikator_pembangun"])
        assert "ind-a" in message and "ind-c" in message
        assert call_action("package_show", id=a["id"])["apakah_indikator_komposit"] is False
        assert b["indikator_pembangun"] == [a["id"]]
        with pytest.raises(ValidationError) as exc:
            call_action("package_patch", id=b["id"], indikator_pembangun=[b["id"]])
        assert "indikator_pembangun" in _errors(exc)


# --- aggregate dataset and national keys -----------------------------------

class TestDataset:
    def test_national_keys_at_the_top_level(self, org: dict, keg: dict) -> None:
        var = call_action("package_create", **records.variabel(org["id"], keg["id"], name="v1"))
        ind = call_action("package_create", **records.indikator(org["id"], [var["id"]], name="i1"))
        call_action("package_patch", id=keg["id"], id_kegiatan="BPS-2024-0001")
        ds = call_action("package_create", **records.dataset(
            org["id"], name="ds", kegiatan=[keg["name"]], variabel=[var["name"]], indikator=[ind["name"]],
            data_prioritas=True, prioritas_tahun=2025, cakupan_wilayah=["32.73"]))
        shown = call_action("package_show", id=ds["id"])
        assert shown["accessRights"] == "terbuka"
        assert shown["accrualPeriodicity"] == "TAHUNAN"
        assert shown["prioritas_tahun"] == 2025
        assert shown["publisher_type"] == "daerah-provinsi"
        assert shown["produsen_data_name"] == org["title"]
        assert shown["produsen_data_province_code"] == "32"
        assert shown["id_mskeg"] == "BPS-2024-0001"
        assert shown["id_msind"] == ind["id"]
        assert shown["kegiatan"] == [keg["id"]]

    def test_publisher_type_of_a_city_government(self) -> None:
        city = records.agency(jenis_instansi="PEMERINTAH_KABUPATEN_KOTA", kode_wilayah="32.73")
        shown = call_action("package_create", **records.dataset(city["id"], name="kota"))
        shown = call_action("package_show", id=shown["id"])
        assert shown["publisher_type"] == "daerah-kota"
        assert shown["produsen_data_city_code"] == "3273"

    @pytest.mark.parametrize(("field", "value", "fragment"), [
        ("cakupan_wilayah", ["99"], "99"),
        ("cakupan_wilayah", ["32-73"], "32-73"),
        ("sektor_kbli", ["47119"], "47119"),
        ("sektor_kbli", ["Z"], "Z"),
        ("accessRights", "publik", "publik"),
        ("tingkat_penyajian", ["RT"], "RT"),
    ])
    def test_unknown_or_malformed_codes(self, org: dict, field: str, value: object, fragment: str) -> None:
        before = _count_packages()
        with pytest.raises(ValidationError) as exc:
            call_action("package_create", **records.dataset(org["id"], **{field: value}))
        assert fragment in str(_errors(exc)[field])
        assert _count_packages() == before

    def test_region_and_kbli_facets(self, org: dict) -> None:
        call_action("package_create", **records.dataset(
            org["id"], name="bandung", cakupan_wilayah=["32.73.01"], sektor_kbli=["47111"]))
        call_action("package_create", **records.dataset(
            org["id"], name="jabar", cakupan_wilayah=["32"], sektor_kbli=["C"]))
        call_action("package_create", **records.dataset(org["id"], name="dki", cakupan_wilayah=["31.71"]))
        facets = ["vocab_umkm_provinsi", "vocab_umkm_kabkota", "vocab_umkm_kbli_kategori",
                  "vocab_umkm_kbli_golongan_pokok", "vocab_umkm_kbli_kelompok"]
        result = call_action("package_search", q="*:*", include_private=True, **{"facet.field": facets})
        items = {f: {i["name"]: i for i in result["search_facets"][f]["items"]} for f in facets}
        assert items["vocab_umkm_provinsi"]["32"]["count"] == 2
        assert items["vocab_umkm_provinsi"]["32"]["display_name"] == "Jawa Barat"
        assert items["vocab_umkm_kabkota"]["32.73"]["display_name"] == "Kota Bandung"
        assert items["vocab_umkm_kbli_kategori"]["G"]["count"] == 1
        assert items["vocab_umkm_kbli_kategori"]["C"]["count"] == 1
        assert "47" in items["vocab_umkm_kbli_golongan_pokok"]
        assert items["vocab_umkm_kbli_kelompok"]["47111"]["display_name"].startswith("47111 ")
        found = call_action("package_search", fq='vocab_umkm_provinsi:"32"', include_private=True)
        assert {r["name"] for r in found["results"]} == {"bandung", "jabar"}
        found = call_action("package_search", fq='vocab_umkm_kbli_kategori:"G"', include_private=True)
        assert [r["name"] for r in found["results"]] == ["bandung"]


class TestOrganization:
    def test_agency_type_and_region(self) -> None:
        org = records.agency(jenis_instansi="PEMERINTAH_KABUPATEN_KOTA", kode_wilayah="32.73",
                             sektor_kbli=["C", "47"])
        shown = call_action("organization_show", id=org["id"])
        assert shown["jenis_instansi"] == "PEMERINTAH_KABUPATEN_KOTA"
        assert shown["kode_wilayah"] == "32.73"
        assert shown["sektor_kbli"] == ["C", "47"]

    @pytest.mark.parametrize(("field", "value"), [
        ("jenis_instansi", "PEMDA"), ("kode_wilayah", "32.99"), ("sektor_kbli", ["ZZ"])])
    def test_bad_agency_fields(self, field: str, value: object) -> None:
        with pytest.raises(ValidationError) as exc:
            records.agency(**{field: value})
        assert field in _errors(exc)
