"""The audit log as the Lampiran's log books ("log book penyerahan data",
"log book akun") for Walidata to hand to an auditor as it is.

One row per event, in words (``audit.labels``): events, reasons and paths
named, people by login and full name, datasets and agencies by title, times
in the portal's time zone. CSV holds the events; XLSX also holds the counted
refusals, the signed checkpoints and a sheet that says what the book is
(portal, time of export, filters, the chain's verification).

Every value a user could have typed (names, purposes, user agents, queries)
is written so that no spreadsheet runs it: XLSX cells are typed as text, and
CSV values that a spreadsheet would read as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) get a leading apostrophe,
as OWASP advises against CSV injection.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.audit import labels, refusals
from ckanext.umkm.audit import log as audit_log

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAGE = 1000


def columns() -> list[tuple[str, str]]:
    _ = tk._
    return [
        ("seq", _("No.")), ("timestamp", _("Time")), ("action", _("Event")), ("actor", _("User")),
        ("agency", _("Agency")), ("dataset", _("Dataset")), ("resource", _("Resource")),
        ("purpose", _("Purpose")), ("rows", _("Rows")), ("sha256", _("SHA-256 of the data delivered")),
        ("ip", _("IP address")), ("user_agent", _("Browser")), ("details", _("Details")),
        ("grants", _("Grants")), ("hash", _("Chain hash")),
    ]


def _date(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    from ckanext.umkm.release.workflow import timezone

    return datetime.datetime.fromisoformat(value).replace(tzinfo=timezone())


def local_time(value: str | datetime.datetime | None) -> str:
    """A moment as the portal's local time with its offset, to the second."""
    if not value:
        return ""
    from ckanext.umkm.release.workflow import timezone

    moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(timezone()).strftime("%Y-%m-%d %H:%M:%S %z")


def event_rows(since: str | None = None, until: str | None = None, action: str | None = None
               ) -> Iterator[list[Any]]:
    """The events, oldest first, one list of cells each."""
    names = labels.Names()
    keys = [k for k, _ in columns()]
    after = 0
    while True:
        _total, events = audit_log.search(action=action, since=_date(since), until=_date(until), limit=PAGE,
                                          after_seq=after, ascending=True)
        if not events:
            return
        after = events[-1]["seq"]
        for e in events:
            p = e.get("payload") or {}
            values = {
                "seq": e["seq"], "timestamp": local_time(e["timestamp"]), "action": labels.event(e["action"]),
                "actor": labels.actor(e["actor"]),
                "agency": _agency(p.get("agency"), names),
                "dataset": names.dataset(e.get("target_id")) if e.get("target_type") == "package" else "",
                "resource": names.resource(e.get("action_object_id")) if e.get("action_object") == "resource"
                else "",
                "purpose": p.get("purpose") or "", "rows": p.get("rows"),
                "sha256": _text(p.get("sha256") or p.get("file_sha256")), "ip": _text(p.get("ip")),
                "user_agent": _text(p.get("user_agent")), "details": labels.details(e, names),
                "grants": ", ".join(p.get("grants") or []), "hash": e["hash"],
            }
            yield [values[k] for k in keys]


def _text(value: Any) -> str:
    """A payload value; empty for none (entries written before empty values
    were left out hold the text "None")."""
    return "" if value in (None, "None") else str(value)


def _agency(value: Any, names: labels.Names) -> str:
    """The agencies of a delivery (organizations), or the agency a signer wrote."""
    if isinstance(value, list):
        return ", ".join(names.agency(a) for a in value)
    return str(value or "")


def refusal_rows(since: str | None = None, until: str | None = None) -> Iterator[list[Any]]:
    names = labels.Names()
    offset = 0
    while True:
        _total, page = refusals.search(since=_date(since), until=_date(until), limit=PAGE, offset=offset)
        for r in page:
            yield [local_time(r["window_start"]), labels.actor(r["actor"]), names.dataset(r["package_id"]),
                   names.resource(r["resource_id"]), labels.path(r["path"]), labels.reason(r["reason"]),
                   r["count"], local_time(r["first_seen"]), local_time(r["last_seen"]),
                   ", ".join(r["clients"]), " | ".join(r["user_agents"])]
        if len(page) < PAGE:
            return
        offset += PAGE


def refusal_columns() -> list[str]:
    _ = tk._
    return [_("Hour"), _("User"), _("Dataset"), _("Resource"), _("Path"), _("Reason"), _("Requests"),
            _("First"), _("Last"), _("IP addresses (first 20)"), _("Browsers (first 5)")]


def safe_csv(value: Any) -> Any:
    """A cell that no spreadsheet reads as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write(stream: IO[bytes], fmt: str, since: str | None = None, until: str | None = None,
          action: str | None = None) -> int:
    """The log book in ``fmt`` (csv, xlsx); returns the number of events."""
    header = [label for _, label in columns()]
    if fmt == "xlsx":
        return _xlsx(stream, header, since, until, action)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    count = 0
    for row in event_rows(since, until, action):
        writer.writerow([safe_csv(v) for v in row])
        count += 1
    stream.write(("\ufeff" + text.getvalue()).encode("utf-8"))
    return count


def write_sheet(sheet: Any, title: str, head: list[str], rows: Iterable[list[Any]]) -> int:
    """One sheet of a log book: a bold, frozen header, then the rows, every
    text cell typed as text (whatever it starts with: never a formula)."""
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font

    sheet.title = title[:31]
    sheet.append(head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING
        count += 1
    sheet.freeze_panes = "A2"
    return count


def _xlsx(stream: IO[bytes], header: list[str], since: str | None, until: str | None, action: str | None) -> int:
    from openpyxl import Workbook

    from ckanext.umkm.audit import checkpoints

    _ = tk._
    book = Workbook()

    def sheet_of(title: str, head: list[str], rows: Iterator[list[Any]], first: bool = False) -> int:
        return write_sheet(book.active if first else book.create_sheet(), title, head, rows)

    count = sheet_of(_("Log book"), header, event_rows(since, until, action), first=True)
    sheet_of(_("Refused requests"), refusal_columns(), refusal_rows(since, until))
    marks = checkpoints.read() if checkpoints.configured() else []
    sheet_of(_("Checkpoints"), [_("Time"), _("Up to entry"), _("Chain hash"), _("Entries"), _("Key"),
                                _("Ed25519 signature")],
             iter([[local_time(c.get("at")), c.get("seq"), c.get("hash"), c.get("events"), c.get("key_id"),
                    c.get("signature")] for c in marks if "seq" in c]))
    result = audit_log.verify()
    about = [
        [_("Portal"), f"{tk.config.get('ckan.site_title')} ({tk.config.get('ckan.site_url')})"],
        [_("Exported"), local_time(datetime.datetime.now(datetime.UTC))],
        [_("From"), since or "-"], [_("Until"), until or "-"], [_("Event"), labels.event(action) if action else "-"],
        [_("Events in this book"), count],
        [_("Chain verified"), _("intact: {n} entries").format(n=result.links) if result.ok
         else _("BROKEN: {n} problems").format(n=len(result.problems))],
        [_("Last valid checkpoint"), local_time(result.last_checkpoint["at"]) + " · #"
         + str(result.last_checkpoint["seq"]) if result.last_checkpoint else "-"],
        *[[_("Problem"), problem] for problem in result.problems[:100]],
    ]
    sheet_of(_("About"), [_("Log book of access to restricted data"), ""], iter(about))
    book.save(stream)
    return count
