"""Google Calendar: OAuth installed-app flow (loopback redirect + PKCE) and Calendar v3 sync.

* The OAuth client ("Desktop app") is the user's own; its JSON is read once at connect.
* Tokens (refresh token, access token, client id/secret, token endpoint) are kept in the
  OS keyring under service ``kith``, username ``google:<account>`` — never in a file.
  google-auth refreshes the access token when needed; a new one is written back.
* One ``calendar_sources`` row per calendar of an account, each with its own syncToken:
  full sync (``singleEvents=True``, paged with ``nextPageToken``) then incremental sync
  with ``syncToken``; HTTP 410 GONE drops the token and resyncs in full. Every page of a
  sync is fetched before anything is written; the writes and the new token go in one
  transaction, so an interrupted sync leaves the previous state intact.

Google libraries are imported inside functions: importing this module costs nothing.
"""
from __future__ import annotations

import http.server
import json
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qs, urlparse

from app.calendar.model import Attendee, CalendarEvent, SourceRecord, SyncReport
from app.core.errors import KithError

if TYPE_CHECKING:  # pragma: no cover
    from app.core.events import CancelToken
    from app.store.db import Store

SCOPES = ["https://www.googleapis.com/auth/calendar.readonly"]
DEFAULT_API_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
KEYRING_SERVICE = "kith"
PAGE_SIZE = 2500  # the API maximum for events.list


class GoogleError(KithError):
    pass


# -- client config ---------------------------------------------------------------------
def load_client_config(path: str) -> dict:
    """Read the OAuth client JSON downloaded from Google Cloud Console ("Desktop app")."""
    from pathlib import Path

    p = Path(path).expanduser()
    if not p.is_file():
        raise GoogleError(f"{p}: no such file", hint="download the OAuth client JSON (Desktop app) from Google Cloud Console")
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GoogleError(f"{p}: not a JSON file ({e})", hint="download the client JSON again") from e
    return validate_client_config(cfg, str(p))


def validate_client_config(cfg: Any, origin: str = "client config") -> dict:
    if not isinstance(cfg, dict) or "installed" not in cfg:
        kind = next(iter(cfg), "?") if isinstance(cfg, dict) and cfg else "?"
        raise GoogleError(
            f"{origin}: not a Desktop-app OAuth client (found {kind!r}, expected 'installed')",
            hint="in Google Cloud Console create an OAuth client ID of type 'Desktop app' and download its JSON",
        )
    inst = cfg["installed"]
    missing = [k for k in ("client_id", "auth_uri", "token_uri") if not inst.get(k)]
    if missing:
        raise GoogleError(f"{origin}: the client JSON lacks {', '.join(missing)}", hint="download the client JSON again")
    return cfg


# -- tokens in the keyring ---------------------------------------------------------------
def _keyring_user(account: str) -> str:
    return f"google:{account}"


def save_credentials(account: str, creds: Any) -> None:
    import keyring
    from keyring.errors import KeyringError

    data = {
        "token": creds.token,
        "refresh_token": creds.refresh_token,
        "token_uri": creds.token_uri,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "scopes": list(creds.scopes or SCOPES),
        "expiry": creds.expiry.replace(tzinfo=timezone.utc).isoformat() if creds.expiry else None,
    }
    try:
        keyring.set_password(KEYRING_SERVICE, _keyring_user(account), json.dumps(data))
    except KeyringError as e:
        raise GoogleError(
            "no usable keyring to keep the Google tokens in",
            hint="Kith never writes OAuth tokens to plain files: install/unlock a keyring (Secret Service, Keychain, Credential Manager)",
        ) from e


def load_credentials(account: str) -> Any:
    import keyring
    from google.oauth2.credentials import Credentials
    from keyring.errors import KeyringError

    try:
        raw = keyring.get_password(KEYRING_SERVICE, _keyring_user(account))
    except KeyringError as e:
        raise GoogleError("no usable keyring: cannot read the Google tokens", hint="install/unlock a keyring") from e
    if not raw:
        raise GoogleError(f"no Google tokens for {account} in the keyring",
                          hint="run `kith calendar connect google --client-secrets FILE` again")
    d = json.loads(raw)
    expiry = None
    if d.get("expiry"):
        expiry = datetime.fromisoformat(d["expiry"]).astimezone(timezone.utc).replace(tzinfo=None)  # google-auth: naive UTC
    return Credentials(token=d.get("token"), refresh_token=d.get("refresh_token"), token_uri=d.get("token_uri"),
                       client_id=d.get("client_id"), client_secret=d.get("client_secret"), scopes=d.get("scopes"),
                       expiry=expiry)


def forget_credentials(account: str) -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(KEYRING_SERVICE, _keyring_user(account))
    except PasswordDeleteError:
        pass


# -- the installed-app flow ------------------------------------------------------------
class _RedirectHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        q = parse_qs(urlparse(self.path).query)
        if "code" not in q and "error" not in q:
            self.send_response(404)
            self.end_headers()
            return
        self.server.redirect_path = self.path  # type: ignore[attr-defined]
        ok = "code" in q
        body = ("Kith is connected to Google Calendar. You can close this tab." if ok
                else "Google did not grant access. You can close this tab.").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_a: Any) -> None:  # keep codes out of logs
        pass


def run_flow(client_config: dict, open_url: Callable[[str], Any], timeout: float = 300.0,
             host: str = "127.0.0.1", port: int = 0) -> Any:
    """Run OAuth with a one-shot loopback receiver; returns google Credentials."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_config(client_config, scopes=SCOPES)  # PKCE verifier auto-generated
    server = http.server.HTTPServer((host, port), _RedirectHandler)
    server.redirect_path = None  # type: ignore[attr-defined]
    try:
        flow.redirect_uri = f"http://{host}:{server.server_port}/"
        auth_url, _state = flow.authorization_url(access_type="offline", prompt="consent")
        open_url(auth_url)
        deadline = time.monotonic() + timeout
        while server.redirect_path is None:  # type: ignore[attr-defined]
            left = deadline - time.monotonic()
            if left <= 0:
                raise GoogleError("timed out waiting for Google's sign-in to finish",
                                  hint="open the printed address in a browser on this machine and approve access")
            server.timeout = min(left, 1.0)
            server.handle_request()
        path = server.redirect_path  # type: ignore[attr-defined]
    finally:
        server.server_close()
    q = parse_qs(urlparse(path).query)
    if "error" in q:
        raise GoogleError(f"Google refused access: {q['error'][0]}", hint="run the connect command again and approve access")
    try:
        # oauthlib insists on https for the response URL; the loopback redirect is http by design
        flow.fetch_token(authorization_response=f"https://{host}:{server.server_port}{path}")
    except Exception as e:
        raise GoogleError(f"could not exchange the authorization code for tokens ({type(e).__name__}: {e})",
                          hint="check the OAuth client JSON and try again") from e
    return flow.credentials


# -- Calendar v3 ---------------------------------------------------------------------------
def build_service(creds: Any, api_endpoint: str | None = None) -> Any:
    from googleapiclient.discovery import build

    return build("calendar", "v3", credentials=creds, static_discovery=True, cache_discovery=False,
                 client_options={"api_endpoint": api_endpoint or DEFAULT_API_ENDPOINT})


def _http_status(e: Exception) -> int | None:
    resp = getattr(e, "resp", None)
    return int(getattr(resp, "status", 0) or 0) or None


def _call(request: Any, what: str) -> dict:
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError
    from httplib2 import HttpLib2Error

    try:
        return request.execute(num_retries=2)
    except HttpError as e:
        if _http_status(e) == 410:
            raise
        raise GoogleError(f"Google Calendar {what} failed: HTTP {_http_status(e)}",
                          hint="try `kith calendar sync` again later; run connect again if it persists") from e
    except RefreshError as e:
        raise GoogleError("Google no longer accepts Kith's sign-in (the token was revoked or expired)",
                          hint="run `kith calendar connect google --client-secrets FILE` again") from e
    except (TransportError, HttpLib2Error, OSError) as e:
        raise GoogleError(f"could not reach Google Calendar ({type(e).__name__})", hint="check your connection") from e


def list_calendars(service: Any) -> list[dict]:
    items: list[dict] = []
    token = None
    while True:
        resp = _call(service.calendarList().list(pageToken=token, maxResults=250), "calendarList.list")
        items.extend(resp.get("items", []))
        token = resp.get("nextPageToken")
        if not token:
            return items


def connect(store: "Store", client_config: dict, open_url: Callable[[str], Any], *, api_endpoint: str | None = None,
            timeout: float = 300.0, only_primary: bool = False) -> tuple[str, list[SourceRecord]]:
    """Sign in, keep the tokens in the keyring, add one source per calendar. Returns (account, sources)."""
    from app.calendar.repo import CalendarRepo

    validate_client_config(client_config)
    creds = run_flow(client_config, open_url, timeout=timeout)
    service = build_service(creds, api_endpoint)
    calendars = list_calendars(service)
    primary = next((c for c in calendars if c.get("primary")), None)
    if primary is None:
        raise GoogleError("the Google account has no primary calendar", hint="check the account in Google Calendar")
    account = primary["id"]
    save_credentials(account, creds)
    repo = CalendarRepo(store)
    existing = {(s.config.get("account"), s.config.get("calendar_id")): s for s in repo.list_sources(kind="google")}
    added: list[SourceRecord] = []
    with store.transaction():
        for c in calendars:
            if only_primary and not c.get("primary"):
                continue
            if c.get("hidden") or c.get("deleted"):
                continue
            key = (account, c["id"])
            if key in existing:
                added.append(existing[key])
                continue
            name = account if c.get("primary") else f"{account} / {c.get('summaryOverride') or c.get('summary') or c['id']}"
            rec = SourceRecord(kind="google", name=name, config={"account": account, "calendar_id": c["id"],
                                                                   "time_zone": c.get("timeZone", "")})
            added.append(repo.add_source(rec))
    return account, added


def _parse_when(w: dict, default_tz: str) -> tuple[datetime, str, bool]:
    if "dateTime" in w:
        dt = datetime.fromisoformat(w["dateTime"].replace("Z", "+00:00"))
        tz = w.get("timeZone") or default_tz
        if dt.tzinfo is None:  # Google always sends an offset; be safe anyway
            from zoneinfo import ZoneInfo

            dt = dt.replace(tzinfo=ZoneInfo(tz) if tz else timezone.utc)
        return dt.astimezone(timezone.utc), tz, False
    d = datetime.fromisoformat(w["date"])
    return d.replace(tzinfo=timezone.utc), "", True


def to_event(item: dict, default_tz: str = "") -> CalendarEvent:
    start, tz, all_day = _parse_when(item["start"], default_tz)
    end = _parse_when(item["end"], default_tz)[0] if "end" in item else start
    attendees = [
        Attendee(email=(a.get("email") or "").lower(), name=a.get("displayName") or "",
                 response=a.get("responseStatus") or "", organizer=bool(a.get("organizer")), is_self=bool(a.get("self")))
        for a in item.get("attendees", []) if not a.get("resource")
    ]
    org = item.get("organizer") or {}
    if org.get("email") and not any(a.email == org["email"].lower() for a in attendees):
        attendees.insert(0, Attendee(email=org["email"].lower(), name=org.get("displayName", ""), response="accepted",
                                     organizer=True, is_self=bool(org.get("self"))))
    return CalendarEvent(external_id=item["id"], title=item.get("summary") or "(no title)", start=start, end=end,
                         tz=tz, all_day=all_day, attendees=attendees, location=item.get("location", ""),
                         description=(item.get("description") or "")[:4000], status=item.get("status", "confirmed"),
                         etag=item.get("etag", ""))


class GoogleCalendarSource:
    """A ``calendar_sources`` row of kind ``google``: one calendar of one account."""

    kind = "google"

    def __init__(self, record: SourceRecord, api_endpoint: str | None = None, past_days: int = 30,
                 now: datetime | None = None, page_size: int = PAGE_SIZE):
        self.record = record
        self.api_endpoint = api_endpoint
        self.past_days = past_days
        self.now = now
        self.page_size = page_size

    @classmethod
    def from_record(cls, record: SourceRecord, options: dict) -> "GoogleCalendarSource":
        return cls(record, api_endpoint=options.get("google_api_endpoint"), now=options.get("now"),
                   page_size=options.get("page_size", PAGE_SIZE))

    def _fetch(self, service: Any, sync_token: str | None, default_tz: str,
               cancel: "CancelToken | None") -> tuple[list[dict], str | None, str]:
        cfg = self.record.config
        items: list[dict] = []
        page = None
        while True:
            params: dict[str, Any] = {"calendarId": cfg["calendar_id"], "singleEvents": True, "maxResults": self.page_size}
            if sync_token:
                params["syncToken"] = sync_token
            else:
                now = self.now or datetime.now(timezone.utc)
                params["timeMin"] = (now - timedelta(days=self.past_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
            if page:
                params["pageToken"] = page
            resp = _call(service.events().list(**params), "events.list")
            default_tz = resp.get("timeZone") or default_tz
            items.extend(resp.get("items", []))
            page = resp.get("nextPageToken")
            if cancel is not None:
                cancel.raise_if_cancelled()
            if not page:
                return items, resp.get("nextSyncToken"), default_tz

    def sync(self, store: "Store", cancel: "CancelToken | None" = None) -> SyncReport:
        from googleapiclient.errors import HttpError

        from app.calendar.repo import CalendarRepo

        t0 = time.perf_counter()
        account = self.record.config["account"]
        creds = load_credentials(account)
        token_before = (creds.token, creds.refresh_token)
        service = build_service(creds, self.api_endpoint)
        default_tz = self.record.config.get("time_zone", "")
        sync_token = self.record.sync_token
        note = ""
        try:
            items, next_token, default_tz = self._fetch(service, sync_token, default_tz, cancel)
        except HttpError as e:
            if _http_status(e) != 410 or not sync_token:
                raise GoogleError(f"Google Calendar sync failed: HTTP {_http_status(e)}") from e
            note = "sync token expired (410): full resync"
            sync_token = None
            items, next_token, default_tz = self._fetch(service, None, default_tz, cancel)
        full = sync_token is None
        repo = CalendarRepo(store)
        live = [to_event(i, default_tz) for i in items if i.get("status") != "cancelled"]
        gone = [i["id"] for i in items if i.get("status") == "cancelled"]
        with store.transaction():
            if full:
                added, updated, removed = repo.replace_events(self.record.id, live)
            else:
                added, updated = repo.upsert_events(self.record.id, live)
                removed = repo.delete_events(self.record.id, gone)
            self.record.sync_token = next_token
            self.record.last_synced_at = datetime.now(timezone.utc)
            if default_tz:
                self.record.config["time_zone"] = default_tz
            repo.update_source(self.record)
        if (creds.token, creds.refresh_token) != token_before:
            save_credentials(account, creds)  # refreshed access token (or rotated refresh token)
        return SyncReport(self.record.id, self.record.name, self.kind, added, updated, removed, full=full,
                          seconds=time.perf_counter() - t0, note=note)

