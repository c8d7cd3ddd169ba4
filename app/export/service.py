"""The export operations the CLI and the UI both call (no printing, no prompting here).

    exporter, plan = plan_export(kith, "hubspot", meeting_id=12)     # local only: the dry run
    report = exporter.run(plan, confirm=ask_the_user)                  # sends; KithError on stop
    paths = write_files(kith.store(), "markdown", Path("~/Notes"), meeting_id=12)  # CLI and app alike
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from app.core.errors import KithError
from app.export.base import ExportPlan, Exporter, gather

REMOTE_TARGETS = ("hubspot", "salesforce")
FILE_TARGETS = ("markdown", "csv", "json", "vcard", "ics", "hubspot-csv", "salesforce-csv", "all")


def exporter_for(kith, target: str, *, api_base: str | None = None, ca_bundle: str | None = None,
                 token: str | None = None, credentials: dict | None = None) -> Exporter:
    """An exporter on the user's store. Credentials come from the keyring when first needed
    (so a dry run works before `kith connect`)."""
    store = kith.store() if kith is not None else None
    if target == "hubspot":
        from app.export.hubspot import HubSpotExporter

        return HubSpotExporter(store, token=token, api_base=api_base, ca_bundle=ca_bundle)
    if target == "salesforce":
        from app.export.salesforce import SalesforceExporter, ca_session

        return SalesforceExporter(store, credentials=credentials, session=ca_session(ca_bundle) if ca_bundle else None)
    raise KithError(f"unknown export target {target!r}", hint="hubspot or salesforce")


def plan_export(kith, target: str, meeting_id: int | None = None, since: date | None = None,
                **exporter_options) -> tuple[Exporter, ExportPlan]:
    exporter = exporter_for(kith, target, **exporter_options)
    return exporter, exporter.plan(gather(kith.store(), meeting_id=meeting_id, since=since))


def write_files(store, fmt: str, out: Path, meeting_id: int | None = None, since: date | None = None) -> list[Path]:
    """Write ``fmt`` files into ``out``: a meeting's (with its whole transcript and the proposed
    items), a period's, or everything (``all``: the data-portability archive)."""
    from app.export import files

    if fmt not in FILE_TARGETS:
        raise KithError(f"unknown file format {fmt!r}", hint=", ".join(FILE_TARGETS))
    out = Path(out).expanduser()
    if fmt == "all":
        if meeting_id is not None or since is not None:
            raise KithError("`export all` is the full copy of everything", hint="drop --meeting/--since")
        return [files.write_archive(store, gather(store, with_segments=True, accepted_only=False), out)]
    data = gather(store, meeting_id=meeting_id, since=since, with_segments=True, accepted_only=False)
    return files.write_format(fmt, data, out)
