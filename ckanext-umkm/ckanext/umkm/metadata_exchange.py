"""Spreadsheet exchange of metadata (templates and bulk import of variabel and
indikator records into a kegiatan) and the export to BPS's INDAH format.

No Flask here: the actions (``actions/exchange.py``) and views
(``views/exchange.py``) call these functions.

- The columns of a template are the editable fields of the loaded scheming
  schema, so templates, import and forms never drift apart.
- An import is atomic: every row goes through ``package_create`` (with all its
  validators) inside one database transaction that is committed only when all
  rows passed; the search index is written at that commit, so a rejected file
  leaves neither records nor index entries behind.
- The INDAH envelope follows section 5 of the metadata standard, with the v2
  keys of sections 2-4 (spellings *sic*).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.munge import munge_title_to_name

from ckanext.umkm import release_workflow
from ckanext.umkm.validators import as_list, yes_no

_ = tk._

KINDS = ("variabel", "indikator")
RECORD_TYPES = ("kegiatan", *KINDS)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_ROWS = 1_000
MAX_BYTES = 5 * 1024 * 1024

# Set from the kegiatan the import targets, never from a cell.
FROM_KEGIATAN = {"owner_org", "kegiatan"}
# Machine fields that are never typed in.
NOT_EDITABLE = {"id", "type", "state", "private"}

YES_TEXT, NO_TEXT = "Ya", "Tidak"
DATA_SHEET_ROWS = MAX_ROWS + 1
INSTRUCTIONS_SHEET = "Petunjuk"
CHOICES_SHEET = "Pilihan"


# --- columns from the schema ------------------------------------------------

def _lang(text: Any, lang: str = "id") -> str:
    """A schema text ({id: …, en: …} or plain) in one language."""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("id") or text.get("en") or "")
    return "" if text is None else str(text)


@dataclass(frozen=True)
class Column:
    """One editable field of a schema, as a spreadsheet column."""

    field: dict[str, Any]

    @property
    def name(self) -> str:
        return self.field["field_name"]

    @property
    def label(self) -> str:
        return _lang(self.field.get("label")) or self.name

    @property
    def validators(self) -> list[str]:
        return str(self.field.get("validators") or "").split()

    @property
    def kind(self) -> str:
        """How a cell is read and described: one of text, integer, date,
        yes_no, choice, multi_choice, link, code, pairs."""
        f, v = self.field, self.validators
        if f.get("repeating_subfields"):
            return "pairs"
        if f.get("preset") == "umkm_yes_no" or "umkm_yes_no" in v:
            return "yes_no"
        if f.get("preset") == "umkm_multiple_checkbox" or "umkm_multiple_choice" in v:
            return "multi_choice"
        if "umkm_package_ref" in v:
            return "link"
        if "umkm_reference_code" in v:
            return "code"
        if f.get("choices"):
            return "choice"
        if {"umkm_integer", "umkm_year"} & set(v):
            return "integer"
        if "umkm_date" in v:
            return "date"
        return "text"

    @property
    def multiple(self) -> bool:
        return self.kind in ("multi_choice", "pairs") or bool(self.field.get("multiple"))

    @property
    def choices(self) -> list[dict[str, Any]]:
        return list(self.field.get("choices") or [])

    @property
    def subfields(self) -> list[str]:
        return [sf["field_name"] for sf in self.field.get("repeating_subfields") or []]

    @property
    def required(self) -> bool:
        # The URL name is made from the title when left empty.
        return bool(self.field.get("required")) and self.name != "name"


def schema_for(kind: str) -> dict[str, Any]:
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema(kind)
    if not schema:
        raise tk.ObjectNotFound(_("No schema for record type {kind}").format(kind=kind))
    return schema


def columns_for(kind: str) -> list[Column]:
    """The schema's user-editable fields of ``kind``, in schema order."""
    if kind not in KINDS:
        raise tk.ValidationError({"kind": [_("Unknown record type")]})
    columns = []
    for field in schema_for(kind).get("dataset_fields", []):
        name = field["field_name"]
        if name in FROM_KEGIATAN or name in NOT_EDITABLE:
            continue
        # form_snippet: null means scheming leaves the field out of the form.
        if "form_snippet" in field and field["form_snippet"] is None:
            continue
        columns.append(Column(field))
    return columns


def field_labels(kind: str) -> dict[str, str]:
    """Indonesian label of every dataset field of ``kind``."""
    return {f["field_name"]: _lang(f.get("label")) or f["field_name"]
            for f in schema_for(kind).get("dataset_fields", [])}


# --- templates ---------------------------------------------------------------
# The template is an Indonesian document whatever the UI language, like the
# paper forms of Perban 5/2020; hence the literal Indonesian texts below.

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
        lines = [f"{c['value']} = {_lang(c.get('label'))}" for c in column.choices]
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
                      _lang(column.field.get("help_text")), _allowed_text(column)])
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


# --- reading a file -------------------------------------------------------------

def _file_error(message: str) -> tk.ValidationError:
    return tk.ValidationError({"file": [message]})


def _read_bytes(stream: IO[bytes] | bytes | Any) -> bytes:
    if isinstance(stream, (bytes, bytearray)):
        raw = bytes(stream)
    else:
        reader = getattr(stream, "stream", stream)
        raw = reader.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise _file_error(_("The file is larger than {size} MB").format(size=MAX_BYTES // (1024 * 1024)))
    if not raw.strip():
        raise _file_error(_("The file is empty"))
    return raw


def _cell_text(value: Any) -> str:
    """A cell as text: spreadsheet types (numbers, dates, booleans) included."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(raw: bytes) -> Iterator[list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(_("The CSV file is not UTF-8 text; save it as \"CSV UTF-8\"")) from None
    first_line = text.splitlines()[0] if text.splitlines() else ""
    # Field names contain no separator, so the header line tells which one is used.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as e:
        raise _file_error(_("The CSV file cannot be read: {error}").format(error=e)) from None


def _xlsx_rows(raw: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = wb.worksheets[0]
    except Exception:  # noqa: BLE001 - any failure means an unreadable workbook
        raise _file_error(_("The file is not a readable XLSX workbook")) from None
    try:
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def _table(filename: str, raw: bytes) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells as text) of the first sheet, header = 1."""
    name = (filename or "").lower()
    is_zip = raw[:4] == b"PK\x03\x04"
    if name.endswith(".xlsx") or (is_zip and not name.endswith(".csv")):
        rows: Iterable[list[Any]] = _xlsx_rows(raw)
    elif name.endswith((".csv", ".txt")) or not name:
        if is_zip:
            raise _file_error(_("The file is not a readable CSV file"))
        rows = _csv_rows(raw)
    else:
        raise _file_error(_("Upload a .csv or .xlsx file"))
    for number, row in enumerate(rows, start=1):
        yield number, [_cell_text(v) for v in row]


# --- cells to field values ----------------------------------------------------

SPLIT_ITEMS = re.compile(r"[;\n]")
SPLIT_LIST = re.compile(r"[;,\n]")
# The = between two parts of a pair, not one inside >=, <=, != or ==.
PAIR_EQUALS = re.compile(r"(?<![<>!=])=(?!=)")


def _choice_value(column: Column, text: str) -> str:
    """The enum value a cell means: the value itself, or its label, in any case."""
    wanted = text.strip().casefold()
    for choice in column.choices:
        value = str(choice["value"])
        label = choice.get("label")
        labels = label.values() if isinstance(label, dict) else [label]
        if wanted == value.casefold() or wanted in {str(x).casefold() for x in labels if x}:
            return value
    return text.strip()


def _pairs(column: Column, text: str) -> list[dict[str, str]]:
    subfields = column.subfields or ["kode", "nilai"]
    items = []
    for item in SPLIT_ITEMS.split(text):
        item = item.strip()
        if not item:
            continue
        parts = PAIR_EQUALS.split(item, maxsplit=len(subfields) - 1)
        items.append({sub: part.strip() for sub, part in zip(subfields, parts, strict=False)})
    return items


def cell_value(column: Column, text: str) -> Any:
    """The value of a non-empty cell in the form package_create takes."""
    kind = column.kind
    if kind == "yes_no":
        answer = yes_no(text)
        return text if answer is None else answer  # the validator names a bad answer
    if kind == "choice":
        return _choice_value(column, text)
    if kind == "multi_choice":
        return [_choice_value(column, v) for v in as_list(SPLIT_LIST.split(text))]
    if kind in ("link", "code"):
        values = as_list(SPLIT_LIST.split(text))
        return values if column.multiple else (values[0] if len(values) == 1 else values)
    if kind == "pairs":
        return _pairs(column, text)
    return text


# --- import --------------------------------------------------------------------

def _unique_name(base: str, taken: set[str]) -> str:
    base = munge_title_to_name(base)[:90].strip("-") or "metadata"
    candidate, n = base, 1
    while candidate in taken or model.Session.query(model.Package.id).filter(
            model.Package.name == candidate).first() is not None:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _messages(value: Any, prefix: str = "") -> list[str]:
    """Messages of one field's errors, repeating subfields included."""
    if isinstance(value, str):
        return [prefix + value]
    out: list[str] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            out += _messages(sub, f"{prefix}{key}: ")
    elif isinstance(value, (list, tuple)):
        for index, sub in enumerate(value, start=1):
            out += _messages(sub, f"{prefix}{index}. ") if isinstance(sub, dict) else _messages(sub, prefix)
    return out


def _row_errors(row: int, error_dict: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [{"row": row, "column": key, "label": labels.get(key, key), "messages": _messages(value)}
            for key, value in error_dict.items() if _messages(value)]


def _get_kegiatan(context: dict[str, Any], kegiatan_id: str) -> dict[str, Any]:
    kegiatan = tk.get_action("package_show")(child_context(context), {"id": kegiatan_id})
    if kegiatan.get("type") != "kegiatan":
        raise tk.ObjectNotFound(_("Kegiatan not found"))
    return kegiatan


def child_context(context: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A fresh context for a nested action: CKAN actions write into theirs."""
    keep = {k: context[k] for k in ("user", "auth_user_obj", "ignore_auth") if k in context}
    return {**keep, **extra}


def read_rows(kind: str, filename: str, stream: Any) -> tuple[list[tuple[int, dict[str, str]]],
                                                               list[dict[str, Any]]]:
    """The non-blank data rows of a file as (row number, {field: cell text}),
    with the errors of its header; raises for an unreadable or oversized file."""
    columns = {c.name: c for c in columns_for(kind)}
    by_header = {}
    for column in columns.values():
        by_header[column.name.casefold()] = column
        for lang in ("id", "en"):
            label = _lang(column.field.get("label"), lang)
            by_header.setdefault(label.casefold(), column)

    raw = _read_bytes(stream)
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[dict[str, Any]] = []
    header: list[Column | None] | None = None
    header_texts: list[str] = []
    for number, cells in _table(filename, raw):
        if header is None:
            if not any(cells):
                raise _file_error(_("The first row must hold the column names"))
            header, header_texts = [], cells
            seen: set[str] = set()
            for text in cells:
                column = by_header.get(text.casefold()) if text else None
                if text and column is None:
                    errors.append({"row": 1, "column": text, "label": "",
                                   "messages": [_('Unknown column "{column}"').format(column=text)]})
                elif column is not None and column.name in seen:
                    errors.append({"row": 1, "column": column.name, "label": column.label,
                                   "messages": [_("The column appears twice")]})
                    column = None
                if column is not None:
                    seen.add(column.name)
                header.append(column)
            continue
        if not any(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise _file_error(_("The file has more than {max} rows").format(max=MAX_ROWS))
        values: dict[str, str] = {}
        for index, text in enumerate(cells):
            if not text:
                continue
            column = header[index] if index < len(header) else None
            if column is not None:
                values[column.name] = text
            elif index >= len(header_texts) or not header_texts[index]:
                # (Values under an unknown column name are covered by its row-1 error.)
                errors.append({"row": number, "column": "", "label": "",
                               "messages": [_("A value in a column without a name in row 1")]})
        rows.append((number, values))
    if header is None:
        raise _file_error(_("The file is empty"))
    if not rows:
        raise _file_error(_("The file has no data rows"))
    return rows, errors


def import_rows(context: dict[str, Any], kegiatan_id: str, kind: str, filename: str,
                stream: Any) -> dict[str, Any]:
    """Create one ``kind`` record per row of the file, in the kegiatan: all of
    them, or (with every row's errors in a ValidationError) none."""
    if kind not in KINDS:
        raise tk.ValidationError({"kind": [_("Unknown record type")]})
    kegiatan = _get_kegiatan(context, kegiatan_id)
    rows, errors = read_rows(kind, filename, stream)
    columns = {c.name: c for c in columns_for(kind)}
    labels = field_labels(kind)

    # Names typed in the file are reserved before any is generated.
    taken = {values["name"].strip().lower() for _n, values in rows if values.get("name")}
    typed: set[str] = set()
    records: list[tuple[int, dict[str, Any]]] = []
    for number, values in rows:
        data: dict[str, Any] = {"type": kind, "owner_org": kegiatan["owner_org"],
                                # Children are as visible as their kegiatan.
                                "private": bool(kegiatan.get("private"))}
        if kind == "variabel":
            data["kegiatan"] = kegiatan["id"]
        for name, text in values.items():
            data[name] = cell_value(columns[name], text)
        if kind == "indikator" and not data.get("kegiatan_penghasil"):
            data["kegiatan_penghasil"] = [kegiatan["id"]]
        name = str(data.get("name") or "").strip().lower()
        if name:
            if name in typed:
                errors.append({"row": number, "column": "name", "label": labels.get("name", "name"),
                               "messages": [_("The same URL name is used by another row")]})
            typed.add(name)
        else:
            title = str(data.get("title") or "").strip()
            base = f"{title} {kegiatan['name']}" if title else f"{kind} {kegiatan['name']}"
            data["name"] = _unique_name(base, taken)
        if not str(data.get("title") or "").strip():
            # CKAN would quietly use the URL name as the title; the standard
            # requires the name of the variable/indicator.
            errors.append({"row": number, "column": "title", "label": labels.get("title", "title"),
                           "messages": [_("Missing value")]})
        records.append((number, data))

    created: list[dict[str, str]] = []
    try:
        for number, data in records:
            row_context = child_context(context, defer_commit=True, return_id_only=True)
            try:
                package_id = tk.get_action("package_create")(row_context, data)
            except tk.ValidationError as e:
                # package_create has rolled the session back; the remaining rows
                # are still validated so that the user sees every error at once.
                errors += _row_errors(number, e.error_dict, labels)
                continue
            created.append({"id": package_id, "name": data["name"], "title": data.get("title", "")})
        if errors:
            raise tk.ValidationError({"rows": _merged(errors)})
        _commit(created)
    except BaseException:
        model.Session.rollback()
        raise
    return {"created": created, "count": len(created)}


def _merged(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per row and column, in row order, each message once."""
    by_cell: dict[tuple[int, str], dict[str, Any]] = {}
    for error in errors:
        entry = by_cell.setdefault((error["row"], error["column"]), {**error, "messages": []})
        entry["messages"] += [m for m in error["messages"] if m not in entry["messages"]]
    return sorted(by_cell.values(), key=lambda e: e["row"])


def _commit(created: list[dict[str, str]]) -> None:
    """Commit the import; the search index is written during the commit
    (CKAN's before_commit hook), so undo it too if the commit fails midway."""
    try:
        model.repo.commit()
    except Exception:
        model.Session.rollback()
        from ckan.lib.search import remove_package_from_index

        for pkg in created:
            try:
                remove_package_from_index({"id": pkg["id"]})
            except Exception:  # noqa: BLE001, S110 - best effort: the commit error is what matters
                pass
        raise


# --- INDAH export ----------------------------------------------------------------

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
    from ckanext.umkm import reference_codes

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
            labels = {str(c["value"]): _lang(c.get("label")) for c in field.get("choices") or []}
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
        tk.check_access("package_create", child_context(context),
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
    result = tk.get_action("package_search")(child_context(context), {
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
