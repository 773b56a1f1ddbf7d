"""pytest plugin for the conformance run: a fixed random seed per test.

CKAN's own tests build users and datasets with factory_boy and Faker, whose
names are random; a few of them compare those names with a query (e.g.
``TestUserAutocomplete.test_autcomplete_email`` fails whenever the random
sysadmin's name happens to contain "joe"). Seeding from the test's id makes
every run draw the same names, so a failure is reproducible and never luck.
"""

from __future__ import annotations

import factory.random
import pytest


def pytest_runtest_setup(item: pytest.Item) -> None:
    factory.random.reseed_random(item.nodeid)
