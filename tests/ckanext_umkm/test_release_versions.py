"""New versions of released records (issue 4): a released record that is
changed goes back through the workflow as a new version while the released
version stays public, and the new version replaces it when released."""

from __future__ import annotations

import io

import pytest
from ckan import model
from ckan.lib import uploader
from ckan.logic import NotAuthorized, NotFound, ValidationError
from ckan.tests import helpers
from ckanext.umkm.release import workflow
from werkzeug.datastructures import FileStorage

from . import test_release_checks as checks
from .test_release_checks import GOOD_CSV, _call, dataset

world = checks.world  # the fixture: an agency with a released kegiatan and its variables

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

NEW_CSV = GOOD_CSV + "32.04,1,98112\n"


def _released(world: dict, title: str = "Jumlah UMKM Kota Bandung 2024") -> dict:
    pkg = dataset(world, GOOD_CSV, title=title)
    _call(world["producer"], "umkm_release_submit", id=pkg["id"])
    _call(world["walidata"], "umkm_release_pass", id=pkg["id"])
    _call(world["forum"], "umkm_release_approve", id=pkg["id"])
    return helpers.call_action("package_show", id=pkg["id"])


def _content(res: dict) -> str:
    with open(uploader.get_resource_uploader(res).get_path(res["id"]), encoding="utf-8") as stream:
        return stream.read()


def _public_show(pkg_id: str) -> dict | None:
    try:
        return helpers.call_action("package_show", context={"user": "", "ignore_auth": False}, id=pkg_id)
    except (NotAuthorized, NotFound):
        return None


def _public_titles() -> list[str]:
    found = helpers.call_action("package_search", context={"user": "", "ignore_auth": False}, q="*:*",
                                fq="dataset_type:dataset")
    return [r["title"] for r in found["results"]]


def test_a_new_version_goes_through_the_workflow_while_the_release_stays_public(world):
    pkg = _released(world)
    # The released record itself is not edited in place.
    with pytest.raises(NotAuthorized, match="new version"):
        _call(world["producer"], "package_patch", id=pkg["id"], title="Diubah diam-diam")
    assert "revise" in _call(world["producer"], "umkm_release_show", id=pkg["id"])["allowed_transitions"]

    copy = _call(world["producer"], "umkm_release_revise", id=pkg["id"])
    assert copy["name"] == f"{pkg['name']}-revisi-1" and copy["private"] is True
    assert copy["title"] == pkg["title"] and copy["kegiatan"] == pkg["kegiatan"]
    # Its own copy of the file, not a link to the released one.
    (res,) = copy["resources"]
    assert res["id"] != pkg["resources"][0]["id"] and res["url_type"] == "upload"
    assert _content(res) == GOOD_CSV
    state = _call(world["producer"], "umkm_release_show", id=copy["id"])
    assert (state["state"], state["revision_of"]) == ("draft", pkg["name"])
    original = _call(world["producer"], "umkm_release_show", id=pkg["id"])
    assert original["open_revision"] == copy["name"] and "revise" not in original["allowed_transitions"]
    # The public sees neither the copy nor that it exists.
    assert _public_show(copy["id"]) is None
    assert _public_titles() == [pkg["title"]]
    assert helpers.call_action("umkm_release_show", context={"user": "", "ignore_auth": False},
                               id=pkg["id"])["open_revision"] is None
    with pytest.raises(ValidationError, match="already being prepared"):
        _call(world["producer"], "umkm_release_revise", id=pkg["id"])

    # The producer corrects the copy and it goes through the whole workflow.
    _call(world["producer"], "package_patch", id=copy["id"], title="Jumlah UMKM Kota Bandung 2024 (revisi)")
    _call(world["producer"], "resource_update", id=res["id"], package_id=copy["id"], name="umkm.csv",
          format="CSV", url="umkm.csv", upload=FileStorage(stream=io.BytesIO(NEW_CSV.encode()), filename="umkm.csv"))
    _call(world["producer"], "umkm_release_submit", id=copy["id"])
    _call(world["walidata"], "umkm_release_return", id=copy["id"], note="Tambahkan Kabupaten Bogor")
    _call(world["producer"], "umkm_release_submit", id=copy["id"])
    _call(world["walidata"], "umkm_release_pass", id=copy["id"])
    assert _public_show(pkg["id"])["title"] == "Jumlah UMKM Kota Bandung 2024"
    released = _call(world["forum"], "umkm_release_approve", id=copy["id"])

    # The released record now carries the new version, under its own name and id.
    assert released["name"] == pkg["name"] and released["release_number"] == 2
    public = _public_show(pkg["id"])
    assert public["title"] == "Jumlah UMKM Kota Bandung 2024 (revisi)"
    (new_res,) = public["resources"]
    assert _content(new_res) == NEW_CSV
    assert model.Package.get(copy["id"]).state == "deleted"
    assert _public_titles() == ["Jumlah UMKM Kota Bandung 2024 (revisi)"]
    history = [(h["transition"], h["to_state"]) for h in workflow.history(pkg["id"])]
    assert history[-2:] == [("revise", "released"), ("release", "released")]
    assert "revise" in _call(world["producer"], "umkm_release_show", id=pkg["id"])["allowed_transitions"]
    # A second version gets the next number.
    assert _call(world["producer"], "umkm_release_revise", id=pkg["id"])["name"] == f"{pkg['name']}-revisi-2"


def test_only_producers_of_the_owning_organization_start_a_new_version_of_a_release(world):
    pkg = _released(world)
    for user in (world["walidata"], world["forum"]):
        with pytest.raises(NotAuthorized):
            _call(user, "umkm_release_revise", id=pkg["id"])
    with pytest.raises(NotAuthorized):
        helpers.call_action("umkm_release_revise", context={"user": "", "ignore_auth": False}, id=pkg["id"])
    draft = dataset(world, GOOD_CSV)
    with pytest.raises(ValidationError, match="Only a released record"):
        _call(world["producer"], "umkm_release_revise", id=draft["id"])
    assert workflow.open_revision(pkg["id"]) is None


def test_a_scheduled_new_version_replaces_a_withdrawn_release_when_the_job_publishes_it(world, freezer):
    pkg = _released(world)
    copy = _call(world["producer"], "umkm_release_revise", id=pkg["id"])
    # Errata: the Forum takes the release off the public while the correction is prepared.
    _call(world["forum"], "umkm_release_withdraw", id=pkg["id"], note="Ralat angka Kota Bandung")
    assert _public_show(pkg["id"]) is None
    _call(world["producer"], "package_patch", id=copy["id"], title="Jumlah UMKM Kota Bandung 2024 (ralat)")
    _call(world["producer"], "umkm_release_submit", id=copy["id"])
    _call(world["walidata"], "umkm_release_pass", id=copy["id"])
    freezer.move_to("2030-03-02T08:00:00+07:00")
    _call(world["forum"], "umkm_release_approve", id=copy["id"], release_at="2030-03-02T09:00")
    freezer.move_to("2030-03-02T09:01:00+07:00")
    admin = model.User.get(helpers.call_action("get_site_user")["name"])
    assert helpers.call_action("umkm_release_publish_due", context={"user": admin.name}) == [pkg["name"]]
    assert _public_show(pkg["id"])["title"] == "Jumlah UMKM Kota Bandung 2024 (ralat)"
    assert workflow.get_state(pkg["id"])["state"] == "released"
    assert model.Package.get(copy["id"]).state == "deleted"
