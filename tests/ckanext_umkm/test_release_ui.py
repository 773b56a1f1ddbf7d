"""The release workflow in the browser (issue 4): a producer submits, Walidata
returns with a reason, the producer corrects and resubmits, Walidata passes,
the Forum schedules the release; the calendar announces it, the public
cannot see the record until the scheduler publishes it at its time."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import pytest
import requests
import sqlalchemy as sa
from ckan import model
from ckan.tests import factories
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from . import metadata_records as records
from .conftest import ROOT
from .test_ui import PASSWORD, _click, _login

pytestmark = [pytest.mark.usefixtures("with_plugins")]

TITLE = "Jumlah UMKM Kota Cimahi 2024"


def _as(browser, base: str, user: dict) -> None:
    browser.delete_all_cookies()
    _login(browser, base, user)


def _panel(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, ".umkm-release").text


def _transition(browser, name: str, **fields: str) -> None:
    form = browser.find_element(By.CSS_SELECTOR, f"form.umkm-transition[data-transition='{name}']")
    for field, value in fields.items():
        el = form.find_element(By.NAME, field)
        if el.get_attribute("type") == "datetime-local":
            browser.execute_script("arguments[0].value = arguments[1];", el, value)
        else:
            el.send_keys(value)
    button = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    try:
        button.click()
    except ElementClickInterceptedException:
        browser.execute_script("arguments[0].click();", button)
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-messages .alert")))


def test_release_workflow_in_the_browser(live_portal, reference_codes, browser, tmp_path):
    try:
        _workflow(live_portal, browser)
    except Exception:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print("screenshot:", tmp_path / "failure.png", "url:", browser.current_url)
        raise


def _workflow(base: str, browser) -> None:
    users = {name: factories.User(name=f"ui-{name}", password=PASSWORD) for name in ("producer", "walidata", "forum")}
    org = records.agency(name="diskumkm-kota-cimahi", title="Dinas KUMKM Kota Cimahi", kode_wilayah="32.77",
                         jenis_instansi="PEMERINTAH_KABUPATEN_KOTA",
                         users=[{"name": users["producer"]["name"], "capacity": "editor"}])
    records.agency(name="walidata-umkm", users=[{"name": users["walidata"]["name"], "capacity": "member"}])
    records.agency(name="forum-satu-data-umkm", users=[{"name": users["forum"]["name"], "capacity": "member"}])
    pkg = factories.Dataset(**records.dataset(
        org["id"], name="jumlah-umkm-kota-cimahi-2024", title=TITLE, analisis="Usaha mikro mendominasi.",
        resources=[{"url": "https://api.example.org/cimahi", "format": "API", "name": "API"}]))
    page = f"{base}/dataset/{pkg['name']}"

    # The producer submits the draft.
    _as(browser, base, users["producer"])
    browser.get(page)
    assert "Draf" in _panel(browser)
    _transition(browser, "submit")
    assert "Diajukan" in _panel(browser)
    # Under review, the record cannot be edited.
    assert browser.find_elements(By.CSS_SELECTOR, "form.umkm-transition") == []

    # Walidata finds it in its queue, reads the checklist and returns it.
    _as(browser, base, users["walidata"])
    browser.get(f"{base}/rilis/antrean")
    row = browser.find_element(By.CSS_SELECTOR, f"table.umkm-queue[data-queue='check'] tr[data-id='{pkg['id']}']")
    row.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 15).until(ec.url_contains(pkg["name"]))
    checks = browser.find_elements(By.CSS_SELECTOR, ".umkm-check")
    assert len(checks) == 6
    # An API is not examined for small counts: "not checked", not a pass.
    assert [c.get_attribute("data-check") for c in checks if "passed" not in c.get_attribute("class")] == [
        "disclosure"]
    assert "not-checked" in checks[-1].get_attribute("class")
    _transition(browser, "return", note="Judul harus menyebut sumber data")
    assert "Dikembalikan" in _panel(browser)

    # The producer reads the reason, corrects the title and submits again.
    _as(browser, base, users["producer"])
    browser.get(page)
    assert "Judul harus menyebut sumber data" in _panel(browser)
    browser.get(f"{base}/dataset/edit/{pkg['name']}")
    title = browser.find_element(By.ID, "field-title")
    title.clear()
    title.send_keys(TITLE + " (Sensus Ekonomi)")
    _click(browser, By.CSS_SELECTOR, "button[name=save]")
    WebDriverWait(browser, 15).until(ec.url_matches(rf"/dataset/{pkg['name']}$"))
    _transition(browser, "submit")

    _as(browser, base, users["walidata"])
    browser.get(page)
    _transition(browser, "pass")
    assert "Lolos periksa" in _panel(browser)

    # The Forum schedules the release; the calendar announces it.
    _as(browser, base, users["forum"])
    browser.get(f"{base}/rilis/antrean/approve")
    assert pkg["id"] in browser.page_source
    browser.get(page)
    when = (datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7)))
            + datetime.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    _transition(browser, "approve", release_at=when.strftime("%Y-%m-%dT%H:%M"),
                justification="API agregat; sel kecil diperiksa pemilik data")
    assert "Disetujui" in _panel(browser) and when.strftime("%d-%m-%Y 09:00 WIB") in _panel(browser)

    browser.delete_all_cookies()
    browser.get(f"{base}/rilis")
    upcoming = browser.find_element(By.CSS_SELECTOR, "table.umkm-upcoming").text
    assert TITLE + " (Sensus Ekonomi)" in upcoming and "Dinas KUMKM Kota Cimahi" in upcoming
    assert requests.get(page, timeout=30).status_code == 404
    ics = requests.get(f"{base}/rilis.ics", timeout=30)
    assert ics.headers["Content-Type"].startswith("text/calendar")
    assert "Sensus Ekonomi" in ics.text and when.strftime("%Y%m%dT02%M00Z") in ics.text.replace("\r\n ", "")

    # Time passes: the scheduler, run as cron would, publishes it.
    model.Session.execute(sa.text("UPDATE umkm_release_state SET release_at = now() - interval '1 minute' "
                                  "WHERE package_id = :id"), {"id": pkg["id"]})
    model.Session.commit()
    env = dict(os.environ)
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ckan"), "-c",
                          os.path.join(ROOT, "config", "test.ini"), "umkm", "release", "publish-due"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"released {pkg['name']}" in out.stdout
    browser.get(page)
    assert TITLE in browser.page_source and "Dirilis" in _panel(browser)
    browser.get(f"{base}/rilis")
    assert TITLE in browser.find_element(By.CSS_SELECTOR, "table.umkm-recent").text

    # A correction: the producer prepares a new version while the release stays public.
    _as(browser, base, users["producer"])
    browser.get(page)
    assert browser.find_elements(By.CSS_SELECTOR, "a.btn[href*='/dataset/edit/']") == []
    _transition(browser, "revise")
    WebDriverWait(browser, 15).until(ec.url_contains(f"{pkg['name']}-revisi-1"))
    assert "Draf" in _panel(browser) and "Versi baru dari" in _panel(browser)
    browser.get(page)
    assert f"{pkg['name']}-revisi-1" in _panel(browser)
    browser.delete_all_cookies()
    browser.get(page)
    assert "revisi-1" not in browser.page_source
    assert requests.get(f"{page}-revisi-1", timeout=30).status_code == 404
