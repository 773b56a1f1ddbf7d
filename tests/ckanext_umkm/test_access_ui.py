"""Restricted data in the browser (issue 5): an agency user without a
statement is told what to do, signs it, turns on two-step login, downloads
only the regency's rows;
Walidata revokes the grant and reads the download in the audit log."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from . import test_restricted_access as restricted
from . import two_factor_steps as steps
from .test_ui import PASSWORD, _click, _login

pytestmark = [pytest.mark.usefixtures("with_plugins")]

world = restricted.world  # the fixture: a national BNBA table and its readers


def _as(browser, base: str, user: dict, code=None) -> None:
    browser.delete_all_cookies()
    _login(browser, base, user, code)


def _panel(browser):
    return browser.find_element(By.CSS_SELECTOR, "section.umkm-access")


def _session(browser) -> requests.Session:
    session = requests.Session()
    for cookie in browser.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def test_restricted_data_in_the_browser(live_portal, reference_codes, world, browser, tmp_path):
    try:
        _flow(live_portal, browser, world)
    except Exception:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print("screenshot:", tmp_path / "failure.png", "url:", browser.current_url)
        raise


def _flow(base: str, browser, world: dict) -> None:
    page = f"{base}/dataset/{world['pkg']['name']}"
    # The public sees the metadata and the way to ask, not the data.
    browser.get(page)
    assert "Data BNBA UMKM Nasional 2024" in browser.page_source
    assert _panel(browser).get_attribute("data-access") == "denied"
    assert browser.find_elements(By.CSS_SELECTOR, "a.umkm-gated-download") == []

    # An agency user without a statement is sent to sign it.
    _as(browser, base, world["no_nda"])
    browser.get(page)
    assert _panel(browser).get_attribute("data-reason") == "nda"
    _panel(browser).find_element(By.CSS_SELECTOR, "a[href$='/akses/pernyataan']").click()
    WebDriverWait(browser, 15).until(ec.url_contains("/akses/pernyataan"))
    assert "PERNYATAAN KERAHASIAAN INDIVIDU" in browser.page_source
    for field, value in (("field-full_name", "Budi Santoso"), ("field-nip_nik", "198502022010011002"),
                         ("field-agency", "Dinas KUMKM Kota Bandung"), ("field-position", "Pranata Komputer")):
        el = browser.find_element(By.ID, field)
        el.clear()
        el.send_keys(value)
    # Without accepting the data-controller duties, nothing is signed.
    _click(browser, By.CSS_SELECTOR, "button[name=sign]")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-messages .alert")))
    assert browser.find_elements(By.CSS_SELECTOR, ".umkm-nda-valid") == []
    browser.find_element(By.ID, "field-accept").click()
    _click(browser, By.CSS_SELECTOR, "button[name=sign]")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".umkm-nda-valid")))

    # Restricted data needs two-step login: the panel leads to turning it on.
    browser.get(page)
    assert _panel(browser).get_attribute("data-reason") == "mfa_setup"
    _click(browser, By.CSS_SELECTOR, "section.umkm-access a[href$='/akun/verifikasi-dua-langkah']")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "mfa-setup")))
    _click(browser, By.ID, "mfa-setup")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, "img.umkm-mfa-qr")))
    secret = browser.find_element(By.CSS_SELECTOR, ".umkm-mfa-secret").text.strip()
    user = world["no_nda"]

    def code() -> str:
        return steps.fresh_code(secret, user)

    browser.find_element(By.ID, "field-code").send_keys("123456")
    browser.find_element(By.ID, "field-password").send_keys(PASSWORD)
    _click(browser, By.ID, "mfa-confirm")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-messages .alert")))
    assert browser.find_elements(By.CSS_SELECTOR, ".umkm-mfa-on") == []
    browser.find_element(By.ID, "field-code").send_keys(code())
    browser.find_element(By.ID, "field-password").send_keys(PASSWORD)
    _click(browser, By.ID, "mfa-confirm")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".umkm-mfa-recovery")))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".umkm-mfa-recovery li")) == 10
    assert browser.find_elements(By.CSS_SELECTOR, ".umkm-mfa-on")

    # Now the regency's rows, and only those.
    browser.get(page)
    assert _panel(browser).get_attribute("data-access") == "rows"
    link = browser.find_element(By.CSS_SELECTOR, "a.umkm-gated-download").get_attribute("href")
    reply = _session(browser).get(link, timeout=30)
    assert reply.status_code == 200
    rows = list(csv.DictReader(io.StringIO(reply.content.decode())))
    assert {r["nama_usaha"] for r in rows} == restricted.BANDUNG

    # Walidata manages access only with two-step login: without it, the
    # grants page leads to turning it on.
    walidata = world["walidata"]
    _as(browser, base, walidata)
    browser.get(f"{base}/akses/izin")
    WebDriverWait(browser, 15).until(ec.url_contains("/akun/verifikasi-dua-langkah"))
    walidata_secret = steps.enrol(walidata)

    # Walidata revokes the agency's grant and finds the download in the log.
    _as(browser, base, walidata, lambda: steps.fresh_code(walidata_secret, walidata))
    browser.get(f"{base}/akses/izin")
    selector = f"table.umkm-grants tr[data-holder='{world['bandung_org']['id']}']"
    row = browser.find_element(By.CSS_SELECTOR, selector)
    assert row.get_attribute("data-active") == "true"
    row.find_element(By.NAME, "reason").send_keys("Penugasan selesai")
    button = row.find_element(By.CSS_SELECTOR, "form.umkm-revoke button")
    browser.execute_script("arguments[0].click();", button)
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-messages .alert")))
    row = browser.find_element(By.CSS_SELECTOR, selector)
    assert row.get_attribute("data-active") == "false" and "Penugasan selesai" in row.text
    browser.get(f"{base}/akses/log?action=data_delivered")
    entries = browser.find_elements(By.CSS_SELECTOR, "table.umkm-audit tr[data-action='data_delivered']")
    assert any("ra-no_nda" in e.text for e in entries)
    export = _session(browser).get(f"{base}/akses/log?format=csv&action=data_delivered", timeout=30)
    assert export.status_code == 200 and "ra-no_nda" in export.text

    # The agency's own grant is gone: the user (now asked for a code at
    # login) no longer gets rows.
    _as(browser, base, world["no_nda"], code)
    browser.get(page)
    assert _panel(browser).get_attribute("data-access") == "denied"
    assert _panel(browser).get_attribute("data-reason") == "grant"
