"""Bulk import of variabel and indikator records into a kegiatan from a
filled-in template (CSV or XLSX).

An import is atomic: every row goes through ``package_create`` (with all its
validators) inside one database transaction that is committed only when all
rows passed; the search index is written at that commit, so a rejected file
leaves neither records nor index entries behind. Errors are reported by row
and column.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.munge import munge_title_to_name

from ckanext.umkm import caller
from ckanext.umkm.metadata.schema_columns import KINDS, Column, columns_for, field_labels, schema_text
from ckanext.umkm.metadata.validators import as_list, yes_no

_ = tk._

MAX_ROWS = 1_000
MAX_BYTES = 5 * 1024 * 1024


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


def _csv_rows(raw: bytes) -> Iterator[list[Any]]:
    """Rows of a CSV file, read by frictionless (it detects the separator:
    comma, semicolon as saved by an Indonesian-locale Excel, or tab)."""
    from frictionless import FrictionlessException, Resource

    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(_("The CSV file is not UTF-8 text; save it as \"CSV UTF-8\"")) from None
    try:
        with Resource(raw, format="csv", encoding="utf-8-sig") as table:
            yield from table.cell_stream
    except FrictionlessException as e:
        raise _file_error(_("The CSV file cannot be read: {error}").format(error=e.error.message)) from None


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
    kegiatan = tk.get_action("package_show")(caller.nested_context(context), {"id": kegiatan_id})
    if kegiatan.get("type") != "kegiatan":
        raise tk.ObjectNotFound(_("Kegiatan not found"))
    return kegiatan


def read_rows(kind: str, filename: str, stream: Any) -> tuple[list[tuple[int, dict[str, str]]],
                                                               list[dict[str, Any]]]:
    """The non-blank data rows of a file as (row number, {field: cell text}),
    with the errors of its header; raises for an unreadable or oversized file."""
    columns = {c.name: c for c in columns_for(kind)}
    by_header = {}
    for column in columns.values():
        by_header[column.name.casefold()] = column
        for lang in ("id", "en"):
            label = schema_text(column.field.get("label"), lang)
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
            row_context = caller.nested_context(context, defer_commit=True, return_id_only=True)
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
