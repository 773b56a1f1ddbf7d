"""Reference code lists: loading, lookups, the API actions and the CLI."""

from __future__ import annotations

import csv
import os
import shutil

import pytest
from ckan.tests import helpers
from ckanext.umkm.metadata import reference_codes as rc

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_portal_db", "reference_codes")

SHIPPED_WILAYAH = os.path.join(rc.REFERENCE_DIR, "wilayah-kemendagri-2025")


def test_shipped_editions_are_complete():
    assert rc.counts("wilayah") == {"provinsi": 38, "kabupaten_kota": 514, "kecamatan": 7285,
                                    "desa_kelurahan": 83762}
    kbli = rc.counts("kbli")
    assert kbli["kategori"] == 21
    assert kbli["golongan_pokok"] == 87
    assert kbli["kelompok"] > 1700


@pytest.mark.parametrize(("scheme", "raw", "code", "level"), [
    ("wilayah", "32", "32", "provinsi"),
    ("wilayah", "3273", "32.73", "kabupaten_kota"),
    ("wilayah", " 32.73.01 ", "32.73.01", "kecamatan"),
    ("wilayah", "3273011001", "32.73.01.1001", "desa_kelurahan"),
    ("kbli", "c", "C", "kategori"),
    ("kbli", "47", "47", "golongan_pokok"),
    ("kbli", "47111", "47111", "kelompok"),
])
def test_normalize_and_level(scheme, raw, code, level):
    assert rc.normalize(scheme, raw) == code
    assert rc.level_of(scheme, code) == level


@pytest.mark.parametrize(("scheme", "code"), [
    ("wilayah", "3"), ("wilayah", "32.7"), ("wilayah", "32-73"), ("wilayah", "abc"),
    ("kbli", "Z"), ("kbli", "471111"), ("kbli", "4a"),
])
def test_malformed_codes_have_no_level(scheme, code):
    assert rc.level_of(scheme, code) is None


def test_ancestors_root_first():
    chain = rc.ancestors("kbli", "47111")
    assert [c.code for c in chain] == ["G", "47", "471", "4711", "47111"]
    assert [c.level for c in chain] == list(rc.LEVELS["kbli"])
    chain = rc.ancestors("wilayah", "32.73.01")
    assert [c.code for c in chain] == ["32", "32.73", "32.73.01"]
    assert chain[1].name == "Kota Bandung"
    assert rc.ancestors("wilayah", "99.99") == []


def test_search_by_code_and_by_name():
    by_code = rc.search("wilayah", "32.73", limit=5)
    assert by_code[0].code == "32.73"
    assert all(c.code.startswith("32.73") for c in by_code)
    by_name = rc.search("wilayah", "kota bandung", level="kabupaten_kota")
    assert [c.code for c in by_name] == ["32.73"]
    within = rc.search("wilayah", "", level="kecamatan", parent="32.73", limit=100)
    assert within and all(c.parent == "32.73" for c in within)
    assert rc.search("kbli", "perdagangan eceran", level="golongan_pokok")[0].code == "47"
    # LIKE wildcards in the query are plain characters.
    assert rc.search("wilayah", "%") == []


def test_autocomplete_action_and_bad_input():
    result = helpers.call_action("umkm_reference_autocomplete", scheme="wilayah", q="sukajadi",
                                 level="kecamatan")
    by_code = {r["code"]: r for r in result}
    assert set(by_code) == {"14.71.01", "32.73.07"}
    assert by_code["32.73.07"]["context"] == "Kota Bandung, Jawa Barat"
    assert by_code["14.71.01"]["context"] == "Kota Pekanbaru, Riau"
    assert by_code["32.73.07"]["label"] == "32.73.07 — Sukajadi"
    for bad, field in (({"scheme": "nope"}, "scheme"), ({"scheme": "kbli", "level": "desa"}, "level"),
                       ({"scheme": "kbli", "limit": 1000}, "limit"),
                       ({"scheme": "kbli", "limit": "x"}, "limit")):
        with pytest.raises(helpers.logic.ValidationError) as e:
            helpers.call_action("umkm_reference_autocomplete", **bad)
        assert field in e.value.error_dict


def test_show_and_edition_list_are_public():
    context = {"user": "", "ignore_auth": False}
    shown = helpers.call_action("umkm_reference_show", context=context, scheme="wilayah", code="3273")
    assert shown["name"] == "Kota Bandung"
    assert [a["code"] for a in shown["ancestors"]] == ["32"]
    assert len(shown["children"]) == 30
    with pytest.raises(helpers.logic.NotFound):
        helpers.call_action("umkm_reference_show", context=context, scheme="wilayah", code="99.99")
    editions = helpers.call_action("umkm_reference_edition_list", context=context)
    current = {e["scheme"]: e for e in editions if e["current"]}
    assert current["wilayah"]["levels"]["desa_kelurahan"] == 83762
    assert current["kbli"]["edition"].startswith("KBLI 2020")


def test_autocomplete_over_http(app):
    res = app.get("/api/umkm/reference/autocomplete",
                  query_string={"scheme": "kbli", "q": "4711", "levels": "kelompok"})
    assert res.status_code == 200
    items = res.json["ResultSet"]["Result"]
    assert items[0]["code"] == "47111"
    assert app.get("/api/umkm/reference/autocomplete", query_string={"scheme": "x"}).status_code == 400


def _copy_wilayah(tmp_path) -> str:
    target = tmp_path / "wilayah"
    shutil.copytree(SHIPPED_WILAYAH, target)
    return str(target)


def test_newer_edition_replaces_the_list_and_is_idempotent(tmp_path):
    directory = _copy_wilayah(tmp_path)
    with open(os.path.join(directory, "regencies.csv"), "a", newline="") as f:
        csv.writer(f).writerow(["32.80", "32", "Kabupaten Contoh Baru"])
    try:
        result = rc.load("wilayah", directory, "Kepmendagri (uji) 2026")
        assert result["loaded"] and result["added"] == 1 and result["removed"] == 0
        assert rc.get("wilayah", "32.80").name == "Kabupaten Contoh Baru"
        assert rc.editions("wilayah")[0]["edition"] == "Kepmendagri (uji) 2026"
        again = rc.load("wilayah", directory, "Kepmendagri (uji) 2026")
        assert not again["loaded"]
    finally:
        rc.load("wilayah", force=True)
    assert rc.get("wilayah", "32.80") is None


def test_inconsistent_edition_is_refused_and_nothing_changes(tmp_path):
    directory = _copy_wilayah(tmp_path)
    with open(os.path.join(directory, "districts.csv"), "a", newline="") as f:
        csv.writer(f).writerow(["32.99.01", "32.99", "Kecamatan Tanpa Induk"])
        csv.writer(f).writerow(["32.73.1", "32.73", "Kode Rusak"])
    before = rc.editions("wilayah")[0]
    with pytest.raises(rc.ReferenceLoadError) as e:
        rc.load("wilayah", directory, "rusak")
    assert any("32.99.01" in m for m in e.value.errors)
    assert any("32.73.1" in m for m in e.value.errors)
    assert rc.editions("wilayah")[0] == before
    assert rc.counts("wilayah")["kecamatan"] == 7285


def test_cli_load_and_status(cli, ckan_config, tmp_path):
    from ckanext.umkm.cli import umkm

    status = cli.invoke(umkm, ["reference", "status"])
    assert status.exit_code == 0, status.output
    assert "desa_kelurahan 83762" in status.output
    again = cli.invoke(umkm, ["reference", "load", "--scheme", "kbli"])
    assert again.exit_code == 0 and "already loaded" in again.output
    directory = _copy_wilayah(tmp_path)
    os.remove(os.path.join(directory, "villages.csv"))
    bad = cli.invoke(umkm, ["reference", "load", "--scheme", "wilayah", "--dir", directory,
                            "--edition", "x"])
    assert bad.exit_code != 0 and "nothing loaded" in bad.output
    assert cli.invoke(umkm, ["reference", "load", "--dir", directory]).exit_code != 0
