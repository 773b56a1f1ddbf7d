"""Request services in the browser (issue 13): an agency asks for a
restricted dataset from its access panel, Walidata asks for more, the
agency answers, Walidata approves with a download limit, the agency
downloads exactly its rows until the limit; an account request sent
without an account and approved; a data-sharing request up to its token."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from ckan import model
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from . import test_request_services as api
from . import two_factor_steps as steps
from .test_access_ui import _as, _panel, _session
from .test_hardening import _pdf
from .test_ui import _click, _select

pytestmark = [pytest.mark.usefixtures("with_plugins")]

requests_world = api.requests_world
world = api.world
NEXT_MONTH = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()


def _type(browser, field: str, value: str) -> None:
    el = browser.find_element(By.ID, f"field-{field}")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.clear()
    el.send_keys(value)


def _flash(browser) -> str:
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-messages .alert")))
    return browser.find_element(By.CSS_SELECTOR, ".flash-messages").text


def _step(browser, event: str, fields: dict[str, str] | None = None, files: dict[str, str] | None = None) -> None:
    """Take a step with its form on the request's page."""
    form = browser.find_element(By.CSS_SELECTOR, f"form.umkm-request-step[data-event='{event}']")
    for name, value in (fields or {}).items():
        el = form.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        elif el.get_attribute("type") == "date":
            browser.execute_script("arguments[0].value = arguments[1];", el, value)
        else:
            el.clear()
            el.send_keys(value)
    for name, path in (files or {}).items():
        form.find_element(By.NAME, name).send_keys(path)
    button = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    browser.execute_script("arguments[0].click();", button)
    _flash(browser)


def _request_state(browser) -> tuple[str, str]:
    el = browser.find_element(By.CSS_SELECTOR, ".umkm-request")
    return el.get_attribute("data-state"), el.get_attribute("data-step")


def test_the_three_kinds_of_request_in_the_browser(live_portal, reference_codes, requests_world, browser, tmp_path):
    try:
        _flow(live_portal, requests_world, browser, tmp_path)
    except Exception:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print("screenshot:", tmp_path / "failure.png", "url:", browser.current_url)
        raise


def _flow(base: str, w: dict, browser, tmp_path) -> None:
    letter = tmp_path / "surat.pdf"
    letter.write_bytes(_pdf(pages=1))
    not_pdf = tmp_path / "surat.docx"
    not_pdf.write_bytes(b"PK\x03\x04 not a pdf")
    bandung, walidata = w["bandung"], w["walidata"]
    bandung_secret, walidata_secret = steps.enrol(bandung), steps.enrol(walidata)

    def as_bandung() -> None:
        _as(browser, base, bandung, lambda: steps.fresh_code(bandung_secret, bandung))

    def as_walidata() -> None:
        _as(browser, base, walidata, lambda: steps.fresh_code(walidata_secret, walidata))

    # The access panel leads to the data request form, prefilled; no e-mail address to write to.
    as_bandung()
    page = f"{base}/dataset/{w['pkg']['name']}"
    browser.get(page)
    assert _panel(browser).get_attribute("data-reason") == "grant"
    assert "mailto:" not in _panel(browser).get_attribute("innerHTML")
    _click(browser, By.CSS_SELECTOR, "section.umkm-access a.umkm-request-data")
    WebDriverWait(browser, 15).until(ec.url_contains("/permohonan/data/baru"))
    box = browser.find_element(By.CSS_SELECTOR, ".umkm-request-datasets input[type=checkbox]")
    assert box.get_attribute("value") == w["pkg"]["name"] and box.is_selected()
    assert "Data BNBA UMKM Nasional 2024" in browser.page_source
    _select(browser, "organization_id", "diskumkm-kota-bandung")
    _select(browser, "use_category", "kebijakan")
    _type(browser, "nip_nik", "198001012005012001")
    _type(browser, "purpose", "Penyusunan program pembinaan")
    _type(browser, "expected_outputs", "Daftar sasaran")
    _type(browser, "regions", "32.73")
    _type(browser, "period", "2024")
    _click(browser, By.CSS_SELECTOR, "input[name=granularity][value=bnba]")
    _click(browser, By.CSS_SELECTOR, "input[name=transparency]")
    # A cover letter that is no PDF: the form comes back with the message, filled in.
    browser.find_element(By.ID, "field-letter").send_keys(str(not_pdf))
    _click(browser, By.CSS_SELECTOR, "form.umkm-request-form button[type=submit]")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".umkm-form-errors")))
    assert "PDF" in browser.find_element(By.CSS_SELECTOR, "#field-letter ~ .error-block").text
    assert browser.find_element(By.ID, "field-purpose").get_attribute("value") == "Penyusunan program pembinaan"
    browser.find_element(By.ID, "field-letter").send_keys(str(letter))
    _click(browser, By.CSS_SELECTOR, "form.umkm-request-form button[type=submit]")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".umkm-request")))
    number = browser.find_element(By.CSS_SELECTOR, ".umkm-request").get_attribute("data-number")
    assert number.startswith("PD-") and _request_state(browser) == ("open", "mencatat")
    browser.get(f"{base}/permohonan/saya")
    assert browser.find_element(By.CSS_SELECTOR, f"tr[data-number='{number}']")

    # Walidata: the queue, a step, and a question for the requester.
    as_walidata()
    browser.get(f"{base}/permohonan/antrean")
    _click(browser, By.CSS_SELECTOR, f"tr[data-number='{number}'] a")
    WebDriverWait(browser, 15).until(ec.url_contains(f"/permohonan/{number}"))
    assert "198001012005012001" in browser.page_source  # Walidata sees the NIP
    _step(browser, "advance")
    assert _request_state(browser) == ("open", "meninjau")
    _step(browser, "ask", {"note": "Lampirkan surat tugas"})
    assert _request_state(browser) == ("waiting", "meninjau")

    as_bandung()
    browser.get(f"{base}/permohonan/{number}")
    assert "Lampirkan surat tugas" in browser.page_source
    _step(browser, "answer", {"note": "Surat tugas terlampir"}, {"answer": str(letter)})
    assert _request_state(browser) == ("open", "meninjau")

    as_walidata()
    browser.get(f"{base}/permohonan/{number}")
    _step(browser, "advance")
    _step(browser, "advance")
    assert _request_state(browser) == ("open", "menyediakan")
    _step(browser, "approve", {"valid_until": NEXT_MONTH, "download_limit": "1"})
    assert _request_state(browser) == ("approved", "mencatat_penyerahan")
    assert browser.find_elements(By.CSS_SELECTOR, "a.umkm-reply-letter")

    # The agency downloads its rows, once.
    as_bandung()
    browser.get(page)
    assert _panel(browser).get_attribute("data-access") == "rows"
    link = browser.find_element(By.CSS_SELECTOR, "a.umkm-gated-download").get_attribute("href")
    reply = _session(browser).get(link, timeout=30)
    assert reply.status_code == 200
    assert {r["nama_usaha"] for r in csv.DictReader(io.StringIO(reply.content.decode()))} == api.restricted.BANDUNG
    assert _session(browser).get(link, timeout=30).status_code == 403
    letter_pdf = _session(browser).get(f"{base}/permohonan/{number}/surat-balasan.pdf", timeout=30)
    assert letter_pdf.status_code == 200 and letter_pdf.content.startswith(b"%PDF-")

    # An account request, without an account.
    browser.delete_all_cookies()
    browser.get(f"{base}/permohonan")
    _click(browser, By.CSS_SELECTOR, "#akun a.umkm-start-request")
    WebDriverWait(browser, 15).until(ec.url_contains("/permohonan/akun/baru"))
    _select(browser, "organization_id", "diskumkm-kota-bandung")
    for field, value in api.ADMIN.items():
        _type(browser, field, value)
    _type(browser, "username", "rina-ui")
    browser.find_element(By.ID, "field-letter").send_keys(str(letter))
    browser.find_element(By.ID, "field-statement").send_keys(str(letter))
    _click(browser, By.CSS_SELECTOR, "input[name=accept_controller_duties]")
    _click(browser, By.CSS_SELECTOR, "form.umkm-request-form button[type=submit]")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".umkm-request-number")))
    account = browser.find_element(By.CSS_SELECTOR, ".umkm-request-number strong").text
    assert account.startswith("PA-")
    as_walidata()
    browser.get(f"{base}/permohonan/{account}")
    for _ in range(3):
        _step(browser, "advance")
    _step(browser, "approve")
    assert _request_state(browser) == ("approved", "serah_terima")
    model.Session.remove()
    assert "diskumkm-kota-bandung" in [g.name for g in model.User.get("rina-ui").get_groups("organization")]

    # A data-sharing request, up to its token.
    as_bandung()
    browser.get(f"{base}/permohonan/berbagi-pakai/baru")
    _select(browser, "organization_id", "diskumkm-kota-bandung")
    for field, value in {**api.ADMIN, "background": "Integrasi SIM UMKM", "variables_needed": "kbli",
                         "variables_offered": "status pembinaan"}.items():
        _type(browser, field, value)
    browser.find_element(By.NAME, "datasets").send_keys(w["pkg"]["name"])
    browser.find_element(By.ID, "field-letter").send_keys(str(letter))
    browser.find_element(By.ID, "field-statement").send_keys(str(letter))
    _click(browser, By.CSS_SELECTOR, "input[name=accept_controller_duties]")
    _click(browser, By.CSS_SELECTOR, "form.umkm-request-form button[type=submit]")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".umkm-request")))
    sharing = browser.find_element(By.CSS_SELECTOR, ".umkm-request").get_attribute("data-number")
    as_walidata()
    browser.get(f"{base}/permohonan/{sharing}")
    for _ in range(3):
        _step(browser, "advance")
    assert _request_state(browser) == ("open", "koordinasi")
    _step(browser, "advance", files={"agreement": str(letter)})
    _step(browser, "advance")
    _step(browser, "approve", {"valid_until": NEXT_MONTH})
    assert _request_state(browser) == ("approved", "log_book")
    as_bandung()
    browser.get(f"{base}/permohonan/{sharing}")
    token = browser.find_element(By.CSS_SELECTOR, ".umkm-sharing-token code").text.strip()
    reply = api._download(base, w, token)
    assert reply.status_code == 200
