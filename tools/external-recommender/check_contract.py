#!/usr/bin/env python3
"""Conformance check of a running external recommender against Guardrail's black-box
contract (docs/external-contract.openapi.yaml).

What it is for: before the audit harness trusts a system's answers, prove that the system
speaks the contract. Starting from a base URL only, it creates a persona, sends events,
calls every route, and validates every answer (status, body schema, the contract's
semantic rules: k respected, self and followed accounts excluded, events change later
answers, errors name their field) against the OpenAPI file. The optional extensions (the
`post` event, `POST /reset`) are checked when the system offers them and skipped with a
note when it does not; when it offers `POST /reset`, the check starts and ends with a reset,
so it wipes the system's personas and events. Exit 0 when all checks pass,
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
        self.skipped: list[tuple[str, str]] = []

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

    def skip(self, extension: str, why: str) -> None:
        self.skipped.append((extension, why))
        print(f"note {extension} not offered ({why}); its checks are skipped")

    def call(self, name: str, method: str, path: str, route: str, body=None, expect: int = 200,
             rules=None, raw: bytes | None = None):
        """Calls a route, validates status and schema, then the route's own `rules`."""
        status, answer = self.client.request(method, path, body, raw)
        return self.judge(name, method, path, route, status, answer, expect, rules)

    def judge(self, name: str, method: str, path: str, route: str, status: int, answer, expect: int = 200, rules=None):
        """Records one answer already received: status, schema, then the `rules`."""
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

    check_post_extension(checker, me, persona_body)

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


# -- extensions: both optional; a system without them is checked without them -----------

def check_post_extension(checker: Checker, me: int, persona_body: dict) -> None:
    """The `post` event: new posts get new ids in batch order, continuing the post ids, and
    are visible at once to search, autocomplete and a follower's feed. Skipped when the
    system answers an unknown event type (400 naming `[0].type`)."""
    contract, call, error = checker.contract, checker.call, checker.error
    tag = f"{PROBE_TAG}{int(time.time() * 1000) % 10**9}"
    author = 0  # a world account: id 0 exists in every world
    first_post = [{"type": "post", "account": author, "hashtags": ["#" + tag], "caption": "a contract probe"}]
    checker.record("our post event validates against the spec", contract.request_errors("POST", "/events", first_post))
    status, answer = checker.client.request("POST", "/events", first_post)
    if status == 400 and isinstance(answer, dict) and str(answer.get("error", "")).startswith("[0].type"):
        checker.skip("post extension", f"POST /events with a post event answers 400 ({answer['error'][:80]})")
        return

    _, health = checker.client.request("GET", "/healthz")
    world_posts = health.get("posts") if isinstance(health, dict) else None

    def one_new_post(a):
        if a["accepted"] != 1 or len(a.get("posts", [])) != 1:
            return [f"expected accepted 1 and one id in posts, got {json.dumps(a)}"]
        # Ids continue after the world's posts (P, P+1, ...), never reusing one.
        continues = not isinstance(world_posts, int) or a["posts"][0] >= world_posts
        return [None if continues else f"new post id {a['posts'][0]} does not continue after the world's {world_posts} posts"]
    created = checker.judge("POST /events (post extension: a world account posts)", "POST", "/events", "/events",
                            status, answer, rules=one_new_post)
    if not created or len(created.get("posts", [])) != 1:
        return
    post = created["posts"][0]
    persona_posts = [
        {"type": "post", "account": me, "hashtags": [tag + "b", "#" + tag + "c"], "caption": ""},
        {"type": "post", "account": str(me), "hashtags": [tag + "b"]},
    ]
    call("POST /events (two posts by a persona get the next ids in batch order)", "POST", "/events", "/events",
         body=persona_posts,
         rules=lambda a: [None if a.get("posts") == [post + 1, post + 2] and a["accepted"] == 2
                          else f"expected posts [{post + 1}, {post + 2}], got {json.dumps(a)}"])
    reader = call("POST /personas (a reader of the new posts)", "POST", "/personas", "/personas",
                  body={**persona_body, "handle": persona_body["handle"] + "_reader"})
    if reader is None:
        return
    reader = reader["account"]
    call(f"GET /search #{tag} finds the new post and its author at once", "GET",
         f"/search?account={reader}&q={quote('#' + tag)}", "/search",
         rules=lambda a: [None if post in a["posts"] else f"post {post} not in {a['posts'][:20]}",
                          None if author in a["accounts"] else f"author {author} not in {a['accounts'][:20]}"])
    call("GET /autocomplete counts the new hashtags", "GET",
         f"/autocomplete?account={reader}&prefix={quote(tag[:-2])}&k=10", "/autocomplete",
         rules=lambda a: [None if {tag, tag + "b", tag + "c"} <= {s.casefold() for s in a["suggestions"]}
                          else f"expected {tag}, {tag}b, {tag}c among {a['suggestions']}"])
    call("POST /events (the reader follows the author and likes the new post)", "POST", "/events", "/events",
         body=[{"type": "follow", "account": reader, "target": author},
               {"type": "like", "account": reader, "target": post}],
         rules=lambda a: [None if a["accepted"] == 2 else f"accepted {a['accepted']}, sent 2"])
    call("GET /feed of a follower shows the author's new post", "GET", f"/feed?account={reader}&k=50", "/feed",
         rules=lambda a: [None if post in a["posts"] else f"post {post} not in the feed {a['posts']}"])
    error("400 post event with hashtags not a list", "POST", "/events", "/events", "[0].hashtags",
          body=[{"type": "post", "account": me, "hashtags": tag, "caption": ""}])
    error("400 post batch with a bad second post (all or nothing)", "POST", "/events", "/events", "[1].hashtags",
          body=[{"type": "post", "account": me, "hashtags": [tag + "d"]},
                {"type": "post", "account": me, "hashtags": [7]}])
    call("GET /search finds nothing of a rejected batch", "GET",
         f"/search?account={reader}&q={quote(tag + 'd')}", "/search",
         rules=lambda a: [None if not a["posts"] else f"posts {a['posts']} of a rejected batch are visible"])


# Reads repeated right after each reset: world account 0 (ids are dense from 0) and a
# persona created right after the reset.
RESET_PROBE_PREFIXES = "aeinorst"
PROBE_TAG = "contractprobe"


def fresh_state_answers(checker: Checker) -> list:
    """A fixed script of requests answered right after a reset, answers in order."""
    client = checker.client
    paths = ["/suggestions?account=0&k=100", "/similar?account=0&viewer=0&k=10", "/feed?account=0&k=30",
             "/search?account=0&q=a&k=50"]
    paths += [f"/autocomplete?account=0&prefix={c}&k=10" for c in RESET_PROBE_PREFIXES]
    # What the post check and `touch_world_account` leave behind, if a reset kept it.
    paths += [f"/autocomplete?account=0&prefix={PROBE_TAG}&k=10", f"/search?account=0&q=%23{PROBE_TAG}&k=50"]
    answers = []
    status, health = client.request("GET", "/healthz")
    if isinstance(health, dict):
        # Time and memory figures change between calls; what was loaded must not.
        health = {k: v for k, v in health.items() if k in ("status", "accounts", "posts", "personas", "model", "model_digest")}
    answers.append(("GET /healthz", status, health))
    for path in paths:
        answers.append((f"GET {path}",) + client.request("GET", path))
    body = {"handle": "reset_probe", "declared_age": 30, "gender": "woman", "interests": []}
    status, created = client.request("POST", "/personas", body)
    answers.append(("POST /personas", status, created))
    if status == 200 and isinstance(created, dict):
        persona = created.get("account")
        for path in (f"/suggestions?account={persona}&k=10", f"/feed?account={persona}&k=10"):
            answers.append((f"GET {path}",) + checker.client.request("GET", path))
    return answers


def reset_once(checker: Checker, name: str, digest: list) -> bool | None:
    """POST /reset (no body). None when the system lacks the extension (404)."""
    status, answer = checker.client.request("POST", "/reset")
    if status == 404:
        return None

    def same_digest(a):
        if "model_digest" not in a:
            return []
        digest.append(a["model_digest"])
        return [None if len(set(digest)) == 1 else f"model_digest {a['model_digest']} after reset, {digest[0]} before"]
    return checker.judge(name, "POST", "/reset", "/reset", status, answer, rules=same_digest) is not None


def start_from_reset(checker: Checker) -> tuple[list, list] | None:
    """Resets the system (when it offers POST /reset) and records the fresh-state script's
    answers; None, with a note, when /reset answers 404."""
    status, health = checker.client.request("GET", "/healthz")
    digest = [health["model_digest"]] if isinstance(health, dict) and isinstance(health.get("model_digest"), str) else []
    done = reset_once(checker, "POST /reset (reset extension; model_digest as in /healthz)", digest)
    if done is None:
        checker.skip("reset extension", "POST /reset answers 404")
        return None
    if not done:
        return None
    checker.call("POST /reset with {} as the body", "POST", "/reset", "/reset", body={})
    checker.call("GET /healthz right after a reset: no personas", "GET", "/healthz", "/healthz",
                 rules=lambda a: [None if a.get("personas", 0) == 0 else f"personas {a['personas']} after a reset"])
    return fresh_state_answers(checker), digest


def check_reset_restores(checker: Checker, baseline: tuple[list, list]) -> None:
    """After everything the check did, a reset must answer the fixed script exactly as
    right after the first reset (personas restart at the same id, events and posts gone)."""
    answers, digest = baseline
    # The check's other events are personas'; a reset must undo world accounts' too.
    checker.call("POST /events (world account 0 views, follows and searches)", "POST", "/events", "/events",
                 body=[{"type": "view", "account": 0, "target": 1}, {"type": "follow", "account": 0, "target": 1},
                       {"type": "search", "account": 0, "query": f"#{PROBE_TAG}"}])
    if not reset_once(checker, "POST /reset after the whole check", digest):
        return
    again = fresh_state_answers(checker)
    problems = [
        f"{first[0]}: {json.dumps(second[1:])[:200]} after the last reset, {json.dumps(first[1:])[:200]} after the first"
        for first, second in zip(answers, again) if first != second
    ]
    checker.record("every answer after a used-then-reset equals the answer after the first reset", problems)
    # Leave the system as fresh as it was found after the first reset.
    reset_once(checker, "POST /reset (leaving the system fresh)", digest)


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
        baseline = start_from_reset(checker)
        run(checker, args.banned_term)
        if baseline is not None:
            check_reset_restores(checker, baseline)
    except (OSError, http.client.HTTPException) as error:
        checker.record("the server kept answering", [f"{type(error).__name__}: {error}"])
    for name, why in checker.skipped:
        print(f"skipped the {name}: {why} (optional; the system lacks it)")
    print(f"{checker.passed} passed, {checker.failed} failed")
    return 0 if checker.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
