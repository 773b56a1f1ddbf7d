"""Auth functions of the portal: one per action, one module per concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    from ckanext.umkm.auth import access, exchange, reference, release, requests, two_factor

    functions: dict[str, Callable[..., Any]] = {}
    for module in (reference, exchange, release, access, two_factor, requests):
        functions.update(module.get_auth_functions())
    return functions
