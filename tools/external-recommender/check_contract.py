#!/usr/bin/env python3
"""Conformance check of a running external recommender against Guardrail's black-box
contract (docs/external-contract.openapi.yaml).

What it is for: before the audit harness trusts a system's answers, prove that the system
speaks the contract. Starting from a base URL only, it creates a persona, sends events,
calls every route, and validates every answer (status, body schema, the contract's
semantic rules: k respected, self and followed accounts excluded, events change later
answers, errors name their field) against the OpenAPI file. Exit 0 when all checks pass,
1 on any violation, 2 on bad usage (spec unreadable, server unreachable).

What it must never do: read a world folder or its ground truth (it knows the system only
through HTTP), or send traffic anywhere but the base URL it is given (loopback in tests).

Run: python3 check_contract.py http://127.0.0.1:PORT [--spec FILE] [--banned-term vexnor]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml
from jsonschema import Draft4Validator

DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "docs" / "external-contract.openapi.yaml"


class Client:
    """One keep-alive HTTP/1.1 connection to the system under check."""

    def __init__(self, base_url: str, timeout: float):
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"base URL: expected http://HOST:PORT, got {base_url!r}")
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.prefix = parts.path.rstrip("/")
        self.connection = None

    def request(self, method: str, path: str, body=None, raw: bytes | None = None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request(method, self.prefix + path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # A server may close a keep-alive connection after an error; retry once.
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        try:
            parsed = json.loads(payload) if payload else None
        except json.JSONDecodeError:
            parsed = ("<not JSON>", payload[:200])
        return response.status, parsed


class Contract:
    """The OpenAPI file, turned into validators for request and response bodies."""

    def __init__(self, spec_path: Path):
        self.spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        if not str(self.spec.get("openapi", "")).startswith("3.0"):
            raise ValueError(f"{spec_path}: expected an OpenAPI 3.0 document")

    def validator(self, schema: dict) -> Draft4Validator:
        # OpenAPI 3.0 schema objects are a JSON Schema draft-4/5 dialect; `$ref`s point into
        # the whole document, so it rides along as the root the refs resolve against.
        root = {"components": self.spec["components"], "allOf": [schema]}
        return Draft4Validator(root)

    def operation(self, method: str, path: str) -> dict:
        try:
            return self.spec["paths"][path][method.lower()]
        except KeyError:
            raise KeyError(f"the spec has no {method} {path}") from None

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(self, method: str, path: str, status: int) -> dict | None:
        responses = self.operation(method, path)["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            return None
        return self.resolve(response)["content"]["application/json"]["schema"]

    def response_errors(self, method: str, path: str, status: int, body) -> list[str]:
        schema = self.response_schema(method, path, status)
        if schema is None:
            return [f"status {status} is not declared for {method} {path}"]
        return [
            f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}"
            for e in self.validator(schema).iter_errors(body)
        ]

    def request_errors(self, method: str, path: str, body) -> list[str]:
        schema = self.resolve(self.operation(method, path)["requestBody"])["content"]["application/json"]["schema"]
        return [e.message for e in self.validator(schema).iter_errors(body)]

    def example_errors(self) -> list[str]:
        """Every example in the spec must validate against its own schema."""
        problems = []
        for path, item in self.spec["paths"].items():
            for method, operation in item.items():
                request = operation.get("requestBody")
                if request:
                    media = self.resolve(request)["content"]["application/json"]
                    if "example" in media:
                        for message in self.request_errors(method, path, media["example"]):
                            problems.append(f"{method.upper()} {path} request example: {message}")
                for status, response in operation["responses"].items():
                    media = self.resolve(response)["content"]["application/json"]
                    examples = [media["example"]] if "example" in media else []
                    examples += [e["value"] for e in media.get("examples", {}).values()]
                    for example in examples:
                        for error in self.validator(media["schema"]).iter_errors(example):
                            problems.append(f"{method.upper()} {path} {status} example: {error.message}")
        return problems


class Checker:
    def __init__(self, client: Client, contract: Contract):
        self.client, self.contract = client, contract
        self.passed = self.failed = 0

    def record(self, name: str, problems: list[str]) -> bool:
        if problems:
            self.failed += 1
            print(f"FAIL {name}")
            for problem in problems[:10]:
                print(f"     {problem}")
        else:
            self.passed += 1
            print(f"ok   {name}")
        return not problems

    def call(self, name: str, method: str, path: str, route: str, body=None, expect: int = 200,
             rules=None, raw: bytes | None = None):
        """Calls a route, validates status and schema, then the route's own `rules`."""
        status, answer = self.client.request(method, path, body, raw)
        problems = []
        if status != expect:
            problems.append(f"{method} {path}: expected status {expect}, got {status}: {json.dumps(answer)[:300]}")
        else:
            problems += self.contract.response_errors(method, route, status, answer)
            if not problems and rules:
                problems += [p for p in rules(answer) if p]
        self.record(name, problems)
        return answer if status == expect else None

    def error(self, name: str, method: str, path: str, route: str, field: str, body=None, raw=None):
        """A bad request must be a 400 whose Error body names `field` first."""
        def names_field(answer):
            message = answer.get("error", "")
            return [None if message.startswith(field) else f"error should start with {field!r}: {message!r}"]
        self.call(name, method, path, route, body=body, expect=400, rules=names_field, raw=raw)


def within_k(key: str, k: int):
    return lambda answer: [None if len(answer[key]) <= k else f"{key}: {len(answer[key])} items for k={k}"]


def excludes(key: str, forbidden: set[int], why: str):
    def rule(answer):
        hit = sorted(set(answer[key]) & forbidden)
        return [None if not hit else f"{key} contains {hit} ({why})"]
    return rule


def run(checker: Checker, banned_terms: list[str]) -> None:
    contract, call, error = checker.contract, checker.call, checker.error
    checker.record("spec: every example validates against its schema", contract.example_errors())

    call("GET /healthz", "GET", "/healthz", "/healthz")

    handle = f"contract_probe_{int(time.time() * 1000) % 10**9}"
    persona_body = {"handle": handle, "declared_age": 35, "gender": "man", "interests": ["cars"]}
    checker.record("our persona request validates against the spec", contract.request_errors("POST", "/personas", persona_body))
    created = call("POST /personas", "POST", "/personas", "/personas", body=persona_body)
    if created is None:
        print("cannot go on without a persona")
        return
    me = created["account"]
    second = call(
        "POST /personas again gives a new id", "POST", "/personas", "/personas",
        body={**persona_body, "handle": handle + "_b", "gender": "woman", "interests": []},
        rules=lambda a: [None if a["account"] != me else f"same id {me} for two personas"],
    )
    other = second["account"] if second else me

    before = call(
        "GET /suggestions (new persona)", "GET", f"/suggestions?account={me}&k=10", "/suggestions",
        rules=lambda a: within_k("accounts", 10)(a) + excludes("accounts", {me}, "itself")(a),
    ) or {"accounts": []}
    targets = [a for a in before["accounts"] if a != me]
    # Need world accounts to act on; id 0 exists in every world (ids are dense from 0).
    viewed = targets[0] if targets else 0

    events = [{"type": "view", "account": me, "target": viewed}]
    checker.record("our events request validates against the spec", contract.request_errors("POST", "/events", events))
    call("POST /events (one view)", "POST", "/events", "/events", body=events,
         rules=lambda a: [None if a["accepted"] == 1 else f"accepted {a['accepted']}, sent 1"])
    after = call(
        "GET /suggestions after one view changes the answer", "GET", f"/suggestions?account={me}&k=10", "/suggestions",
        rules=lambda a: within_k("accounts", 10)(a)
        + [None if a["accounts"] != before["accounts"] else "suggestions unchanged after a view (events must change later answers)"],
    ) or {"accounts": []}

    followed = [a for a in after["accounts"] if a != me][:2]
    if followed:
        # Ids as strings are part of the contract too.
        follow_events = [{"type": "follow", "account": str(me), "target": str(a)} for a in followed]
        call("POST /events (follows, ids as strings)", "POST", "/events", "/events", body=follow_events,
             rules=lambda a: [None if a["accepted"] == len(follow_events) else f"accepted {a['accepted']}"])
        call("GET /suggestions excludes followed accounts", "GET", f"/suggestions?account={me}&k=20", "/suggestions",
             rules=lambda a: within_k("accounts", 20)(a) + excludes("accounts", set(followed) | {me}, "followed or self")(a))
    else:
        checker.record("GET /suggestions after a view returns accounts to follow", ["no suggestions after a view"])

    feed = call("GET /feed", "GET", f"/feed?account={me}&k=15", "/feed", rules=within_k("posts", 15)) or {"posts": []}
    call("GET /feed (default k)", "GET", f"/feed?account={me}", "/feed")
    liked = feed["posts"][0] if feed["posts"] else 0
    call("POST /events (like, search)", "POST", "/events", "/events",
         body=[{"type": "like", "account": me, "target": liked}, {"type": "search", "account": me, "query": "#a"}],
         rules=lambda a: [None if a["accepted"] == 2 else f"accepted {a['accepted']}, sent 2"])

    profile = followed[0] if followed else viewed
    call("GET /similar", "GET", f"/similar?account={profile}&viewer={other}&k=5", "/similar",
         rules=lambda a: within_k("accounts", 5)(a) + excludes("accounts", {profile, other}, "the profile or the viewer")(a))

    # Find a live hashtag prefix through autocomplete itself.
    tag = None
    for letter in "abcdefghijklmnopqrstuvwxyz":
        status, answer = checker.client.request("GET", f"/autocomplete?account={me}&prefix={letter}&k=5")
        if status == 200 and isinstance(answer, dict) and answer.get("suggestions"):
            tag = answer["suggestions"][0]
            break
    prefix = (tag or "a")[:2]
    call(
        "GET /autocomplete", "GET", f"/autocomplete?account={me}&prefix={quote('#' + prefix.upper())}&k=5", "/autocomplete",
        rules=lambda a: within_k("suggestions", 5)(a)
        + [None if s.casefold().startswith(prefix.casefold()) else f"{s!r} does not start with {prefix!r}" for s in a["suggestions"]],
    )
    if tag is None:
        checker.record("GET /autocomplete finds some hashtag for a one-letter prefix", ["no suggestions for any of a-z"])
    else:
        call(f"GET /search for an autocompleted hashtag #{tag} finds posts", "GET",
             f"/search?account={me}&q={quote('#' + tag)}", "/search",
             rules=lambda a: [None if a["posts"] else f"no posts for #{tag}"])
    for term in banned_terms:
        call(f"GET /search interstitial for banned term {term!r}", "GET", f"/search?account={me}&q={quote(term)}", "/search",
             rules=lambda a: [None if a["interstitial"] is True else "interstitial is not true"])

    blocked = followed[1] if len(followed) > 1 else viewed
    call("POST /events (block, report)", "POST", "/events", "/events",
         body=[{"type": "block", "account": me, "target": blocked}, {"type": "report", "account": me, "target": blocked}])
    call("GET /suggestions never shows a blocked account", "GET", f"/suggestions?account={me}&k=50", "/suggestions",
         rules=excludes("accounts", {blocked}, "blocked"))

    # Errors: 400, an Error body, and the field named first.
    error("400 suggestions without account", "GET", "/suggestions?k=3", "/suggestions", "account")
    error("400 suggestions with k=ten", "GET", f"/suggestions?account={me}&k=ten", "/suggestions", "k")
    error("400 suggestions with k=0", "GET", f"/suggestions?account={me}&k=0", "/suggestions", "k")
    error("400 suggestions for an unknown account", "GET", "/suggestions?account=999999999&k=3", "/suggestions", "account")
    error("400 similar with a bad viewer", "GET", f"/similar?account={profile}&viewer=x&k=3", "/similar", "viewer")
    error("400 feed with a bad account", "GET", "/feed?account=-4", "/feed", "account")
    error("400 search without q", "GET", f"/search?account={me}", "/search", "q")
    error("400 autocomplete without prefix", "GET", f"/autocomplete?account={me}&k=3", "/autocomplete", "prefix")
    error("400 persona with a bad age", "POST", "/personas", "/personas", "declared_age",
          body={**persona_body, "declared_age": "old"})
    error("400 persona without gender", "POST", "/personas", "/personas", "gender",
          body={k: v for k, v in persona_body.items() if k != "gender"})
    error("400 events body not an array", "POST", "/events", "/events", "body", body={"type": "view"})
    error("400 events body not JSON", "POST", "/events", "/events", "body", raw=b"[{")
    error("400 event with an unknown type", "POST", "/events", "/events", "[0].type",
          body=[{"type": "poke", "account": me, "target": 0}])
    error("400 event without target", "POST", "/events", "/events", "[1].target",
          body=[{"type": "view", "account": me, "target": 0 if me else 1}, {"type": "follow", "account": me}])
    error("400 search event without query", "POST", "/events", "/events", "[0].query",
          body=[{"type": "search", "account": me}])
    status, _ = checker.client.request("GET", "/no-such-route")
    checker.record("unknown path answers 404", [] if status == 404 else [f"status {status}, expected 404"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a running external recommender against the contract.")
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI file")
    parser.add_argument("--banned-term", action="append", default=[],
                        help="a term on the system's ban list; search must set interstitial (repeatable)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    args = parser.parse_args(argv)
    try:
        contract = Contract(args.spec)
        client = Client(args.base_url, args.timeout)
        client.request("GET", "/healthz")
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checker = Checker(client, contract)
    try:
        run(checker, args.banned_term)
    except (OSError, http.client.HTTPException) as error:
        checker.record("the server kept answering", [f"{type(error).__name__}: {error}"])
    print(f"{checker.passed} passed, {checker.failed} failed")
    return 0 if checker.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
