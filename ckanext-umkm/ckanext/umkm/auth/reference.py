"""The reference code lists are public national data: anyone may read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk


@tk.auth_allow_anonymous_access
def umkm_reference_read(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"success": True}


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_reference_autocomplete": umkm_reference_read,
        "umkm_reference_show": umkm_reference_read,
        "umkm_reference_edition_list": umkm_reference_read,
    }
