"""A producer creates, finds, facets, edits and deletes a dataset in the web UI,
in a real headless Chromium against the live portal."""

import pytest
from ckan.tests import factories
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from . import metadata_records as records

pytestmark = [pytest.mark.usefixtures("with_plugins")]

PASSWORD = "RahasiaSekali123"


def _login(browser, base, user, code=None):
    """Log in; ``code`` gives the two-step login code for users who have it on."""
    browser.get(f"{base}/user/login")
    browser.find_element(By.ID, "field-login").send_keys(user["name"])
    browser.find_element(By.ID, "field-password").send_keys(PASSWORD)
    _click(browser, By.CSS_SELECTOR, "form .form-actions button[type=submit]")
    if code is not None:
        WebDriverWait(browser, 15).until(ec.url_contains("/masuk/verifikasi"))
        browser.find_element(By.ID, "field-code").send_keys(code())
        _click(browser, By.ID, "mfa-verify")
    WebDriverWait(browser, 15).until(ec.url_contains("/dashboard"))


def _click(browser, by, selector):
    """Click like a user: scroll the element into view first."""
    el = browser.find_element(by, selector)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    try:
        el.click()
    except ElementClickInterceptedException:
        # CKAN's sticky page elements can overlap a button at the window's
        # edge; the browser still dispatches a real click event on it.
        browser.execute_script("arguments[0].click();", el)


def _select(browser, field: str, value: str) -> None:
    el = browser.find_element(By.ID, f"field-{field}")
    if not el.is_displayed():
        # A select2 widget hides the <select>; set it as the widget does.
        browser.execute_script("jQuery(arguments[0]).val(arguments[1]).trigger('change');", el, value)
        assert el.get_attribute("value") == value
        return
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    Select(el).select_by_value(value)
    # The form script listens to change events bubbling to the form.
    browser.execute_script("arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el)


def _type(browser, field: str, text: str) -> None:
    el = browser.find_element(By.ID, f"field-{field}")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    if el.get_attribute("type") == "date":
        # Chromium's date widget takes keystrokes in the browser's locale order.
        browser.execute_script("arguments[0].value = arguments[1];", el, text)
        return
    el.clear()
    el.send_keys(text)


def _check(browser, field: str, value: str) -> None:
    _click(browser, By.ID, f"field-{field}-{value}")


def fill_national_dataset_fields(browser) -> None:
    """The answers the metadata standard requires of every dataset."""
    _select(browser, "accessRights", "terbuka")
    _select(browser, "accrualPeriodicity", "TAHUNAN")
    _select(browser, "data_prioritas", "false")
    _select(browser, "jenis_data", "DATA_TRANSAKSI")
    _select(browser, "bentuk_data", "AGREGAT")
    _type(browser, "temporal_start", "2024-01-01")
    _check(browser, "tingkat_penyajian", "KABUPATEN_KOTA")


def _result_titles(browser):
    return [e.text.strip() for e in browser.find_elements(By.CSS_SELECTOR, ".dataset-heading a")]


def test_dataset_lifecycle_in_the_browser(live_portal, reference_codes, browser, tmp_path, request):
    try:
        _lifecycle(live_portal, browser, tmp_path)
    except Exception:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print("screenshot:", tmp_path / "failure.png", "url:", browser.current_url)
        raise


def _lifecycle(live_portal, browser, tmp_path):
    user = factories.User(password=PASSWORD)
    org = records.agency(title="Dinas KUKM Kota Bandung", jenis_instansi="PEMERINTAH_KABUPATEN_KOTA",
                         kode_wilayah="32.73", users=[{"name": user["name"], "capacity": "editor"}])
    records.release(factories.Dataset(**records.dataset(records.agency()["id"], title="Dataset lain UMKM"))["id"])
    csv = tmp_path / "umkm-bandung-2024.csv"
    csv.write_text("kecamatan,jumlah_umkm\nAndir,1200\nCoblong,950\n", encoding="utf-8")

    _login(browser, live_portal, user)

    # Create: stage 1 (metadata), stage 2 (upload a CSV file).
    browser.get(f"{live_portal}/dataset/new")
    browser.find_element(By.ID, "field-title").send_keys("Jumlah UMKM per Kecamatan Kota Bandung 2024")
    browser.find_element(By.ID, "field-notes").send_keys("Jumlah usaha mikro dan kecil per kecamatan.")
    _select(browser, "organizations", org["id"])
    fill_national_dataset_fields(browser)
    _click(browser, By.CSS_SELECTOR, "button[name=save]")
    WebDriverWait(browser, 15).until(ec.url_contains("/resource/new"))
    _click(browser, By.ID, "resource-upload-button")
    browser.find_element(By.ID, "field-resource-upload").send_keys(str(csv))
    _click(browser, By.CSS_SELECTOR, "button[name=save][value=go-metadata]")
    WebDriverWait(browser, 15).until(
        lambda b: b.current_url.endswith("/dataset/jumlah-umkm-per-kecamatan-kota-bandung-2024"))
    assert "Jumlah UMKM per Kecamatan Kota Bandung 2024" in browser.page_source
    assert "umkm-bandung-2024.csv" in browser.page_source

    # Search (free text, Indonesian stemming: "kecamatan" ~ "camat") and facet.
    browser.get(f"{live_portal}/dataset/?q=kecamatan+bandung")
    assert _result_titles(browser) == ["Jumlah UMKM per Kecamatan Kota Bandung 2024"]
    browser.get(f"{live_portal}/dataset/")
    assert len(_result_titles(browser)) == 2
    facet = browser.find_element(By.CSS_SELECTOR, f"a[href*='organization={org['name']}']")
    facet.click()
    WebDriverWait(browser, 15).until(ec.url_contains(f"organization={org['name']}"))
    assert _result_titles(browser) == ["Jumlah UMKM per Kecamatan Kota Bandung 2024"]

    # Edit.
    browser.get(f"{live_portal}/dataset/edit/jumlah-umkm-per-kecamatan-kota-bandung-2024")
    title = browser.find_element(By.ID, "field-title")
    title.clear()
    title.send_keys("Jumlah UMKM per Kecamatan Kota Bandung 2024 (revisi)")
    _click(browser, By.CSS_SELECTOR, "button[name=save]")
    WebDriverWait(browser, 15).until(ec.url_matches(r"/dataset/jumlah-umkm-per-kecamatan-kota-bandung-2024$"))
    browser.get(f"{live_portal}/dataset/?q=revisi")
    assert _result_titles(browser) == ["Jumlah UMKM per Kecamatan Kota Bandung 2024 (revisi)"]

    # Delete (CKAN asks for confirmation on its own page).
    browser.get(f"{live_portal}/dataset/delete/jumlah-umkm-per-kecamatan-kota-bandung-2024")
    _click(browser, By.CSS_SELECTOR, "form button[name=delete]")
    WebDriverWait(browser, 15).until(lambda b: "/delete/" not in b.current_url)
    browser.get(f"{live_portal}/dataset/?q=kecamatan")
    assert _result_titles(browser) == []
