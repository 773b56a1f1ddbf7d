"""E-mail to the next actor of the release workflow and to the producers on
return or release (issue 4), delivered to a real SMTP server."""

from __future__ import annotations

import email
import email.policy

import pytest
from ckan.tests import factories, helpers
from ckanext.umkm.release import workflow

from . import metadata_records as records
from .conftest import free_port

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"

    def take(self) -> dict[str, email.message.EmailMessage]:
        got = {rcpt: msg for rcpts, msg in self.messages for rcpt in rcpts}
        self.messages.clear()
        return got


@pytest.fixture()
def inbox(ckan_config, monkeypatch):
    from aiosmtpd.controller import Controller

    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{port}")
    monkeypatch.setitem(ckan_config, "ckanext.umkm.release.notify_in_background", "false")
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture()
def people() -> dict:
    users = {name: factories.User(name=f"surel-{name}", email=f"{name}@dinas.example.id")
             for name in ("producer", "walidata", "forum", "outsider")}
    org = records.agency(name="dinas-kukm-jabar", users=[{"name": users["producer"]["name"], "capacity": "editor"}])
    records.agency(name="walidata-umkm", users=[{"name": users["walidata"]["name"], "capacity": "member"}])
    records.agency(name="forum-satu-data-umkm", users=[{"name": users["forum"]["name"], "capacity": "member"}])
    pkg = factories.Dataset(**records.dataset(
        org["id"], name="jumlah-umkm-jabar-2024", title="Jumlah UMKM Jawa Barat 2024", analisis="Naik.",
        resources=[{"url": "https://api.example.org/jabar", "format": "API"}]))
    return {**users, "pkg": pkg}


def _act(user: dict, transition: str, pkg: dict, **kw):
    if transition == "approve":
        # An API is not examined for small counts: the curator gives a reason.
        kw.setdefault("justification", "API agregat; sel kecil diperiksa pemilik data")
    return helpers.call_action(f"umkm_release_{transition}", context={"user": user["name"], "ignore_auth": False},
                               id=pkg["id"], **kw)


def test_each_step_tells_the_next_actor(people, inbox):
    pkg = people["pkg"]
    _act(people["producer"], "submit", pkg)
    got = inbox.take()
    assert list(got) == ["walidata@dinas.example.id"]
    message = got["walidata@dinas.example.id"]
    assert "Jumlah UMKM Jawa Barat 2024" in message["subject"]
    body = message.get_content()
    assert "/dataset/jumlah-umkm-jabar-2024#rilis" in body
    due = workflow.due_date(workflow.today(), workflow.working_days("review"))
    assert due.strftime("%d-%m-%Y") in body

    _act(people["walidata"], "return", pkg, note="Kolom tahun kosong")
    got = inbox.take()
    assert list(got) == ["producer@dinas.example.id"]
    assert "Kolom tahun kosong" in got["producer@dinas.example.id"].get_content()

    _act(people["producer"], "submit", pkg)
    inbox.take()
    _act(people["walidata"], "pass", pkg)
    assert list(inbox.take()) == ["forum@dinas.example.id"]

    _act(people["forum"], "approve", pkg)
    got = inbox.take()
    assert list(got) == ["producer@dinas.example.id"]
    assert "Jumlah UMKM Jawa Barat 2024" in got["producer@dinas.example.id"]["subject"]


def test_a_mail_server_that_is_down_does_not_stop_the_workflow(people, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{free_port()}")
    monkeypatch.setitem(ckan_config, "ckanext.umkm.release.notify_in_background", "false")
    assert _act(people["producer"], "submit", people["pkg"])["state"] == "submitted"
