"""The audit log as the Lampiran's log books ("log book penyerahan data",
"log book akun"): one row per event, in CSV or XLSX, for Walidata."""

from __future__ import annotations

import csv
import datetime
import io
from typing import IO, Any

from ckanext.umkm.audit import log as audit_log

COLUMNS = [
    ("seq", "No."), ("timestamp", "Waktu (UTC)"), ("action", "Kegiatan"), ("actor", "Pengguna"),
    ("agency", "Instansi"), ("dataset", "Dataset"), ("resource", "Sumber data"), ("grants", "Izin akses"),
    ("purpose", "Tujuan"), ("rows", "Jumlah baris"), ("sha256", "SHA-256 data diserahkan"), ("ip", "Alamat IP"),
    ("user_agent", "Peramban"), ("details", "Keterangan"), ("hash", "Hash rantai"),
]


def _date(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)


def rows(since: str | None = None, until: str | None = None, action: str | None = None) -> list[list[Any]]:
    out: list[list[Any]] = []
    offset = 0
    while True:
        _, events = audit_log.search(action=action, since=_date(since), until=_date(until), limit=1000,
                                     offset=offset)
        for e in events:
            p = e.get("payload") or {}
            values = {
                "seq": e["seq"], "timestamp": e["timestamp"], "action": e["action"], "actor": e["actor"],
                "agency": ", ".join(p.get("agency") or []), "dataset": p.get("dataset") or e.get("target_id"),
                "resource": e.get("action_object_id") if e.get("action_object") == "resource" else "",
                "grants": ", ".join(p.get("grants") or []), "purpose": p.get("purpose") or "",
                "rows": p.get("rows"), "sha256": p.get("sha256") or p.get("file_sha256") or "",
                "ip": p.get("ip") or "", "user_agent": p.get("user_agent") or "",
                "details": p.get("reason") or p.get("path") or "", "hash": e["hash"],
            }
            out.append([values[k] for k, _ in COLUMNS])
        if len(events) < 1000:
            return out
        offset += 1000


def write(stream: IO[bytes], fmt: str, **filters: Any) -> int:
    data = rows(**filters)
    header = [label for _, label in COLUMNS]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "Log book"
        sheet.append(header)
        for row in data:
            sheet.append(row)
        book.save(stream)
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(data)
        stream.write(text.getvalue().encode("utf-8"))
    return len(data)
