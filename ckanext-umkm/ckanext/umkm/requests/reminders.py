"""Reminders of the use report (Pasal 27(3)): the requester is written to
when the report is due within ``REMIND_BEFORE`` days, on the first day it
is overdue, and every ``REMIND_EVERY`` days after that. Run daily by the scheduler
(``ckan umkm release scheduler``) or by ``ckan umkm requests remind``."""

from __future__ import annotations

import datetime

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ckanext.umkm.release.workflow import today
from ckanext.umkm.requests import engine, notifications

REMIND_BEFORE = 3
REMIND_EVERY = 7


def due_reminders(day: datetime.date | None = None) -> list[str]:
    """Remind every requester whose report is due soon or overdue and who
    was not reminded recently; returns the requests' numbers."""
    day = day or today()
    t = engine.request_table
    rows = model.Session.execute(sa.select(t).where(
        t.c.report_due.isnot(None), t.c.report_filed.is_(None),
        t.c.report_due <= day + datetime.timedelta(days=REMIND_BEFORE)).with_for_update()).mappings()
    sent = []
    for row in list(rows):
        last = row["report_reminded"]
        overdue = day > row["report_due"]
        # Once before the due date; on the first day overdue; then weekly.
        if last is not None and (not overdue or (last > row["report_due"] and (day - last).days < REMIND_EVERY)):
            continue
        request = engine.serialise(row)
        notifications.notify(request, "report_due", requester_email=notifications.requester_address(row), note=None,
                             extra=tk._("Tell Walidata what the data was used for and what it produced "
                                        "(Pasal 27(3)), by {date}.").format(date=request["report_due"]))
        model.Session.execute(t.update().where(t.c.id == row["id"]).values(report_reminded=day))
        sent.append(row["number"])
    model.Session.commit()
    return sent
