"""Metadata exchange: import templates, bulk import of variabel/indikator
rows into a kegiatan (atomic, every row's errors), and the INDAH export."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import jsonschema
import pytest
from ckan import model
from ckan.lib.search import query_for
from ckan.logic import NotAuthorized, ValidationError
from ckan.tests import factories
from ckan.tests.helpers import call_action
from ckanext.scheming.helpers import scheming_get_dataset_schema
from ckanext.umkm.metadata import bulk_import, import_templates
from ckanext.umkm.metadata import schema_columns as columns_module
from openpyxl import load_workbook

from . import metadata_records as records

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_portal_db", "clean_index", "reference_codes")

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "indah_envelope.schema.json")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- valid records ------------------------------------------------------------

def kegiatan_dict(owner_org: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "kegiatan",
        "name": "pendataan-umkm-kota-bandung-2024",
        "title": "Pendataan UMKM Kota Bandung 2024",
        "notes": "Pendataan UMKM di Kota Bandung.",
        "owner_org": owner_org,
        "tahun_kegiatan": 2024,
        "jenis_statistik": "STATISTIK_SEKTORAL",
        "cara_pengumpulan_data": "KOMPILASI_PRODUK_ADMINISTRASI",
        "sektor_kegiatan": "INDUSTRI_DAN_JASA",
        "i_instansi_penyelanggara": "Dinas Koperasi dan UMKM Kota Bandung",
        "i_alamat": "Jl. Kawaluyaan Indah Raya No. 4, Bandung",
        "i_email": "diskumkm@example.go.id",
        "ii_unit_eselon1": "Sekretariat Daerah",
        "ii_pj_nama": "Kepala Bidang Data",
        "ii_pj_jabatan": "Kepala Bidang",
        "iii_latar_belakang_kegiatan": "Kebutuhan data UMKM daerah.",
        "iii_tujuan_kegiatan": "Menyediakan jumlah UMKM per kecamatan.",
        "iii_rencana_jadwal_kegiatan": [
            {"tahap": "PERENCANAAN_KEGIATAN", "awal": "2024-01-02", "akhir": "2024-01-31"},
            {"tahap": "PENGUMPULAN_DATA", "awal": "2024-03-01", "akhir": "2024-06-30"},
        ],
        "iii_variabel_yang_dikumpulkan": [
            {"nama": "Skala usaha", "konsep": "Kriteria UMKM", "definisi": "Mikro, kecil, menengah",
             "referensi_waktu": "Tahun 2024"},
        ],
        "iv_kegiatan_ini_dilakukan": "BERULANG",
        "iv_frekuensi_penyelanggara": "TAHUNAN",
        "iv_tipe_pengumpulan_data": "CROSS_SECTIONAL",
        "iv_cakupan_wilayah_pengumpulan_data": "SEBAGIAN_WILAYAH_INDONESIA",
        "iv_sebagian_cakupan_wilayah": ["32", "32.73"],
        "iv_metode_pengumpulan_data": ["WAWANCARA", "LAINNYA"],
        "iv_metode_pengumpulan_lainnya": "Formulir daring",
        "iv_sarana_pengumpulan_data": ["CAWI"],
        "iv_unit_pengumpulan_data": ["USAHA_ATAU_PERUSAHAAN"],
        "vi_apakah_melakukan_uji_coba": False,
        "vi_metode_pemeriksaan_kualitas_pengumpulan_data": ["SUPERVISI"],
        "vi_apakah_melakukan_penyesuaian_nonrespon": False,
        "vii_tahapan_pengolahan_data": ["EDITING", "VALIDASI"],
        "vii_metode_analisis": "DESKRIPTIF",
        "vii_unit_analisis": ["USAHA_ATAU_PERUSAHAAN"],
        "vii_tingkat_penyajian_hasil_analisis": ["KABUPATEN_ATAU_KOTA", "KECAMATAN"],
        "viii_ketersediaan_produk_tercetak": False,
        "viii_ketersediaan_produk_digital": True,
        "viii_ketersediaan_produk_mikrodata": False,
        "viii_rencana_jadwal_rilis_produk_digital": "2024-12-20",
    }
    data.update(extra)
    return data


def variabel_dict(owner_org: str, kegiatan_id: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "variabel",
        "name": "skala-usaha",
        "title": "Skala Usaha",
        "owner_org": owner_org,
        "kegiatan": kegiatan_id,
        "alias": "skala_usaha",
        "konsep": "Kriteria UMKM",
        "notes": "Skala usaha menurut PP 7/2021.",
        "referensi_waktu": "Tahun 2024",
        "tipe_data": "CHARACTER",
        "value_domain": [{"kode": "1", "nilai": "Mikro"}, {"kode": "2", "nilai": "Kecil"}],
        "aturan_validasi": "HARUS TERISI\nSATU KODE",
        "apakah_variabel_bisa_diakses_umum": True,
    }
    data.update(extra)
    return data


def indikator_dict(owner_org: str, variabel_ids: list[str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "indikator",
        "name": "jumlah-umkm",
        "title": "Jumlah UMKM",
        "owner_org": owner_org,
        "konsep": "UMKM aktif",
        "notes": "Banyaknya UMKM aktif.",
        "interpretasi": "Makin besar makin banyak UMKM.",
        "metode_perhitungan": "Jumlah unit usaha.",
        "ukuran": "Jumlah",
        "satuan": "Unit usaha",
        "variabel_disaggregasi": [{"nama": "Wilayah", "sumber": "input-manual"}],
        "apakah_indikator_komposit": False,
        "variabel_pembangun": variabel_ids,
        "level_estimasi": ["PROVINSI"],
        "apakah_indikator_bisa_diakses_umum": True,
    }
    data.update(extra)
    return data


def variabel_row(i: int, **extra: str) -> dict[str, str]:
    """One spreadsheet row of a valid variabel, as text cells."""
    row = {
        "title": f"Variabel Nomor {i}",
        "alias": f"var_{i}",
        "konsep": "Konsep uji",
        "notes": f"Definisi variabel nomor {i}.",
        "referensi_waktu": "Tahun 2024",
        "tipe_data": "INTEGER" if i % 2 else "CHARACTER",
        "value_domain": "1=Ya; 2=Tidak",
        "apakah_variabel_bisa_diakses_umum": "Ya" if i % 3 else "tidak",
    }
    row.update(extra)
    return row


# --- fixtures and helpers -----------------------------------------------------

@pytest.fixture()
def org() -> dict[str, Any]:
    return factories.Organization(jenis_instansi="PEMERINTAH_KABUPATEN_KOTA", kode_wilayah="32.73")


@pytest.fixture()
def editor(org: dict[str, Any]) -> dict[str, Any]:
    user = factories.User(fullname="Editor Bandung")
    call_action("member_create", id=org["id"], object=user["name"], object_type="user", capacity="editor")
    return user


@pytest.fixture()
def admin() -> dict[str, Any]:
    return factories.Sysadmin()


def create(admin: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """package_create as a real user (the activity stream needs one), then
    released unless the record is meant to stay private."""
    private = data.pop("private", False)
    pkg = call_action("package_create", context={"user": admin["name"]}, **data)
    if not private:
        records.release(pkg["id"])
    return call_action("package_show", id=pkg["id"])


@pytest.fixture()
def keg(org: dict[str, Any], editor: dict[str, Any]) -> dict[str, Any]:
    pkg = call_action("package_create", context={"user": editor["name"], "ignore_auth": False},
                      **kegiatan_dict(org["id"]))
    records.release(pkg["id"])
    return call_action("package_show", id=pkg["id"])


def schema_columns(kind: str) -> list[str]:
    """The editable fields of the loaded schema, computed here independently."""
    schema = scheming_get_dataset_schema(kind)
    return [f["field_name"] for f in schema["dataset_fields"]
            if f["field_name"] not in ("owner_org", "kegiatan", "id", "private")
            and not ("form_snippet" in f and f["form_snippet"] is None)]


def xlsx_file(kind: str, rows: list[dict[str, Any]]) -> bytes:
    """The downloaded XLSX template, filled in as a user would."""
    wb = load_workbook(io.BytesIO(import_templates.build_template(kind, "xlsx")))
    sheet = wb.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in rows:
        sheet.append([row.get(name) for name in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_file(rows: list[dict[str, Any]], delimiter: str = ",", bom: bool = True,
             header: list[str] | None = None) -> bytes:
    header = header or list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def import_file(user: dict[str, Any] | None, keg: dict[str, Any], kind: str, filename: str,
                content: bytes) -> dict[str, Any]:
    context = {"user": user["name"] if user else "", "ignore_auth": False}
    return call_action("umkm_metadata_import", context=context, id=keg["name"], kind=kind,
                       upload=_Upload(filename, content))


class _Upload:
    """What the API hands an action for a multipart file field."""

    def __init__(self, filename: str, content: bytes) -> None:
        self.filename = filename
        self.stream = io.BytesIO(content)

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)


def counts(kind: str) -> tuple[int, int]:
    """Records of a type in the database and in the search index."""
    in_db = model.Session.query(model.Package).filter(model.Package.type == kind).count()
    in_index = query_for(model.Package).run(
        {"q": "*:*", "fq": f"+dataset_type:{kind}", "rows": 0}, permission_labels=None)["count"]
    return in_db, in_index


def row_errors(exc: pytest.ExceptionInfo) -> dict[tuple[int, str], list[str]]:
    return {(e["row"], e["column"]): e["messages"] for e in exc.value.error_dict["rows"]}


@pytest.fixture(scope="module")
def envelope_schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate(envelope: dict[str, Any], schema: dict[str, Any], kind: str) -> None:
    ref = {"kegiatan": "ms_keg", "variabel": "ms_var", "indikator": "ms_ind"}[kind]
    jsonschema.Draft202012Validator(schema).validate(envelope)
    jsonschema.Draft202012Validator({**schema, "oneOf": [{"$ref": f"#/$defs/{ref}"}]}).validate(envelope)


# --- templates ------------------------------------------------------------------

class TestTemplates:
    @pytest.mark.parametrize("kind", ["variabel", "indikator"])
    def test_csv_header_is_the_schema_editable_fields(self, kind: str) -> None:
        content = import_templates.build_template(kind, "csv")
        assert content.startswith("\ufeff".encode())
        header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert header == schema_columns(kind)
        assert "owner_org" not in header and "kegiatan" not in header
        assert {"title", "name", "notes"} <= set(header)

    @pytest.mark.parametrize("kind", ["variabel", "indikator"])
    def test_xlsx_has_the_header_only_and_a_petunjuk_sheet(self, kind: str) -> None:
        wb = load_workbook(io.BytesIO(import_templates.build_template(kind, "xlsx")))
        data = wb.worksheets[0]
        assert [c.value for c in data[1]] == schema_columns(kind)
        assert data.max_row == 1  # the example row is in Petunjuk, not here
        guide = wb["Petunjuk"]
        rows = [[c.value for c in row] for row in guide.iter_rows()]
        start = next(i for i, row in enumerate(rows) if row[0] == "Kolom")
        listed = {row[0]: row for row in rows[start + 1:start + 1 + len(schema_columns(kind))]}
        assert list(listed) == schema_columns(kind)
        schema = scheming_get_dataset_schema(kind)
        for field in schema["dataset_fields"]:
            if field["field_name"] in listed:
                label = field["label"]["id"] if isinstance(field["label"], dict) else field["label"]
                assert listed[field["field_name"]][1] == label
                assert listed[field["field_name"]][2].startswith(("Ya", "Tidak"))
        # The example row repeats the header and fills it.
        example_header = [i for i, row in enumerate(rows) if row[:len(schema_columns(kind))] == schema_columns(kind)]
        assert len(example_header) == 1
        example = rows[example_header[0] + 1]
        assert example[0]

    def test_xlsx_choices_are_listed_and_offered_as_dropdowns(self) -> None:
        wb = load_workbook(io.BytesIO(import_templates.build_template("variabel", "xlsx")))
        rows = list(wb["Petunjuk"].iter_rows())
        start = next(i for i, row in enumerate(rows) if row[0].value == "Kolom")
        guide = {row[0].value: row for row in rows[start + 1:] if row[0].value}
        allowed = guide["tipe_data"][4].value
        for value in ("CHARACTER", "INTEGER", "DECIMAL", "DATE", "BOOLEAN"):
            assert value in allowed
        assert "Ya / Tidak" in guide["apakah_variabel_bisa_diakses_umum"][4].value
        assert "kode=nilai" in guide["value_domain"][4].value
        data = wb.worksheets[0]
        header = [c.value for c in data[1]]
        letter = chr(ord("A") + header.index("tipe_data"))
        validations = data.data_validations.dataValidation
        assert any(letter + "2" in str(v.sqref) and v.type == "list" for v in validations)

    def test_unknown_kind_or_format(self) -> None:
        with pytest.raises(ValidationError):
            import_templates.build_template("dataset", "csv")
        with pytest.raises(ValidationError):
            import_templates.build_template("variabel", "ods")

    def test_template_download_and_action(self, app, keg: dict[str, Any]) -> None:
        res = app.get(f"/kegiatan/{keg['name']}/template/variabel.xlsx")
        assert res.status_code == 200
        assert res.headers["Content-Type"].startswith(XLSX)
        assert "attachment" in res.headers["Content-Disposition"]
        assert f"template-variabel-{keg['name']}.xlsx" in res.headers["Content-Disposition"]
        load_workbook(io.BytesIO(res.data))
        res = app.get(f"/kegiatan/{keg['name']}/template/indikator.csv")
        assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/csv")
        assert res.data.decode("utf-8-sig").splitlines()[0].split(",") == schema_columns("indikator")
        result = call_action("umkm_metadata_template", context={"user": "", "ignore_auth": False},
                             kind="indikator", format="csv")
        assert result["filename"] == "template-indikator.csv"


# --- import ------------------------------------------------------------------------

class TestImport:
    def test_fifty_variables_from_the_xlsx_template(self, keg: dict[str, Any], editor: dict[str, Any]) -> None:
        rows = [variabel_row(i) for i in range(1, 51)]
        rows.insert(10, {})  # a blank row is skipped
        result = import_file(editor, keg, "variabel", "variabel.xlsx", xlsx_file("variabel", rows))
        assert result["count"] == 50
        assert counts("variabel") == (50, 50)
        found = call_action("package_search", context={"user": editor["name"]},
                            fq=f'+dataset_type:variabel +kegiatan:"{keg["id"]}"', rows=100,
                            include_private=True)
        assert found["count"] == 50
        first = call_action("package_show", id=result["created"][0]["id"])
        assert first["kegiatan"] == keg["id"]
        assert first["owner_org"] == keg["owner_org"]
        assert first["name"] == f"variabel-nomor-1-{keg['name']}"
        assert first["value_domain"] == [{"kode": "1", "nilai": "Ya"}, {"kode": "2", "nilai": "Tidak"}]
        assert first["apakah_variabel_bisa_diakses_umum"] is True
        third = call_action("package_show", id=result["created"][2]["id"])
        assert third["apakah_variabel_bisa_diakses_umum"] is False  # "tidak"

    def test_csv_with_semicolons_labels_and_generated_unique_names(
            self, keg: dict[str, Any], editor: dict[str, Any], org: dict[str, Any], admin: dict[str, Any]) -> None:
        create(admin, variabel_dict(org["id"], keg["id"],
                                                      name=f"kode-wilayah-{keg['name']}"))
        rows = [
            variabel_row(1, title="Kode Wilayah", tipe_data="character", value_domain="",
                         value_domain_reference="wilayah", value_domain_reference_level="kabupaten_kota"),
            variabel_row(2, title="Kode Wilayah", apakah_variabel_bisa_diakses_umum="TRUE",
                         value_domain=">=1=Bilangan bulat positif; 0 = Tidak ada"),
            variabel_row(3, name="nama-sendiri", apakah_variabel_bisa_diakses_umum="0"),
        ]
        result = import_file(editor, keg, "variabel", "v.csv", csv_file(rows, delimiter=";", bom=False))
        names = [c["name"] for c in result["created"]]
        assert names == [f"kode-wilayah-{keg['name']}-2", f"kode-wilayah-{keg['name']}-3", "nama-sendiri"]
        first = call_action("package_show", id=names[0])
        assert first["tipe_data"] == "CHARACTER"
        assert first["value_domain_reference"] == "wilayah"
        second = call_action("package_show", id=names[1])
        assert second["value_domain"] == [{"kode": ">=1", "nilai": "Bilangan bulat positif"},
                                          {"kode": "0", "nilai": "Tidak ada"}]
        assert call_action("package_show", id="nama-sendiri")["apakah_variabel_bisa_diakses_umum"] is False

    def test_errors_of_every_row_and_nothing_saved(self, keg: dict[str, Any], editor: dict[str, Any]) -> None:
        rows = [
            variabel_row(1),
            variabel_row(2, title=""),                                      # row 3: required
            variabel_row(3),
            variabel_row(4, tipe_data="TEKS"),                              # row 5: unknown enum
            variabel_row(5, apakah_variabel_bisa_diakses_umum="mungkin"),   # row 6: not yes/no
            variabel_row(6, value_domain=""),                               # row 7: no value domain
            variabel_row(7, value_domain="", value_domain_reference="wilayah",
                         value_domain_reference_level="kelurahan"),         # row 8: unknown level
        ]
        before = counts("variabel")
        with pytest.raises(ValidationError) as exc:
            import_file(editor, keg, "variabel", "v.csv", csv_file(rows))
        errors = row_errors(exc)
        assert (3, "title") in errors
        assert "TEKS" in " ".join(errors[(5, "tipe_data")])
        assert (6, "apakah_variabel_bisa_diakses_umum") in errors
        assert (7, "value_domain") in errors
        assert (8, "value_domain_reference_level") in errors
        assert not {r for r, _c in errors} & {2, 4}
        labels = {e["column"]: e["label"] for e in exc.value.error_dict["rows"]}
        assert labels["title"] == columns_module.field_labels("variabel")["title"]
        assert counts("variabel") == before
        # The search index holds nothing of the rows that passed either.
        assert call_action("package_search", q="Variabel Nomor", fq="+dataset_type:variabel")["count"] == 0

    def test_unknown_and_duplicate_columns(self, keg: dict[str, Any], editor: dict[str, Any]) -> None:
        header = ["title", "warna", *[k for k in variabel_row(1) if k != "title"], "title"]
        with pytest.raises(ValidationError) as exc:
            import_file(editor, keg, "variabel", "v.csv", csv_file([variabel_row(1)], header=header))
        errors = row_errors(exc)
        assert (1, "warna") in errors and (1, "title") in errors
        assert counts("variabel") == (0, 0)

    @pytest.mark.parametrize(("filename", "content", "word"), [
        ("v.csv", b"", "empty"),
        ("v.csv", b"title,notes\r\n", "no data rows"),
        ("v.xlsx", b"PK\x03\x04 not really a workbook", "XLSX"),
        ("v.pdf", b"%PDF-1.4", ".csv or .xlsx"),
        ("v.csv", "title\r\nSkala\xe9".encode("latin-1"), "UTF-8"),
    ])
    def test_unreadable_files(self, keg: dict[str, Any], editor: dict[str, Any], filename: str,
                              content: bytes, word: str) -> None:
        with pytest.raises(ValidationError) as exc:
            import_file(editor, keg, "variabel", filename, content)
        assert word in " ".join(exc.value.error_dict["file"])

    def test_limits_of_rows_and_size(self, keg: dict[str, Any], editor: dict[str, Any]) -> None:
        too_many = csv_file([{"title": f"v{i}"} for i in range(bulk_import.MAX_ROWS + 1)])
        with pytest.raises(ValidationError) as exc:
            import_file(editor, keg, "variabel", "v.csv", too_many)
        assert "1000" in " ".join(exc.value.error_dict["file"])
        too_big = b"title\r\n" + b"x" * (bulk_import.MAX_BYTES + 1)
        with pytest.raises(ValidationError) as exc:
            import_file(editor, keg, "variabel", "v.csv", too_big)
        assert "5 MB" in " ".join(exc.value.error_dict["file"])
        assert counts("variabel") == (0, 0)

    def test_indicators_naming_existing_variables(self, keg: dict[str, Any], editor: dict[str, Any],
                                                  org: dict[str, Any], admin: dict[str, Any]) -> None:
        var = create(admin, variabel_dict(org["id"], keg["id"]))
        other = create(admin, variabel_dict(org["id"], keg["id"], name="tenaga-kerja",
                                                              title="Tenaga Kerja"))
        rows = [{
            "title": "Persentase Usaha Mikro", "konsep": "Struktur UMKM", "notes": "Persentase usaha mikro.",
            "interpretasi": "Tinggi berarti dominan mikro.", "metode_perhitungan": "Mikro / UMKM x 100",
            "ukuran": "Persentase", "satuan": "Persen",
            "variabel_disaggregasi": "Wilayah=input-manual; Skala usaha=input-manual",
            "apakah_indikator_komposit": "Tidak", "variabel_pembangun": f"{var['name']}; {other['id']}",
            "level_estimasi": "Nasional; PROVINSI", "apakah_indikator_bisa_diakses_umum": "ya",
        }]
        result = import_file(editor, keg, "indikator", "i.xlsx", xlsx_file("indikator", rows))
        ind = call_action("package_show", id=result["created"][0]["id"])
        assert ind["variabel_pembangun"] == [var["id"], other["id"]]
        assert ind["kegiatan_penghasil"] == [keg["id"]]
        assert ind["level_estimasi"] == ["NASIONAL", "PROVINSI"]
        assert ind["variabel_disaggregasi"] == [{"nama": "Wilayah", "sumber": "input-manual"},
                                                {"nama": "Skala usaha", "sumber": "input-manual"}]
        # A variable that does not exist is an error of that cell.
        rows[0]["variabel_pembangun"] = "tidak-ada"
        with pytest.raises(ValidationError) as exc:
            import_file(editor, keg, "indikator", "i.xlsx", xlsx_file("indikator", rows))
        assert (2, "variabel_pembangun") in row_errors(exc)
        assert counts("indikator") == (1, 1)


# --- who may import ----------------------------------------------------------------

class TestImportAuth:
    def test_anonymous_and_other_agency_cannot_import(self, keg: dict[str, Any]) -> None:
        content = csv_file([variabel_row(1)])
        with pytest.raises(NotAuthorized):
            import_file(None, keg, "variabel", "v.csv", content)
        outsider = factories.User()
        other_org = factories.Organization(jenis_instansi="PEMERINTAH_PROVINSI", kode_wilayah="31")
        call_action("member_create", id=other_org["id"], object=outsider["name"], object_type="user",
                    capacity="admin")
        with pytest.raises(NotAuthorized):
            import_file(outsider, keg, "variabel", "v.csv", content)
        assert counts("variabel") == (0, 0)

    def test_http_403_for_outsiders_and_import_for_editors(self, app, keg: dict[str, Any],
                                                          editor: dict[str, Any]) -> None:
        outsider = factories.User()
        outsider_token = factories.APIToken(user=outsider["name"])["token"]
        editor_token = factories.APIToken(user=editor["name"])["token"]
        api = "/api/3/action/umkm_metadata_import"

        def upload() -> dict[str, Any]:
            return {"id": keg["name"], "kind": "variabel",
                    "upload": (io.BytesIO(csv_file([variabel_row(1)])), "v.csv")}

        assert app.post(api, data=upload(), content_type="multipart/form-data").status_code == 403
        res = app.post(api, data=upload(), content_type="multipart/form-data",
                       headers={"Authorization": outsider_token})
        assert res.status_code == 403
        page = f"/kegiatan/{keg['name']}/import/variabel"
        assert app.get(page, headers={"Authorization": outsider_token}).status_code == 403
        assert app.get(page).status_code == 403

        res = app.post(api, data=upload(), content_type="multipart/form-data",
                       headers={"Authorization": editor_token})
        assert res.status_code == 200, res.data
        assert res.json["result"]["count"] == 1
        assert counts("variabel") == (1, 1)

    def test_import_page_shows_errors_then_imports(self, app, keg: dict[str, Any],
                                                   editor: dict[str, Any]) -> None:
        token = factories.APIToken(user=editor["name"])["token"]
        page = f"/kegiatan/{keg['name']}/import/variabel"
        res = app.get(page, headers={"Authorization": token})
        assert res.status_code == 200
        assert 'name="upload"' in res.body and f"/kegiatan/{keg['name']}/template/variabel.xlsx" in res.body

        bad = csv_file([variabel_row(1), variabel_row(2, tipe_data="TEKS")])
        res = app.post(page, data={"upload": (io.BytesIO(bad), "v.csv")}, headers={"Authorization": token},
                       content_type="multipart/form-data")
        assert res.status_code == 400
        assert 'data-row="3" data-column="tipe_data"' in res.body
        assert counts("variabel") == (0, 0)

        good = csv_file([variabel_row(1), variabel_row(2)])
        res = app.post(page, data={"upload": (io.BytesIO(good), "v.csv")}, headers={"Authorization": token},
                       content_type="multipart/form-data", follow_redirects=False)
        assert res.status_code == 302
        assert res.headers["Location"].endswith(f"/kegiatan/{keg['name']}")
        assert counts("variabel") == (2, 2)

    def test_panel_on_the_kegiatan_page(self, app, keg: dict[str, Any], editor: dict[str, Any]) -> None:
        token = factories.APIToken(user=editor["name"])["token"]
        body = app.get(f"/kegiatan/{keg['name']}", headers={"Authorization": token}).body
        assert f"/kegiatan/{keg['name']}/import/indikator" in body
        assert f"/kegiatan/{keg['name']}/template/variabel.csv" in body
        assert f"/kegiatan/{keg['name']}/export.json" in body
        anonymous = app.get(f"/kegiatan/{keg['name']}").body
        assert f"/kegiatan/{keg['name']}/template/variabel.csv" in anonymous
        assert "/import/" not in anonymous


# --- INDAH export -------------------------------------------------------------------

@pytest.fixture()
def family(keg: dict[str, Any], org: dict[str, Any], admin: dict[str, Any]) -> dict[str, Any]:
    """A kegiatan with a public and a private variable and two indicators."""
    var = create(admin, variabel_dict(org["id"], keg["id"]))
    wil = create(admin, variabel_dict(
        org["id"], keg["id"], name="kode-wilayah", title="Kode Wilayah", value_domain=[],
        value_domain_reference="wilayah", value_domain_reference_level="kabupaten_kota"))
    hidden = create(admin, variabel_dict(
        org["id"], keg["id"], name="omzet", title="Omzet", private=True))
    ind = create(admin, indikator_dict(org["id"], [var["id"], wil["id"]]))
    comp = create(admin, indikator_dict(
        org["id"], [], name="indeks-umkm", title="Indeks UMKM", apakah_indikator_komposit=True,
        indikator_pembangun=[ind["id"]], kegiatan_penghasil=[keg["id"]]))
    return {"kegiatan": keg, "var": var, "wil": wil, "hidden": hidden, "ind": ind, "comp": comp}


class TestIndahExport:
    def test_kegiatan_envelope(self, family: dict[str, Any], envelope_schema: dict[str, Any],
                               editor: dict[str, Any]) -> None:
        keg = family["kegiatan"]
        env = call_action("umkm_indah_export", context={"user": editor["name"]}, id=keg["name"])
        validate(env, envelope_schema, "kegiatan")
        assert env["base_id"] == keg["id"] and env["submission_period"] == 2024
        assert env["status"] == "APPROVED" and env["version"] == "v2" and "ms_keg_id" not in env
        data = env["data"]
        assert data["judul_kegiatan"] == keg["title"]
        assert data["blok_i"]["instansi_penyelanggara"] == keg["i_instansi_penyelanggara"]
        assert data["blok_i"]["alamat_instansi_penyelenggara"]["alamat"] == keg["i_alamat"]
        schedule = data["blok_iii"]["rencana_jadwal_kegiatan"]
        assert schedule["pengumpulan_data"] == [{"awal": "2024-03-01", "akhir": "2024-06-30"}]
        assert schedule["evaluasi"] == []
        assert data["blok_iv"]["frekuensi_penyelanggara"] == "TAHUNAN"
        assert data["blok_iv"]["metode_pengumpulan_data"] == {
            "wawancara": True, "mengisi_kuesioner_sendiri": False, "pengamatan": False,
            "pengumpulan_data_sekunder": False, "lainnya": True, "metode_pengumpulan_lainnya": "Formulir daring"}
        coverage = data["blok_iv"]["sebagian_cakupan_wilayah_pengumpulan_data"]
        assert [(c["kode_provinsi"], c["kode_kabupaten_kota"]) for c in coverage] == [("32", None), ("32", "3273")]
        assert "jawa barat" in coverage[0]["nama_provinsi"].lower()
        assert "bandung" in coverage[1]["nama_kabupaten_kota"].lower()
        assert data["blok_vii"]["unit_analsis"]["usaha_atau_perusahaan"] is True
        assert data["blok_vii"]["tahapan_pengolahan_data"] == {
            "editing": True, "coding": False, "data_entry": False, "validasi": True}
        assert data["blok_viii"]["rencana_jadwal_rilis_produk_digital"] == ["2024-12-20"]
        assert env["submitter"]["username"] == editor["name"]
        assert env["submitter"]["email"] == editor["email"]
        assert env["produsen_data"] == {"id": keg["owner_org"], "name": env["produsen_data"]["name"],
                                        "province_code": "32", "city_code": "3273"}
        assert "bandung" in env["submitter"]["organization"]["city"]["name"].lower()
        # Anyone may export a public record, but only editors see the e-mail.
        anonymous = {"user": "", "ignore_auth": False}
        assert call_action("umkm_indah_export", context=anonymous, id=keg["name"])["submitter"]["email"] is None

    def test_variabel_and_indikator_envelopes(self, family: dict[str, Any],
                                              envelope_schema: dict[str, Any]) -> None:
        keg = family["kegiatan"]
        var = call_action("umkm_indah_export", id=family["var"]["id"])
        validate(var, envelope_schema, "variabel")
        assert var["ms_keg_id"] == keg["id"] and var["submission_period"] == 2024
        assert var["data"]["nama"] == "Skala Usaha"
        assert var["data"]["konsep"] == ["Kriteria UMKM"]
        assert var["data"]["aturan_validasi"] == ["HARUS TERISI", "SATU KODE"]
        assert var["data"]["value_domain"] == [{"kode": "1", "nilai": "Mikro"}, {"kode": "2", "nilai": "Kecil"}]
        assert var["data"]["referensi_pemilihan"] == ["-"] and var["data"]["kalimat_pertanyaan"] == "-"
        wil = call_action("umkm_indah_export", id=family["wil"]["id"])
        validate(wil, envelope_schema, "variabel")
        assert wil["data"]["value_domain"][0]["kode"] == "WILAYAH"
        hidden = call_action("umkm_indah_export", id=family["hidden"]["id"])
        assert hidden["status"] == "DRAFT"

        ind = call_action("umkm_indah_export", id=family["ind"]["id"])
        validate(ind, envelope_schema, "indikator")
        assert ind["ms_keg_id"] == keg["id"]
        assert ind["data"]["variabel_pembangun"] == [
            {"nama": "Skala Usaha", "kegiatan_penghasil": [keg["title"]]},
            {"nama": "Kode Wilayah", "kegiatan_penghasil": [keg["title"]]}]
        assert ind["data"]["variabel_disaggregasi"] == [{"nama": "Wilayah", "sumber": "input-manual"}]
        assert ind["data"]["level_estimasi"]
        comp = call_action("umkm_indah_export", id=family["comp"]["id"])
        validate(comp, envelope_schema, "indikator")
        assert comp["data"]["apakah_indikator_komposit"] is True
        assert [c["nama"] for c in comp["data"]["indikator_pembangun"]] == ["Jumlah UMKM"]

    def test_bps_kegiatan_id_is_the_parent_id_when_known(self, family: dict[str, Any],
                                                         admin: dict[str, Any]) -> None:
        fields = {f["field_name"] for f in scheming_get_dataset_schema("kegiatan")["dataset_fields"]}
        if "id_kegiatan" not in fields:
            pytest.skip("the kegiatan schema has no id_kegiatan field")
        call_action("package_patch", context={"user": admin["name"]}, id=family["kegiatan"]["id"],
                    id_kegiatan="12345")
        assert call_action("umkm_indah_export", id=family["var"]["id"])["ms_keg_id"] == "12345"

    def test_bundle_leaves_out_what_the_user_cannot_see(self, family: dict[str, Any], editor: dict[str, Any],
                                                        envelope_schema: dict[str, Any]) -> None:
        keg = family["kegiatan"]
        bundle = call_action("umkm_kegiatan_export", context={"user": editor["name"]}, id=keg["name"])
        assert set(bundle) == {"kegiatan", "variabel", "indikator"}
        assert sorted(v["data"]["nama"] for v in bundle["variabel"]) == ["Kode Wilayah", "Omzet", "Skala Usaha"]
        assert sorted(i["data"]["nama"] for i in bundle["indikator"]) == ["Indeks UMKM", "Jumlah UMKM"]
        for kind in ("variabel", "indikator"):
            for env in bundle[kind]:
                validate(env, envelope_schema, kind)
                assert env["ms_keg_id"] == keg["id"]
        validate(bundle["kegiatan"], envelope_schema, "kegiatan")

        public = call_action("umkm_kegiatan_export", context={"user": "", "ignore_auth": False}, id=keg["name"])
        assert sorted(v["data"]["nama"] for v in public["variabel"]) == ["Kode Wilayah", "Skala Usaha"]

    def test_export_downloads_over_http(self, app, family: dict[str, Any]) -> None:
        keg = family["kegiatan"]
        res = app.get(f"/kegiatan/{keg['name']}/export.json")
        assert res.status_code == 200
        assert res.headers["Content-Type"].startswith("application/json")
        assert "attachment" in res.headers["Content-Disposition"]
        assert len(json.loads(res.data)["variabel"]) == 2
        res = app.get(f"/variabel/{family['var']['name']}/indah.json")
        assert res.status_code == 200 and json.loads(res.data)["ms_keg_id"] == keg["id"]
        assert app.get(f"/indikator/{family['ind']['name']}/indah.json").status_code == 200
        assert app.get(f"/kegiatan/{keg['name']}/indah.json").status_code == 200
        assert app.get(f"/variabel/{family['hidden']['name']}/indah.json").status_code in (403, 404)
        assert app.get(f"/indikator/{family['var']['name']}/indah.json").status_code == 404

    def test_private_record_is_not_exported_to_outsiders(self, family: dict[str, Any]) -> None:
        outsider = factories.User()
        with pytest.raises(NotAuthorized):
            call_action("umkm_indah_export", context={"user": outsider["name"], "ignore_auth": False},
                        id=family["hidden"]["id"])
