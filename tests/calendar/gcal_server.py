"""A loopback stand-in for Google's OAuth 2.0 endpoints and the Calendar v3 API.

It speaks the real wire protocol the real client libraries use:
* ``GET /o/oauth2/auth`` — authorization endpoint: checks client id, redirect URI, scope and
  the PKCE challenge (S256), then redirects (302) to the app's loopback URI with code+state.
* ``POST /token`` — token endpoint: ``authorization_code`` grant (verifies the PKCE
  ``code_verifier`` against the challenge, the client secret and the redirect URI) and
  ``refresh_token`` grant; Google's JSON error bodies (``invalid_grant`` …).
* ``GET /calendar/v3/users/me/calendarList`` and ``GET /calendar/v3/calendars/{id}/events``:
  bearer-token auth (401 when missing/expired), paging with ``maxResults``/``nextPageToken``,
  ``nextSyncToken`` on the last page, ``syncToken`` incremental results (changed and
  cancelled instances), HTTP 410 ``fullSyncRequired`` for an invalidated token, ``timeMin``
  (refused together with ``syncToken``, like Google), ``singleEvents=true`` instances of
  recurring events with Google-style instance ids and offsets computed in the event's zone.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse
from zoneinfo import ZoneInfo

CLIENT_ID = "1234-kith.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-loopback-secret"
SCOPE = "https://www.googleapis.com/auth/calendar.readonly"


@dataclass
class Cal:
    id: str
    summary: str
    time_zone: str = "UTC"
    primary: bool = False
    # instance id -> (seq, item)
    items: dict[str, tuple[int, dict]] = field(default_factory=dict)


class GoogleState:
    def __init__(self, account: str = "ada@example.com"):
        self.lock = threading.Lock()
        self.account = account
        self.cals: dict[str, Cal] = {}
        self.seq = 0
        self.min_valid_sync_seq = 0  # tokens older than this answer 410
        self.codes: dict[str, dict] = {}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, datetime] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query) log
        self.token_grants: list[str] = []
        self.token_lifetime = 3599
        self.add_calendar(account, "Ada Lovelace", "Europe/London", primary=True)

    # -- calendar data ----------------------------------------------------------------
    def add_calendar(self, cal_id: str, summary: str, tz: str, primary: bool = False) -> Cal:
        c = Cal(cal_id, summary, tz, primary)
        self.cals[cal_id] = c
        return c

    def _bump(self) -> int:
        self.seq += 1
        return self.seq

    def put_event(self, cal_id: str, item: dict) -> dict:
        with self.lock:
            item = dict(item)
            item.setdefault("status", "confirmed")
            item.setdefault("kind", "calendar#event")
            seq = self._bump()
            item["etag"] = f'"{seq}"'
            item["updated"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self.cals[cal_id].items[item["id"]] = (seq, item)
            return item

    def timed(self, cal_id: str, ev_id: str, summary: str, start_local: datetime, minutes: int, tz: str,
              attendees: list[dict] | None = None, **extra) -> dict:
        s = start_local.replace(tzinfo=ZoneInfo(tz))
        e = s + timedelta(minutes=minutes)
        item = {"id": ev_id, "summary": summary,
                "start": {"dateTime": s.isoformat(), "timeZone": tz},
                "end": {"dateTime": e.isoformat(), "timeZone": tz}, **extra}
        if attendees:
            item["attendees"] = attendees
        return self.put_event(cal_id, item)

    def weekly(self, cal_id: str, ev_id: str, summary: str, first_local: datetime, count: int, minutes: int, tz: str,
               attendees: list[dict] | None = None) -> list[dict]:
        """A recurring series as Google expands it with singleEvents=true (wall-clock time kept across DST)."""
        out = []
        for i in range(count):
            local = (first_local + timedelta(weeks=i)).replace(tzinfo=ZoneInfo(tz))  # same wall time each week
            inst_id = f"{ev_id}_{local.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"
            end = local + timedelta(minutes=minutes)
            item = {"id": inst_id, "summary": summary, "recurringEventId": ev_id,
                    "originalStartTime": {"dateTime": local.isoformat(), "timeZone": tz},
                    "start": {"dateTime": local.isoformat(), "timeZone": tz},
                    "end": {"dateTime": end.isoformat(), "timeZone": tz}}
            if attendees:
                item["attendees"] = attendees
            out.append(self.put_event(cal_id, item))
        return out

    def all_day(self, cal_id: str, ev_id: str, summary: str, day: str, days: int = 1) -> dict:
        d = datetime.fromisoformat(day).date()
        return self.put_event(cal_id, {"id": ev_id, "summary": summary, "start": {"date": d.isoformat()},
                                       "end": {"date": (d + timedelta(days=days)).isoformat()},
                                       "transparency": "transparent"})

    def cancel(self, cal_id: str, ev_id: str) -> None:
        with self.lock:
            _, item = self.cals[cal_id].items[ev_id]
            seq = self._bump()
            # Google returns only id + status for deleted events in incremental results
            self.cals[cal_id].items[ev_id] = (seq, {"kind": "calendar#event", "id": ev_id, "status": "cancelled",
                                                    "etag": f'"{seq}"'})

    def invalidate_sync_tokens(self) -> None:
        with self.lock:
            self.min_valid_sync_seq = self.seq + 1

    def expire_access_tokens(self) -> None:
        with self.lock:
            for t in self.access_tokens:
                self.access_tokens[t] = datetime.now(timezone.utc) - timedelta(seconds=1)


def _b64(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


def _unb64(s: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))


class Handler(BaseHTTPRequestHandler):
    server: "GoogleServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    @property
    def st(self) -> GoogleState:
        return self.server.state

    def _send(self, code: int, body: dict | None = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _api_error(self, code: int, reason: str, message: str) -> None:
        self._send(code, {"error": {"code": code, "message": message,
                                    "errors": [{"domain": "global", "reason": reason, "message": message}]}})

    # -- routing --------------------------------------------------------------------------
    def do_GET(self):  # noqa: N802
        u = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        with self.st.lock:
            self.st.requests.append(("GET", self.path))
        if u.path == "/o/oauth2/auth":
            return self._authorize(q)
        if u.path.startswith("/calendar/v3/"):
            if not self._authorized():
                return self._api_error(401, "authError", "Request had invalid authentication credentials.")
            rest = u.path[len("/calendar/v3/"):]
            if rest == "users/me/calendarList":
                return self._calendar_list(q)
            parts = rest.split("/")
            if len(parts) == 3 and parts[0] == "calendars" and parts[2] == "events":
                return self._events(unquote(parts[1]), q)
        self._api_error(404, "notFound", "Not Found")

    def do_POST(self):  # noqa: N802
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):  # client_secret_basic (RFC 6749 §2.3.1); Google also takes client_secret_post
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            form.setdefault("client_id", unquote(cid))
            form.setdefault("client_secret", unquote(secret))
        with self.st.lock:
            self.st.requests.append(("POST", self.path))
        if u.path == "/token":
            return self._token(form)
        self._api_error(404, "notFound", "Not Found")

    # -- OAuth ----------------------------------------------------------------------------
    def _authorize(self, q: dict) -> None:
        ok = (q.get("client_id") == CLIENT_ID and q.get("response_type") == "code" and SCOPE in q.get("scope", "").split()
              and q.get("code_challenge_method") == "S256" and len(q.get("code_challenge", "")) >= 43
              and q.get("redirect_uri", "").startswith(("http://127.0.0.1:", "http://localhost:")))
        if not ok:
            return self._send(400, {"error": "invalid_request", "error_description": f"bad authorization request {sorted(q)}"})
        code = "4/" + secrets.token_urlsafe(24)
        with self.st.lock:
            self.st.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                                   "offline": q.get("access_type") == "offline"}
        params = {"state": q.get("state", ""), "code": code, "scope": SCOPE}
        self._send(302, None, {"Location": q["redirect_uri"] + "?" + urlencode(params, quote_via=quote)})

    def _issue(self, refresh: str | None) -> dict:
        tok = "ya29." + secrets.token_urlsafe(24)
        self.st.access_tokens[tok] = datetime.now(timezone.utc) + timedelta(seconds=self.st.token_lifetime)
        body = {"access_token": tok, "expires_in": self.st.token_lifetime, "scope": SCOPE, "token_type": "Bearer"}
        if refresh:
            body["refresh_token"] = refresh
        return body

    def _token(self, f: dict) -> None:
        st = self.st
        if f.get("client_id") != CLIENT_ID or f.get("client_secret") != CLIENT_SECRET:
            return self._send(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        with st.lock:
            st.token_grants.append(f.get("grant_type", ""))
            if f.get("grant_type") == "authorization_code":
                info = st.codes.pop(f.get("code", ""), None)
                if info is None:
                    return self._send(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})
                verifier = f.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if challenge != info["challenge"]:
                    return self._send(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
                if f.get("redirect_uri") != info["redirect_uri"]:
                    return self._send(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"})
                refresh = "1//" + secrets.token_urlsafe(24) if info["offline"] else None
                if refresh:
                    st.refresh_tokens.add(refresh)
                return self._send(200, self._issue(refresh))
            if f.get("grant_type") == "refresh_token":
                if f.get("refresh_token") not in st.refresh_tokens:
                    return self._send(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
                return self._send(200, self._issue(None))
        self._send(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})

    def _authorized(self) -> bool:
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return False
        exp = self.st.access_tokens.get(h[7:])
        return exp is not None and exp > datetime.now(timezone.utc)

    # -- Calendar v3 ----------------------------------------------------------------------
    def _calendar_list(self, q: dict) -> None:
        items = [{"kind": "calendar#calendarListEntry", "id": c.id, "summary": c.summary, "timeZone": c.time_zone,
                  "accessRole": "owner" if c.primary else "reader", **({"primary": True} if c.primary else {})}
                 for c in self.st.cals.values()]
        self._send(200, {"kind": "calendar#calendarList", "etag": '"l1"', "items": items,
                         "nextSyncToken": "cl-" + str(self.st.seq)})

    def _events(self, cal_id: str, q: dict) -> None:
        st = self.st
        cal = st.cals.get(cal_id)
        if cal is None:
            return self._api_error(404, "notFound", "Not Found")
        if q.get("singleEvents") != "true":
            return self._api_error(400, "badRequest", "this test server only serves singleEvents=true")
        if "syncToken" in q and any(k in q for k in ("timeMin", "timeMax", "q", "orderBy", "updatedMin")):
            return self._api_error(400, "badRequest", "syncToken cannot be used with timeMin/timeMax/q/orderBy/updatedMin")
        limit = min(int(q.get("maxResults", 250)), 2500)
        if "pageToken" in q:
            p = _unb64(q["pageToken"])
            snapshot, since, offset, tmin = p["snap"], p["since"], p["off"], p.get("tmin")
        else:
            offset = 0
            tmin = q.get("timeMin")
            with st.lock:
                snapshot = st.seq
            if "syncToken" in q:
                since = int(q["syncToken"].split("-")[1])
                if since < st.min_valid_sync_seq:
                    return self._api_error(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")
            else:
                since = -1
        with st.lock:
            rows = sorted(cal.items.values(), key=lambda r: (r[0], r[1]["id"]))
        if since >= 0:
            chosen = [item for seq, item in rows if since < seq <= snapshot]
        else:
            chosen = [item for seq, item in rows if seq <= snapshot and item.get("status") != "cancelled"]
            if tmin:
                lo = datetime.fromisoformat(tmin.replace("Z", "+00:00"))
                chosen = [i for i in chosen if _end(i) > lo]
        page = chosen[offset:offset + limit]
        body: dict = {"kind": "calendar#events", "summary": cal.summary, "timeZone": cal.time_zone,
                      "accessRole": "owner", "items": page}
        if offset + limit < len(chosen):
            body["nextPageToken"] = _b64({"snap": snapshot, "since": since, "off": offset + limit, "tmin": tmin})
        else:
            body["nextSyncToken"] = f"st-{snapshot}"
        self._send(200, body)


def _end(item: dict) -> datetime:
    e = item["end"]
    if "dateTime" in e:
        return datetime.fromisoformat(e["dateTime"]).astimezone(timezone.utc)
    return datetime.fromisoformat(e["date"]).replace(tzinfo=timezone.utc)


class GoogleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GoogleState | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state or GoogleState()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    @property
    def api_endpoint(self) -> str:
        return self.base + "/calendar/v3/"

    def client_config(self) -> dict:
        return {"installed": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "project_id": "kith-test",
                              "auth_uri": self.base + "/o/oauth2/auth", "token_uri": self.base + "/token",
                              "auth_provider_x509_cert_url": self.base + "/certs", "redirect_uris": ["http://localhost"]}}

    def __enter__(self) -> "GoogleServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def browser_for(server: GoogleServer, approve: bool = True):
    """The test's "browser": on another thread, GET the auth URL and follow the redirect to the app."""
    import urllib.request

    errors: list[BaseException] = []

    def visit(url: str) -> None:
        try:
            if not approve:
                u = urlparse(url)
                q = {k: v[-1] for k, v in parse_qs(u.query).items()}
                urllib.request.urlopen(q["redirect_uri"] + "?" + urlencode({"error": "access_denied", "state": q["state"]}),
                                       timeout=10).read()
                return
            urllib.request.urlopen(url, timeout=10).read()  # urllib follows the 302 to the loopback redirect
        except BaseException as e:  # noqa: BLE001 — surfaced by the test
            errors.append(e)

    def open_url(url: str) -> None:
        threading.Thread(target=visit, args=(url,), daemon=True).start()

    open_url.errors = errors  # type: ignore[attr-defined]
    return open_url
