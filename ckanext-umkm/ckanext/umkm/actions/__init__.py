"""API actions of the portal, one module per concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def get_actions() -> dict[str, Callable[..., Any]]:
    from ckanext.umkm.actions import access, exchange, federation, reference, release, requests, two_factor

    actions: dict[str, Callable[..., Any]] = {}
    for module in (reference, exchange, release, access, two_factor, requests, federation):
        actions.update(module.get_actions())
    return actions
