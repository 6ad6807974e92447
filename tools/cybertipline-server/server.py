#!/usr/bin/env python3
"""A local stand-in for the CyberTipline Reporting API, for tests.

It implements the documented endpoints (/status, /xsd, /submit, /upload, /fileinfo,
/finish, /retract) with HTTP basic auth, answers with <reportResponse> and
<reportDoneResponse> documents shaped as in the API documentation, validates <report>
and <fileDetails> documents against the report XSD (4110 for XML that does not parse,
4100 for XML the schema refuses, with the validator's message), and keeps a journal of
every call at GET /_journal (JSON). Report ids come from a counter and file ids from a
digest of (report id, upload number), so a run is deterministic.

Faults for tests: POST /_control with JSON such as
  {"fail": "upload", "times": 2, "status": 500}
makes the next two /upload calls fail before doing anything ("when": "after" processes
the call first and then fails, as if the answer were lost; "drop": true closes the
connection without an answer; "code" and "description" set the response code, "body"
replaces the whole body). {"reset": true} clears the rules. The same rules can be given
at start with --fail ENDPOINT:TIMES:STATUS[:before|after].

Stricter than the real service on one point, on purpose: /finish refuses a report with
an uploaded file that has no file details (Guardrail always sends them; the real service
treats them as optional). --lenient-finish turns this off.

What it must never do: keep uploaded file contents. An upload is streamed through MD5
and SHA-1 and discarded; only its name, size and digests are kept. It binds where it is
told (tests use 127.0.0.1) and never contacts anything.
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate  # noqa: E402  (the sibling module, found through the path above)

ENDPOINTS = ("status", "xsd", "submit", "upload", "fileinfo", "finish", "retract")

# Response codes (API documentation, appendix D) and the HTTP status sent with each.
# The documentation gives HTTP 400 for a 4100; the others are this server's choice.
CODES = {
    0: ("Success", 200),
    1000: ("Server error", 500),
    2000: ("Authentication required", 401),
    4000: ("Invalid request", 400),
    4100: ("Validation failed", 400),
    4110: ("Malformed XML submittal", 400),
    4200: ("Malformed file submittal", 400),
    5001: ("Report does not exist", 404),
    5002: ("File does not exist", 404),
    5101: ("Report already retracted", 409),
    5102: ("Report already finished", 409),
}

MAX_XML_BYTES = 16 << 20
MAX_FIELD_BYTES = 64 << 10
MAX_PART_HEADER_BYTES = 16 << 10
CHUNK = 64 << 10


class ApiError(Exception):
    """A refusal answered with a <reportResponse> carrying `code`."""

    def __init__(self, code, detail=None, report_id=None):
        super().__init__(detail or CODES[code][0])
        self.code = code
        self.detail = detail
        self.report_id = report_id


def report_response(code, description, report_id=None, file_id=None, md5=None):
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        "<reportResponse>",
        f"    <responseCode>{code}</responseCode>",
        f"    <responseDescription>{escape(description)}</responseDescription>",
    ]
    if report_id is not None:
        lines.append(f"    <reportId>{report_id}</reportId>")
    if file_id is not None:
        lines.append(f"    <fileId>{escape(file_id)}</fileId>")
    if md5 is not None:
        lines.append(f"    <hash>{md5}</hash>")
    lines.append("</reportResponse>")
    return "\n".join(lines) + "\n"


def report_done_response(report_id, file_ids):
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        "<reportDoneResponse>",
        "    <responseCode>0</responseCode>",
        f"    <reportId>{report_id}</reportId>",
        "    <files>",
    ]
    lines += [f"        <fileId>{escape(file_id)}</fileId>" for file_id in file_ids]
    lines += ["    </files>", "</reportDoneResponse>"]
    return "\n".join(lines) + "\n"


class FaultRules:
    """Injected failures, consumed in order per endpoint."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, rule):
        endpoint = rule.get("fail")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"fail must be one of {', '.join(ENDPOINTS)}, got {endpoint!r}")
        when = rule.get("when", "before")
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        times = int(rule.get("times", 1))
        status = int(rule.get("status", 500))
        if times < 1 or not 100 <= status <= 599:
            raise ValueError("times must be >= 1 and status an HTTP status")
        code = int(rule.get("code", 1000))
        entry = {
            "fail": endpoint,
            "times": times,
            "status": status,
            "when": when,
            "code": code,
            "description": str(rule.get("description", CODES.get(code, ("Injected failure",))[0])),
            "drop": bool(rule.get("drop", False)),
            "body": rule.get("body"),
        }
        with self.lock:
            self.rules.append(entry)
        return entry

    def take(self, endpoint, when):
        with self.lock:
            for rule in self.rules:
                if rule["fail"] == endpoint and rule["when"] == when and rule["times"] > 0:
                    rule["times"] -= 1
                    return dict(rule)
        return None

    def snapshot(self):
        with self.lock:
            return [dict(rule) for rule in self.rules if rule["times"] > 0]

    def clear(self):
        with self.lock:
            self.rules.clear()


class Store:
    """Reports and their files: ids, states, file names, sizes and digests. No contents."""

    def __init__(self, first_report_id):
        self.lock = threading.Lock()
        self.next_report_id = first_report_id
        self.reports = {}

    def open_report(self, batched_reason):
        with self.lock:
            report_id = self.next_report_id
            self.next_report_id += 1
            self.reports[report_id] = {
                "state": "open",
                "files": [],
                "uploads": 0,
                "batched_reason": batched_reason,
            }
            return report_id

    def open_report_for_update(self, report_id):
        """The open report `report_id`; ApiError 5001/5101/5102 otherwise. Caller holds lock."""
        report = self.reports.get(report_id)
        if report is None:
            raise ApiError(5001, f"Report does not exist: {report_id}", report_id)
        if report["state"] == "retracted":
            raise ApiError(5101, f"Report already retracted: {report_id}", report_id)
        if report["state"] == "finished":
            raise ApiError(5102, f"Report already finished: {report_id}", report_id)
        return report


class Journal:
    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []

    def add(self, entry):
        with self.lock:
            entry["seq"] = len(self.entries) + 1
            self.entries.append(entry)
            return entry["seq"]

    def snapshot(self):
        with self.lock:
            return list(self.entries)


class BodyReader:
    """The request body, read at most to its Content-Length, so that whatever a handler
    leaves unread can be drained before answering (closing a socket with unread input
    makes the kernel reset the connection, and the client may lose the answer)."""

    def __init__(self, rfile, length):
        self.rfile = rfile
        self.remaining = length

    def read(self, size):
        if self.remaining <= 0:
            return b""
        data = self.rfile.read(min(size, self.remaining))
        if not data:
            raise ApiError(4000, "Invalid request: body ended before its Content-Length")
        self.remaining -= len(data)
        return data

    def read_all(self, limit):
        if self.remaining > limit:
            raise ApiError(4000, f"Invalid request: body over {limit} bytes")
        chunks = []
        while self.remaining > 0:
            chunks.append(self.read(CHUNK))
        return b"".join(chunks)

    def drain(self):
        try:
            while self.read(CHUNK):
                pass
        except (ApiError, OSError):
            pass


class Sink:
    """Receives one multipart part's bytes."""

    def __init__(self, headers):
        self.headers = headers
        self.name, self.filename = parse_disposition(headers.get("content-disposition", ""))

    def write(self, data):
        raise NotImplementedError


class FieldSink(Sink):
    def __init__(self, headers):
        super().__init__(headers)
        self.data = bytearray()

    def write(self, data):
        if len(self.data) + len(data) > MAX_FIELD_BYTES:
            raise ApiError(4000, f"Invalid request: form field {self.name!r} is over {MAX_FIELD_BYTES} bytes")
        self.data += data


class FileSink(Sink):
    """Hashes a file part as it streams past and keeps nothing but the digests."""

    def __init__(self, headers):
        super().__init__(headers)
        self.md5 = hashlib.md5()
        self.sha1 = hashlib.sha1()
        self.size = 0

    def write(self, data):
        self.md5.update(data)
        self.sha1.update(data)
        self.size += len(data)


def parse_disposition(value):
    """(name, filename) from a Content-Disposition: form-data header."""
    name = filename = None
    for item in value.split(";")[1:]:
        key, _, raw = item.strip().partition("=")
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = raw[1:-1].replace('\\"', '"')
        if key.lower() == "name":
            name = raw
        elif key.lower() == "filename":
            filename = raw
    return name, filename


def read_multipart(body, boundary):
    """Parses a multipart/form-data body from `body` (a BodyReader), streaming.

    Returns (fields, files): fields maps names to text, files is a list of FileSink.
    File parts are hashed chunk by chunk and never held whole in memory.
    """
    delimiter = b"--" + boundary
    separator = b"\r\n" + delimiter
    buffer = bytearray()

    def fill():
        data = body.read(CHUNK)
        buffer.extend(data)
        return bool(data)

    # Preamble, up to the first delimiter.
    while True:
        index = buffer.find(delimiter)
        if index >= 0:
            del buffer[: index + len(delimiter)]
            break
        if not fill():
            raise ApiError(4200, "Malformed file submittal: no multipart boundary found")
    fields, files = {}, []
    while True:
        while len(buffer) < 2:
            if not fill():
                raise ApiError(4200, "Malformed file submittal: body ended after a boundary")
        if buffer[:2] == b"--":
            break
        if buffer[:2] != b"\r\n":
            raise ApiError(4200, "Malformed file submittal: bad multipart boundary line")
        del buffer[:2]
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if len(buffer) > MAX_PART_HEADER_BYTES or not fill():
                raise ApiError(4200, "Malformed file submittal: unterminated part headers")
        headers = {}
        for line in bytes(buffer[:end]).decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        del buffer[: end + 4]
        probe = Sink(headers)
        sink = FileSink(headers) if probe.filename is not None else FieldSink(headers)
        while True:
            index = buffer.find(separator)
            if index >= 0:
                sink.write(bytes(buffer[:index]))
                del buffer[: index + len(separator)]
                break
            # Keep a tail that could be the start of the separator.
            keep = len(separator) - 1
            if len(buffer) > keep:
                sink.write(bytes(buffer[: len(buffer) - keep]))
                del buffer[: len(buffer) - keep]
            if not fill():
                raise ApiError(4200, "Malformed file submittal: part without closing boundary")
        if isinstance(sink, FileSink):
            files.append(sink)
        elif sink.name is not None:
            fields[sink.name] = sink.data.decode("utf-8", "replace")
    # Drain the epilogue so the connection stays usable.
    while fill():
        buffer.clear()
    return fields, files


class Api:
    """The service state shared by all handler threads."""

    def __init__(self, args):
        self.user = args.user
        self.password = args.password
        self.xsd_path = validate.xsd_path(args.xsd)
        self.xsd_bytes = self.xsd_path.read_bytes()
        self.schema = validate.load_schema(self.xsd_path)
        self.lenient_finish = args.lenient_finish
        self.store = Store(args.first_report_id)
        self.journal = Journal()
        self.faults = FaultRules()
        for spec in args.fail or []:
            parts = spec.split(":")
            if len(parts) not in (3, 4):
                raise SystemExit(f"--fail {spec!r}: expected ENDPOINT:TIMES:STATUS[:before|after]")
            rule = {"fail": parts[0], "times": parts[1], "status": parts[2]}
            if len(parts) == 4:
                rule["when"] = parts[3]
            try:
                self.faults.add(rule)
            except ValueError as error:
                raise SystemExit(f"--fail {spec!r}: {error}") from error


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cybertipline-test-server"

    api: Api  # set on the subclass made in main()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        # Quiet: the journal is the record; stderr stays for errors.
        pass

    # -- plumbing ---------------------------------------------------------------

    def send_body(self, status, body, content_type, extra_headers=(), request_id=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        body_reader = getattr(self, "body", None)
        if body_reader is not None:
            body_reader.drain()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if request_id is not None:
            self.send_header("Request-ID", request_id)
        for key, value in extra_headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def content_length(self):
        """The declared body length; None when it cannot be known (chunked, invalid)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        return length if length >= 0 else None

    def read_small_body(self):
        return self.body.read_all(MAX_XML_BYTES)

    def authenticated_user(self):
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        user_ok = hmac.compare_digest(user.encode(), self.api.user.encode())
        password_ok = hmac.compare_digest(password.encode(), self.api.password.encode())
        return user if user_ok and password_ok else None

    def form_fields(self):
        """Text fields of a multipart or urlencoded form (for /finish and /retract)."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.lower().startswith("multipart/form-data"):
            fields, _files = read_multipart(self.body, self.boundary())
            return fields
        body = self.read_small_body().decode("utf-8", "replace")
        return {key: values[-1] for key, values in urllib.parse.parse_qs(body).items()}

    def boundary(self):
        for item in self.headers.get("Content-Type", "").split(";")[1:]:
            key, _, value = item.strip().partition("=")
            if key.lower() == "boundary" and value:
                return value.strip('"').encode("latin-1")
        raise ApiError(4200, "Malformed file submittal: multipart body without boundary")

    @staticmethod
    def report_id_field(fields):
        raw = fields.get("id")
        if raw is None:
            raise ApiError(4000, "Invalid request: missing form field 'id'")
        try:
            return int(raw.strip())
        except ValueError as error:
            raise ApiError(4000, f"Invalid request: report id {raw!r} is not a number") from error

    # -- dispatch ---------------------------------------------------------------

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        length = self.content_length()
        if length is None:
            # Without a length the body cannot be delimited (chunked uploads are not
            # supported), so the connection cannot be kept.
            self.close_connection = True
            self.body = BodyReader(self.rfile, 0)
            self.send_body(411, "send the body with a Content-Length\n", "text/plain; charset=utf-8")
            return
        self.body = BodyReader(self.rfile, length)
        if path == "/_journal" and method == "GET":
            self.send_body(200, json.dumps(self.api.journal.snapshot(), indent=1), "application/json")
            return
        if path == "/_control":
            self.control(method)
            return
        endpoint = path.lstrip("/")
        expected_method = "GET" if endpoint in ("status", "xsd") else "POST"
        if endpoint not in ENDPOINTS or method != expected_method:
            self.close_connection = True
            self.send_body(404, f"no such endpoint: {method} {path}\n", "text/plain; charset=utf-8")
            return
        entry = {
            "method": method,
            "path": path,
            "user": None,
            "content_type": self.headers.get("Content-Type"),
            "injected": None,
        }
        user = self.authenticated_user()
        if user is None:
            self.close_connection = True
            entry.update(http_status=401, response_code=2000)
            request_id = f"req-{self.api.journal.add(entry)}"
            self.send_body(
                401,
                report_response(2000, "Authentication required"),
                "application/xml",
                [("WWW-Authenticate", 'Basic realm="CyberTipline test server"')],
                request_id,
            )
            return
        entry["user"] = user
        fault = self.api.faults.take(endpoint, "before")
        if fault:
            # Fail before reading: the call has no effect, as a front end that refused it.
            self.close_connection = True
            entry["injected"] = "before"
            self.answer_fault(entry, fault)
            return
        try:
            status, body, content_type = getattr(self, f"endpoint_{endpoint}")(entry, user)
        except ApiError as error:
            description = error.detail or CODES[error.code][0]
            status = CODES.get(error.code, ("", 400))[1]
            body = report_response(error.code, description, error.report_id)
            content_type = "application/xml"
            entry.update(response_code=error.code, description=description)
            if error.report_id is not None:
                entry["report_id"] = error.report_id
            self.close_connection = True
        fault = self.api.faults.take(endpoint, "after")
        if fault:
            # The call took effect; its answer is lost.
            self.close_connection = True
            entry["injected"] = "after"
            entry["effective_response_code"] = entry.get("response_code")
            entry["response_code"] = None
            self.answer_fault(entry, fault)
            return
        entry["http_status"] = status
        request_id = f"req-{self.api.journal.add(entry)}"
        self.send_body(status, body, content_type, request_id=request_id)

    def answer_fault(self, entry, fault):
        entry.update(http_status=None if fault["drop"] else fault["status"])
        if not fault["drop"]:
            entry["response_code"] = None if fault["body"] is not None else fault["code"]
        request_id = f"req-{self.api.journal.add(entry)}"
        if fault["drop"]:
            self.body.drain()
            return  # close without an answer
        if fault["body"] is not None:
            self.send_body(fault["status"], fault["body"], "text/html; charset=utf-8", request_id=request_id)
        else:
            self.send_body(
                fault["status"],
                report_response(fault["code"], fault["description"]),
                "application/xml",
                request_id=request_id,
            )

    def control(self, method):
        if method == "GET":
            self.send_body(200, json.dumps({"rules": self.api.faults.snapshot()}), "application/json")
            return
        try:
            command = json.loads(self.read_small_body() or b"{}")
            if command.get("reset"):
                self.api.faults.clear()
            if "fail" in command:
                self.api.faults.add(command)
        except (ValueError, ApiError, AttributeError) as error:
            self.send_body(400, json.dumps({"ok": False, "error": str(error)}), "application/json")
            return
        self.send_body(200, json.dumps({"ok": True, "rules": self.api.faults.snapshot()}), "application/json")

    # -- endpoints ----------------------------------------------------------------
    # Each returns (http status, body, content type) or raises ApiError, and fills the
    # journal entry with what arrived.

    def endpoint_status(self, entry, user):
        entry["response_code"] = 0
        address = self.client_address[0]
        return 200, report_response(0, f"Remote User : {user}, Remote Ip : {address}"), "application/xml"

    def endpoint_xsd(self, entry, _user):
        entry["response_code"] = 0
        return 200, self.api.xsd_bytes, "application/xml"

    def endpoint_submit(self, entry, _user):
        data = self.read_small_body()
        entry["xml"] = data.decode("utf-8", "replace")
        code, message, _root = validate.check_document(self.api.schema, data, "report")
        if code is not None:
            raise ApiError(code, message)
        batched = _batched_reason(data)
        report_id = self.api.store.open_report(batched)
        entry.update(response_code=0, report_id=report_id)
        return 200, report_response(0, "Success", report_id), "application/xml"

    def endpoint_upload(self, entry, _user):
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ApiError(4200, f"Malformed file submittal: Content-Type {content_type!r}, expected multipart/form-data")
        fields, files = read_multipart(self.body, self.boundary())
        entry["fields"] = fields
        entry["files"] = [
            {
                "field": sink.name,
                "name": sink.filename,
                "content_type": sink.headers.get("content-type"),
                "size": sink.size,
                "md5": sink.md5.hexdigest(),
                "sha1": sink.sha1.hexdigest(),
            }
            for sink in files
        ]
        report_id = self.report_id_field(fields)
        entry["report_id"] = report_id
        uploads = [sink for sink in files if sink.name == "file"]
        if len(uploads) != 1:
            raise ApiError(4200, f"Malformed file submittal: expected one 'file' part, got {len(uploads)}", report_id)
        upload = uploads[0]
        store = self.api.store
        with store.lock:
            report = store.open_report_for_update(report_id)
            report["uploads"] += 1
            file_id = hashlib.md5(f"file-{report_id}-{report['uploads']}".encode()).hexdigest()
            md5 = upload.md5.hexdigest()
            report["files"].append(
                {
                    "file_id": file_id,
                    "name": upload.filename,
                    "size": upload.size,
                    "md5": md5,
                    "sha1": upload.sha1.hexdigest(),
                    "details": False,
                }
            )
        entry.update(response_code=0, file_id=file_id)
        return 200, report_response(0, "Success", report_id, file_id, md5), "application/xml"

    def endpoint_fileinfo(self, entry, _user):
        data = self.read_small_body()
        entry["xml"] = data.decode("utf-8", "replace")
        code, message, _root = validate.check_document(self.api.schema, data, "fileDetails")
        if code is not None:
            raise ApiError(code, message)
        report_id, file_id = _file_details_ids(data)
        entry.update(report_id=report_id, file_id=file_id)
        store = self.api.store
        with store.lock:
            report = store.open_report_for_update(report_id)
            matching = [f for f in report["files"] if f["file_id"] == file_id]
            if not matching:
                raise ApiError(5002, f"File does not exist: {file_id} in report {report_id}", report_id)
            if matching[0]["details"]:
                # The documentation allows file details once per uploaded file.
                raise ApiError(4000, f"Invalid request: file details already submitted for {file_id}", report_id)
            matching[0]["details"] = True
        entry["response_code"] = 0
        return 200, report_response(0, "Success", report_id), "application/xml"

    def endpoint_finish(self, entry, _user):
        fields = self.form_fields()
        entry["fields"] = fields
        report_id = self.report_id_field(fields)
        entry["report_id"] = report_id
        store = self.api.store
        with store.lock:
            report = store.open_report_for_update(report_id)
            if not self.api.lenient_finish:
                undescribed = [f["file_id"] for f in report["files"] if not f["details"]]
                if undescribed:
                    raise ApiError(
                        4100,
                        f"Validation failed: files without file details: {', '.join(undescribed)}",
                        report_id,
                    )
            if report["batched_reason"] == "VIRAL_POTENTIAL_MEME" and len(report["files"]) > 1:
                raise ApiError(4100, "Validation failed: a VIRAL_POTENTIAL_MEME batched report allows one file", report_id)
            report["state"] = "finished"
            file_ids = [f["file_id"] for f in report["files"]]
        entry.update(response_code=0, file_ids=file_ids)
        return 200, report_done_response(report_id, file_ids), "application/xml"

    def endpoint_retract(self, entry, _user):
        fields = self.form_fields()
        entry["fields"] = fields
        report_id = self.report_id_field(fields)
        entry["report_id"] = report_id
        store = self.api.store
        with store.lock:
            report = store.open_report_for_update(report_id)
            report["state"] = "retracted"
        entry["response_code"] = 0
        return 200, report_response(0, "Success", report_id), "application/xml"


def _batched_reason(data):
    from lxml import etree

    document = etree.fromstring(data, validate._safe_parser())
    batched = document.find("batchedReport")
    return batched.get("reason") if batched is not None else None


def _file_details_ids(data):
    from lxml import etree

    document = etree.fromstring(data, validate._safe_parser())
    return int(document.findtext("reportId").strip()), document.findtext("fileId").strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT; port 0 picks a free one")
    parser.add_argument("--user", required=True, help="basic-auth user name")
    parser.add_argument("--password", required=True, help="basic-auth password")
    parser.add_argument("--xsd", help=f"report schema (default {validate.DEFAULT_XSD})")
    parser.add_argument("--first-report-id", type=int, default=1000, help="first report id handed out")
    parser.add_argument(
        "--fail",
        action="append",
        metavar="ENDPOINT:TIMES:STATUS[:WHEN]",
        help="inject failures, e.g. upload:2:500 (repeatable)",
    )
    parser.add_argument(
        "--lenient-finish",
        action="store_true",
        help="let /finish complete reports whose files lack file details, as the real service does",
    )
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--listen {args.listen!r}: expected HOST:PORT")
    try:
        api = Api(args)
    except (OSError, validate.etree.Error) as error:
        print(f"cannot load the report schema: {error}", file=sys.stderr)
        return 2
    handler = type("BoundHandler", (Handler,), {"api": api})
    server = ThreadingHTTPServer((host.strip("[]"), int(port)), handler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    print(f"listening on http://{bound_host}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
