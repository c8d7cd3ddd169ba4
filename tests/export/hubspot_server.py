"""A loopback HTTP server speaking the parts of HubSpot's CRM API Kith uses, written from
HubSpot's public reference (developers.hubspot.com):

* CRM v3 objects: ``POST /crm/v3/objects/{type}`` (201, ``{id, properties, createdAt,
  updatedAt, archived}``, inline ``associations``), ``PATCH /crm/v3/objects/{type}/{id}``,
  ``GET /crm/v3/objects/{type}?limit=``, ``POST /crm/v3/objects/{type}/search`` (filterGroups,
  EQ; ``{total, results}``);
* v4 associations: ``PUT /crm/v4/objects/{type}/{id}/associations/{toType}/{toId}`` with a body
  ``[{associationCategory, associationTypeId}]``;
* errors as HubSpot sends them: ``{"status":"error","message":…,"correlationId":…,"category":…}``
  — 401 INVALID_AUTHENTICATION, 404 OBJECT_NOT_FOUND, 409 CONFLICT for a second contact with
  the same email, 400 VALIDATION_ERROR for unknown properties / non-string values / wrong
  association types, 429 RATE_LIMITS with ``Retry-After``.

``faults`` injects failures: ``server.fail(method, path_regex, status, category, times, retry_after)``.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TYPES = {"contacts": "contacts", "contact": "contacts", "0-1": "contacts",
         "companies": "companies", "company": "companies", "0-2": "companies",
         "notes": "notes", "note": "notes", "0-46": "notes",
         "tasks": "tasks", "task": "tasks", "0-27": "tasks"}
TYPE_ID = {"contacts": "0-1", "companies": "0-2", "notes": "0-46", "tasks": "0-27"}
NOTE_LIMIT = 65_536
PROPERTIES = {
    "contacts": {"email", "firstname", "lastname", "phone", "jobtitle", "company", "website"},
    "companies": {"name", "domain", "phone", "city", "industry"},
    "notes": {"hs_note_body", "hs_timestamp", "hubspot_owner_id"},
    "tasks": {"hs_task_subject", "hs_task_body", "hs_timestamp", "hs_task_status", "hs_task_priority",
              "hs_task_type", "hubspot_owner_id"},
}
REQUIRED = {"notes": {"hs_timestamp"}, "tasks": {"hs_timestamp"}}
ENUMS = {("tasks", "hs_task_status"): {"NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"},
         ("tasks", "hs_task_priority"): {"NONE", "LOW", "MEDIUM", "HIGH"},
         ("tasks", "hs_task_type"): {"TODO", "CALL", "EMAIL"}}
# HubSpot-defined default association types (fromType, toType) → id
ASSOC_TYPES = {("contacts", "companies"): {279, 1}, ("companies", "contacts"): {280, 2},
               ("notes", "contacts"): {202}, ("notes", "companies"): {190},
               ("tasks", "contacts"): {204}, ("tasks", "companies"): {192}}


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubSpotState:
    def __init__(self, token: str):
        self.token = token
        self.lock = threading.Lock()
        self.objects: dict[str, dict[str, dict]] = {t: {} for t in TYPE_ID}
        self.associations: set[tuple[str, str, str, str, int]] = set()
        self.requests: list[tuple[str, str]] = []
        self.faults: list[dict] = []
        self.next_id = 1000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def fail(self, method: str, path: str, status: int, category: str = "", times: int = 1,
             retry_after: str | None = None, after: int = 0) -> None:
        """Fail the next ``times`` matching requests (after letting ``after`` of them through)."""
        self.faults.append({"method": method, "rx": re.compile(path), "status": status, "category": category,
                            "times": times, "retry_after": retry_after, "after": after})

    def count(self, method: str, path_rx: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.search(path_rx, p))

    def linked(self, from_type: str, from_id: str, to_type: str) -> set[str]:
        return {a[3] for a in self.associations if a[0] == from_type and a[1] == from_id and a[2] == to_type}


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeHubSpot/1.0"
    state: HubSpotState

    def log_message(self, *a):  # keep test output quiet
        pass

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, status: int, body=None, headers: dict | None = None):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, category: str, message: str, headers: dict | None = None):
        self._send(status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                            "category": category}, headers)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"null") if n else None

    def _handle(self, method: str):
        st = self.state
        path = self.path.split("?", 1)[0]
        body = self._body() if method in ("POST", "PATCH", "PUT") else None
        with st.lock:
            st.requests.append((method, path))
            if self.headers.get("Authorization") != f"Bearer {st.token}":
                return self._error(401, "INVALID_AUTHENTICATION",
                                   "Authentication credentials not found. This API supports OAuth 2.0 authentication")
            for f in st.faults:
                if f["method"] == method and f["rx"].search(path) and f["times"] > 0:
                    if f["after"] > 0:
                        f["after"] -= 1
                        continue
                    f["times"] -= 1
                    headers = {"Retry-After": f["retry_after"]} if f["retry_after"] is not None else {}
                    if f["status"] == 429:
                        return self._send(429, {"status": "error", "message": "You have reached your secondly limit.",
                                                "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                                                "policyName": "SECONDLY", "category": "RATE_LIMITS"}, headers)
                    return self._error(f["status"], f["category"] or "VALIDATION_ERROR", "injected failure", headers)
            return self._route(method, path, body)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_PUT(self):
        self._handle("PUT")

    # -- the API --------------------------------------------------------------------------
    def _check_props(self, otype: str, props) -> str | None:
        if not isinstance(props, dict):
            return "properties must be an object"
        for k, v in props.items():
            if k not in PROPERTIES[otype]:
                return f'Property "{k}" does not exist'
            if not isinstance(v, str):
                return f'Property "{k}" must be a string, got {type(v).__name__}'
            if k == "hs_note_body" and len(v) > NOTE_LIMIT:
                return f"hs_note_body is longer than {NOTE_LIMIT} characters"
            allowed = ENUMS.get((otype, k))
            if allowed and v not in allowed:
                return f'{v} was not one of the allowed options for {k}'
        return None

    def _check_assoc(self, otype: str, to_type: str, to_id: str, types) -> str | None:
        if to_id not in self.state.objects.get(to_type, {}):
            return f"{to_type} {to_id} does not exist"
        for t in types or []:
            if t.get("associationCategory") != "HUBSPOT_DEFINED":
                return "unknown association category"
            if int(t.get("associationTypeId", -1)) not in ASSOC_TYPES.get((otype, to_type), set()):
                return f"association type {t.get('associationTypeId')} is not valid from {otype} to {to_type}"
        return None

    def _obj(self, otype, oid):
        o = self.state.objects[otype][oid]
        return {"id": oid, "properties": o["properties"], "createdAt": o["createdAt"], "updatedAt": o["updatedAt"],
                "archived": False}

    def _route(self, method: str, path: str, body):
        st = self.state
        m = re.fullmatch(r"/crm/v3/objects/([\w-]+)(?:/([\w-]+))?", path)
        if m and m.group(1) in TYPES:
            otype, rest = TYPES[m.group(1)], m.group(2)
            if method == "GET" and rest is None:
                ids = list(st.objects[otype])[:10]
                return self._send(200, {"results": [self._obj(otype, i) for i in ids]})
            if method == "POST" and rest is None:
                props = (body or {}).get("properties")
                err = self._check_props(otype, props)
                missing = REQUIRED.get(otype, set()) - set(props or {})
                if err or missing:
                    return self._error(400, "VALIDATION_ERROR", err or f"missing required {sorted(missing)}")
                if otype == "contacts" and props.get("email"):
                    dup = next((i for i, o in st.objects["contacts"].items()
                                if o["properties"].get("email", "").lower() == props["email"].lower()), None)
                    if dup:
                        return self._error(409, "CONFLICT", f"Contact already exists. Existing ID: {dup}")
                assocs = []
                for a in (body or {}).get("associations") or []:
                    to_id = str(a["to"]["id"])
                    to_type = next((t for t in TYPE_ID if to_id in st.objects[t] and (otype, t) in ASSOC_TYPES), None)
                    err = self._check_assoc(otype, to_type, to_id, a.get("types")) if to_type else "unknown record"
                    if err:
                        return self._error(400, "VALIDATION_ERROR", err)
                    assocs += [(to_type, to_id, int(t["associationTypeId"])) for t in a["types"]]
                oid, ts = st.new_id(), now()
                st.objects[otype][oid] = {"properties": dict(props), "createdAt": ts, "updatedAt": ts}
                for to_type, to_id, tid in assocs:
                    st.associations.add((otype, oid, to_type, to_id, tid))
                return self._send(201, self._obj(otype, oid))
            if method == "POST" and rest == "search":
                filters = [f for g in (body or {}).get("filterGroups", []) for f in g.get("filters", [])]
                hits = []
                for oid, o in st.objects[otype].items():
                    if all(f.get("operator") == "EQ" and
                           str(o["properties"].get(f["propertyName"], "")).lower() == str(f["value"]).lower()
                           for f in filters):
                        hits.append(self._obj(otype, oid))
                limit = int((body or {}).get("limit") or 10)
                return self._send(200, {"total": len(hits), "results": hits[:limit]})
            if method == "PATCH" and rest:
                if rest not in st.objects[otype]:
                    return self._error(404, "OBJECT_NOT_FOUND", "resource not found")
                props = (body or {}).get("properties")
                err = self._check_props(otype, props)
                if err:
                    return self._error(400, "VALIDATION_ERROR", err)
                st.objects[otype][rest]["properties"].update(props)
                st.objects[otype][rest]["updatedAt"] = now()
                return self._send(200, self._obj(otype, rest))
        m = re.fullmatch(r"/crm/v4/objects/([\w-]+)/([\w-]+)/associations/([\w-]+)/([\w-]+)", path)
        if m and method == "PUT" and m.group(1) in TYPES and m.group(3) in TYPES:
            otype, oid, to_type, to_id = TYPES[m.group(1)], m.group(2), TYPES[m.group(3)], m.group(4)
            if oid not in st.objects[otype]:
                return self._error(404, "OBJECT_NOT_FOUND", f"{otype} {oid} not found")
            err = self._check_assoc(otype, to_type, to_id, body if isinstance(body, list) else None)
            if err or not isinstance(body, list):
                return self._error(400, "VALIDATION_ERROR", err or "body must be a list of association types")
            for t in body:
                st.associations.add((otype, oid, to_type, to_id, int(t["associationTypeId"])))
            return self._send(200, {"fromObjectTypeId": TYPE_ID[otype], "fromObjectId": int(oid),
                                    "toObjectTypeId": TYPE_ID[to_type], "toObjectId": int(to_id), "labels": []})
        return self._error(404, "OBJECT_NOT_FOUND", f"no route {method} {path}")


class FakeHubSpot:
    def __init__(self, token: str = "pat-na1-test-token"):
        self.state = HubSpotState(token)
        handler = type("H", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
