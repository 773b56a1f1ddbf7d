"""The automatic release checks of Pasal 24(5) and the disclosure check
(issue 4): computed at submission, shown as a checklist, blocking approval
unless a curator records a justification (never for confidential data)."""

from __future__ import annotations

import io
import uuid

import pytest
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from werkzeug.datastructures import FileStorage

from . import metadata_records as records

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

GOOD_CSV = (
    "kode_kabupaten_kota,skala_usaha,jumlah_umkm\n"
    "32.73,1,15230\n"
    "32.73,2,1204\n"
    "32.01,1,214759\n"
)
BAD_CSV = (
    "kode_kabupaten_kota,skala,jumlah_umkm\n"   # "skala" is not a variable (skala_usaha is)
    "32.73,1,15230\n"
    "32.99,2,1204\n"                             # no such regency/city
    "32.01,1,2\n"                                # two businesses: they could be singled out
)


def _call(user: dict, action: str, **kw):
    return helpers.call_action(action, context={"user": user["name"], "ignore_auth": False}, **kw)


@pytest.fixture()
def world() -> dict:
    """An agency with a released kegiatan and three released variables."""
    users = {name: factories.User(name=f"cek-{name}") for name in ("producer", "forum", "walidata")}
    org = records.agency(name="diskumkm-kota-bandung", kode_wilayah="32.73",
                         jenis_instansi="PEMERINTAH_KABUPATEN_KOTA",
                         users=[{"name": users["producer"]["name"], "capacity": "editor"}])
    records.agency(name="walidata-umkm", users=[{"name": users["walidata"]["name"], "capacity": "member"}])
    records.agency(name="forum-satu-data-umkm", users=[{"name": users["forum"]["name"], "capacity": "member"}])
    admin = factories.Sysadmin()
    create = lambda data: helpers.call_action("package_create", context={"user": admin["name"]}, **data)  # noqa: E731
    keg = create(records.kegiatan(org["id"], name="pendataan-umkm-bandung-2024"))
    records.release(keg["id"])
    variables = [
        create(records.variabel(org["id"], keg["id"], name="var-kode-kabkota", title="Kode Kabupaten/Kota",
                                alias="kode_kabupaten_kota", value_domain=[], value_domain_reference="wilayah",
                                value_domain_reference_level="kabupaten_kota", aturan_validasi="HARUS TERISI")),
        create(records.variabel(org["id"], keg["id"], name="var-skala-usaha", title="Skala Usaha",
                                alias="skala_usaha")),
        create(records.variabel(org["id"], keg["id"], name="var-jumlah-umkm", title="Jumlah UMKM",
                                alias="jumlah_umkm", tipe_data="INTEGER", satuan="Unit usaha", ukuran="Jumlah",
                                value_domain=[{"kode": "-", "nilai": "Bilangan bulat 0 atau lebih"}])),
    ]
    for var in variables:
        records.release(var["id"])
    return {**users, "org": org, "kegiatan": keg, "variabel": [v["id"] for v in variables]}


def dataset(world: dict, csv: str | None = None, fmt: str = "CSV", filename: str = "umkm.csv", **kw) -> dict:
    kw = {"kegiatan": [world["kegiatan"]["id"]], "variabel": world["variabel"],
          "analisis": "Usaha mikro mendominasi.", **kw}
    data = records.dataset(world["org"]["id"], name=f"umkm-bandung-{uuid.uuid4().hex[:8]}", **kw)
    pkg = _call(world["producer"], "package_create", **data)
    if csv is not None:
        _call(world["producer"], "resource_create", package_id=pkg["id"], name=filename, format=fmt, url=filename,
              upload=FileStorage(stream=io.BytesIO(csv.encode()), filename=filename))
    return pkg


def submit_and_pass(world: dict, pkg: dict) -> dict[str, dict]:
    _call(world["producer"], "umkm_release_submit", id=pkg["id"])
    state = _call(world["walidata"], "umkm_release_pass", id=pkg["id"])
    return {c["key"]: c for c in state["checks"]}


def test_a_conforming_dataset_passes_every_check_and_is_approved(world):
    pkg = dataset(world, GOOD_CSV)
    checks = submit_and_pass(world, pkg)
    assert list(checks) == ["not_confidential", "analysed", "standard", "consistent", "open_format", "disclosure"]
    assert all(c["passed"] for c in checks.values()), checks
    assert _call(world["forum"], "umkm_release_approve", id=pkg["id"])["state"] == "released"


def test_a_non_conforming_csv_is_caught_line_by_line(world):
    pkg = dataset(world, BAD_CSV)
    checks = submit_and_pass(world, pkg)
    consistent = " | ".join(checks["consistent"]["problems"])
    assert not checks["consistent"]["passed"]
    assert 'column "skala" is not one of the linked variables' in consistent
    assert 'row 3, column kode_kabupaten_kota: unknown wilayah code "32.99"' in consistent
    assert 'No resource has the column "skala_usaha"' in consistent
    assert not checks["disclosure"]["passed"]
    assert checks["disclosure"]["problems"] == ["umkm.csv, row 4, column jumlah_umkm: 2 < 3"]
    assert checks["open_format"]["passed"] and checks["analysed"]["passed"]

    # The failing checks block approval ...
    with pytest.raises(ValidationError) as err:
        _call(world["forum"], "umkm_release_approve", id=pkg["id"])
    assert "consistent" in err.value.error_dict["justification"][0]
    # ... unless the curator records why it may go out anyway.
    state = _call(world["forum"], "umkm_release_approve", id=pkg["id"],
                  justification="Sel kecil sudah disetujui pemilik data; kolom akan diperbaiki pada rilis berikut")
    assert state["state"] == "released"
    approve = [h for h in state["history"] if h["transition"] == "approve"][0]
    assert "consistent, disclosure" in approve["note"] and "Sel kecil" in approve["note"]


def test_wrong_types_and_codes_outside_the_value_domain(world):
    csv = ("kode_kabupaten_kota,skala_usaha,jumlah_umkm\n"
           ",9,banyak\n"
           "32,1,10\n")
    checks = submit_and_pass(world, dataset(world, csv))
    problems = " | ".join(checks["consistent"]["problems"])
    assert "row 2, column kode_kabupaten_kota" in problems and "required" in problems
    assert "row 2, column skala_usaha" in problems and "enum" in problems
    assert "row 2, column jumlah_umkm" in problems and "integer" in problems
    assert '"32" is a provinsi code, expected kabupaten_kota' in problems


def test_a_pdf_only_dataset_is_not_in_an_open_format(world):
    checks = submit_and_pass(world, dataset(world, "%PDF-1.4 laporan", fmt="PDF", filename="laporan.pdf"))
    assert not checks["open_format"]["passed"]
    assert "PDF" in checks["open_format"]["message"]


def test_missing_analysis_and_unreleased_links(world):
    keg = helpers.call_action("package_create", context={"user": factories.Sysadmin()["name"]},
                              **records.kegiatan(world["org"]["id"], name="kegiatan-belum-rilis"))
    pkg = dataset(world, GOOD_CSV, analisis="", kegiatan=[keg["id"]])
    checks = submit_and_pass(world, pkg)
    assert not checks["analysed"]["passed"]
    assert not checks["standard"]["passed"]
    assert checks["standard"]["problems"] == ['kegiatan: "kegiatan-belum-rilis" is not released yet']


@pytest.mark.parametrize("change", [{"bentuk_data": "BNBA"}, {"accessRights": "tertutup"},
                                    {"accessRights": "tertutup", "bentuk_data": "BNBA"}])
def test_confidential_data_is_never_released_even_with_a_justification(world, change):
    pkg = dataset(world, GOOD_CSV, **change)
    checks = submit_and_pass(world, pkg)
    assert not checks["not_confidential"]["passed"] and checks["not_confidential"]["blocking"]
    with pytest.raises(ValidationError) as err:
        _call(world["forum"], "umkm_release_approve", id=pkg["id"], justification="Penting sekali")
    assert "checks" in err.value.error_dict
    assert helpers.call_action("umkm_release_show", id=pkg["id"])["state"] == "checked"


def test_restricted_data_releases_its_metadata_only(world):
    """terbatas: the public learns the data exists; the rows stay behind the
    access gate (test_restricted_access)."""
    pkg = dataset(world, GOOD_CSV, accessRights="terbatas", bentuk_data="BNBA")
    checks = submit_and_pass(world, pkg)
    assert checks["not_confidential"]["passed"] and checks["disclosure"]["passed"]
    _call(world["forum"], "umkm_release_approve", id=pkg["id"])
    public = helpers.call_action("package_show", context={"user": "", "ignore_auth": False}, id=pkg["id"])
    assert public["umkm_access"]["access"] == "denied"
    assert [r["umkm_access"] for r in public["resources"]] == ["denied"]


def test_the_threshold_is_configurable(world):
    pkg = dataset(world, GOOD_CSV)
    with pytest.MonkeyPatch.context() as mp:
        from ckan.common import config

        mp.setitem(config, "ckanext.umkm.release.disclosure_threshold", "2000")
        checks = submit_and_pass(world, pkg)
    assert checks["disclosure"]["problems"] == ["umkm.csv, row 3, column jumlah_umkm: 1204 < 2000"]
