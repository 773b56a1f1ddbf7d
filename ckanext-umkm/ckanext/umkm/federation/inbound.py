"""Harvesting the portals of provinces, regencies and cities into this portal
(Permen UMKM 8/2025 Pasal 20(3), 29), with ckanext-harvest.

A harvest source belongs to the organization of the regional agency (which
carries its kode wilayah). Each remote dataset becomes one of our aggregate
``dataset`` records, mapped field by field (``map_dataset``):

- its id is derived from the source URL and the remote id, so that a remote
  id can never collide with, or overwrite, a record of ours or of another
  source; its name is the remote one, suffixed by the harvester on collision;
- national keys the regional record carries (``accessRights``,
  ``accrualPeriodicity``, ``prioritas_tahun``, …) fill our fields when their
  values are valid; codes (kode wilayah, KBLI) that are not in our code lists
  are dropped and reported by field, so they never reach the facets;
- provenance is kept: the source, the original URL and the harvest time;
- a new record enters the release workflow as a draft of the agency, unless
  the source's configuration says ``{"trusted": true}``: then it is released
  at once. An upstream change to a released record of an untrusted source
  arrives as a new version (the workflow's own revision copy);
- a record deleted upstream is withdrawn here (deleted, if never released).

Malformed records fail our validation and are reported in the job's errors,
the rest import. Fetches go through the egress guard (size and time bounded).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from typing import Any
from urllib.parse import urlencode

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.harvest.model import HarvestObject, HarvestObjectExtra
from ckanext.umkm.egress.harvesters import GuardedCKANHarvester

log = logging.getLogger(__name__)

# Fixed: the ids of harvested records must stay the same across harvests.
NAMESPACE = uuid.UUID("5b0c2f4e-8f0e-4c55-9a57-6b2c1f3d9e21")
ACCESS = ("terbuka", "terbatas", "tertutup")
FREQUENCIES = ("HARIAN", "MINGGUAN", "BULANAN", "TRIWULANAN", "EMPAT_BULANAN", "SEMESTERAN", "TAHUNAN",
               "LEBIH_DARI_DUA_TAHUNAN", "TIDAK_TERATUR")


class MappingError(Exception):
    pass


def local_id(source_url: str, remote_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{source_url.rstrip('/')}#{remote_id}"))


def source_config(source: Any) -> dict[str, Any]:
    try:
        config = json.loads(source.config or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def _value(remote: dict[str, Any], key: str) -> Any:
    """A key at the top level (scheming portals) or in the extras (others)."""
    value = remote.get(key)
    if value in (None, "", []):
        for extra in remote.get("extras") or []:
            if isinstance(extra, dict) and extra.get("key") == key:
                return extra.get("value")
        return None
    return value


def _codes(remote: dict[str, Any], key: str, scheme: str, problems: list[str]) -> list[str]:
    from ckanext.umkm.metadata import reference_codes
    from ckanext.umkm.metadata.validators import as_list

    given = [str(c).strip() for c in as_list(_value(remote, key)) if str(c).strip()]
    known = reference_codes.get_many(scheme, given)
    for code in given:
        if code not in known:
            problems.append(f"{key}: {code!r} is not a code of {scheme}; left out")
    return [c for c in given if c in known]


def map_dataset(remote: dict[str, Any], source: Any, now: datetime.datetime | None = None
                ) -> tuple[dict[str, Any], list[str]]:
    """Our ``dataset`` for a regional record, and the problems found (by field)."""
    problems: list[str] = []
    # A harvest source is a dataset of its own: its organization is the agency.
    owner = getattr(source, "owner_org", None) or getattr(model.Package.get(source.id), "owner_org", None)
    org = model.Group.get(owner) if owner else None
    region = (org.extras.get("kode_wilayah") if org is not None else None) or ""
    if not region:
        raise MappingError("the harvest source's organization has no kode wilayah")
    remote_id = str(remote.get("id") or remote.get("name") or "")
    if not remote_id:
        raise MappingError("the record has neither id nor name")

    access = str(_value(remote, "accessRights") or "terbuka").strip().lower()
    if access not in ACCESS:
        problems.append(f"accessRights: {access!r} unknown; taken as tertutup")
        access = "tertutup"
    frequency = str(_value(remote, "accrualPeriodicity") or "").strip().upper()
    if frequency not in FREQUENCIES:
        if frequency:
            problems.append(f"accrualPeriodicity: {frequency!r} unknown; taken as TIDAK_TERATUR")
        frequency = "TIDAK_TERATUR"
    year = str(_value(remote, "prioritas_tahun") or "").strip()
    start = _value(remote, "temporal_start")
    if start in (None, ""):
        tahun = str(_value(remote, "tahun_kegiatan") or "").strip()
        start = f"{tahun}-01-01" if tahun.isdigit() else str(remote.get("metadata_created") or "")[:10]
    regions = _codes(remote, "cakupan_wilayah", "wilayah", problems) or [region]
    sectors = _codes(remote, "sektor_kbli", "kbli", problems)
    url = source.url.rstrip("/")
    name = str(remote.get("name") or remote_id)
    stamp = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0).isoformat()
    dataset = {
        "id": local_id(url, remote_id),
        "type": "dataset",
        "name": name,
        "title": remote.get("title") or name,
        "notes": remote.get("notes") or remote.get("title") or name,
        "owner_org": org.id,
        "license_id": remote.get("license_id") or "notspecified",
        "tags": [{"name": t["name"]} for t in remote.get("tags") or [] if isinstance(t, dict) and t.get("name")],
        "accessRights": access,
        "accrualPeriodicity": frequency,
        "jenis_data": "DATA_TRANSAKSI",
        "bentuk_data": "AGREGAT",
        "data_prioritas": year.isdigit(),
        "prioritas_tahun": int(year) if year.isdigit() else None,
        "temporal_start": start,
        "temporal_end": _value(remote, "temporal_end"),
        "tingkat_penyajian": ["PROVINSI" if len(region) == 2 else "KABUPATEN_KOTA"],
        "cakupan_wilayah": regions,
        "sektor_kbli": sectors,
        "harvest_source_url": url,
        "harvest_original_url": remote.get("_dcat_uri") or f"{url}/dataset/{name}",
        "harvested_at": stamp,
        "resources": [
            {"id": local_id(url, f"{remote_id}/{res.get('id') or i}"), "url": res["url"],
             "name": res.get("name") or res["url"].rsplit("/", 1)[-1], "description": res.get("description"),
             "format": res.get("format")}
            for i, res in enumerate(remote.get("resources") or [])
            if isinstance(res, dict) and str(res.get("url") or "").startswith(("http://", "https://"))],
    }
    if str(_value(remote, "bentuk_data") or "").upper() == "BNBA":
        raise MappingError("by-name-by-address data is never harvested")
    return {k: v for k, v in dataset.items() if v is not None}, problems


def _site_context() -> dict[str, Any]:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site_user["name"], "ignore_auth": True}


def _release_state(package_id: str) -> str | None:
    from ckanext.umkm.release import workflow

    state = workflow.get_state(package_id)
    return state["state"] if state else None


def into_new_version(dataset: dict[str, Any]) -> dict[str, Any]:
    """An untrusted source's change to a released record is a new version
    that goes through the workflow; the released one stays public."""
    from ckanext.umkm.release import workflow

    copy_name = workflow.open_revision(dataset["id"])
    if copy_name is None:
        copy_name = tk.get_action("umkm_release_revise")(_site_context(), {"id": dataset["id"]})["name"]
    copy = model.Package.get(copy_name)
    dataset = dict(dataset, id=copy.id, name=copy.name)
    # The copy's own files keep their ids; remote links replace them.
    for res in dataset.get("resources", []):
        res.pop("id", None)
    return dataset


def release(package_id: str, source: Any) -> str | None:
    """A trusted source's record is released at once (the system takes the
    workflow's steps); returns why not, if it could not be."""
    steps = {"draft": ("submit", "pass", "approve"), "returned": ("submit", "pass", "approve"),
             "submitted": ("pass", "approve"), "checked": ("approve",)}.get(_release_state(package_id) or "", ())
    try:
        for step in steps:
            extra = {"justification": "Dipanen dari sumber tepercaya: " + source.url} if step == "approve" else {}
            tk.get_action(f"umkm_release_{step}")({"ignore_auth": True, "user": ""}, {"id": package_id, **extra})
    except tk.ValidationError as e:
        return f"not released: {e.error_summary}"
    return None


class RegionalCKANHarvester(GuardedCKANHarvester):
    """ckanext-harvest's CKAN harvester (through the egress guard), mapping
    regional records into ours, following deletions and the workflow."""

    def gather_stage(self, harvest_job: Any) -> list[str] | None:
        ids = super().gather_stage(harvest_job)
        if ids is None:
            return None
        remote = self._remote_ids(harvest_job.source.url.rstrip("/"))
        if not remote:
            # Unreadable, or empty: a portal that seems to have emptied itself
            # is more likely broken than withdrawn; nothing is deleted.
            return ids
        previous = (model.Session.query(HarvestObject.guid, HarvestObject.package_id)
                    .filter(HarvestObject.current == True)  # noqa: E712 - SQL
                    .filter(HarvestObject.harvest_source_id == harvest_job.source.id))
        for guid, package_id in previous.all():
            if guid in remote:
                continue
            model.Session.query(HarvestObject).filter_by(guid=guid).update({"current": False}, False)
            obj = HarvestObject(guid=guid, job=harvest_job, package_id=package_id,
                                extras=[HarvestObjectExtra(key="status", value="delete")])
            obj.save()
            ids.append(obj.id)
        return ids

    def _remote_ids(self, base: str) -> set[str] | None:
        """Every id the source publishes now (to follow deletions); None when
        the list cannot be read completely (then nothing is deleted)."""
        found: set[str] = set()
        start = 0
        while True:
            url = f"{base}/api/3/action/package_search?" + urlencode(
                {"fl": "id", "rows": 1000, "start": start, "sort": "id asc"})
            try:
                page = json.loads(self._get_content(url))["result"]["results"]
            except Exception as e:  # noqa: BLE001 - any failure: follow no deletion this time
                log.warning("could not list the ids of %s: %s", base, e)
                return None
            found.update(str(p["id"]) for p in page if isinstance(p, dict) and p.get("id"))
            if len(page) < 1000:
                return found
            start += 1000

    def modify_package_dict(self, package_dict: dict[str, Any], harvest_object: Any) -> dict[str, Any]:
        source = harvest_object.source
        dataset, problems = map_dataset(package_dict, source)
        for problem in problems:
            self._save_object_error(problem, harvest_object, "Import")
        trusted = bool(source_config(source).get("trusted"))
        if not trusted and _release_state(dataset["id"]) == "released":
            dataset = into_new_version(dataset)
        return dataset

    def import_stage(self, harvest_object: Any) -> bool | str | None:
        if any(e.key == "status" and e.value == "delete" for e in harvest_object.extras):
            return self._follow_deletion(harvest_object)
        # The stock stage reports a MappingError or ValidationError as the
        # object's error, and the job goes on with the next record.
        result = super().import_stage(harvest_object)
        if result is True and source_config(harvest_object.source).get("trusted"):
            problem = release(local_id(harvest_object.source.url, harvest_object.guid), harvest_object.source)
            if problem:
                self._save_object_error(problem, harvest_object, "Import")
        return result

    def _follow_deletion(self, harvest_object: Any) -> bool:
        package_id = local_id(harvest_object.source.url, harvest_object.guid)
        if model.Package.get(package_id) is None:
            return True
        context = {"ignore_auth": True, "user": ""}
        try:
            if _release_state(package_id) == "released":
                tk.get_action("umkm_release_withdraw")(context, {
                    "id": package_id, "note": "Dihapus di portal sumber " + harvest_object.source.url})
            else:
                tk.get_action("package_delete")(dict(_site_context()), {"id": package_id})
        except (tk.ValidationError, tk.ObjectNotFound) as e:
            self._save_object_error(f"deletion not followed: {e}", harvest_object, "Import")
            return False
        return True


_WILAYAH_URI = re.compile(r"/kode/wilayah/([0-9.]{2,13})$")
_KBLI_URI = re.compile(r"/kode/kbli/([A-U0-9]{1,5})$")


def _from_dcat(dataset_dict: dict[str, Any], guid: str) -> dict[str, Any]:
    """What ckanext-dcat parsed from a DCAT record, in the regional keys
    ``map_dataset`` reads: EU access rights and frequencies back to ours,
    and region and KBLI codes from URIs of this portal's code lists."""
    from ckanext.umkm.federation.dcat_profile import ACCESS_RIGHTS, FREQUENCIES
    from ckanext.umkm.metadata.validators import as_list

    def get(key: str) -> Any:
        return _value(dataset_dict, key)

    remote = dict(dataset_dict, id=guid)
    access = str(get("access_rights") or "").rstrip("/").rsplit("/", 1)[-1]
    remote["accessRights"] = next((ours for ours, eu in ACCESS_RIGHTS.items() if eu == access), None)
    frequency = str(get("frequency") or "").rstrip("/").rsplit("/", 1)[-1]
    remote["accrualPeriodicity"] = next((ours for ours, eu in FREQUENCIES.items() if eu == frequency),
                                        frequency or None)
    spatial = [m.group(1) for u in as_list(get("spatial_uri")) if (m := _WILAYAH_URI.search(str(u)))]
    themes = [m.group(1) for u in as_list(get("theme")) if (m := _KBLI_URI.search(str(u)))]
    remote["cakupan_wilayah"] = spatial or None
    remote["sektor_kbli"] = themes or None
    for key in ("temporal_start", "temporal_end"):
        value = get(key)
        remote[key] = str(value)[:10] if value else None
    remote["metadata_created"] = get("issued") or get("modified")
    uri = str(get("uri") or "")
    remote["_dcat_uri"] = uri if uri.startswith(("http://", "https://")) else None
    remote["resources"] = [dict(r, url=r.get("download_url") or r.get("url") or r.get("access_url") or "")
                           for r in dataset_dict.get("resources") or []]
    return remote


def map_dcat_dataset(harvest_object: Any, dataset_dict: dict[str, Any], *, update: bool) -> None:
    """ckanext-dcat's RDF harvester (``before_create``/``before_update``):
    the same mapping, in place, for DCAT portals that are not CKAN. Problems
    are the harvest object's errors; a MappingError fails the record."""
    from ckanext.harvest.model import HarvestObjectError

    source = harvest_object.source
    mapped, problems = map_dataset(_from_dcat(dataset_dict, harvest_object.guid or ""), source)
    mapped.update(id=dataset_dict["id"], name=dataset_dict["name"])
    known = {r.get("url"): r.get("id") for r in dataset_dict.get("resources") or [] if r.get("id")}
    for res in mapped.get("resources", []):
        res["id"] = known.get(res["url"]) or res["id"]
    if update and not source_config(source).get("trusted") and _release_state(mapped["id"]) == "released":
        mapped = into_new_version(mapped)
    dataset_dict.clear()
    dataset_dict.update(mapped)
    for problem in problems:
        HarvestObjectError(message=problem, object=harvest_object, stage="Import").save()


def after_dcat_import(harvest_object: Any, dataset_dict: dict[str, Any]) -> str | None:
    """A trusted DCAT source's record is released at once, as a CKAN one's."""
    if not source_config(harvest_object.source).get("trusted"):
        return None
    return release(dataset_dict["id"], harvest_object.source)
