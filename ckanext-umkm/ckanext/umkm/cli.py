"""``ckan umkm …`` commands."""

from __future__ import annotations

import os
import sys

import click


@click.group(short_help="Portal Satu Data UMKM commands")
def umkm() -> None:
    pass


@umkm.command("search-service")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8983, show_default=True, type=int)
@click.option("--data-dir", required=True, type=click.Path(file_okay=False))
@click.option("--core", "cores", multiple=True, default=["ckan"], show_default=True)
def search_service(host: str, port: int, data_dir: str, cores: tuple[str, ...]) -> None:
    """Run the embedded Solr-compatible search service in the foreground.

    It runs as its own process, exactly as Solr would: this command only
    replaces itself with ``python -m ckanext.umkm.search_service``.
    """
    args = [sys.executable, "-m", "ckanext.umkm.search_service",
            "--host", host, "--port", str(port), "--data-dir", data_dir]
    for core in cores:
        args += ["--core", core]
    os.execv(sys.executable, args)


@umkm.command("demo")
@click.option("--admin", default="admin", show_default=True,
              help="Sysadmin that owns the demo content.")
def demo(admin: str) -> None:
    """Load the demo content (idempotent: existing records are kept)."""
    from ckanext.umkm import demo_content

    for line in demo_content.load(admin):
        click.echo(line)


def get_commands() -> list[click.Command]:
    return [umkm]
