"""A producer fills the metadata forms in a real headless Chromium: a kegiatan
(with the parts that apply shown and hidden as answers change, and the form's
messages in Bahasa Indonesia), a variabel and an indikator linked to it, and
an aggregate dataset whose region is picked by name through autocomplete.
The pages then show the links both ways."""

from __future__ import annotations

import pytest
from ckan.tests import factories
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from . import metadata_records as records
from .test_ui import PASSWORD, _check, _click, _login, _select, _type, fill_national_dataset_fields

pytestmark = [pytest.mark.usefixtures("with_plugins")]


def _visible(browser, field: str) -> bool:
    el = browser.find_element(By.CSS_SELECTOR, f'[name="{field}"]')
    wrapper = el.find_element(By.XPATH, "./ancestor::div[contains(@class,'form-group')][1]")
    return wrapper.is_displayed()


def _set_hidden_value(browser, field: str, value: str) -> None:
    """Link fields are select2 widgets over a text input; set the input as
    the widget does after a pick (the pick itself is tested on the dataset)."""
    el = browser.find_element(By.ID, f"field-{field}")
    browser.execute_script("arguments[0].value = arguments[1];", el, value)


def _pick(browser, field: str, typed: str, label_part: str) -> None:
    """Type into a select2 autocomplete and pick the suggestion shown."""
    container = browser.find_element(By.ID, f"s2id_field-{field}")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", container)
    try:
        container.click()
    except ElementClickInterceptedException:
        # A sticky page element overlaps the widget: open it as a click would.
        browser.execute_script("jQuery(arguments[0]).select2('open');",
                               browser.find_element(By.ID, f"field-{field}"))
    box = browser.switch_to.active_element
    box.send_keys(typed)
    WebDriverWait(browser, 15).until(ec.presence_of_element_located(
        (By.XPATH, f"//li[contains(@class,'select2-highlighted')][contains(., '{label_part}')]")))
    # Enter picks the highlighted suggestion, as a keyboard user would.
    box.send_keys(Keys.ENTER)


def _save(browser) -> None:
    _click(browser, By.CSS_SELECTOR, "button[name=save]")


def test_metadata_forms_in_the_browser(live_portal, reference_codes, browser, tmp_path):
    try:
        _metadata_forms(live_portal, browser, tmp_path)
    except Exception:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print("screenshot:", tmp_path / "failure.png", "url:", browser.current_url)
        raise


def _metadata_forms(base: str, browser, tmp_path) -> None:
    user = factories.User(password=PASSWORD)
    org = records.agency(title="Dinas KUKM Jawa Barat",
                         users=[{"name": user["name"], "capacity": "editor"}])
    _login(browser, base, user)

    # --- kegiatan: conditional parts, Indonesian messages, then a valid save.
    browser.get(f"{base}/kegiatan/new")
    _type(browser, "title", "Survei UMKM Jawa Barat 2024")
    _select(browser, "organizations", org["id"])
    assert not _visible(browser, "v_jenis_rancangan_sampel")
    _select(browser, "cara_pengumpulan_data", "SURVEI")
    assert _visible(browser, "v_jenis_rancangan_sampel")
    assert _visible(browser, "rekomendasi_dari_bps")
    _select(browser, "cara_pengumpulan_data", "KOMPILASI_PRODUK_ADMINISTRASI")
    assert not _visible(browser, "v_jenis_rancangan_sampel")
    assert not _visible(browser, "iv_frekuensi_penyelanggara")
    _select(browser, "iv_kegiatan_ini_dilakukan", "BERULANG")
    assert _visible(browser, "iv_frekuensi_penyelanggara")

    # Saving now fails: the messages name the missing answers, in Indonesian.
    _save(browser)
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".error-explanation")))
    errors = browser.find_element(By.CSS_SELECTOR, ".error-explanation").text
    assert "Wajib diisi" in errors
    # What was typed is kept, and the conditional part is still shown.
    assert browser.find_element(By.ID, "field-title").get_attribute("value") == "Survei UMKM Jawa Barat 2024"
    assert _visible(browser, "iv_frekuensi_penyelanggara")

    _type(browser, "tahun_kegiatan", "2024")
    _select(browser, "jenis_statistik", "STATISTIK_SEKTORAL")
    _select(browser, "sektor_kegiatan", "INDUSTRI_DAN_JASA")
    _type(browser, "i_instansi_penyelanggara", "Dinas KUKM Provinsi Jawa Barat")
    _type(browser, "ii_pj_nama", "Kepala Bidang Data")
    _type(browser, "iii_latar_belakang_kegiatan", "Kebutuhan data UMKM daerah.")
    _type(browser, "iii_tujuan_kegiatan", "Jumlah UMKM per kabupaten/kota.")
    _select(browser, "iv_frekuensi_penyelanggara", "TAHUNAN")
    _select(browser, "iv_tipe_pengumpulan_data", "CROSS_SECTIONAL")
    _select(browser, "iv_cakupan_wilayah_pengumpulan_data", "SELURUH_WILAYAH_INDONESIA")
    _check(browser, "iv_metode_pengumpulan_data", "PENGUMPULAN_DATA_SEKUNDER")
    _check(browser, "iv_sarana_pengumpulan_data", "CAWI")
    _check(browser, "iv_unit_pengumpulan_data", "USAHA_ATAU_PERUSAHAAN")
    _select(browser, "vi_apakah_melakukan_uji_coba", "false")
    _check(browser, "vi_metode_pemeriksaan_kualitas_pengumpulan_data", "SUPERVISI")
    _select(browser, "vi_apakah_melakukan_penyesuaian_nonrespon", "false")
    _select(browser, "vii_metode_analisis", "DESKRIPTIF")
    _check(browser, "vii_unit_analisis", "USAHA_ATAU_PERUSAHAAN")
    _check(browser, "vii_tingkat_penyajian_hasil_analisis", "KABUPATEN_ATAU_KOTA")
    for product in ("tercetak", "digital", "mikrodata"):
        _select(browser, f"viii_ketersediaan_produk_{product}", "false")
    _save(browser)
    WebDriverWait(browser, 15).until(ec.url_contains("/kegiatan/survei-umkm-jawa-barat-2024"))
    page = browser.page_source
    assert "Blok IV. Desain kegiatan" in page
    assert "Tahunan" in page  # enum shown by its label

    # --- variabel linked to the kegiatan.
    browser.get(f"{base}/variabel/new")
    _type(browser, "title", "Skala Usaha")
    _select(browser, "organizations", org["id"])
    _set_hidden_value(browser, "kegiatan", "survei-umkm-jawa-barat-2024")
    _type(browser, "konsep", "Kriteria UMKM")
    _type(browser, "notes", "Skala usaha menurut PP 7/2021.")
    _type(browser, "referensi_waktu", "Tahun 2024")
    _select(browser, "tipe_data", "CHARACTER")
    _select(browser, "value_domain_reference", "kbli")
    _select(browser, "apakah_variabel_bisa_diakses_umum", "true")
    _save(browser)
    WebDriverWait(browser, 15).until(ec.url_contains("/variabel/skala-usaha"))
    assert "Survei UMKM Jawa Barat 2024" in browser.page_source

    # --- indikator built from the variabel.
    browser.get(f"{base}/indikator/new")
    _type(browser, "title", "Jumlah UMKM")
    _select(browser, "organizations", org["id"])
    for field, text in (("konsep", "UMKM aktif"), ("notes", "Banyaknya UMKM aktif."),
                        ("interpretasi", "Makin besar makin banyak."), ("metode_perhitungan", "Jumlah unit."),
                        ("ukuran", "Jumlah"), ("satuan", "Unit usaha")):
        _type(browser, field, text)
    _select(browser, "apakah_indikator_komposit", "false")
    assert _visible(browser, "variabel_pembangun")
    assert not _visible(browser, "indikator_pembangun")
    _set_hidden_value(browser, "variabel_pembangun", "skala-usaha")
    _check(browser, "level_estimasi", "PROVINSI")
    _select(browser, "apakah_indikator_bisa_diakses_umum", "true")
    _save(browser)
    WebDriverWait(browser, 15).until(ec.url_contains("/indikator/jumlah-umkm"))

    # --- dataset: region picked by typing its name.
    browser.get(f"{base}/dataset/new")
    _type(browser, "title", "Jumlah UMKM Kota Bandung 2024")
    _type(browser, "notes", "Jumlah UMKM menurut skala usaha.")
    _select(browser, "organizations", org["id"])
    fill_national_dataset_fields(browser)
    _pick(browser, "cakupan_wilayah", "Kota Bandung", "32.73")
    assert browser.find_element(By.ID, "field-cakupan_wilayah").get_attribute("value") == "32.73"
    _set_hidden_value(browser, "kegiatan", "survei-umkm-jawa-barat-2024")
    _set_hidden_value(browser, "variabel", "skala-usaha")
    _set_hidden_value(browser, "indikator", "jumlah-umkm")
    _save(browser)
    # Stage 2: the data file.
    WebDriverWait(browser, 15).until(ec.url_contains("/resource/new"))
    csv = tmp_path / "umkm-bandung-2024.csv"
    csv.write_text("kode_wilayah,skala_usaha,jumlah\n32.73,1,1200\n32.73,2,95\n", encoding="utf-8")
    _click(browser, By.ID, "resource-upload-button")
    browser.find_element(By.ID, "field-resource-upload").send_keys(str(csv))
    _click(browser, By.CSS_SELECTOR, "button[name=save][value=go-metadata]")
    WebDriverWait(browser, 15).until(ec.url_contains("/dataset/jumlah-umkm-kota-bandung-2024"))

    browser.get(f"{base}/dataset/jumlah-umkm-kota-bandung-2024")
    page = browser.page_source
    assert "Kota Bandung" in page and "Jumlah UMKM" in page

    # --- links both ways.
    browser.get(f"{base}/kegiatan/survei-umkm-jawa-barat-2024")
    related = browser.find_element(By.CSS_SELECTOR, ".umkm-related").text
    assert "Skala Usaha" in related and "Jumlah UMKM" in related
    assert "Jumlah UMKM Kota Bandung 2024" in related
    browser.get(f"{base}/indikator/jumlah-umkm")
    page = browser.find_element(By.CSS_SELECTOR, "body").text
    assert "Skala Usaha" in page and "Survei UMKM Jawa Barat 2024" in page
    assert "Jumlah UMKM Kota Bandung 2024" in browser.find_element(By.CSS_SELECTOR, ".umkm-related").text
