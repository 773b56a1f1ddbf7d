"""Fixtures of the portal's tests: a live portal over HTTP and a real browser."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Plugins of the portal that bring database migrations of their own.
PLUGINS_WITH_MIGRATIONS = ("activity", "harvest", "event_audit", "umkm")


@pytest.fixture()
def clean_portal_db(with_plugins, clean_db, migrate_db_for) -> None:
    """CKAN's clean_db rebuilds only the core tables: apply the plugins' too."""
    for plugin in PLUGINS_WITH_MIGRATIONS:
        migrate_db_for(plugin)


@pytest.fixture()
def reference_codes(migrate_db_for) -> None:
    """The shipped code lists, loaded once: CKAN's first clean_db of a run
    drops every table, ours included, but later resets leave them alone."""
    from ckanext.umkm.metadata import reference_codes as codes

    migrate_db_for("umkm")
    if not all(sum(codes.counts(scheme).values()) for scheme in codes.SCHEMES):
        codes.ensure_loaded()


@contextlib.contextmanager
def serve_portal(ini: str, *waitress_args: str) -> Iterator[str]:
    """The portal served by waitress in its own process with the config
    ``ini``, on the test database and search service."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, CKAN_INI=ini, CKAN_SITE_URL=url)
    # The server's log stays beside the other test state for post-mortems.
    logdir = os.path.join(ROOT, "var", "test")
    os.makedirs(logdir, exist_ok=True)
    log = open(os.path.join(logdir, "live-portal.log"), "ab")
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "waitress-serve"),
         f"--listen=127.0.0.1:{port}", "--threads=4", *waitress_args, "ckanext.umkm.wsgi:application"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/api/3/action/status_show", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"portal did not start, see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture()
def live_portal(clean_portal_db, clean_index, ckan_config) -> Iterator[str]:
    """The portal over HTTP: exactly what a browser or harvester talks to."""
    # The ini of the test run (bin/test exports config/test.ini).
    with serve_portal(os.environ.get("CKAN_INI") or os.path.join(ROOT, "config", "test.ini")) as url:
        yield url


@pytest.fixture()
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def empty_access_tables(clean_portal_db) -> None:
    """Grants, statements and the audit log start empty (the chain refuses
    TRUNCATE: its trigger is lifted for the test reset only)."""
    import sqlalchemy as sa
    from ckan import model

    for statement in ("ALTER TABLE umkm_audit_chain DISABLE TRIGGER USER",
                      "TRUNCATE umkm_audit_chain, event_audit_event, umkm_nda_signature, umkm_nda_template, "
                      "umkm_access_grant, umkm_access_refusal, umkm_request, umkm_request_step",
                      "ALTER TABLE umkm_audit_chain ENABLE TRIGGER USER"):
        model.Session.execute(sa.text(statement))
    model.Session.commit()
    # A fresh audit log has no signed checkpoints either.
    from ckanext.umkm.audit import checkpoints

    if checkpoints.configured() and os.path.exists(checkpoints.checkpoint_file()):
        os.remove(checkpoints.checkpoint_file())
