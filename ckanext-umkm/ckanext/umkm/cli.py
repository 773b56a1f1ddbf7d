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


@umkm.command("egress-proxy")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8985, show_default=True, type=int)
def egress_proxy(host: str, port: int) -> None:
    """Run the egress guard as a forward proxy (ckan.download_proxy): the
    DataStore loader fetches every resource URL through it, and nothing
    inside the network is reached but the portal's own uploads."""
    from ckanext.umkm.egress import proxy

    click.echo(f"egress guard proxy on {host}:{port}")
    proxy.serve(host, port, click.get_current_context().meta["flask_app"])


@umkm.command("demo")
@click.option("--admin", default="admin", show_default=True,
              help="Sysadmin that owns the demo content.")
def demo(admin: str) -> None:
    """Load the demo content (idempotent: existing records are kept)."""
    from ckanext.umkm import demo_content

    for line in demo_content.load(admin):
        click.echo(line)


@umkm.group("reference")
def reference() -> None:
    """National reference code lists (kode wilayah, KBLI)."""


@reference.command("load")
@click.option("--scheme", type=click.Choice(["wilayah", "kbli"]), multiple=True,
              help="Code list to load (default: both shipped lists).")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False),
              help="Directory of a newer edition, laid out like the shipped one.")
@click.option("--edition", help="Name of the edition loaded from --dir.")
@click.option("--force", is_flag=True, help="Reload even if this edition is loaded.")
def reference_load(scheme: tuple[str, ...], directory: str | None, edition: str | None,
                   force: bool) -> None:
    """Load (or replace) a code list edition; idempotent."""
    from ckanext.umkm.metadata import reference_codes

    if directory and len(scheme) != 1:
        raise click.UsageError("--dir needs exactly one --scheme")
    if directory and not edition:
        raise click.UsageError("--dir needs --edition")
    for name in scheme or reference_codes.SCHEMES:
        try:
            result = reference_codes.load(name, directory, edition, force)
        except reference_codes.ReferenceLoadError as e:
            for error in e.errors[:50]:
                click.echo(f"  {error}", err=True)
            raise click.ClickException(f"{name}: {len(e.errors)} errors, nothing loaded") from e
        if result["loaded"]:
            click.echo(f"{name}: loaded {result['edition']}: {result['code_count']} codes "
                       f"(+{result['added']} -{result['removed']} ~{result['renamed']} renamed)")
        else:
            click.echo(f"{name}: {result['edition']} already loaded ({result['code_count']} codes)")


@reference.command("status")
def reference_status() -> None:
    """Editions loaded and codes per level."""
    from ckanext.umkm.metadata import reference_codes

    for name in reference_codes.SCHEMES:
        current = reference_codes.editions(name)
        if not current:
            click.echo(f"{name}: not loaded")
            continue
        levels = ", ".join(f"{lv} {n}" for lv, n in reference_codes.counts(name).items())
        click.echo(f"{name}: {current[0]['edition']} (loaded {current[0]['loaded_at']}): {levels}")


@umkm.group("release")
def release() -> None:
    """The release workflow's scheduled publication."""


def _publish_due() -> list[str]:
    import ckan.plugins.toolkit as tk

    from ckanext.umkm import caller

    return tk.get_action("umkm_release_publish_due")(caller.site_context(), {})


@release.command("publish-due")
def release_publish_due() -> None:
    """Release approved records whose release time has come (run by cron)."""
    for name in _publish_due():
        click.echo(f"released {name}")


@release.command("scheduler")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds between two looks at the schedule.")
def release_scheduler(interval: int) -> None:
    """Keep publishing scheduled releases at their time (a long-running service)."""
    import logging
    import time

    import ckan.model as model

    from ckanext.umkm.audit import checkpoints, file_integrity
    from ckanext.umkm.requests import reminders as report_reminders

    log = logging.getLogger("ckanext.umkm.release")
    click.echo(f"release scheduler: looking every {interval}s; verifying stored files and reminding of use "
               "reports daily; signing audit checkpoints hourly")
    last_verified = 0.0
    while True:
        try:
            for name in _publish_due():
                log.info("released %s at its scheduled time", name)
                click.echo(f"released {name}", err=False)
            if checkpoints.configured() and checkpoints.due():
                entry = checkpoints.write()
                if entry:
                    log.info("audit checkpoint at entry %s", entry["seq"])
            if time.time() - last_verified >= 86400:
                last_verified = time.time()
                reminded = report_reminders.due_reminders()
                log.info("use-report reminders sent for %d requests", len(reminded))
                checked, findings = file_integrity.verify()
                for f in findings:
                    log.warning("stored file of resource %s is %s", f.resource_id, f.status)
                log.info("verified %d stored files, %d findings", checked, len(findings))
        except Exception:  # one bad round must not stop the schedule
            log.exception("scheduled round failed; retrying")
            model.Session.rollback()
        finally:
            model.Session.remove()
        time.sleep(interval)


@umkm.group("requests")
def requests_group() -> None:
    """Request services (data, account and data-sharing requests)."""


@requests_group.command("remind")
def requests_remind() -> None:
    """E-mail requesters whose use report is due soon or overdue (the
    scheduler does this daily)."""
    from ckanext.umkm.requests import reminders

    sent = reminders.due_reminders()
    click.echo(f"reminded: {', '.join(sent) if sent else 'nobody'}")


@umkm.group("dcat")
def dcat() -> None:
    """The DCAT catalogue (ckanext-dcat with the national profile)."""


@dcat.command("warm")
def dcat_warm() -> None:
    """Build the stored DCAT fragments of every public record, so that the
    first harvest of the catalogue reads pages as fast as later ones."""
    from ckanext.umkm.federation import dcat_catalog

    click.echo(f"DCAT fragments of {dcat_catalog.warm()} public records are ready")


@umkm.group("files")
def files() -> None:
    """Integrity of uploaded files (SHA-256)."""


@files.command("verify")
def files_verify() -> None:
    """Re-hash every stored upload; exit 1 listing files modified outside CKAN or missing."""
    from ckanext.umkm.audit import file_integrity

    checked, findings = file_integrity.verify()
    for f in findings:
        click.echo(f"{f.status}: resource {f.resource_id} (dataset {f.package_id}) expected {f.expected}, "
                   f"found {f.found or '-'}", err=True)
    click.echo(f"{checked} stored files verified, {len(findings)} modified or missing")
    if findings:
        sys.exit(1)


@umkm.group("audit")
def audit() -> None:
    """The hash-chained audit log of restricted data."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the chain and check it against the signed checkpoints; exit
    1 and list the breaks if any entry was edited, deleted or inserted
    outside the portal, or the chain was rewritten or cut short."""
    from ckanext.umkm.audit import log as audit_log

    result = audit_log.verify()
    anchor = (f"; last valid checkpoint {result.last_checkpoint['at']} at entry {result.last_checkpoint['seq']}"
              if result.last_checkpoint else "; no valid checkpoint")
    if result.ok:
        click.echo(f"audit log intact: {result.links} entries, {result.checkpoints} checkpoints{anchor}")
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(f"audit log BROKEN: {len(result.problems)} problems in {result.links} entries{anchor}", err=True)
    sys.exit(1)


@audit.command("checkpoint")
@click.option("--force", is_flag=True, help="Write one even if the chain has not grown.")
def audit_checkpoint(force: bool) -> None:
    """Sign the chain's head and append it to the checkpoint log book
    (the release scheduler does this every hour)."""
    from ckanext.umkm.audit import checkpoints

    entry = checkpoints.write(force=force)
    if entry is None:
        click.echo("no new entries since the last checkpoint")
        return
    click.echo(f"checkpoint at entry {entry['seq']} ({entry['events']} entries) signed by key {entry['key_id']}, "
               f"appended to {checkpoints.checkpoint_file()}")


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--since", help="From this date (YYYY-MM-DD).")
@click.option("--until", help="Before this date (YYYY-MM-DD).")
@click.option("--action", help="Only this event, e.g. data_delivered (log book penyerahan data).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True)
@click.option("--lang", help="Language of the book (default: the portal's, ckan.locale_default).")
def audit_export(fmt: str, since: str | None, until: str | None, action: str | None, output: str,
                 lang: str | None) -> None:
    """Export the log as the Lampiran's log book (CSV or XLSX)."""
    import ckan.plugins.toolkit as tk

    from ckanext.umkm.audit import export

    # The book speaks the portal's language, as its pages do.
    lang = lang or tk.config.get("ckan.locale_default") or "id"
    flask_app = click.get_current_context().meta["flask_app"]
    with flask_app.test_request_context(environ_overrides={"CKAN_LANG": lang}), open(output, "wb") as f:
        count = export.write(f, fmt, since=since, until=until, action=action)
    click.echo(f"{count} entries written to {output}")


@umkm.group("mfa")
def mfa() -> None:
    """Two-step login (TOTP) of users."""


@mfa.command("reset")
@click.argument("user")
def mfa_reset(user: str) -> None:
    """Turn two-step login off for USER (name or id) who lost the phone and
    the recovery codes; the audit log records the reset."""
    import ckan.plugins.toolkit as tk

    from ckanext.umkm import caller

    try:
        tk.get_action("umkm_mfa_disable")(caller.site_context(), {"id": user})
    except (tk.ObjectNotFound, tk.ValidationError) as e:
        click.echo(f"{user}: {getattr(e, 'error_dict', None) or e}", err=True)
        sys.exit(1)
    click.echo(f"{user}: two-step login reset; the user sets it up again at the next restricted read")


@mfa.command("rekey")
def mfa_rekey() -> None:
    """Re-encrypt every two-step login secret with the first key of
    ckanext.umkm.mfa.encryption_keys (after adding a new key in front); the
    old keys can then be removed."""
    from ckanext.umkm.access import two_factor

    done, unreadable = two_factor.rekey()
    click.echo(f"{done} secrets re-encrypted with the current key; {unreadable} unreadable")
    if unreadable:
        click.echo("unreadable secrets belong to users who must set two-step login up again "
                   "(ckan umkm mfa reset USER)", err=True)
        sys.exit(1)


@umkm.command("service-token")
@click.option("--check", "token", help="Exit 0 if TOKEN is a valid service token, 1 if not (nothing created).")
def service_token(token: str | None) -> None:
    """Print a new API token for the portal's own services (the DataStore
    loader): the site user's, with the signed service claim."""
    import ckan.plugins.toolkit as tk
    from ckan.lib import api_token

    from ckanext.umkm import caller
    from ckanext.umkm.access import two_factor

    context = caller.site_context()
    if token is not None:
        owner = api_token.get_user_from_token(token, update_access_time=False)
        claims = api_token.decode(token) or {}
        sys.exit(0 if two_factor.is_site_user(owner) and claims.get(two_factor.SERVICE_CLAIM) else 1)
    result = tk.get_action("api_token_create")(context, {"user": context["user"], "name": "layanan-portal"})
    click.echo(result["token"])


def get_commands() -> list[click.Command]:
    return [umkm]
