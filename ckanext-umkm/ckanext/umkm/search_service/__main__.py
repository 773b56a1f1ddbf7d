"""Command line: ``python -m ckanext.umkm.search_service`` (or ``umkm-search-service``)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys

import waitress

from . import memory
from .app import SearchApp
from .index import Core

log = logging.getLogger("ckanext.umkm.search_service")
CORE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="umkm-search-service",
                                 description="Embedded Solr-compatible search service for CKAN")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8983)
    ap.add_argument("--data-dir", required=True, help="one index directory per core is kept here")
    ap.add_argument("--core", dest="cores", action="append", help="core name (repeatable; default: ckan)")
    ap.add_argument("--threads", type=int, default=8, help="concurrent requests served")
    ap.add_argument("--heap-mb", type=int, default=48, help="indexing buffer per core")
    ap.add_argument("--autocommit-ms", type=int, default=5000,
                    help="uncommitted updates become durable and searchable after this long (0: never)")
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)-5.5s [%(name)s] %(message)s")

    names = args.cores or ["ckan"]
    for name in names:
        if not CORE_NAME.match(name):
            ap.error(f"invalid core name: {name!r}")
    memory.limit_arenas()
    os.makedirs(args.data_dir, exist_ok=True)
    cores = {name: Core(name, os.path.join(args.data_dir, name), heap_bytes=args.heap_mb * 1_000_000,
                        autocommit_ms=args.autocommit_ms)
             for name in names}

    def shutdown(signum: int, _frame: object) -> None:
        # Commit what is pending so nothing acknowledged is lost, then exit.
        for core in cores.values():
            core.close()
        log.info("stopped (signal %s)", signum)
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log.info("serving cores %s from %s on http://%s:%s/solr/", ", ".join(names), args.data_dir,
             args.host, args.port)
    waitress.serve(SearchApp(cores), host=args.host, port=args.port, threads=args.threads,
                   ident="umkm-search", max_request_body_size=1 << 28, channel_timeout=300,
                   _quiet=True)


if __name__ == "__main__":
    main()
