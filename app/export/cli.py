"""`kith export …` and `kith connect …` — the only commands that send CRM data off the machine.

Heavy client libraries (hubspot, simple_salesforce, requests) load inside the commands.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date
from pathlib import Path

from app.core.errors import KithError

REMOTE = ("hubspot", "salesforce")
FILES = ("markdown", "csv", "json", "vcard", "ics", "hubspot-csv", "salesforce-csv", "all")
LABEL = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


def register(sub) -> None:
    p = sub.add_parser("export", help="send to HubSpot/Salesforce or write files (only when you ask)",
                       description="Export your CRM. Remote targets show a dry run and ask before sending; "
                                   "file formats write to --out and send nothing.")
    p.add_argument("target", choices=REMOTE + FILES, metavar="TARGET",
                   help="hubspot | salesforce | markdown | csv | json | vcard | ics | hubspot-csv | salesforce-csv | all")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--meeting", type=int, metavar="ID", help="only this meeting, its people and companies")
    scope.add_argument("--since", metavar="DATE", help="only meetings from this day on (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, metavar="DIR", help="folder for file exports (required for files)")
    p.add_argument("--dry-run", action="store_true", help="show exactly what would be sent; send nothing")
    p.add_argument("--yes", "-y", action="store_true", help="send without asking (needed without a terminal)")
    p.add_argument("--json", action="store_true", help="print the plan/report as JSON")
    p.add_argument("--api-base", help=argparse.SUPPRESS)   # HubSpot base URL (loopback tests)
    p.add_argument("--ca-bundle", type=Path, metavar="FILE",
                   help="trust this CA certificate for the CRM connection (e.g. a company TLS proxy)")
    p.set_defaults(func=cmd_export)

    c = sub.add_parser("connect", help="store HubSpot or Salesforce credentials in the keyring (checked first)")
    c.add_argument("target", choices=REMOTE)
    c.add_argument("--token-stdin", action="store_true",
                   help="read the token (Salesforce with --username: password, then security token) from stdin")
    c.add_argument("--instance-url", help="Salesforce: your instance, e.g. https://acme.my.salesforce.com "
                                          "(with a session/access token)")
    c.add_argument("--username", help="Salesforce: sign in with username, password and security token instead")
    c.add_argument("--domain", default="login", help="Salesforce login domain: login (default) or test (sandbox)")
    c.add_argument("--api-base", help=argparse.SUPPRESS)
    c.add_argument("--ca-bundle", type=Path, metavar="FILE", help="trust this CA certificate for the connection")
    c.set_defaults(func=cmd_connect)


# -- helpers ----------------------------------------------------------------------------------
def _since(args) -> date | None:
    if not args.since:
        return None
    try:
        return date.fromisoformat(args.since)
    except ValueError:
        raise KithError(f"--since {args.since!r} is not a date", hint="use YYYY-MM-DD, e.g. --since 2025-01-31") from None


def make_exporter(target: str, kith, args, credentials: dict | None = None, token: str | None = None):
    from app.export.service import exporter_for

    if args.ca_bundle and not args.ca_bundle.is_file():
        raise KithError(f"{args.ca_bundle}: no such file", hint="give the path of a PEM certificate")
    return exporter_for(kith, target, api_base=args.api_base if target == "hubspot" else None,
                        ca_bundle=str(args.ca_bundle.resolve()) if args.ca_bundle else None,
                        token=token, credentials=credentials)


def _short(v) -> str:
    s = str(v).replace("\n", " ")
    return s if len(s) <= 70 else f"{s[:60]}… ({len(str(v))} chars)"


def print_plan(plan, out=None) -> None:
    out = out or sys.stdout
    label = LABEL.get(plan.target, plan.target)
    out.write(f"Export plan for {label} — nothing has been sent yet.\n")
    for o in plan.ops:
        head = f"{o.op:<6} {o.entity:<8} #{o.local_id:<5} {o.label}"
        if o.remote_id:
            head += f"  (remote {o.remote_id})"
        if o.reason:
            head += f"  — {o.reason}"
        out.write(head + "\n")
        if o.op != "skip":
            for k, v in o.fields.items():
                out.write(f"         {k}: {_short(v)}\n")
            if o.links:
                out.write("         associate with: " + ", ".join(f"{e} #{i}" for e, i in o.links) + "\n")
    counts = plan.counts()
    total = {k: sum(c[k] for c in counts.values()) for k in ("create", "update", "skip")}
    per = "; ".join(f"{e}: {c['create']} create, {c['update']} update, {c['skip']} skip" for e, c in counts.items())
    out.write(f"Would send {total['create'] + total['update']} records "
              f"({total['create']} create, {total['update']} update; {total['skip']} skipped). {per}\n")


def print_report(report, out=None) -> None:
    out = out or sys.stdout
    label = LABEL.get(report.target, report.target)
    c = report.counts()
    out.write(f"{label}: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(c.items())) + "\n")
    for r in report.results:
        if r.status in ("failed", "not_attempted"):
            out.write(f"  not sent: {r.entity} #{r.local_id} — {r.error or r.status}\n")
    if report.failed:
        out.write("Run the same command again to send the rest; nothing already sent is duplicated.\n")


def _confirm(target: str, args):
    def ask(plan) -> bool:
        n = len(plan.to_send)
        if args.yes:
            return True
        if not sys.stdin or not sys.stdin.isatty():
            raise KithError(f"refusing to send {n} records to {LABEL[target]} without confirmation",
                            hint="review with --dry-run, then run again with --yes")
        answer = input(f"Send {n} records to {LABEL[target]}? [y/N] ").strip().lower()
        return answer in ("y", "yes")

    return ask


# -- commands ---------------------------------------------------------------------------------
def cmd_export(kith, args) -> int:
    from app.ops.export import export_files

    since = _since(args)
    if args.target in REMOTE:
        if args.out:
            raise KithError("--out is for file exports", hint=f"`kith export {args.target}` sends to the CRM directly")
        exporter = make_exporter(args.target, kith, args)
        from app.export.base import gather

        plan = exporter.plan(gather(kith.store(), meeting_id=args.meeting, since=since))
        if args.dry_run:
            print_json_or(plan.to_dict(), args, lambda: print_plan(plan))
            return 0
        if not plan.to_send:
            print_json_or(plan.to_dict(), args, lambda: print(f"Nothing to send: {LABEL[args.target]} is up to date."))
            return 0
        if not args.yes and not args.json:
            print_plan(plan)
        report = exporter.run(plan, _confirm(args.target, args))
        print_json_or(report.to_dict(), args, lambda: print_report(report))
        return 0 if not report.failed else 1

    if not args.out:
        raise KithError("file exports need a folder", hint=f"kith export {args.target} --out DIR")
    paths = export_files(kith.store(), args.target, args.out, meeting_id=args.meeting, since=since).value
    print_json_or([str(p) for p in paths], args, lambda: print("\n".join(str(p) for p in paths)))
    return 0


def print_json_or(obj, args, text) -> None:
    if args.json:
        from app.core.output import print_json

        print_json(obj)
    else:
        text()


def _secret(args, prompt: str) -> str:
    if args.token_stdin:
        value = sys.stdin.readline().strip()
    elif sys.stdin and sys.stdin.isatty():
        value = getpass.getpass(prompt).strip()
    else:
        raise KithError("no terminal to ask for the secret", hint="pipe it in with --token-stdin")
    if not value:
        raise KithError("empty secret", hint="paste the token when asked, or pipe it with --token-stdin")
    return value


def cmd_connect(kith, args) -> int:
    from app.export import credentials

    if args.target == "hubspot":
        token = _secret(args, "HubSpot private-app access token: ")
        make_exporter("hubspot", None, args, token=token).verify()
        credentials.set_secret(credentials.HUBSPOT, token)
        print("HubSpot connected: the token works and is stored in your keyring.")
        return 0
    if args.username:
        password = _secret(args, "Salesforce password: ")
        sec = _secret(args, "Salesforce security token: ")
        creds = {"username": args.username, "password": password, "security_token": sec, "domain": args.domain}
    else:
        if not args.instance_url or not args.instance_url.startswith("https://"):
            raise KithError("Salesforce needs --instance-url https://… (with an access token) or --username",
                            hint="e.g. kith connect salesforce --instance-url https://acme.my.salesforce.com")
        creds = {"instance_url": args.instance_url.rstrip("/"),
                 "session_id": _secret(args, "Salesforce access (session) token: ")}
    if args.ca_bundle:
        creds["ca_bundle"] = str(args.ca_bundle.resolve())
    make_exporter("salesforce", None, args, credentials=creds).verify()
    credentials.set_secret(credentials.SALESFORCE, json.dumps(creds))
    print("Salesforce connected: the credentials work and are stored in your keyring.")
    return 0
