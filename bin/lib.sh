# Shared steps of bin/run and bin/test: make a fresh Debian machine (root,
# Python 3.11) able to run the portal, and (re)start what is stopped.
# Every step is idempotent: running it twice changes nothing the second time.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# State (config, secrets, uploads, search index, logs); UMKM_VAR moves it.
VAR="${UMKM_VAR:-$ROOT/var}"
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1;34m[umkm]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[umkm] %s\033[0m\n' "$*" >&2; exit 1; }

# Debian packages the portal needs at run time (and to build psycopg2).
APT_RUNTIME=(postgresql redis-server libpq-dev gcc python3-dev python3-venv libmagic1 curl)

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_system_packages() {
  # PostgreSQL or Redis may come from elsewhere (an image that ships them):
  # only ask apt for what is really absent.
  local want=()
  for pkg in "${APT_RUNTIME[@]}"; do
    case "$pkg" in
      postgresql) command -v pg_ctlcluster >/dev/null || command -v postgres >/dev/null || want+=("$pkg") ;;
      redis-server) command -v redis-server >/dev/null || want+=("$pkg") ;;
      libpq-dev) command -v pg_config >/dev/null || want+=("$pkg") ;;
      gcc) command -v gcc >/dev/null || want+=("$pkg") ;;
      python3-venv) python3.11 -c 'import ensurepip' 2>/dev/null || want+=("$pkg") ;;
      *) want+=("$pkg") ;;
    esac
  done
  apt_install "${want[@]}"
}

ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "starting PostgreSQL"
    local ver
    ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
    [ -n "$ver" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null \
      || pg_ctlcluster "$ver" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start"
  fi
}

ensure_redis() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
      --dir /var/lib/redis --logfile /var/log/redis/umkm.log >/dev/null
    for _ in $(seq 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || die "Redis did not start"
  fi
}

psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAtX "$@"; }

# ensure_role NAME PASSWORD: a login role with that password (password reset
# every time so that a regenerated config and the database always agree).
ensure_role() {
  psql_admin -c "DO \$\$BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
      CREATE ROLE \"$1\" LOGIN PASSWORD '$2';
    ELSE
      ALTER ROLE \"$1\" LOGIN PASSWORD '$2';
    END IF; END\$\$;"
}

# ensure_db NAME OWNER
ensure_db() {
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]; then
    psql_admin -c "CREATE DATABASE \"$1\" OWNER \"$2\" ENCODING 'UTF8' TEMPLATE template0"
  fi
}

ensure_venv() {
  if [ ! -x "$PY" ]; then
    log "creating virtualenv $VENV"
    python3.11 -m venv "$VENV"
  fi
  # Reinstall only when setup.py changed since the last successful install.
  # (An install with the test extras also satisfies one without.)
  local stamp="$VENV/.umkm-installed" extras="$1" want have
  want="$(sha256sum "$ROOT/setup.py" | cut -c1-16)-$extras"
  have="$(cat "$stamp" 2>/dev/null || true)"
  if [ "$have" = "${want}test" ] && [ -z "$extras" ]; then want="$have"; fi
  if [ "$have" != "$want" ] || ! "$PY" -c 'import ckanext.umkm' 2>/dev/null; then
    log "installing Python dependencies (pinned in setup.py)"
    "$VENV/bin/pip" install -q --upgrade "pip==24.3.1" "setuptools==75.6.0" "wheel==0.45.1"
    # Dependencies first, with build isolation: some are sdists whose builds
    # need their own tools (pysolr needs setuptools_scm).
    "$VENV/bin/pip" install -q "$ROOT${extras:+[$extras]}"
    # Then the package itself as a legacy (setup.py develop) editable install,
    # without build isolation so the pinned setuptools is used: it writes a
    # ckanext nspkg hook like the ones CKAN's wheels install, which PEP 660
    # editable installs do not.
    "$VENV/bin/pip" install -q --no-build-isolation --no-deps -e "$ROOT"
    echo "$want" > "$stamp"
  fi
  # CKAN's own pytest plugin and fixtures ship in the ckan package; the PyPI
  # "pytest-ckan" is an old CKAN 2.8 backport and must never be installed.
  if "$VENV/bin/pip" show -q pytest-ckan >/dev/null 2>&1; then
    "$VENV/bin/pip" uninstall -q -y pytest-ckan
  fi
  compile_translations
}

compile_translations() {
  local po
  for po in "$ROOT"/ckanext-umkm/ckanext/umkm/i18n/*/LC_MESSAGES/*.po; do
    [ -f "$po" ] || continue
    [ "${po%.po}.mo" -nt "$po" ] && continue
    "$VENV/bin/pybabel" compile --statistics -i "$po" -o "${po%.po}.mo"
  done
}

# wait_http URL SECONDS
wait_http() {
  local url="$1" secs="${2:-60}"
  for _ in $(seq $((secs * 2))); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

# start_search_service PORT DATADIR LOGFILE: starts it in the background
# unless something already answers on PORT; prints the PID it started.
start_search_service() {
  local port="$1" data="$2" logf="$3"
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/solr/ckan/admin/ping" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$data" "$(dirname "$logf")"
  "$VENV/bin/umkm-search-service" --host 127.0.0.1 --port "$port" \
    --data-dir "$data" --core ckan >>"$logf" 2>&1 &
  echo $!
  wait_http "http://127.0.0.1:$port/solr/ckan/admin/ping" 60 \
    || die "search service did not start on port $port (see $logf)"
}
