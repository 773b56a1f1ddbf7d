"""WSGI entry point: the portal as a WSGI application, configured by ``CKAN_INI``.

Served by waitress on single machines (bin/run) and by gunicorn in docker/.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

config_path = os.environ.get("CKAN_INI", "")
if not os.path.isfile(config_path):
    raise RuntimeError(f"CKAN_INI does not name a config file: {config_path!r}")

fileConfig(config_path, disable_existing_loggers=False)
application = make_app(CKANConfigLoader(config_path).get_config())
