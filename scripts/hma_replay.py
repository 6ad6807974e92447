#!/usr/bin/env python3
"""Replay recorded Hasher-Matcher-Actioner (HMA 2.x) traffic against a server and judge it.

What it is for: the acceptance test of Guardrail's HMA compatibility (docs/hma-compat.md). It
reads the VCR cassettes recorded from a live HMA by the Ruby client fetlife/hasher_matcher_actioner_api
(../shared/reference/hma-recordings), runs them in a fixed order against a *fresh* server, sends
each recorded request (host rewritten; URLs of the fixture images rewritten to a loopback HTTP
server this script runs; multipart uploads rebuilt around the fixture files) and compares status,
content type, exact JSON values where they are state-free, and match semantics for lookups
(which banks, which content, distance buckets) against a model of what the replay itself added.

What it must never do: send a request anywhere but --base-url, --stale-base-url and its own
loopback fixture server (the recorded URLs point at a public host; they are always rewritten);
write to the cassettes or fixtures; judge a lookup by the recorded ids or match lists (those
came from a shared instance whose state this replay does not have).

Usage: python3 scripts/hma_replay.py --base-url http://127.0.0.1:PORT [--cassettes DIR]
       [--fixtures DIR] [--json] [--header 'Name: value'] [--sync-cmd CMD] [--settle SECONDS]
       [--stale-base-url URL] [--pdq-tolerance BITS]
Exit: 0 when no cassette failed (skips allowed), 1 when any failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

try:
    import yaml
except ImportError:  # the only third-party dependency; say how to get it rather than a traceback
    sys.stderr.write("hma_replay: PyYAML is missing: pip install -r scripts/hma_replay_requirements.txt\n")
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RECORDINGS = REPO_ROOT.parent / "shared" / "reference" / "hma-recordings"
CASSETTE_GROUP = "HasherMatcherActionerApi_Client"

# PDQ hashes of the three fixtures, as HMA (pdqhash over PIL) computes them; the Ruby client's
# spec/support/test_constants.rb and the recordings agree on them. Lookups by URL or file are
# judged against these, because the lookup response does not say which hash the server computed.
FIXTURE_PDQ = {
    "image-in-hash-db.jpg": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
    "edit-of-image-in-hash-db.jpg": "58d871ceecf4e84d82368232078f27f0b76e26f592621e9d33e6338d4e9c9b22",
    "image-not-in-hash-db.jpg": "2c8b8a05f302cbf219e06c95c73ec65f5868098d77327698d196da6d99e7d38a",
}

# HMA's PDQ index (pytx PDQIndex over a faiss multi-hash index) returns every entry at Hamming
# distance <= 31 (PDQ_CONFIDENT_MATCH_THRESHOLD); the range search is exact at that radius.
PDQ_MATCH_THRESHOLD = 31

# Distances are compared by bucket, not exactly, so that a server whose JPEG decoder differs by a
# few bits from PIL's still passes while "exact copy", "near copy" and "no match" stay distinct.
DISTANCE_BUCKETS = ((0, 0, "0"), (1, 15, "1-15"), (16, PDQ_MATCH_THRESHOLD, "16-31"))

# The fixed replay order (see docs/hma-compat.md, "Replay order"). "@seed" and "@sync" are steps of
# this script, not cassettes: the seed creates the bank BANK holding the bridge image, which the
# recorded tests assume pre-existed on the shared instance; the sync runs --sync-cmd / --settle so
# that a server whose index is rebuilt in the background has indexed everything added so far.
REPLAY_ORDER = [
    "_status/when_service_is_healthy/returns_healthy_status",
    "_server_ready_/when_service_is_healthy/returns_true",
    "_create_bank/creates_a_bank_successfully",
    "_create_bank/raises_an_error_if_the_bank_already_exists",
    "_get_bank/retrieves_a_bank_successfully",
    "_bank_exists_/returns_true_if_bank_exists",
    "_bank_exists_/returns_false_if_bank_does_not_exist",
    "_hash_url/with_valid_parameters/returns_hash_result_with_all_signal_types",
    "_hash_url/with_valid_parameters/with_content_type/returns_hash_result_with_content_type",
    "_hash_url/with_valid_parameters/with_signal_types/returns_hash_result_with_specified_signal_types",
    "_hash_file/with_valid_parameters/returns_hash_result",
    "@seed",
    "_add_url_to_bank/adds_content_to_bank_successfully",
    "_add_url_to_bank/adds_content_with_metadata",
    "_add_url_to_bank/raises_error_for_non-existent_bank",
    "_add_file_to_bank/adds_content_to_bank_successfully",
    "_add_file_to_bank/adds_content_with_metadata",
    "_add_file_to_bank/raises_error_for_non-existent_bank",
    "_list_exchange_apis/lists_exchange_APIs_successfully",
    "_get_exchange_api_config/retrieves_exchange_API_config_successfully",
    "_require_exchange_apis_enabled_/returns_true_if_all_exchanges_are_enabled",
    "_require_exchange_apis_configured_/raises_an_error_if_not_all_exchanges_are_configured",
    "_require_exchange_apis_configured_/returns_false_if_not_all_exchanges_are_configured",
    "_update_exchange_api_config/updates_exchange_API_config_successfully",
    "_require_exchange_apis_configured_/returns_true_if_all_exchanges_are_configured",
    "_create_exchange/creates_an_exchange_successfully",
    "_get_exchange/retrieves_an_exchange_successfully",
    "_exchange_exists_/returns_true_if_exchange_exists",
    "_exchange_exists_/returns_false_if_exchange_does_not_exist",
    "_get_exchange_fetch_status/retrieves_exchange_fetch_status_successfully",
    "@sync",
    "_raw_lookup/with_a_signal_found_in_the_database/without_distance/returns_matches_result",
    "_raw_lookup/with_a_signal_found_in_the_database/with_distance/returns_matches_result_with_distance",
    "_raw_lookup/without_distance/returns_matches_result",
    "_raw_lookup/with_distance/returns_matches_result_with_distance",
    "_raw_lookup/with_a_signal_not_found_in_the_database/returns_empty_matches",
    "_lookup_signal/with_valid_parameters/with_a_signal_found_in_the_database/returns_normalized_matches",
    "_lookup_signal/with_valid_parameters/with_a_signal_with_a_partial_match_found_in_the_database/returns_matches_result",
    "_lookup_signal/with_valid_parameters/with_a_signal_not_found_in_the_database/returns_empty_matches",
    "_lookup_signal/with_valid_parameters/with_bank_names_parameter/returns_matches_only_from_the_specified_bank",
    "_lookup_signal/with_valid_parameters/with_bank_names_parameter/returns_empty_matches_for_non-existent_bank",
    "_lookup_signal/with_valid_parameters/with_bank_names_parameter/returns_matches_from_existing_banks_when_some_banks_don_t_exist",
    "_lookup_url/with_valid_parameters/returns_normalized_matches",
    "_lookup_url/with_valid_parameters/with_content_type/returns_normalized_matches_with_content_type",
    "_lookup_url/with_valid_parameters/with_a_signal_found_in_the_database/returns_normalized_matches",
    "_lookup_url/with_valid_parameters/with_a_signal_found_in_the_database/with_content_type/returns_normalized_matches_with_content_type",
    "_lookup_url/with_valid_parameters/with_a_signal_found_in_the_database/with_signal_types/returns_normalized_matches_with_specified_signal_types",
    "_lookup_url/with_valid_parameters/with_a_signal_found_in_the_database/with_bank_names_parameter/returns_matches_only_from_the_specified_bank",
    "_lookup_url/with_valid_parameters/with_a_signal_found_in_the_database/with_bank_names_parameter/returns_empty_matches_for_non-existent_bank",
    "_lookup_url/with_valid_parameters/with_a_signal_found_in_the_database/with_bank_names_parameter/returns_matches_from_existing_banks_when_some_banks_don_t_exist",
    "_lookup_url/with_valid_parameters/with_a_signal_with_a_partial_match_found_in_the_database/returns_matches_result",
    "_lookup_url/with_valid_parameters/with_a_signal_not_found_in_the_database/returns_empty_matches",
    "_lookup_file/with_valid_parameters/returns_normalized_matches",
    "_lookup_file/with_valid_parameters/with_a_signal_found_in_the_database/returns_normalized_matches",
    "_lookup_file/with_valid_parameters/with_a_signal_found_in_the_database/with_bank_names_parameter/returns_matches_only_from_the_specified_bank",
    "_lookup_file/with_valid_parameters/with_a_signal_found_in_the_database/with_bank_names_parameter/returns_empty_matches_for_non-existent_bank",
    "_lookup_file/with_valid_parameters/with_a_signal_found_in_the_database/with_bank_names_parameter/returns_matches_from_existing_banks_when_some_banks_don_t_exist",
    "_lookup_file/with_valid_parameters/with_a_signal_with_a_partial_match_found_in_the_database/returns_matches_result",
    "_lookup_file/with_valid_parameters/with_a_signal_not_found_in_the_database/returns_empty_matches",
    # These two need a server whose index is stale (503 INDEX-STALE): --stale-base-url.
    "_status/when_service_is_unhealthy/returns_unhealthy_status",
    "_server_ready_/when_service_is_not_healthy/returns_false",
]
NEEDS_STALE_SERVER = {
    "_status/when_service_is_unhealthy/returns_unhealthy_status",
    "_server_ready_/when_service_is_not_healthy/returns_false",
}

# Request headers not replayed: the transport recomputes them, and a recorded gzip preference
# would make the server compress a body this script does not decompress.
DROPPED_REQUEST_HEADERS = {"host", "content-length", "accept-encoding", "connection"}


class UsageError(Exception):
    """Bad arguments or unreadable inputs: exit 2."""


# ---------------------------------------------------------------------------------------------
# Cassettes


@dataclass
class RecordedRequest:
    method: str
    uri: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class RecordedResponse:
    status: int
    content_type: str
    body: str


@dataclass
class Interaction:
    request: RecordedRequest
    response: RecordedResponse


@dataclass
class Cassette:
    name: str  # path under the cassette group, without ".yml"
    interactions: list[Interaction]


class _CassetteLoader(yaml.SafeLoader):
    """Safe YAML plus Ruby's `!binary` tag (base64), which VCR uses for non-UTF-8 bodies."""


_CassetteLoader.add_constructor(
    "!binary", lambda loader, node: base64.b64decode("".join(loader.construct_scalar(node).split()))
)


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def load_cassette(path: Path, name: str) -> Cassette:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CassetteLoader)
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read cassette {path}: {error}") from error
    interactions = []
    for index, raw in enumerate(document.get("http_interactions") or []):
        try:
            request, response = raw["request"], raw["response"]
            headers = []
            for key, values in (request.get("headers") or {}).items():
                for value in values if isinstance(values, list) else [values]:
                    headers.append((str(key), str(value)))
            response_headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
            content_type = response_headers.get("content-type") or [""]
            interactions.append(
                Interaction(
                    RecordedRequest(
                        method=str(request["method"]).upper(),
                        uri=str(request["uri"]),
                        headers=headers,
                        body=_as_bytes((request.get("body") or {}).get("string")),
                    ),
                    RecordedResponse(
                        status=int(response["status"]["code"]),
                        content_type=str(content_type[0] if isinstance(content_type, list) else content_type),
                        body=_as_text((response.get("body") or {}).get("string")),
                    ),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise UsageError(f"cassette {path}: interaction {index} is malformed ({error!r})") from error
    return Cassette(name, interactions)


def discover_cassettes(directory: Path) -> dict[str, Path]:
    group = directory / CASSETTE_GROUP if (directory / CASSETTE_GROUP).is_dir() else directory
    if not group.is_dir():
        raise UsageError(f"cassette directory {directory} does not exist")
    found = {str(p.relative_to(group).with_suffix("")): p for p in sorted(group.rglob("*.yml"))}
    if not found:
        raise UsageError(f"no *.yml cassettes under {group}")
    return found


# ---------------------------------------------------------------------------------------------
# Loopback fixture server: stands in for the public URLs the recordings fetched.


class FixtureServer:
    """Serves the files of one directory by base name on 127.0.0.1, nothing else."""

    def __init__(self, directory: Path):
        files = {p.name: p for p in directory.iterdir() if p.is_file()}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                name = urllib.parse.unquote(self.path.split("?", 1)[0].rsplit("/", 1)[-1])
                target = files.get(name)
                if target is None:
                    self.send_error(404, f"no fixture named {name!r}")
                    return
                data = target.read_bytes()
                self.send_response(200)
                # HMA infers the content type (photo/video) from this header when the request
                # gives no content_type, so it must be an image type.
                self.send_header("Content-Type", "image/jpeg" if name.lower().endswith((".jpg", ".jpeg")) else "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep the report readable
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------
# What the replay added to the server, to predict lookups.


@dataclass
class BankedContent:
    content_id: int
    bank: str
    signals: dict[str, str]


@dataclass
class ServerModel:
    bank_ratios: dict[str, float] = field(default_factory=dict)
    contents: list[BankedContent] = field(default_factory=list)
    writes_since_sync: bool = False
    # recorded content id -> id the server gave, for requests that name content by id
    content_id_map: dict[int, int] = field(default_factory=dict)


def hamming(hex_a: str, hex_b: str) -> int:
    return bin(int(hex_a, 16) ^ int(hex_b, 16)).count("1")


def distance_bucket(distance: int) -> str:
    for low, high, label in DISTANCE_BUCKETS:
        if low <= distance <= high:
            return label
    return f">{PDQ_MATCH_THRESHOLD} (not a match)"


# ---------------------------------------------------------------------------------------------
# Sending


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


class Mismatch(Exception):
    """First difference in a cassette: where, what was expected, what came back."""

    def __init__(self, interaction: int, path: str, expected: Any, got: Any, note: str = ""):
        super().__init__(note or f"{path}: expected {expected!r}, got {got!r}")
        self.interaction, self.path, self.expected, self.got, self.note = interaction, path, expected, got, note


def send(base_url: str, method: str, path_and_query: str, headers: list[tuple[str, str]], body: bytes, timeout: float) -> Reply:
    parsed = urllib.parse.urlsplit(base_url)
    connection_class = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parsed.hostname, parsed.port, timeout=timeout)
    prefix = parsed.path.rstrip("/")
    try:
        connection.putrequest(method, prefix + path_and_query, skip_accept_encoding=True)
        for key, value in headers:
            connection.putheader(key, value)
        if body or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body if body else None)
        response = connection.getresponse()
        return Reply(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()


def rewrite_query(query: str, fixture_base: str, fixtures: dict[str, Path]) -> tuple[str, dict[str, str]]:
    """Points `url=` at the loopback fixture server; returns the new query and the parsed params."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    rewritten = []
    for key, value in pairs:
        if key == "url":
            name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1]
            if name not in fixtures:
                raise UsageError(f"recorded url {value!r} names no fixture in the fixtures directory")
            value = f"{fixture_base}/{name}"
        rewritten.append((key, value))
    return urllib.parse.urlencode(rewritten), dict(rewritten)


MULTIPART_BOUNDARY = re.compile(r"boundary=(\"?)([^\";]+)\1", re.IGNORECASE)


def rebuild_multipart(content_type: str, body: bytes, fixtures: dict[str, Path]) -> tuple[str, bytes, list[str]]:
    """Rebuilds a recorded multipart body with a fresh boundary and each file part's bytes read
    from the fixture of the same file name; other parts (metadata) and part headers are kept, so
    the server sees the recorded client's wire format. Returns the content type, the body and the
    uploaded fixture names."""
    match = MULTIPART_BOUNDARY.search(content_type)
    if not match:
        raise UsageError(f"multipart request without a boundary: {content_type!r}")
    delimiter = b"--" + match.group(2).encode()
    new_boundary = f"----hma-replay-{uuid.uuid4().hex}"
    parts_out, uploaded = [], []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, content = chunk.partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        header_lines = head.decode("utf-8", errors="replace").split("\r\n")
        filename = re.search(r'filename="([^"]*)"', head.decode("utf-8", errors="replace"))
        if filename:
            name = filename.group(1)
            if name not in fixtures:
                raise UsageError(f"recorded upload of {name!r} has no fixture of that name")
            content = fixtures[name].read_bytes()
            uploaded.append(name)
        header_lines = [
            f"Content-Length: {len(content)}" if line.lower().startswith("content-length:") else line for line in header_lines
        ]
        parts_out.append("\r\n".join(header_lines).encode() + b"\r\n\r\n" + content + b"\r\n")
    new_delimiter = b"--" + new_boundary.encode()
    new_body = b"".join(new_delimiter + b"\r\n" + part for part in parts_out) + new_delimiter + b"--\r\n"
    return f"multipart/form-data; boundary={new_boundary}", new_body, uploaded


# ---------------------------------------------------------------------------------------------
# Judging


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def require_type(index: int, path: str, value: Any, expected_type: str):
    if json_type(value) != expected_type:
        raise Mismatch(index, path, expected_type, f"{json_type(value)} {value!r}", f"{path}: expected {expected_type}, got {json_type(value)} {value!r}")


def compare_exact(index: int, path: str, expected: Any, got: Any, volatile):
    """Exact JSON equality (int and float are different types: the Ruby client's strict Float
    rejects 1 where HMA sends 1.0), except at paths `volatile` claims."""
    if volatile(index, path, expected, got):
        return
    if json_type(expected) != json_type(got):
        raise Mismatch(index, path or "$", f"{json_type(expected)} {expected!r}", f"{json_type(got)} {got!r}")
    if isinstance(expected, dict):
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        if missing or extra:
            raise Mismatch(index, path or "$", f"keys {sorted(expected)}", f"keys {sorted(got)}",
                           f"{path or '$'}: missing keys {missing}, unexpected keys {extra}")
        for key in expected:
            compare_exact(index, f"{path}.{key}", expected[key], got[key], volatile)
    elif isinstance(expected, list):
        if len(expected) != len(got):
            raise Mismatch(index, path or "$", f"{len(expected)} items {expected!r}", f"{len(got)} items {got!r}")
        for position, (left, right) in enumerate(zip(expected, got)):
            compare_exact(index, f"{path}[{position}]", left, right, volatile)
    elif expected != got:
        raise Mismatch(index, path or "$", expected, got)


def compare_hash(index: int, path: str, expected: Any, got: Any, tolerance: int):
    require_type(index, path, got, "string")
    if not re.fullmatch(r"[0-9a-f]{64}", got or ""):
        raise Mismatch(index, path, "64 lower-case hex digits", got)
    distance = hamming(expected, got)
    if distance > tolerance:
        raise Mismatch(index, path, expected, got, f"{path}: expected {expected}, got {got} (PDQ distance {distance} > tolerance {tolerance})")


@dataclass
class ExpectedMatch:
    bank: str
    content_id: int
    distance: int
    required: bool  # False when a bank's enabled ratio below 1 makes HMA's coin flip decide


def expected_matches(model: ServerModel, signal_type: str, query_hash: str, *, check_enabled: bool,
                     banks: Optional[set[str]], bypass_coinflip: bool) -> list[ExpectedMatch]:
    out = []
    for content in model.contents:
        stored = content.signals.get(signal_type)
        if stored is None or signal_type != "pdq":
            continue  # only PDQ is exercised; other types are never expected to match
        distance = hamming(query_hash, stored)
        if distance > PDQ_MATCH_THRESHOLD:
            continue
        if banks is not None and content.bank not in banks:
            continue
        required = True
        if check_enabled and not bypass_coinflip:
            ratio = model.bank_ratios.get(content.bank, 1.0)
            if ratio <= 0:
                continue
            required = ratio >= 1.0
        out.append(ExpectedMatch(content.bank, content.content_id, distance, required))
    return out


def judge_match_list(index: int, path: str, got: Any, expected: list[ExpectedMatch], *, with_distance: bool):
    """The flat list of /m/raw_lookup: ids, or {bank_content_id, distance} objects; any order."""
    require_type(index, path, got, "array")
    seen: dict[int, Optional[str]] = {}
    for position, item in enumerate(got):
        item_path = f"{path}[{position}]"
        if with_distance:
            require_type(index, item_path, item, "object")
            if set(item) != {"bank_content_id", "distance"}:
                raise Mismatch(index, item_path, "keys ['bank_content_id', 'distance']", f"keys {sorted(item)}")
            require_type(index, f"{item_path}.bank_content_id", item["bank_content_id"], "int")
            require_type(index, f"{item_path}.distance", item["distance"], "string")
            seen[item["bank_content_id"]] = item["distance"]
        else:
            require_type(index, item_path, item, "int")
            seen[item] = None
    check_expected_ids(index, path, seen, expected)


def check_expected_ids(index: int, path: str, seen: dict[int, Optional[str]], expected: list[ExpectedMatch]):
    by_id = {m.content_id: m for m in expected}
    required = sorted(m.content_id for m in expected if m.required)
    unexpected = sorted(set(seen) - set(by_id))
    missing = sorted(set(required) - set(seen))
    if unexpected or missing:
        raise Mismatch(index, path, f"content ids {required}", f"content ids {sorted(seen)}",
                       f"{path}: expected content ids {required}, got {sorted(seen)} (missing {missing}, unexpected {unexpected})")
    for content_id, distance_text in seen.items():
        if distance_text is None:
            continue
        if not re.fullmatch(r"[0-9]+", distance_text):
            raise Mismatch(index, f"{path}[id={content_id}].distance", "a decimal integer in a string", distance_text)
        want, got = by_id[content_id].distance, int(distance_text)
        if distance_bucket(want) != distance_bucket(got):
            raise Mismatch(index, f"{path}[id={content_id}].distance", f"{want} (bucket {distance_bucket(want)})",
                           f"{got} (bucket {distance_bucket(got)})")


def judge_bank_map(index: int, path: str, got: Any, expected: list[ExpectedMatch]):
    """{BANK: [{bank_content_id, distance}]} of /m/lookup: bank keys sorted (Flask sorts keys, and
    the Ruby client takes the first bank as "the" match), no empty lists, matches per bank."""
    require_type(index, path, got, "object")
    keys = list(got)
    if keys != sorted(keys):
        raise Mismatch(index, path, f"bank keys in sorted order {sorted(keys)}", f"{keys}")
    expected_banks = {m.bank for m in expected}
    required_banks = {m.bank for m in expected if m.required}
    unexpected_banks = sorted(set(keys) - expected_banks)
    missing_banks = sorted(required_banks - set(keys))
    if unexpected_banks or missing_banks:
        raise Mismatch(index, path, f"banks {sorted(required_banks)}", f"banks {keys}",
                       f"{path}: expected banks {sorted(required_banks)}, got {keys} (missing {missing_banks}, unexpected {unexpected_banks})")
    for bank in keys:
        bank_path = f"{path}.{bank}"
        entries = got[bank]
        require_type(index, bank_path, entries, "array")
        if not entries:
            raise Mismatch(index, bank_path, "a non-empty list (HMA omits banks without matches)", entries)
        seen: dict[int, Optional[str]] = {}
        for position, item in enumerate(entries):
            item_path = f"{bank_path}[{position}]"
            require_type(index, item_path, item, "object")
            if set(item) != {"bank_content_id", "distance"}:
                raise Mismatch(index, item_path, "keys ['bank_content_id', 'distance']", f"keys {sorted(item)}")
            require_type(index, f"{item_path}.bank_content_id", item["bank_content_id"], "int")
            require_type(index, f"{item_path}.distance", item["distance"], "string")
            seen[item["bank_content_id"]] = item["distance"]
        check_expected_ids(index, bank_path, seen, [m for m in expected if m.bank == bank])


TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}  # pydantic's lax bool, as HMA parses query flags


# ---------------------------------------------------------------------------------------------
# The replay


@dataclass
class Options:
    base_url: str
    stale_base_url: Optional[str]
    fixtures: dict[str, Path]
    extra_headers: list[tuple[str, str]]
    sync_cmd: Optional[str]
    settle: float
    pdq_tolerance: int
    timeout: float
    verbose: bool


@dataclass
class Result:
    cassette: str
    outcome: str  # pass | fail | skip
    interactions: int = 0
    interaction: Optional[int] = None
    path: Optional[str] = None
    expected: Any = None
    got: Any = None
    message: str = ""


class Replayer:
    def __init__(self, options: Options, fixture_server: FixtureServer):
        self.options = options
        self.fixture_server = fixture_server
        self.model = ServerModel()

    def headers_for(self, recorded: list[tuple[str, str]], content_type: Optional[str]) -> list[tuple[str, str]]:
        overridden = {key.lower() for key, _ in self.options.extra_headers}
        headers = [
            (key, value)
            for key, value in recorded
            if key.lower() not in DROPPED_REQUEST_HEADERS and key.lower() not in overridden
            and not (content_type is not None and key.lower() == "content-type")
        ]
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        return headers + self.options.extra_headers

    def substitute_ids(self, path: str) -> str:
        """Recorded content ids in paths (/c/bank/B/content/<id>) become the ids this server gave."""
        def replace(match: re.Match) -> str:
            recorded = int(match.group(2))
            return f"{match.group(1)}{self.model.content_id_map.get(recorded, recorded)}"
        return re.sub(r"(/content/)(\d+)", replace, path)

    def run_interaction(self, index: int, interaction: Interaction, base_url: str):
        recorded = interaction.request
        split = urllib.parse.urlsplit(recorded.uri)
        query, params = rewrite_query(split.query, self.fixture_server.base, self.options.fixtures)
        path = self.substitute_ids(split.path)
        body = recorded.body
        content_type = None
        uploaded: list[str] = []
        recorded_content_type = next((v for k, v in recorded.headers if k.lower() == "content-type"), "")
        if recorded_content_type.lower().startswith("multipart/form-data"):
            content_type, body, uploaded = rebuild_multipart(recorded_content_type, body, self.options.fixtures)
        target = path + (f"?{query}" if query else "")
        try:
            reply = send(base_url, recorded.method, target, self.headers_for(recorded.headers, content_type), body, self.options.timeout)
        except (OSError, http.client.HTTPException) as error:
            raise Mismatch(index, "$transport", f"a response from {base_url}", f"{type(error).__name__}: {error}")
        if self.options.verbose:
            sys.stderr.write(f"  [{index}] {recorded.method} {target} -> {reply.status} {reply.body[:200]!r}\n")
        self.judge(index, interaction, recorded.method, path, params, uploaded, reply)

    def judge(self, index: int, interaction: Interaction, method: str, path: str, params: dict[str, str],
              uploaded: list[str], reply: Reply):
        expected = interaction.response
        if reply.status != expected.status:
            raise Mismatch(index, "$status", expected.status, reply.status,
                           f"$status: expected {expected.status}, got {reply.status} (body {reply.body[:300]!r})")
        want_media = expected.content_type.split(";")[0].strip().lower()
        got_media = reply.content_type.split(";")[0].strip().lower()
        if want_media != got_media:
            raise Mismatch(index, "$content-type", expected.content_type, reply.content_type)
        if want_media != "application/json":
            want_text, got_text = expected.body.rstrip("\n"), reply.body.decode("utf-8", errors="replace").rstrip("\n")
            if want_text != got_text:
                raise Mismatch(index, "$body", want_text, got_text)
            return
        try:
            want = json.loads(expected.body)
        except ValueError as error:
            raise UsageError(f"recorded JSON body of interaction {index} does not parse: {error}") from error
        try:
            got = json.loads(reply.body)
        except ValueError:
            raise Mismatch(index, "$body", "a JSON document", reply.body[:300])

        if path == "/m/raw_lookup":
            self.judge_raw_lookup(index, params, want, got)
        elif path == "/m/lookup":
            self.judge_lookup(index, method, params, uploaded, want, got)
        elif path == "/h/hash":
            self.judge_hash(index, want, got)
        else:
            self.judge_other(index, method, path, want, got)

    # -- matching ---------------------------------------------------------------------------

    def query_hash(self, params: dict[str, str], uploaded: list[str]) -> Optional[str]:
        if "signal" in params:
            return params["signal"]
        names = uploaded or ([urllib.parse.urlsplit(params["url"]).path.rsplit("/", 1)[-1]] if "url" in params else [])
        return FIXTURE_PDQ.get(names[0]) if names else None

    def judge_raw_lookup(self, index: int, params: dict[str, str], want: Any, got: Any):
        if not (isinstance(want, dict) and "matches" in want):  # an error body: judge it exactly
            compare_exact(index, "", want, got, lambda *_: False)
            return
        require_type(index, "$", got, "object")
        if set(got) != {"matches"}:
            raise Mismatch(index, "$", "keys ['matches']", f"keys {sorted(got)}")
        with_distance = params.get("include_distance", "false").lower() in TRUE_WORDS
        banks = set(params["banks"].split(",")) if params.get("banks") else None
        # raw_lookup asks the index only: no enabled/coin-flip filtering.
        expected = expected_matches(self.model, params.get("signal_type", ""), params.get("signal", ""),
                                    check_enabled=False, banks=banks, bypass_coinflip=True)
        judge_match_list(index, "$.matches", got["matches"], expected, with_distance=with_distance)

    def judge_lookup(self, index: int, method: str, params: dict[str, str], uploaded: list[str], want: Any, got: Any):
        if isinstance(want, dict) and set(want) == {"message"}:  # an error body: judge it exactly
            compare_exact(index, "", want, got, lambda *_: False)
            return
        query = self.query_hash(params, uploaded)
        if query is None:
            raise UsageError(f"interaction {index}: cannot tell which hash the lookup asked for")
        banks = set(params["banks"].split(",")) if params.get("banks") else None
        bypass = params.get("bypass_coinflip", "false").lower() in TRUE_WORDS
        # A lookup by signal answers the bank map itself; by URL or upload it is wrapped per
        # signal type the content was hashed with ({"pdq": {...}}), unless signal_type selects one.
        wrapped = method == "POST" or ("url" in params and not params.get("signal_type"))
        if not wrapped:
            expected = expected_matches(self.model, params.get("signal_type", ""), query,
                                        check_enabled=True, banks=banks, bypass_coinflip=bypass)
            judge_bank_map(index, "$", got, expected)
            return
        require_type(index, "$", got, "object")
        if set(got) != set(want):
            raise Mismatch(index, "$", f"signal type keys {sorted(want)}", f"keys {sorted(got)}")
        for signal_type in want:
            expected = expected_matches(self.model, signal_type, query, check_enabled=True, banks=banks, bypass_coinflip=bypass)
            judge_bank_map(index, f"$.{signal_type}", got[signal_type], expected)

    def judge_hash(self, index: int, want: Any, got: Any):
        def volatile(i, path, expected, value):
            if re.fullmatch(r"\.pdq", path):
                compare_hash(i, path, expected, value, self.options.pdq_tolerance)
                return True
            return False
        compare_exact(index, "", want, got, volatile)

    # -- curation and the rest -------------------------------------------------------------

    def judge_other(self, index: int, method: str, path: str, want: Any, got: Any):
        adds_content = method == "POST" and re.fullmatch(r"/c/bank/[^/]+/(content|signal)", path)

        def volatile(i, field_path, expected, value):
            if adds_content and field_path == ".id":
                require_type(i, field_path, value, "int")
                return True
            if adds_content and field_path == ".signals.pdq":
                compare_hash(i, field_path, expected, value, self.options.pdq_tolerance)
                return True
            return False

        # The model follows what the server did (its status matched), even if a value differs,
        # so that one wrong field fails one cassette and not every lookup after it.
        self.update_model(method, path, want, got)
        compare_exact(index, "", want, got, volatile)

    def update_model(self, method: str, path: str, want: Any, got: Any):
        if method == "GET":
            return
        self.model.writes_since_sync = True
        if method == "POST" and path == "/c/banks" and isinstance(got, dict) and "name" in got:
            self.model.bank_ratios[got["name"]] = float(got.get("matching_enabled_ratio", 1.0))
        elif method == "POST" and path == "/c/exchanges":
            pass  # an exchange's bank is empty until a fetch runs; nothing to predict
        elif method == "POST" and isinstance(got, dict) and isinstance(got.get("id"), int):
            bank = path.split("/")[3]
            self.model.contents.append(BankedContent(got["id"], bank, dict(got.get("signals") or {})))
            if isinstance(want, dict) and isinstance(want.get("id"), int) and want["id"] > 0:  # the seed records 0
                self.model.content_id_map[want["id"]] = got["id"]

    # -- steps ------------------------------------------------------------------------------

    def run_cassette(self, cassette: Cassette) -> Result:
        base_url = self.options.base_url
        if cassette.name in NEEDS_STALE_SERVER:
            if not self.options.stale_base_url:
                return Result(cassette.name, "skip", len(cassette.interactions),
                              message="needs a server whose index is stale: pass --stale-base-url")
            base_url = self.options.stale_base_url
        try:
            for index, interaction in enumerate(cassette.interactions):
                self.run_interaction(index, interaction, base_url)
        except Mismatch as mismatch:
            return Result(cassette.name, "fail", len(cassette.interactions), mismatch.interaction, mismatch.path,
                          _printable(mismatch.expected), _printable(mismatch.got), str(mismatch))
        return Result(cassette.name, "pass", len(cassette.interactions))

    def seed(self) -> Result:
        """Creates bank BANK holding the bridge image, as the recorded instance had (the Ruby
        tests expect the first match to come from BANK); through the same routes a client uses."""
        bridge = "image-in-hash-db.jpg"
        if bridge not in self.options.fixtures:
            raise UsageError(f"fixture {bridge} is missing from the fixtures directory")
        boundary = "seed-boundary"
        upload = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{bridge}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode() + b"PLACEHOLDER" + f"\r\n--{boundary}--\r\n".encode()
        steps = [
            Interaction(
                RecordedRequest("POST", "/c/banks", [("Content-Type", "application/json")],
                                b'{"name":"BANK","enabled":"true","matching_enabled_ratio":1.0}'),
                RecordedResponse(201, "application/json", '{"matching_enabled_ratio": 1.0, "name": "BANK"}'),
            ),
            Interaction(
                RecordedRequest("POST", "/c/bank/BANK/content", [("Content-Type", f"multipart/form-data; boundary={boundary}")], upload),
                RecordedResponse(200, "application/json", json.dumps({"id": 0, "signals": {"pdq": FIXTURE_PDQ[bridge]}})),
            ),
        ]
        return self.run_cassette(Cassette("@seed (bank BANK with the bridge image)", steps))

    def sync(self) -> Result:
        name = "@sync (index catch-up before lookups)"
        if not self.model.writes_since_sync:
            return Result(name, "pass")
        if self.options.sync_cmd:
            completed = subprocess.run(self.options.sync_cmd, shell=True, capture_output=True, text=True)
            if completed.returncode != 0:
                return Result(name, "fail", message=f"--sync-cmd exited {completed.returncode}: {completed.stderr.strip()[-300:]}")
        if self.options.settle > 0:
            time.sleep(self.options.settle)
        self.model.writes_since_sync = False
        return Result(name, "pass")


def _printable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else repr(value)


def wait_ready(base_url: str, seconds: float, headers: list[tuple[str, str]], timeout: float) -> Optional[str]:
    """Polls GET /status until 200; returns None when ready, else the last thing seen."""
    deadline = time.monotonic() + seconds
    last = "no attempt"
    while True:
        try:
            reply = send(base_url, "GET", "/status", headers, b"", timeout)
            if reply.status == 200:
                return None
            last = f"status {reply.status} {reply.body[:100]!r}"
        except (OSError, http.client.HTTPException) as error:
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            return last
        time.sleep(0.5)


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--header must look like 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="server under test, e.g. http://127.0.0.1:5050")
    parser.add_argument("--cassettes", type=Path, default=DEFAULT_RECORDINGS / "vcr_cassettes", help="VCR cassette directory")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_RECORDINGS / "fixtures", help="fixture images directory")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    parser.add_argument("--header", action="append", type=parse_header, default=[], metavar="'NAME: VALUE'",
                        help="add (or replace) a header on every request, e.g. an Authorization header; repeatable")
    parser.add_argument("--sync-cmd", help="shell command run before the lookups if anything was written (e.g. HMA's `flask build_indices`)")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds to wait before the lookups (background indexers)")
    parser.add_argument("--stale-base-url", help="a server whose index is stale, for the two 503 INDEX-STALE cassettes (skipped without it)")
    parser.add_argument("--pdq-tolerance", type=int, default=0, help="Hamming distance allowed between recorded and returned PDQ hashes (default 0)")
    parser.add_argument("--wait-ready", type=float, default=30.0, help="seconds to wait for GET /status to answer 200 first (default 30)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    parser.add_argument("--verbose", action="store_true", help="log every request and reply head to stderr")
    args = parser.parse_args(argv)

    try:
        if urllib.parse.urlsplit(args.base_url).scheme not in ("http", "https"):
            raise UsageError(f"--base-url must be http(s)://host:port, got {args.base_url!r}")
        if not args.fixtures.is_dir():
            raise UsageError(f"fixtures directory {args.fixtures} does not exist")
        fixtures = {p.name: p for p in args.fixtures.iterdir() if p.is_file()}
        available = discover_cassettes(args.cassettes)
        ordered = [name for name in REPLAY_ORDER if not name.startswith("@")]
        missing = [name for name in ordered if name not in available]
        unknown = sorted(set(available) - set(ordered))
        cassettes = {name: load_cassette(path, name) for name, path in available.items()}
    except UsageError as error:
        sys.stderr.write(f"hma_replay: {error}\n")
        return 2

    options = Options(args.base_url.rstrip("/"), args.stale_base_url and args.stale_base_url.rstrip("/"), fixtures,
                      args.header, args.sync_cmd, args.settle, args.pdq_tolerance, args.timeout, args.verbose)
    results: list[Result] = []
    not_ready = wait_ready(options.base_url, args.wait_ready, options.extra_headers, options.timeout)
    fixture_server = FixtureServer(args.fixtures)
    try:
        if not_ready is not None:
            results.append(Result("@ready (GET /status answers 200)", "fail", message=f"server at {options.base_url} not ready after {args.wait_ready:g}s: {not_ready}"))
        else:
            replayer = Replayer(options, fixture_server)
            for name in REPLAY_ORDER + unknown:
                if name == "@seed":
                    result = replayer.seed()
                elif name == "@sync":
                    result = replayer.sync()
                elif name in missing:
                    result = Result(name, "fail", message="cassette missing from the cassette directory")
                else:
                    result = replayer.run_cassette(cassettes[name])
                    if name in unknown:
                        result.message = (result.message + " " if result.message else "") + "(not in the fixed order; run last)"
                results.append(result)
                if not args.json:
                    print(format_line(result), flush=True)
    except UsageError as error:
        sys.stderr.write(f"hma_replay: {error}\n")
        return 2
    finally:
        fixture_server.close()

    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in ("pass", "fail", "skip")}
    if args.json:
        print(json.dumps({"base_url": options.base_url, "results": [r.__dict__ for r in results], "counts": counts}, indent=2))
    else:
        if not_ready is not None:
            print(format_line(results[0]))
        print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    return 1 if counts["fail"] else 0


def format_line(result: Result) -> str:
    if result.outcome == "pass":
        return f"PASS {result.cassette}" + (f" ({result.message})" if result.message else "")
    if result.outcome == "skip":
        return f"SKIP {result.cassette}: {result.message}"
    where = f"interaction {result.interaction}: " if result.interaction is not None else ""
    return f"FAIL {result.cassette}: {where}{result.message}"


if __name__ == "__main__":
    sys.exit(main())
