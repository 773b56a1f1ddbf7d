"""A second CKAN 2.11 instance beside the portal under test: its own
database, search-service index and port. The federation tests run the
national SDI portal and a regency's portal with it, each with only stock
CKAN plugins and their own schema."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from .conftest import free_port

BIN = os.path.dirname(sys.executable)

INI = """[app:main]
use = egg:ckan
SECRET_KEY = other-portal-{name}-secret
sqlalchemy.url = postgresql://ckan_default:pass@127.0.0.1/{db}
solr_url = http://127.0.0.1:{search_port}/solr/ckan
ckan.redis.url = redis://127.0.0.1:6379/{redis_db}
ckan.site_url = {url}
ckan.site_id = {name}
ckan.site_title = {title}
ckan.storage_path = {storage}
ckan.plugins = {plugins}
ckan.auth.create_unowned_dataset = false
ckan.locale_default = id
ckan.locales_offered = id en
{extra}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


@dataclass
class OtherPortal:
    name: str
    url: str
    ini: str
    token: str
    log: str

    def cli(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([os.path.join(BIN, "ckan"), "-c", self.ini, *args], capture_output=True,
                              text=True, timeout=600)
        if check and done.returncode:
            raise AssertionError(f"ckan {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def api(self, action: str, _ok: bool = True, **data: Any) -> Any:
        r = requests.post(f"{self.url}/api/3/action/{action}", json=data,
                          headers={"Authorization": self.token}, timeout=60)
        body = r.json()
        if _ok:
            assert body.get("success"), f"{action}: {r.status_code} {body.get('error')}"
            return body["result"]
        return body


def _psql(sql: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-qc", sql], check=True,
                   capture_output=True)


@contextlib.contextmanager
def other_portal(tmp: str, name: str, title: str, plugins: str, extra: str = "",
                 redis_db: int = 9) -> Iterator[OtherPortal]:
    """Start the instance ``name`` (database ``ckan_<name>``) and a sysadmin
    with an API token; stop it and drop its database afterwards."""
    db = f"ckan_{name}"
    home = os.path.join(tmp, name)
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(os.path.join(home, "storage"))
    _psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{db}" OWNER ckan_default')
    port, search_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    ini = os.path.join(home, "ckan.ini")
    with open(ini, "w", encoding="utf-8") as f:
        f.write(INI.format(name=name, db=db, search_port=search_port, redis_db=redis_db, url=url,
                           title=title, storage=os.path.join(home, "storage"), plugins=plugins, extra=extra))
    log_path = os.path.join(home, "server.log")
    log = open(log_path, "ab")
    procs = [subprocess.Popen([os.path.join(BIN, "umkm-search-service"), "--port", str(search_port),
                               "--data-dir", os.path.join(home, "search"), "--core", "ckan",
                               "--autocommit-ms", "200"], stdout=log, stderr=subprocess.STDOUT)]
    try:
        _wait(f"http://127.0.0.1:{search_port}/solr/ckan/admin/ping", procs[0], log_path)
        portal = OtherPortal(name, url, ini, "", log_path)
        portal.cli("db", "init")
        if "harvest" in plugins.split():
            portal.cli("db", "upgrade", "-p", "harvest")
        portal.cli("user", "add", "admin", "email=admin@example.org", "password=Rahasia-Sekali-123",
                   "fullname=Admin")
        portal.cli("sysadmin", "add", "admin")
        portal.token = portal.cli("user", "token", "add", "admin", "tests").strip().splitlines()[-1].strip()
        procs.append(subprocess.Popen(
            [os.path.join(BIN, "waitress-serve"), f"--listen=127.0.0.1:{port}", "--threads=4",
             "ckanext.umkm.wsgi:application"],
            env=dict(os.environ, CKAN_INI=ini), stdout=log, stderr=subprocess.STDOUT))
        _wait(f"{url}/api/3/action/status_show", procs[1], log_path)
        yield portal
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        _psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _wait(url: str, proc: subprocess.Popen, log_path: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up:\n" + open(log_path, errors="replace").read()[-3000:])

