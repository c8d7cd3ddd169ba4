"""A loopback HTTPS server speaking the parts of the Salesforce REST API Kith uses, written
from Salesforce's public REST API Developer Guide:

* ``GET /services/data/vXX.X/query/?q=SOQL`` → ``{totalSize, done, records:[{attributes, Id}]}``
  (the SOQL subset ``SELECT Id FROM X [WHERE Field = 'value'] [LIMIT n]``, quotes escaped with \\);
* ``POST /services/data/vXX.X/sobjects/{Type}/`` → 201 ``{id, success, errors}``;
  ``PATCH …/sobjects/{Type}/{Id}`` → 204; ``GET …/sobjects/{Type}/{Id}`` → the record;
* errors as lists ``[{"message", "errorCode", "fields"}]``: 401 INVALID_SESSION_ID,
  403 REQUEST_LIMIT_EXCEEDED, 400 REQUIRED_FIELD_MISSING / INVALID_FIELD / MALFORMED_ID /
  INVALID_CROSS_REFERENCE_KEY / INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, 404 NOT_FOUND (also for
  an sobject the org does not have, e.g. ContentNote when Notes are off).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PREFIX = {"Account": "001", "Contact": "003", "Task": "00T", "Note": "002", "ContentNote": "069",
          "ContentDocumentLink": "06A"}
FIELDS = {
    "Account": {"Name", "Website", "Phone", "Industry"},
    "Contact": {"FirstName", "LastName", "Email", "Phone", "Title", "AccountId"},
    "Task": {"Subject", "Description", "ActivityDate", "Status", "Priority", "WhoId", "WhatId"},
    "Note": {"ParentId", "Title", "Body", "IsPrivate"},
    "ContentNote": {"Title", "Content"},
    "ContentDocumentLink": {"ContentDocumentId", "LinkedEntityId", "ShareType", "Visibility"},
}
REQUIRED = {"Account": {"Name"}, "Contact": {"LastName"}, "Note": {"ParentId", "Title"}, "ContentNote": {"Title"},
            "ContentDocumentLink": {"ContentDocumentId", "LinkedEntityId", "ShareType"}}
REFERENCES = {("Contact", "AccountId"): ("001",), ("Task", "WhoId"): ("003", "00Q"),
              ("Task", "WhatId"): ("001", "006"), ("Note", "ParentId"): ("001", "003"),
              ("ContentDocumentLink", "ContentDocumentId"): ("069",),
              ("ContentDocumentLink", "LinkedEntityId"): ("001", "003")}
PICKLISTS = {("Task", "Status"): {"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"},
             ("Task", "Priority"): {"High", "Normal", "Low"}, ("ContentDocumentLink", "ShareType"): {"V", "C", "I"}}
_SOQL = re.compile(r"SELECT Id FROM (\w+)(?: WHERE (\w+) = '((?:[^'\\]|\\.)*)')?(?: LIMIT (\d+))?$")


class SalesforceState:
    def __init__(self, token: str):
        self.token = token
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, dict]] = {t: {} for t in PREFIX}
        self.disabled: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.faults: list[dict] = []
        self.n = 0

    def new_id(self, sobject: str) -> str:
        self.n += 1
        return f"{PREFIX[sobject]}{self.n:012d}AAA"

    def fail(self, method: str, path: str, status: int, code: str, times: int = 1, after: int = 0) -> None:
        self.faults.append({"method": method, "rx": re.compile(path), "status": status, "code": code,
                            "times": times, "after": after})

    def count(self, method: str, path_rx: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.search(path_rx, p))

    def find(self, record_id: str) -> tuple[str, dict] | None:
        for t, recs in self.records.items():
            if record_id in recs:
                return t, recs[record_id]
        return None


class Handler(BaseHTTPRequestHandler):
    state: SalesforceState

    def log_message(self, *a):
        pass

    def _send(self, status: int, body=None):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _err(self, status: int, code: str, message: str, fields: list | None = None):
        e = {"message": message, "errorCode": code}
        if fields is not None:
            e["fields"] = fields
        self._send(status, [e])

    def _handle(self, method: str):
        st = self.state
        url = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        with st.lock:
            st.requests.append((method, url.path))
            if self.headers.get("Authorization") != f"Bearer {st.token}":
                return self._err(401, "INVALID_SESSION_ID", "Session expired or invalid")
            for f in st.faults:
                if f["method"] == method and f["rx"].search(url.path) and f["times"] > 0:
                    if f["after"] > 0:
                        f["after"] -= 1
                        continue
                    f["times"] -= 1
                    msg = "TotalRequests Limit exceeded." if f["code"] == "REQUEST_LIMIT_EXCEEDED" else "injected"
                    return self._err(f["status"], f["code"], msg)
            m = re.fullmatch(r"/services/data/v\d+\.\d/(.*)", url.path)
            if not m:
                return self._err(404, "NOT_FOUND", "The requested resource does not exist")
            return self._route(method, m.group(1), parse_qs(url.query), body)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def _validate(self, sobject: str, data, creating: bool):
        if not isinstance(data, dict):
            return 400, "JSON_PARSER_ERROR", "body must be an object", []
        for k, v in data.items():
            if k not in FIELDS[sobject]:
                return 400, "INVALID_FIELD", f"No such column '{k}' on sobject of type {sobject}", [k]
            ref = REFERENCES.get((sobject, k))
            if ref and v:
                if not re.fullmatch(r"[0-9A-Za-z]{15}([0-9A-Za-z]{3})?", str(v)):
                    return 400, "MALFORMED_ID", f"{k}: id value of incorrect type: {v}", [k]
                if not str(v).startswith(ref) or self.state.find(str(v)) is None:
                    return 400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id", [k]
            allowed = PICKLISTS.get((sobject, k))
            if allowed and v not in allowed:
                return 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f"{k}: bad value for restricted picklist field: {v}", [k]
            if k == "ActivityDate" and v and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v)):
                return 400, "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{k}: value not of required type: {v}", [k]
            if sobject == "ContentNote" and k == "Content":
                try:
                    base64.b64decode(str(v), validate=True)
                except binascii.Error:
                    return 400, "INVALID_TYPE_ON_FIELD_IN_RECORD", "Content: not base64", [k]
        if creating:
            missing = sorted(REQUIRED.get(sobject, set()) - {k for k, v in data.items() if v})
            if missing:
                return 400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing
        return None

    def _route(self, method: str, rest: str, query: dict, body):
        st = self.state
        if rest.rstrip("/") == "query" and method == "GET":
            q = (query.get("q") or [""])[0].strip()
            m = _SOQL.match(q)
            if not m or m.group(1) not in PREFIX:
                return self._err(400, "MALFORMED_QUERY", f"unsupported query: {q}")
            sobject, field, value, limit = m.group(1), m.group(2), m.group(3), m.group(4)
            if value is not None:
                value = re.sub(r"\\(.)", r"\1", value)
            hits = [rid for rid, r in st.records[sobject].items()
                    if field is None or str(r.get(field, "")).lower() == value.lower()]  # SOQL '=' is case-insensitive
            if limit:
                hits = hits[:int(limit)]
            recs = [{"attributes": {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{rid}"}, "Id": rid}
                    for rid in hits]
            return self._send(200, {"totalSize": len(recs), "done": True, "records": recs})
        m = re.fullmatch(r"sobjects/(\w+)/?(\w*)", rest)
        if not m or m.group(1) not in PREFIX or m.group(1) in st.disabled:
            return self._err(404, "NOT_FOUND", "The requested resource does not exist")
        sobject, rid = m.group(1), m.group(2)
        if method == "POST" and not rid:
            bad = self._validate(sobject, body, creating=True)
            if bad:
                return self._err(bad[0], bad[1], bad[2], bad[3])
            new = st.new_id(sobject)
            st.records[sobject][new] = dict(body)
            return self._send(201, {"id": new, "success": True, "errors": []})
        if rid and rid not in st.records[sobject]:
            return self._err(404, "NOT_FOUND", "The requested resource does not exist")
        if method == "PATCH" and rid:
            bad = self._validate(sobject, body, creating=False)
            if bad:
                return self._err(bad[0], bad[1], bad[2], bad[3])
            st.records[sobject][rid].update(body)
            return self._send(204)
        if method == "GET" and rid:
            return self._send(200, {"attributes": {"type": sobject}, "Id": rid, **st.records[sobject][rid]})
        return self._err(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed")


class FakeSalesforce:
    def __init__(self, cert: Path, key: Path, token: str = "00Dxx0000001gPL!session"):
        self.state = SalesforceState(token)
        handler = type("H", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
