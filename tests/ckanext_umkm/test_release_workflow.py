"""The release workflow (issue 4): states, the role x transition matrix, bad
input, service-time due dates, queues, history, and what the public sees."""

from __future__ import annotations

import concurrent.futures
import datetime
import uuid

import pytest
import requests
import sqlalchemy as sa
from ckan import model
from ckan.logic import NotAuthorized, NotFound, ValidationError
from ckan.tests import factories, helpers
from ckanext.umkm.release import workflow

from . import metadata_records as records

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

FUTURE = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)).isoformat()


@pytest.fixture()
def actors() -> dict[str, dict]:
    """One user per role, and two who hold none for the record."""
    users = {name: factories.User(name=f"user-{name}") for name in
             ("producer", "walidata", "forum", "other_editor", "outsider")}
    users["sysadmin"] = factories.Sysadmin(name="user-sysadmin")
    org = records.agency(name="dinas-kukm-jabar", users=[{"name": users["producer"]["name"], "capacity": "editor"}])
    records.agency(name="dinas-kukm-jatim", users=[{"name": users["other_editor"]["name"], "capacity": "editor"}])
    records.agency(name="walidata-umkm", users=[{"name": users["walidata"]["name"], "capacity": "member"}])
    records.agency(name="forum-satu-data-umkm", users=[{"name": users["forum"]["name"], "capacity": "member"}])
    users["org"] = org
    return users


# An API cannot be examined for small counts, so the disclosure check of
# these datasets is "not checked" and the curator approves with a reason.
JUSTIFICATION = "API agregat; sel kecil diperiksa pemilik data"


def act(user: dict | None, action: str, **kw):
    context = {"user": user["name"] if user else "", "ignore_auth": False}
    if action == "umkm_release_approve":
        kw.setdefault("justification", JUSTIFICATION)
    return helpers.call_action(action, context=context, **kw)


def new_dataset(actors, **kw) -> dict:
    """A dataset that passes every release check but the disclosure check,
    which cannot examine it: analysed, in an open format (an API, so that
    nothing needs downloading; test_release_checks covers files)."""
    kw.setdefault("name", f"data-umkm-{uuid.uuid4().hex[:12]}")
    kw.setdefault("analisis", "Jumlah UMKM naik 4% dari tahun sebelumnya.")
    kw.setdefault("resources", [{"url": "https://api.example.org/umkm", "format": "API", "name": "API UMKM"}])
    return act(actors["producer"], "package_create", **records.dataset(actors["org"]["id"], **kw))


PATHS = {
    "draft": [],
    "submitted": [("submit", {})],
    "returned": [("submit", {}), ("return", {"note": "Kolom kode wilayah salah"})],
    "checked": [("submit", {}), ("pass", {})],
    "approved": [("submit", {}), ("pass", {}), ("approve", {"release_at": FUTURE})],
    "released": [("submit", {}), ("pass", {}), ("approve", {})],
    "withdrawn": [("submit", {}), ("pass", {}), ("approve", {}), ("withdraw", {"note": "Ralat angka"})],
}


def drive(actors, pkg_id: str, state: str) -> None:
    for name, kw in PATHS[state]:
        act(actors["sysadmin"], f"umkm_release_{name}", id=pkg_id, **kw)
    assert workflow.get_state(pkg_id)["state"] == state


def _state(pkg_id: str) -> str:
    return workflow.get_state(pkg_id)["state"]


def _visible_to_public(pkg_id: str) -> bool:
    try:
        act(None, "package_show", id=pkg_id)
        return True
    except NotAuthorized:
        return False


# --- the states --------------------------------------------------------------

def test_a_new_record_is_a_private_draft_whatever_was_asked(actors):
    pkg = new_dataset(actors, private=False)
    assert pkg["private"] is True
    assert _state(pkg["id"]) == "draft"
    assert not _visible_to_public(pkg["id"])
    assert act(None, "package_search", q="*:*")["count"] == 0
    # Editing cannot publish it either.
    act(actors["producer"], "package_patch", id=pkg["id"], private=False)
    assert model.Package.get(pkg["id"]).private is True


def test_draft_to_released_with_a_return_and_resubmit_loop(actors):
    pkg = new_dataset(actors, title="Jumlah UMKM Jawa Barat 2024")
    act(actors["producer"], "umkm_release_submit", id=pkg["id"])
    back = act(actors["walidata"], "umkm_release_return", id=pkg["id"], note="Kode wilayah 32.99 tidak dikenal")
    assert back["state"] == "returned"
    # The producer sees the reason, corrects the record and submits again.
    shown = act(actors["producer"], "umkm_release_show", id=pkg["id"])
    assert shown["history"][-1]["note"] == "Kode wilayah 32.99 tidak dikenal"
    assert shown["allowed_transitions"] == ["submit"]
    act(actors["producer"], "package_patch", id=pkg["id"], title="Jumlah UMKM Jawa Barat 2024 (perbaikan)")
    act(actors["producer"], "umkm_release_submit", id=pkg["id"])
    act(actors["walidata"], "umkm_release_pass", id=pkg["id"])
    assert not _visible_to_public(pkg["id"])
    released = act(actors["forum"], "umkm_release_approve", id=pkg["id"])
    assert released["state"] == "released" and released["released_at"]
    assert _visible_to_public(pkg["id"])
    assert act(None, "package_search", q="perbaikan")["count"] == 1

    history = act(actors["producer"], "umkm_release_show", id=pkg["id"])["history"]
    assert [(h["transition"], h["role"], h["user_name"]) for h in history] == [
        ("submit", "producer", "user-producer"), ("return", "walidata", "user-walidata"),
        ("submit", "producer", "user-producer"), ("pass", "walidata", "user-walidata"),
        ("approve", "forum", "user-forum"), ("release", "forum", "user-forum")]
    # The public learns when it was released, not who reviewed it.
    public = act(None, "umkm_release_show", id=pkg["id"])
    assert [h["transition"] for h in public["history"]] == ["release"]
    assert "user_name" not in public["history"][0]


def test_withdraw_takes_a_release_off_the_public_and_reopen_starts_again(actors):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], "released")
    act(actors["forum"], "umkm_release_withdraw", id=pkg["id"], note="Ralat: angka Kab. Bogor tertukar")
    assert not _visible_to_public(pkg["id"])
    act(actors["producer"], "umkm_release_reopen", id=pkg["id"])
    assert _state(pkg["id"]) == "draft"


@pytest.mark.parametrize("transition", list(workflow.TRANSITIONS))
def test_role_transition_matrix(actors, transition):
    """Each transition, from a state it starts from, by every role: allowed
    exactly for the roles the workflow names (and sysadmins)."""
    spec = workflow.TRANSITIONS[transition]
    allowed = {"producer": "producer" in spec.roles, "walidata": "walidata" in spec.roles,
               "forum": "forum" in spec.roles, "other_editor": False, "outsider": False,
               "anonymous": False, "sysadmin": True}
    kw = {"note": "Alasan"} if spec.note_required else {}
    for actor, expected in allowed.items():
        pkg = new_dataset(actors)
        drive(actors, pkg["id"], spec.sources[0])
        user = None if actor == "anonymous" else actors[actor]
        if expected:
            result = act(user, f"umkm_release_{transition}", id=pkg["id"], **kw)
            assert result["state"] in (spec.target, "released"), (actor, transition)
            role = workflow.history(pkg["id"])[-1 if transition != "approve" else -2]["role"]
            assert role == (actor if actor != "sysadmin" else "sysadmin")
        else:
            with pytest.raises(NotAuthorized):
                act(user, f"umkm_release_{transition}", id=pkg["id"], **kw)
            assert _state(pkg["id"]) == spec.sources[0], (actor, transition)


# --- bad input ---------------------------------------------------------------

@pytest.mark.parametrize(("state", "transition"), [
    ("draft", "pass"), ("draft", "approve"), ("submitted", "approve"), ("checked", "submit"),
    ("released", "submit"), ("approved", "withdraw"), ("draft", "reopen"), ("released", "release"),
])
def test_a_transition_from_the_wrong_state_is_refused_and_nothing_changes(actors, state, transition):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], state)
    before = (workflow.get_state(pkg["id"]), len(workflow.history(pkg["id"])))
    with pytest.raises(ValidationError) as err:
        act(actors["sysadmin"], f"umkm_release_{transition}", id=pkg["id"], note="x")
    assert "state" in err.value.error_dict
    assert (workflow.get_state(pkg["id"]), len(workflow.history(pkg["id"]))) == before


@pytest.mark.parametrize("transition", ["return", "withdraw"])
def test_return_and_withdraw_need_a_reason(actors, transition):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], "submitted" if transition == "return" else "released")
    with pytest.raises(ValidationError) as err:
        act(actors["sysadmin"], f"umkm_release_{transition}", id=pkg["id"], note="  ")
    assert "note" in err.value.error_dict


@pytest.mark.parametrize("release_at", ["2020-01-01T09:00", "besok pagi", "2026-13-40T25:00"])
def test_a_release_time_in_the_past_or_malformed_is_refused(actors, release_at):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], "checked")
    with pytest.raises(ValidationError) as err:
        act(actors["forum"], "umkm_release_approve", id=pkg["id"], release_at=release_at)
    assert "release_at" in err.value.error_dict
    assert _state(pkg["id"]) == "checked"


def test_a_stale_version_is_refused(actors):
    pkg = new_dataset(actors)
    seen = act(actors["producer"], "umkm_release_show", id=pkg["id"])["version"]
    act(actors["producer"], "umkm_release_submit", id=pkg["id"], version=seen)
    with pytest.raises(ValidationError) as err:
        act(actors["walidata"], "umkm_release_return", id=pkg["id"], note="x", version=seen)
    assert "version" in err.value.error_dict


def test_reviewers_read_what_was_handed_over_but_not_drafts(actors):
    pkg = new_dataset(actors, title="Data UMKM untuk diperiksa")
    for reviewer in ("walidata", "forum"):
        with pytest.raises(NotAuthorized):
            act(actors[reviewer], "package_show", id=pkg["id"])
    act(actors["producer"], "umkm_release_submit", id=pkg["id"])
    for reviewer in ("walidata", "forum"):
        assert act(actors[reviewer], "package_show", id=pkg["id"])["private"] is True
        found = act(actors[reviewer], "package_search", q="diperiksa", include_private=True)
        assert [d["id"] for d in found["results"]] == [pkg["id"]]
    for outsider in ("outsider", "other_editor"):
        with pytest.raises(NotAuthorized):
            act(actors[outsider], "package_show", id=pkg["id"])
        assert act(actors[outsider], "package_search", q="diperiksa", include_private=True)["count"] == 0


def test_unknown_record_and_queue(actors):
    with pytest.raises((NotFound, NotAuthorized)):
        act(actors["sysadmin"], "umkm_release_submit", id="tidak-ada")
    with pytest.raises(ValidationError):
        act(actors["walidata"], "umkm_release_queue", queue="semua")


def test_bulk_visibility_changes_are_refused_even_to_sysadmins(actors):
    pkg = new_dataset(actors)
    for action in ("bulk_update_public", "bulk_update_private"):
        with pytest.raises(NotAuthorized):
            act(actors["sysadmin"], action, datasets=[pkg["id"]], org_id=actors["org"]["id"])
    assert model.Package.get(pkg["id"]).private is True


def test_the_history_cannot_be_edited_or_deleted(actors):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], "submitted")
    for statement in ("UPDATE umkm_release_transition SET note = 'diubah' WHERE package_id = :id",
                      "DELETE FROM umkm_release_transition WHERE package_id = :id"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            model.Session.execute(sa.text(statement), {"id": pkg["id"]})
        model.Session.rollback()
    assert len(workflow.history(pkg["id"])) == 1


# --- service-time standards and queues ---------------------------------------

def test_due_dates_skip_weekends_and_public_holidays():
    # Wednesday 23 Dec 2026 + 3 working days: 24th, (25th Christmas, weekend) 28th, 29th.
    assert workflow.due_date(datetime.date(2026, 12, 23), 3) == datetime.date(2026, 12, 29)
    # Friday 14 Aug 2026 + 1: Monday 17 Aug is Independence Day.
    assert workflow.due_date(datetime.date(2026, 8, 14), 1) == datetime.date(2026, 8, 18)


def test_submission_sets_the_review_deadline_and_queues_show_it(actors):
    pkg = new_dataset(actors)
    act(actors["producer"], "umkm_release_submit", id=pkg["id"])
    state = act(actors["walidata"], "umkm_release_show", id=pkg["id"])
    assert state["due"] == workflow.due_date(workflow.today(), workflow.working_days("review")).isoformat()
    assert state["overdue"] is False

    check = act(actors["walidata"], "umkm_release_queue", queue="check")
    assert [r["id"] for r in check] == [pkg["id"]]
    assert check[0]["organization"]["name"] == "dinas-kukm-jabar"
    mine = act(actors["producer"], "umkm_release_queue", queue="mine")
    assert [(r["id"], r["state"]) for r in mine] == [(pkg["id"], "submitted")]
    assert act(actors["other_editor"], "umkm_release_queue", queue="mine") == []
    for user, queue in ((actors["producer"], "check"), (actors["walidata"], "approve"),
                        (actors["outsider"], "scheduled"), (None, "mine")):
        with pytest.raises(NotAuthorized):
            act(user, "umkm_release_queue", queue=queue)

    # Overdue once the deadline has passed.
    model.Session.execute(sa.text("UPDATE umkm_release_state SET due = '2026-01-02' WHERE package_id = :id"),
                          {"id": pkg["id"]})
    model.Session.commit()
    assert act(actors["walidata"], "umkm_release_queue", queue="check")[0]["overdue"] is True


def test_an_approved_record_with_a_release_time_waits_in_the_scheduled_queue(actors):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], "checked")
    state = act(actors["forum"], "umkm_release_approve", id=pkg["id"], release_at="2099-01-15T09:00")
    assert state["state"] == "approved"
    # Without an offset the time is WIB (UTC+7).
    assert state["release_at"] == "2099-01-15T02:00:00+00:00"
    assert not _visible_to_public(pkg["id"])
    scheduled = act(actors["walidata"], "umkm_release_queue", queue="scheduled")
    assert [r["id"] for r in scheduled] == [pkg["id"]]


def test_concurrent_transitions_of_one_record_let_exactly_one_through(actors, live_portal):
    pkg = new_dataset(actors)
    drive(actors, pkg["id"], "submitted")
    token = helpers.call_action("api_token_create", context={"user": actors["walidata"]["name"]},
                                user=actors["walidata"]["name"], name="uji")["token"]

    def attempt(_: int) -> int:
        return requests.post(f"{live_portal}/api/3/action/umkm_release_pass", json={"id": pkg["id"]},
                             headers={"Authorization": token}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(attempt, range(4)))
    assert codes == [200, 409, 409, 409]
    model.Session.expire_all()
    assert [h["transition"] for h in workflow.history(pkg["id"])] == ["submit", "pass"]


# --- the public sees only released records, on every path --------------------

def test_unreleased_records_stay_off_every_public_path(actors, live_portal):
    pkg = new_dataset(actors, title="Data UMKM belum dirilis")
    resource_id = pkg["resources"][0]["id"]
    drive(actors, pkg["id"], "approved")

    def public_paths() -> dict[str, bool]:
        api = f"{live_portal}/api/3/action"
        return {
            "page": requests.get(f"{live_portal}/dataset/{pkg['name']}", timeout=30).status_code == 200,
            "package_show": requests.get(f"{api}/package_show", params={"id": pkg["id"]}, timeout=30).ok,
            "resource_show": requests.get(f"{api}/resource_show", params={"id": resource_id}, timeout=30).ok,
            "search": "belum dirilis" in requests.get(f"{api}/package_search", params={"q": "dirilis"},
                                                      timeout=30).text,
            "dcat": "belum dirilis" in requests.get(f"{live_portal}/catalog.ttl", timeout=30).text,
            "activity": requests.get(f"{api}/package_activity_list", params={"id": pkg["id"]},
                                     timeout=30).ok,
        }

    assert not any(public_paths().values()), public_paths()
    act(actors["sysadmin"], "umkm_release_release", id=pkg["id"])
    assert all(public_paths().values()), public_paths()


# --- scheduled release and the calendar ---------------------------------------

def test_the_scheduler_publishes_at_the_release_time_and_not_before(actors, freezer):
    pkg = new_dataset(actors, title="Rilis terjadwal UMKM")
    drive(actors, pkg["id"], "checked")
    freezer.move_to("2030-03-02T08:00:00+07:00")
    act(actors["forum"], "umkm_release_approve", id=pkg["id"], release_at="2030-03-02T09:00")
    run = lambda: helpers.call_action("umkm_release_publish_due", context={"user": actors["sysadmin"]["name"]})  # noqa: E731

    assert run() == []
    assert not _visible_to_public(pkg["id"])
    calendar = act(None, "umkm_release_calendar")
    assert [(i["title"], i["date"]) for i in calendar["upcoming"]] == [
        ("Rilis terjadwal UMKM", "2030-03-02T02:00:00+00:00")]
    assert calendar["recent"] == []

    freezer.move_to("2030-03-02T09:00:30+07:00")
    assert run() == [pkg["name"]]
    assert run() == []  # once only
    assert _visible_to_public(pkg["id"])
    history = workflow.history(pkg["id"])
    assert (history[-1]["transition"], history[-1]["role"], history[-1]["user_name"]) == (
        "release", "system", "system")
    calendar = act(None, "umkm_release_calendar")
    assert calendar["upcoming"] == [] and [i["name"] for i in calendar["recent"]] == [pkg["name"]]


def test_only_sysadmins_run_the_scheduler_and_the_calendar_is_public(actors):
    for user in (actors["forum"], actors["walidata"], None):
        with pytest.raises(NotAuthorized):
            act(user, "umkm_release_publish_due")
    assert act(None, "umkm_release_calendar", days=7) == {"upcoming": [], "recent": []}
    for days in ("0", "1000", "seminggu"):
        with pytest.raises(ValidationError):
            act(None, "umkm_release_calendar", days=days)


def test_the_activity_stream_shows_each_step_to_those_who_may_see_it(actors, live_portal):
    pkg = new_dataset(actors, title="Data UMKM dengan riwayat")
    act(actors["producer"], "umkm_release_submit", id=pkg["id"])
    act(actors["walidata"], "umkm_release_return", id=pkg["id"], note="Kode wilayah 32.99 tidak dikenal")
    token = helpers.call_action("api_token_create", context={"user": actors["producer"]["name"]},
                                user=actors["producer"]["name"], name="uji")["token"]
    page = f"{live_portal}/dataset/activity/{pkg['name']}"
    seen = requests.get(page, headers={"Authorization": token}, timeout=30)
    assert seen.status_code == 200
    assert 'data-transition="return"' in seen.text and "Kode wilayah 32.99 tidak dikenal" in seen.text
    assert 'data-transition="submit"' in seen.text and "Dikembalikan" in seen.text

    for name, kw in (("submit", {}), ("pass", {}), ("approve", {})):
        act(actors["sysadmin"], f"umkm_release_{name}", id=pkg["id"], **kw)
    public = requests.get(page, timeout=30)
    assert public.status_code == 200 and 'data-transition="release"' in public.text
    # What happened while it was private stays with those who could see it then.
    assert "Kode wilayah 32.99" not in public.text and 'data-transition="return"' not in public.text
