"""The columns of metadata exchange: the user-editable fields of a record
type's scheming schema, so that import templates, imports and forms never
drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

_ = tk._

KINDS = ("variabel", "indikator")
RECORD_TYPES = ("kegiatan", *KINDS)
# Set from the kegiatan the import targets, never from a cell.
FROM_KEGIATAN = {"owner_org", "kegiatan"}
# Machine fields that are never typed in.
NOT_EDITABLE = {"id", "type", "state", "private"}


def schema_text(text: Any, lang: str = "id") -> str:
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
        return schema_text(self.field.get("label")) or self.name

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
    return {f["field_name"]: schema_text(f.get("label")) or f["field_name"]
            for f in schema_for(kind).get("dataset_fields", [])}
