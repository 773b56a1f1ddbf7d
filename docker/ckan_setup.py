#!/usr/bin/env python3
"""Container helper for the Portal Satu Data UMKM CKAN image (docker/entrypoint.sh).

Subcommands (all configuration comes from environment variables):

  render TEMPLATE OUTPUT
      Fill ``${NAME}`` and ``${NAME:-default}`` placeholders of an ini template
      from the environment, then apply ``CKAN__*`` / ``CKAN___*`` overrides
      (ckanext-envvars convention: ``CKAN__SITE_TITLE`` -> ``ckan.site_title``,
      ``CKAN___SCHEMING__DATASET_SCHEMAS`` -> ``scheming.dataset_schemas``;
      ``__`` becomes ``.``, names are lower-cased unless the template already
      has the option in another case, e.g. ``CKAN___SESSION_COOKIE_SECURE``).
      A placeholder with no value and no default is an error: a config is never
      written half-filled. ``$$`` is a literal ``$``. Comment lines (``#``,
      ``;``) are copied unchanged.

  check-env
      Fail if a ``CKAN_*`` variable contains ``%``: CKAN's config loader puts
      every ``CKAN_*`` variable into its ConfigParser defaults, where ``%`` is
      an interpolation error that stops CKAN from starting.

  wait KIND TARGET [TIMEOUT]
      Wait until a service answers: KIND is ``postgres`` (SQLAlchemy URL),
      ``redis`` (redis:// URL) or ``http`` (URL that must return 2xx).

  locked URL -- COMMAND...
      Run COMMAND while holding a PostgreSQL advisory lock on the database at
      URL, so that several web containers starting together do not run
      migrations or the bootstrap at the same time.

  sql URL
      Run the SQL script read from standard input on the database at URL
      (psql meta-commands such as ``\\connect`` are dropped: connect to the
      right database with URL instead). Used for the output of
      ``ckan datastore set-permissions``, run as the owner of the DataStore
      database.

  bootstrap
      With CKAN loaded from $CKAN_INI: create the first sysadmin from
      UMKM_SYSADMIN_NAME / _EMAIL / _PASSWORD when that user does not exist
      yet, and make sure the API token xloader uses (owned by the site user)
      exists and is valid; it is kept in $UMKM_SECRETS_DIR/xloader_api_token.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

PLACEHOLDER = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\})")
MAIN_SECTION = "app:main"


def log(message: str) -> None:
    print(f"[ckan_setup] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- rendering


def substitute(text: str, env: dict[str, str]) -> str:
    missing: list[str] = []

    def repl(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name")
        value = env.get(name)
        if value is None or value == "":
            if match.group("default") is not None:
                value = match.group("default")
            else:
                missing.append(name)
                return ""
        # The ini is read with ConfigParser's BasicInterpolation: a literal
        # "%" coming from a value must be doubled.
        return value.replace("%", "%%")

    # Comment lines are copied as they are, so they may mention placeholders.
    result = "".join(
        line if line.lstrip().startswith(("#", ";")) else PLACEHOLDER.sub(repl, line) for line in text.splitlines(keepends=True)
    )
    if missing:
        raise SystemExit(
            "config template: no value for " + ", ".join(sorted(set(missing))) + " (set them in the environment, see docker/.env.example)"
        )
    return result


def env_overrides(env: dict[str, str]) -> dict[str, str]:
    """CKAN__X__Y=v -> ckan.x.y = v ; CKAN___X__Y=v -> x.y = v."""
    out: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith("CKAN___"):
            option = key[len("CKAN___") :]
        elif key.startswith("CKAN__"):
            option = "CKAN." + key[len("CKAN__") :]
        else:
            continue
        if not option or option.startswith("_"):
            continue
        out[option.replace("__", ".")] = value
    return out


def apply_overrides(text: str, overrides: dict[str, str]) -> str:
    if not overrides:
        return text
    lines = text.splitlines(keepends=True)
    # Locate [app:main] and the options it already has (case-insensitively,
    # so CKAN___SECRET_KEY hits "SECRET_KEY" and CKAN__SITE_TITLE hits
    # "ckan.site_title").
    start = end = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if start is not None and end is None:
                end = i
            if stripped[1:-1].strip() == MAIN_SECTION:
                start = i
    if start is None:
        raise SystemExit(f"config template has no [{MAIN_SECTION}] section")
    if end is None:
        end = len(lines)
    option_re = re.compile(r"^\s*([^#;\s][^=:]*?)\s*[=:]")
    existing: dict[str, int] = {}
    for i in range(start + 1, end):
        m = option_re.match(lines[i])
        if m:
            existing[m.group(1).lower()] = i
    appended: list[str] = []
    for option, value in overrides.items():
        value = value.replace("%", "%%").replace("\n", " ")
        idx = existing.get(option.lower())
        if idx is not None:
            name = option_re.match(lines[idx]).group(1)
            lines[idx] = f"{name} = {value}\n"
        else:
            name = option.lower()
            appended.append(f"{name} = {value}\n")
        log(f"override from environment: {name}")
    if appended:
        block = ["\n## Overrides from CKAN__* / CKAN___* environment variables\n"] + appended
        # keep a blank line before the next section
        if end < len(lines):
            block.append("\n")
        lines[end:end] = block
    return "".join(lines)


def cmd_render(template: str, output: str) -> None:
    env = dict(os.environ)
    with open(template, encoding="utf-8") as f:
        text = f.read()
    text = apply_overrides(substitute(text, env), env_overrides(env))
    # Parse [app:main] the way CKAN's config loader does (same defaults, same
    # interpolation), so that a broken file fails here and not in every worker.
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment]
    parser.read_string(text)
    if not parser.has_section(MAIN_SECTION):
        raise SystemExit(f"config has no [{MAIN_SECTION}] section")
    defaults = {k: v for k, v in env.items() if k.startswith("CKAN_")}
    defaults.update({"here": os.path.dirname(os.path.abspath(output)), "__file__": os.path.abspath(output)})
    for key, value in defaults.items():
        parser._defaults[key] = value  # type: ignore[attr-defined] - as CKANConfigLoader does
    for option in parser.options(MAIN_SECTION):
        parser.get(MAIN_SECTION, option)
    tmp = output + ".tmp"
    old_umask = os.umask(0o077)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    finally:
        os.umask(old_umask)
    os.replace(tmp, output)
    log(f"wrote {output}")


def cmd_check_env() -> None:
    bad = sorted(k for k, v in os.environ.items() if k.startswith("CKAN_") and "%" in v)
    if bad:
        raise SystemExit(
            "these variables contain '%', which stops CKAN's config loader: "
            + ", ".join(bad)
            + " (use passwords made of letters and digits, e.g. openssl rand -hex 24)"
        )


# ------------------------------------------------------------------ waiting


def _libpq_url(url: str) -> str:
    """psycopg2 wants a libpq URL (postgresql://), not an SQLAlchemy dialect one."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


def _try_postgres(url: str) -> str | None:
    import psycopg2

    try:
        conn = psycopg2.connect(_libpq_url(url), connect_timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        return None
    finally:
        conn.close()


def _try_redis(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


def _try_http(url: str) -> str | None:
    import base64
    from urllib.parse import unquote

    parts = urlsplit(url)
    headers = {}
    if parts.username is not None:
        # user:password@ in the URL -> HTTP basic authentication (Solr's)
        creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(creds.encode()).decode()
        url = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")).geturl()
    try:
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 - our own service URL
            if 200 <= resp.status < 300:
                return None
            return f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except Exception as exc:  # noqa: BLE001
        return str(exc)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def cmd_wait(kind: str, target: str, timeout: float) -> None:
    probe = {"postgres": _try_postgres, "redis": _try_redis, "http": _try_http}.get(kind)
    if probe is None:
        raise SystemExit(f"wait: unknown kind {kind!r}")
    deadline = time.monotonic() + timeout
    last = None
    while True:
        error = probe(target)
        if error is None:
            log(f"{kind} is up: {_redact(target)}")
            return
        if error != last:
            log(f"waiting for {kind} {_redact(target)}: {error}")
            last = error
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {kind} {_redact(target)} after {timeout:.0f}s")
        time.sleep(2)


# ------------------------------------------------------------ lock and sql

LOCK_KEY = 0x554D4B4D  # "UMKM"


def cmd_locked(url: str, command: list[str]) -> int:
    import psycopg2

    conn = psycopg2.connect(_libpq_url(url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            log("waiting for the setup lock")
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            try:
                return subprocess.call(command)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()


def cmd_sql(url: str, script: str) -> None:
    import psycopg2

    body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("\\"))
    if not body.strip():
        raise SystemExit("sql: empty script on standard input")
    conn = psycopg2.connect(_libpq_url(url))
    try:
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute(body)
        conn.commit()
    finally:
        conn.close()
    log("SQL script applied")


# --------------------------------------------------------------- bootstrap


def cmd_bootstrap() -> None:
    ini = os.environ["CKAN_INI"]
    secrets_dir = os.environ.get("UMKM_SECRETS_DIR", "/var/lib/ckan-secrets")
    token_file = os.path.join(secrets_dir, "xloader_api_token")

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(ini))
    flask_app = app._wsgi_app  # what the ckan CLI uses too

    import ckan.model as model
    import ckan.plugins.toolkit as tk
    from ckan.lib import api_token

    with flask_app.test_request_context():
        site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
        context = {"ignore_auth": True, "user": site_user["name"]}

        name = os.environ.get("UMKM_SYSADMIN_NAME", "").strip()
        if name:
            user = model.User.get(name)
            if user is None:
                email = os.environ.get("UMKM_SYSADMIN_EMAIL", "").strip()
                password = os.environ.get("UMKM_SYSADMIN_PASSWORD", "")
                if not email or len(password) < 8:
                    raise SystemExit(
                        "UMKM_SYSADMIN_NAME is set but UMKM_SYSADMIN_EMAIL is empty or "
                        "UMKM_SYSADMIN_PASSWORD is shorter than 8 characters"
                    )
                tk.get_action("user_create")(
                    dict(context),
                    {
                        "name": name,
                        "email": email,
                        "password": password,
                        "fullname": os.environ.get("UMKM_SYSADMIN_FULLNAME", "Administrator Portal"),
                    },
                )
                user = model.User.get(name)
                user.sysadmin = True
                model.Session.add(user)
                model.repo.commit_and_remove()
                log(f"created sysadmin {name}")
            else:
                log(f"sysadmin {name} already exists (password left unchanged)")

        if os.environ.get("UMKM_XLOADER_API_TOKEN"):
            log("xloader uses the API token given in UMKM_XLOADER_API_TOKEN")
            return
        token = ""
        if os.path.isfile(token_file):
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        owner = api_token.get_user_from_token(token, update_access_time=False) if token else None
        claims = (api_token.decode(token) or {}) if token else {}
        if owner is not None and owner.sysadmin and owner.state == "active" and claims.get("umkm_service"):
            log("xloader API token is valid")
            return
        result = tk.get_action("api_token_create")(dict(context), {"user": site_user["name"], "name": "xloader"})
        os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
        tmp = token_file + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(result["token"] + "\n")
        os.replace(tmp, token_file)
        log(f"created the xloader API token (site user {site_user['name']}) in {token_file}")


# ------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "render" and len(args) == 2:
        cmd_render(*args)
    elif cmd == "check-env" and not args:
        cmd_check_env()
    elif cmd == "wait" and len(args) in (2, 3):
        cmd_wait(args[0], args[1], float(args[2]) if len(args) == 3 else 300.0)
    elif cmd == "locked" and len(args) >= 3 and args[1] == "--":
        return cmd_locked(args[0], args[2:])
    elif cmd == "sql" and len(args) == 1:
        cmd_sql(args[0], sys.stdin.read())
    elif cmd == "bootstrap" and not args:
        cmd_bootstrap()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
