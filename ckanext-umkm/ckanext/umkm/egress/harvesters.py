"""The harvesters' fetches through the egress guard, by their own extension
points (the harvesters themselves stay unpatched):

- ckanext-dcat's RDF harvester (``dcat_rdf_harvester``): the
  ``IDCATRDFHarvester`` hooks refuse a source URL that is not http(s) (the
  harvester would otherwise read a local file) or that leads inside the
  network, and mount the guard on the session it downloads with, so that
  every page and every redirect is checked;
- ckanext-harvest's CKAN harvester: ``umkm_ckan_harvester`` is that
  harvester (same name, ``ckan``, for harvest sources) with its one fetching
  method going through the guard, bounded in size and time; its subclass
  ``federation.inbound.RegionalCKANHarvester`` (plugin ``umkm_ckan_harvester``)
  is loaded instead of ``ckan_harvester``.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.dcat.interfaces import IDCATRDFHarvester
from ckanext.harvest.harvesters.ckanharvester import CKANHarvester, ContentFetchError
from ckanext.umkm import egress

MAX_MB = 50
TIMEOUT = 60


class DcatHarvestGuard(p.SingletonPlugin):
    p.implements(IDCATRDFHarvester, inherit=True)

    def before_download(self, url: str, harvest_job: Any) -> tuple[str | None, list[str]]:
        try:
            egress.check(url or "")
        except egress.Refused as e:
            return None, [e.reason]
        return url, []

    # Records of DCAT portals are mapped into ours as CKAN portals' are.
    def before_create(self, harvest_object: Any, dataset_dict: dict, temp_dict: dict) -> None:
        from ckanext.umkm.federation import inbound

        inbound.map_dcat_dataset(harvest_object, dataset_dict, update=False)

    def before_update(self, harvest_object: Any, dataset_dict: dict, temp_dict: dict) -> None:
        from ckanext.umkm.federation import inbound

        inbound.map_dcat_dataset(harvest_object, dataset_dict, update=True)

    def after_create(self, harvest_object: Any, dataset_dict: dict, temp_dict: dict) -> str | None:
        from ckanext.umkm.federation import inbound

        return inbound.after_dcat_import(harvest_object, dataset_dict)

    def after_update(self, harvest_object: Any, dataset_dict: dict, temp_dict: dict) -> str | None:
        from ckanext.umkm.federation import inbound

        return inbound.after_dcat_import(harvest_object, dataset_dict)

    def update_session(self, session: Any) -> Any:
        adapter = egress.GuardedAdapter(max_retries=0)
        session.trust_env = False
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


class GuardedCKANHarvester(CKANHarvester):
    """ckanext-harvest's CKAN harvester, fetching through the egress guard."""

    def _get_content(self, url: str) -> str:
        headers = {}
        user_agent = self.config.get("user_agent") if self.config else None
        if user_agent:
            headers["User-Agent"] = str(user_agent)
        api_key = self.config.get("api_key") if self.config else None
        if api_key:
            headers["Authorization"] = api_key
        limit = tk.asint(tk.config.get("ckanext.umkm.harvest.max_mb", MAX_MB)) * 1024 * 1024
        try:
            with egress.fetch(url, max_bytes=limit, timeout=TIMEOUT, headers=headers) as reply:
                if reply.status >= 400:
                    raise ContentFetchError(f"HTTP error: {reply.status} {url}")
                return reply.read().decode("utf-8", "replace")
        except egress.Refused as e:
            raise ContentFetchError(f"Refused: {e.reason}") from None
