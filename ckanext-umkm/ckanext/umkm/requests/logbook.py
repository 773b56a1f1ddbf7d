"""The Lampiran's log books of requests ("log book penyerahan data", "log
book akun", "log book riwayat berbagi pakai data"): one row per request of
a kind, as CSV or XLSX, with the same protection against formulas as the
audit log book (``audit.export``). No NIK or phone number: the log book
names people by name and position."""

from __future__ import annotations

import csv
import io
from typing import IO, Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm.audit.export import local_time, safe_csv, write_sheet
from ckanext.umkm.requests import documents, engine


def columns(kind: str) -> list[str]:
    _ = tk._
    head = [_("Number"), _("Submitted"), _("Requester"), _("Agency"), _("Title"), _("State"), _("Current step"),
            _("Due"), _("Decision"), _("Closed")]
    if kind == "data":
        head += [_("Use"), _("Purpose"), _("Period"), _("Level"), _("Datasets delivered"), _("Grants"),
                 _("Use report filed")]
    elif kind == "akun":
        head += [_("Data administrator"), _("Position"), _("Account")]
    else:
        head += [_("Data administrator"), _("Variables needed"), _("Variables offered"), _("Service account"),
                 _("Valid until"), _("Revoked"), _("Use report filed")]
    return head


def rows(kind: str) -> list[list[Any]]:
    from ckanext.umkm import helpers

    out = []
    for row in engine.all_rows(kind):
        request = engine.serialise(row)
        user = model.User.get(row["requester_id"]) if row["requester_id"] else None
        personal = documents.unseal(row["personal"])
        decision = request["decision"] or {}
        outcome = request["outcome"]
        details = request["details"]
        cells: list[Any] = [
            request["number"], local_time(row["created"]),
            f"{user.name} ({user.fullname})" if user else personal.get("name", ""), request["agency_name"],
            request["title"], helpers.request_state_label(request["state"]),
            helpers.request_step_label(kind, request["step"]), request["due"] or "",
            ("" if not decision else tk._("Refused") + (": " + decision.get("reason", "") if decision.get("reason")
                                                        else "") if decision.get("refused") else tk._("Approved")),
            local_time(row["closed"]),
        ]
        if kind == "data":
            cells += [helpers.request_use_label(details.get("use_category", "")), details.get("purpose", ""),
                      details.get("period", ""), details.get("granularity", ""),
                      "; ".join([g["dataset_title"] for g in outcome.get("grants", [])]
                                + [link["title"] for link in outcome.get("links", [])]),
                      "; ".join(g["id"] for g in outcome.get("grants", [])), local_time(row["report_filed"])]
        elif kind == "akun":
            cells += [personal.get("name", ""), personal.get("position", ""), outcome.get("user", "")]
        else:
            cells += [personal.get("name", ""), details.get("variables_needed", ""),
                      details.get("variables_offered", ""), outcome.get("service_user", ""),
                      outcome.get("valid_until", ""), outcome.get("revoked", ""), local_time(row["report_filed"])]
        out.append(cells)
    return out


def write(stream: IO[bytes], kind: str, fmt: str) -> int:
    head = columns(kind)
    body = rows(kind)
    if fmt == "xlsx":
        from openpyxl import Workbook

        from ckanext.umkm.helpers import request_kind_label

        book = Workbook()
        count = write_sheet(book.active, request_kind_label(kind), head, body)
        book.save(stream)
        return count
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(head)
    for cells in body:
        writer.writerow([safe_csv(v) for v in cells])
    stream.write(("\ufeff" + text.getvalue()).encode("utf-8"))
    return len(body)
