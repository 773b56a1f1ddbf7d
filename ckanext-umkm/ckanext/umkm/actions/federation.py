"""ckanext-dcat's catalogue actions, chained: the national profile always
runs, parameters are checked (federation.dcat_catalog). Their auth functions
stay ckanext-dcat's (everyone may read the catalogue of released records)."""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.federation import dcat_catalog


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_show(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> str:
    tk.check_access("dcat_catalog_show", context, data_dict)
    return dcat_catalog.serialize_catalog(context, data_dict)


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_search(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> str:
    tk.check_access("dcat_catalog_search", context, data_dict)
    return dcat_catalog.serialize_catalog(context, data_dict)


@tk.chained_action
@tk.side_effect_free
def dcat_dataset_show(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> str:
    tk.check_access("dcat_dataset_show", context, data_dict)
    return dcat_catalog.serialize_dataset(context, data_dict)


@tk.chained_action
@tk.side_effect_free
def dcat_datasets_list(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    from ckanext.dcat import converters

    tk.check_access("dcat_datasets_list", context, data_dict)
    results = dcat_catalog.search(context, dcat_catalog.checked(data_dict))["results"]
    return [dcat_catalog.restricted_as_page(pkg, converters.ckan_to_dcat(pkg)) for pkg in results]


def get_actions() -> dict[str, Any]:
    return {"dcat_catalog_show": dcat_catalog_show, "dcat_catalog_search": dcat_catalog_search,
            "dcat_dataset_show": dcat_dataset_show, "dcat_datasets_list": dcat_datasets_list}
