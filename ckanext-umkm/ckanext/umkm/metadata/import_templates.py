"""Import templates of variabel and indikator records (MS-Var, MS-Ind): one
row per record, the columns of ``schema_columns``, as CSV or as an XLSX
workbook with instructions, dropdowns and an example row.

The template is an Indonesian document whatever the UI language, like the
paper forms of Perban 5/2020; hence the literal Indonesian texts below.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.metadata.bulk_import import MAX_ROWS
from ckanext.umkm.metadata.schema_columns import Column, columns_for, schema_text

_ = tk._

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
YES_TEXT, NO_TEXT = "Ya", "Tidak"
DATA_SHEET_ROWS = MAX_ROWS + 1
INSTRUCTIONS_SHEET = "Petunjuk"
CHOICES_SHEET = "Pilihan"


EXAMPLES: dict[str, dict[str, str]] = {
    "variabel": {
        "title": "Skala Usaha",
        "alias": "skala_usaha",
        "konsep": "Kriteria usaha mikro, kecil dan menengah",
        "notes": "Skala usaha menurut modal usaha di luar tanah dan bangunan (PP 7/2021).",
        "referensi_pemilihan": "Usaha yang aktif pada periode pendataan",
        "referensi_waktu": "Tahun 2024",
        "tipe_data": "CHARACTER",
        "value_domain": "1=Usaha mikro; 2=Usaha kecil; 3=Usaha menengah",
        "aturan_validasi": "HARUS TERISI",
        "kalimat_pertanyaan": "Termasuk skala usaha apakah usaha ini?",
    },
    "indikator": {
        "title": "Persentase Usaha Mikro",
        "konsep": "Struktur UMKM menurut skala usaha",
        "notes": "Persentase usaha mikro terhadap seluruh UMKM.",
        "interpretasi": "Nilai yang tinggi menunjukkan UMKM didominasi usaha mikro.",
        "metode_perhitungan": "Jumlah usaha mikro dibagi jumlah UMKM, dikali 100.",
        "rumus": r"\frac{UMi}{UMKM} \times 100",
        "ukuran": "Persentase",
        "satuan": "Persen",
        "variabel_disaggregasi": "Wilayah=input-manual; Skala usaha=input-manual",
        "apakah_indikator_komposit": "Tidak",
        "variabel_pembangun": "skala-usaha-pendataan-umkm-2024",
        "level_estimasi": "NASIONAL; PROVINSI",
    },
}

KIND_TITLES = {"variabel": "Metadata Statistik Variabel (MS-Var)",
               "indikator": "Metadata Statistik Indikator (MS-Ind)"}


def _example(kind: str, column: Column) -> str:
    if column.name in EXAMPLES.get(kind, {}):
        return EXAMPLES[kind][column.name]
    if column.kind == "yes_no":
        return YES_TEXT
    if column.kind == "choice" and column.choices and column.required:
        return str(column.choices[0]["value"])
    return ""


def _condition_text(column: Column) -> str:
    condition = column.field.get("condition")
    if not condition:
        return ""
    values = " / ".join(str(v) for v in condition.get("values", []))
    return f"hanya jika {condition['field']} = {values}"


def _required_text(column: Column) -> str:
    if column.name == "name":
        return "Tidak (dibuat otomatis dari judul bila kosong)"
    condition = _condition_text(column)
    if column.required:
        return "Ya" + (f", {condition}" if condition else "")
    if column.field.get("required_when_applicable"):
        return f"Ya, {condition}" if condition else "Ya, bila berlaku"
    return "Tidak" + (f" ({condition})" if condition else "")


def _allowed_text(column: Column) -> str:
    kind = column.kind
    if kind in ("choice", "multi_choice"):
        lines = [f"{c['value']} = {schema_text(c.get('label'))}" for c in column.choices]
        if kind == "multi_choice":
            lines.append("Boleh lebih dari satu, dipisah titik koma (;).")
        return "\n".join(lines)
    if kind == "yes_no":
        return f"{YES_TEXT} / {NO_TEXT} (juga diterima: true/false, 1/0)"
    if kind == "link":
        ref = column.field.get("ref_dataset_type", "")
        text = f"Nama URL atau id metadata {ref} yang sudah ada di portal"
        return text + ("; lebih dari satu dipisah titik koma (;)." if column.multiple else ".")
    if kind == "code":
        scheme = column.field.get("reference_scheme", "")
        source = {"wilayah": "Kode wilayah Kemendagri (mis. 32 atau 32.73)",
                  "kbli": "Kode KBLI 2020 (mis. C atau 10712)"}.get(scheme, f"Kode {scheme}")
        levels = column.field.get("reference_levels")
        text = source + (f", tingkat: {', '.join(levels)}" if levels else "")
        return text + ("; lebih dari satu dipisah titik koma (;)." if column.multiple else ".")
    if kind == "pairs":
        subs = column.subfields
        pair = "=".join(subs[:2]) if len(subs) >= 2 else (subs[0] if subs else "nilai")
        return f"Pasangan {pair}, dipisah titik koma (;), mis. {pair}; {pair}"
    if kind == "integer":
        low, high = column.field.get("min"), column.field.get("max")
        if low is not None or high is not None:
            return f"Bilangan bulat ({low if low is not None else ''}–{high if high is not None else ''})"
        return "Bilangan bulat"
    if kind == "date":
        return "Tanggal dengan format TTTT-BB-HH, mis. 2024-12-31"
    limit = column.field.get("max_length")
    return f"Teks bebas (maks. {limit} karakter)" if limit else "Teks bebas"


def build_template(kind: str, fmt: str, kegiatan: dict[str, Any] | None = None) -> bytes:
    """An empty import template of ``kind`` (variabel/indikator) as CSV or XLSX."""
    columns = columns_for(kind)
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow([c.name for c in columns])
        # The BOM makes Excel open the file as UTF-8.
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx_template(kind, columns, kegiatan)
    raise tk.ValidationError({"format": [_("Unknown file format")]})


def template_filename(kind: str, fmt: str, kegiatan: dict[str, Any] | None = None) -> str:
    suffix = f"-{kegiatan['name']}" if kegiatan else ""
    return f"template-{kind}{suffix}.{fmt}"


def _xlsx_template(kind: str, columns: list[Column], kegiatan: dict[str, Any] | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook()
    data = wb.active
    data.title = kind
    data.append([c.name for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = data.cell(row=1, column=index)
        cell.font, cell.fill = bold, header_fill
        comment = f"{column.label}\nWajib: {_required_text(column)}"
        cell.comment = Comment(comment, "Portal Satu Data UMKM", width=300, height=120)
        data.column_dimensions[get_column_letter(index)].width = max(14, min(40, len(column.name) + 4))
    data.freeze_panes = "A2"

    # Dropdowns read their lists from a hidden sheet: an inline list is
    # limited to 255 characters.
    choices = wb.create_sheet(CHOICES_SHEET)
    choices.sheet_state = "hidden"
    list_index = 0
    for index, column in enumerate(columns, start=1):
        if column.kind == "yes_no":
            values = [YES_TEXT, NO_TEXT]
        elif column.kind in ("choice", "multi_choice"):
            values = [str(c["value"]) for c in column.choices]
        else:
            continue
        if not values:
            continue
        list_index += 1
        letter = get_column_letter(list_index)
        choices.cell(row=1, column=list_index, value=column.name)
        for offset, value in enumerate(values, start=2):
            choices.cell(row=offset, column=list_index, value=value)
        validation = DataValidation(
            type="list", formula1=f"={CHOICES_SHEET}!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True)
        # A multi-select cell holds several values, which a list check refuses.
        validation.showErrorMessage = column.kind != "multi_choice"
        validation.errorTitle = "Nilai tidak dikenal"
        validation.error = "Pilih salah satu nilai dari daftar (lihat sheet Petunjuk)."
        target = get_column_letter(index)
        validation.add(f"{target}2:{target}{DATA_SHEET_ROWS}")
        data.add_data_validation(validation)

    guide = wb.create_sheet(INSTRUCTIONS_SHEET, 1)
    title = f"Petunjuk pengisian template {KIND_TITLES[kind]}"
    guide.append([title])
    guide["A1"].font = Font(bold=True, size=13)
    target = (f"Kegiatan: {kegiatan.get('title') or kegiatan['name']} ({kegiatan['name']}). "
              if kegiatan else "")
    notes = [
        f"{target}Isi satu baris per {kind} pada sheet \"{kind}\", mulai baris 2; "
        "baris 1 (nama kolom) jangan diubah. Baris kosong dilewati.",
        "Instansi dan kegiatan tidak perlu diisi: keduanya diambil dari kegiatan tujuan impor.",
        f"Paling banyak {MAX_ROWS} baris dan 5 MB per berkas. Berkas CSV harus UTF-8 "
        "(pemisah koma atau titik koma).",
        "Impor bersifat semua-atau-tidak-sama-sekali: bila satu baris salah, tidak ada yang "
        "disimpan dan semua kesalahan ditampilkan per baris dan kolom.",
    ]
    for note in notes:
        guide.append([note])
    guide.append([])
    header = ["Kolom", "Label", "Wajib", "Keterangan", "Nilai yang diizinkan / format"]
    guide.append(header)
    header_row = guide.max_row
    for cell in guide[header_row]:
        cell.font, cell.fill = bold, header_fill
    for column in columns:
        guide.append([column.name, column.label, _required_text(column),
                      schema_text(column.field.get("help_text")), _allowed_text(column)])
    guide.append([])
    guide.append(["Contoh satu baris (hanya contoh; jangan disalin ke sheet data tanpa diubah):"])
    guide.cell(row=guide.max_row, column=1).font = bold
    guide.append([c.name for c in columns])
    for cell in guide[guide.max_row]:
        cell.font, cell.fill = bold, header_fill
    guide.append([_example(kind, c) for c in columns])
    for letter, width in zip("ABCDE", (32, 32, 28, 60, 60), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=header_row + 1, max_row=header_row + len(columns)):
        for cell in row:
            cell.alignment = wrap

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
