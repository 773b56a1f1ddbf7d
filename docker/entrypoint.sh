#!/usr/bin/env bash
# Entry point of the Portal Satu Data UMKM CKAN image.
#
#   entrypoint.sh web                 setup (migrations, DataStore permissions,
#                                     first sysadmin, xloader token), then gunicorn
#   entrypoint.sh init                the setup only, then exit (one-off job)
#   entrypoint.sh worker [QUEUE...]   background jobs: ckan jobs worker
#   entrypoint.sh gather-consumer     ckan harvester gather-consumer
#   entrypoint.sh fetch-consumer      ckan harvester fetch-consumer
#   entrypoint.sh harvest-scheduler   ckan harvester run every UMKM_HARVEST_INTERVAL s
#   entrypoint.sh release-scheduler   publish approved records at their release time
#   entrypoint.sh COMMAND...          anything else, e.g. ckan sysadmin add NAME
#
# Every role first renders $CKAN_INI from the template and the environment,
# then waits for PostgreSQL, Redis and Solr. Only the web role (and init)
# changes the database; several web containers may start together: the
# setup runs under a PostgreSQL advisory lock.
#
# Knobs of this script (besides the variables of docker/.env.example):
#   UMKM_WAIT_FOR           services to wait for (default "db redis solr")
#   UMKM_WAIT_TIMEOUT       seconds to wait for each (default 300)
#   UMKM_SKIP_SETUP=true    web/init: no migrations, permissions or bootstrap
#   UMKM_PLUGIN_MIGRATIONS  plugins given an explicit `ckan db upgrade -p`
#                           (default "activity harvest"; enabled ones only)
#   GUNICORN_BIND           listen address (default 0.0.0.0:5000)
#   GUNICORN_CMD_ARGS       extra gunicorn options (read by gunicorn itself)
set -Eeuo pipefail

APP_DIR="${APP_DIR:-/srv/app}"
export CKAN_INI="${CKAN_INI:-$APP_DIR/production.ini}"
TEMPLATE="${UMKM_INI_TEMPLATE:-$APP_DIR/production.ini.template}"
SETUP=(python "$APP_DIR/ckan_setup.py")
export UMKM_SECRETS_DIR="${UMKM_SECRETS_DIR:-/var/lib/ckan-secrets}"
TOKEN_FILE="$UMKM_SECRETS_DIR/xloader_api_token"
WAIT_TIMEOUT="${UMKM_WAIT_TIMEOUT:-300}"
# Which services to wait for before starting (space separated: db redis solr).
WAIT_FOR="${UMKM_WAIT_FOR:-db redis solr}"

log() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() {
  local name
  for name in "$@"; do
    [ -n "${!name:-}" ] || die "$name is not set (see docker/.env.example)"
  done
}

render_config() {
  # The xloader token: UMKM_XLOADER_API_TOKEN when set, else the file the
  # web container created at its first start (shared volume), else NOT_SET.
  # Only the render step sees the file's token: the bootstrap must still
  # tell an explicit token from one it created itself.
  local token="${UMKM_XLOADER_API_TOKEN:-}"
  if [ -z "$token" ] && [ -s "$TOKEN_FILE" ]; then
    token="$(tr -d '[:space:]' <"$TOKEN_FILE")"
  fi
  UMKM_XLOADER_API_TOKEN="$token" "${SETUP[@]}" render "$TEMPLATE" "$CKAN_INI"
}

wait_for_services() {
  local svc
  for svc in $WAIT_FOR; do
    case "$svc" in
      db)
        "${SETUP[@]}" wait postgres "$CKAN_SQLALCHEMY_URL" "$WAIT_TIMEOUT"
        "${SETUP[@]}" wait postgres "$CKAN_DATASTORE_WRITE_URL" "$WAIT_TIMEOUT"
        ;;
      redis) "${SETUP[@]}" wait redis "$CKAN_REDIS_URL" "$WAIT_TIMEOUT" ;;
      solr)
        local ping="${CKAN_SOLR_URL%/}/admin/ping?wt=json"
        if [ -n "${CKAN_SOLR_USER:-}" ]; then
          # same basic-auth credentials CKAN uses
          ping="${ping/:\/\//://${CKAN_SOLR_USER}:${CKAN_SOLR_PASSWORD:-}@}"
        fi
        "${SETUP[@]}" wait http "$ping" "$WAIT_TIMEOUT"
        ;;
      *) die "UMKM_WAIT_FOR: unknown service $svc" ;;
    esac
  done
}

# Runs under the advisory lock (see setup_locked), in a child of this script.
setup_steps() {
  log "database migrations: CKAN core and every enabled plugin"
  ckan db upgrade
  # Explicit per-plugin runs (no-ops when "db upgrade" already applied them),
  # so that a plugin whose migrations are not auto-detected is still covered.
  local plugin
  for plugin in ${UMKM_PLUGIN_MIGRATIONS:-activity harvest}; do
    if grep -Eq "^ckan\.plugins *=.*( |=)$plugin( |$)" "$CKAN_INI"; then
      ckan db upgrade -p "$plugin"
    fi
  done

  log "DataStore permissions (ckan datastore set-permissions, as the DataStore owner)"
  ckan datastore set-permissions | "${SETUP[@]}" sql "$CKAN_DATASTORE_WRITE_URL"

  log "first sysadmin and xloader API token"
  "${SETUP[@]}" bootstrap
}

setup_locked() {
  if [ "${UMKM_SKIP_SETUP:-false}" = "true" ]; then
    log "UMKM_SKIP_SETUP=true: no migrations or bootstrap"
    return 0
  fi
  # Re-enter this script (internal role) while holding the lock.
  "${SETUP[@]}" locked "$CKAN_SQLALCHEMY_URL" -- "$0" __setup-steps || die "setup failed"
  # The bootstrap may have just created the token: render again with it.
  render_config
}

wait_for_token() {
  # Consumers that create resources (and the worker that loads them) need
  # the token the web container creates; it starts them only once healthy,
  # but be patient anyway.
  [ -n "${UMKM_XLOADER_API_TOKEN:-}" ] && return 0
  local waited=0
  while [ ! -s "$TOKEN_FILE" ]; do
    if [ "$waited" -ge "$WAIT_TIMEOUT" ]; then
      log "WARNING: no xloader token in $TOKEN_FILE after ${WAIT_TIMEOUT}s; DataStore loading will fail until the web container has started once"
      return 0
    fi
    [ "$waited" -eq 0 ] && log "waiting for the web container to create $TOKEN_FILE"
    sleep 5
    waited=$((waited + 5))
  done
  # Render again only if the token appeared while we waited.
  [ "$waited" -gt 0 ] && render_config
  return 0
}

start_web() {
  log "starting gunicorn: ${GUNICORN_WORKERS:-4} workers x ${GUNICORN_THREADS:-1} threads on ${GUNICORN_BIND:-0.0.0.0:5000}"
  # FORWARDED_ALLOW_IPS (read by gunicorn) trusts X-Forwarded-Proto from the
  # reverse proxy, so CKAN sees https URLs; keep port 5000 private to it.
  export FORWARDED_ALLOW_IPS="${FORWARDED_ALLOW_IPS:-*}"
  exec gunicorn \
    --bind "${GUNICORN_BIND:-0.0.0.0:5000}" \
    --workers "${GUNICORN_WORKERS:-4}" \
    --threads "${GUNICORN_THREADS:-1}" \
    --timeout "${GUNICORN_TIMEOUT:-120}" \
    --graceful-timeout 30 \
    --keep-alive 5 \
    --max-requests "${GUNICORN_MAX_REQUESTS:-2000}" \
    --max-requests-jitter 200 \
    --worker-tmp-dir /dev/shm \
    --access-logfile - \
    --error-logfile - \
    ckanext.umkm.wsgi:application
}

main() {
  local role="${1:-web}"
  [ "$#" -gt 0 ] && shift

  if [ "$role" = "__setup-steps" ]; then
    # Internal: called by setup_locked with $CKAN_INI already rendered.
    setup_steps
    return 0
  fi

  "${SETUP[@]}" check-env
  need CKAN_SITE_URL CKAN_SQLALCHEMY_URL CKAN_DATASTORE_WRITE_URL CKAN_DATASTORE_READ_URL \
    CKAN_SOLR_URL CKAN_REDIS_URL UMKM_SECRET_KEY UMKM_JWT_SECRET
  render_config
  wait_for_services

  case "$role" in
    web)
      setup_locked
      start_web
      ;;
    init)
      setup_locked
      log "setup done"
      ;;
    worker)
      wait_for_token
      log "background jobs worker (queues: ${*:-default})"
      exec ckan jobs worker "$@"
      ;;
    gather-consumer)
      wait_for_token
      exec ckan harvester gather-consumer
      ;;
    fetch-consumer)
      wait_for_token
      exec ckan harvester fetch-consumer
      ;;
    harvest-scheduler)
      wait_for_token
      local interval="${UMKM_HARVEST_INTERVAL:-900}"
      log "running 'ckan harvester run' every ${interval}s"
      trap 'log "stopping"; exit 0' TERM INT
      while true; do
        ckan harvester run || log "WARNING: ckan harvester run failed (will retry)"
        sleep "$interval" &
        wait $!
      done
      ;;
    egress-proxy)
      log "egress guard: the loader's proxy on port 8985"
      exec ckan umkm egress-proxy --host 0.0.0.0 --port 8985
      ;;
    release-scheduler)
      log "publishing approved records at their release time"
      exec ckan umkm release scheduler --interval "${UMKM_RELEASE_INTERVAL:-30}"
      ;;
    *)
      exec "$role" "$@"
      ;;
  esac
}

main "$@"
