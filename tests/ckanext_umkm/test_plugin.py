"""The umkm plugin is loaded and the site speaks Bahasa Indonesia first."""

import ckan.plugins as p
import pytest
from ckan.tests.helpers import call_action

pytestmark = [pytest.mark.usefixtures("with_plugins")]


def test_umkm_plugin_and_its_companions_are_loaded():
    for name in ("umkm", "activity", "datastore", "xloader", "dcat", "harvest"):
        assert p.plugin_loaded(name), name
    status = call_action("status_show")
    assert "umkm" in status["extensions"]
    assert status["site_title"] == "Portal Satu Data UMKM"


def test_home_page_is_indonesian_by_default_and_english_is_offered(app):
    html = app.get("/").body
    assert '<html lang="id"' in html
    assert "Portal Satu Data UMKM" in html
    # CKAN's Indonesian catalogue, and the portal's own word for datasets
    # ("Dataset", as on data.go.id, instead of CKAN's "Kumpulan data").
    assert ">Organisasi</a>" in html
    assert '<a href="/dataset/">Dataset</a>' in html
    english = app.get("/en/").body
    assert '<html lang="en"' in english
    assert "Datasets" in english
