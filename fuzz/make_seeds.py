#!/usr/bin/env python3
"""Writes the committed seed corpora under fuzz/corpus/<target>/: small text, JSON and CSV.

What it is for: one place that knows each target's input layout (the API targets pick a
route with their first byte and path parameters with their second, see
fuzz_targets/common/http.rs), so that seeds stay in step when a route table changes. Run
it from the repository root after changing a table: python3 fuzz/make_seeds.py

What it must never do: write image files (the image target's seeds are generated at run
time by scripts/fuzz_seed_images.py, outside the repository), real account names or
addresses (every name here is an invented placeholder), or write outside fuzz/corpus.
"""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "corpus"


def routes(target: str) -> list:
    """The route table of an API target, read from its source: (method, path)."""
    text = (ROOT / "fuzz_targets" / f"{target}.rs").read_text()
    return re.findall(r'\(Method::(\w+), "([^"]+)", Input::\w+\)', text)


def printable(index: int, modulo: int) -> str:
    """A printable character whose code is `index` modulo `modulo`."""
    for code in range(0x21, 0x7F):
        if code % modulo == index and chr(code) not in "#\\":
            return chr(code)
    raise ValueError(f"no printable byte for {index} mod {modulo}")


def request(table: list, method: str, path: str, body: str, a: int = 0, b: int = 0) -> str:
    """Route byte, parameter byte (low nibble: `{a}`, high nibble: `{b}`), body."""
    index = table.index((method, path))
    return printable(index, len(table)) + chr((b << 4) | a) + body


def write(target: str, seeds: dict) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in seeds.items():
        (folder / name).write_text(text)


def j(value) -> str:
    return json.dumps(value, separators=(",", ":"))


A_AD = 4  # index of "ad-1" in api_bodies' path parameters
T0 = 1_764_400_000
HASH_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
HASH_B = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
EVENTS = [
    {"id": "a1", "type": "account_created", "at": T0, "account": "101", "handle": "kid_one", "declared_age": 14, "bio": "school and games"},
    {"id": "a2", "type": "account_created", "at": T0 + 1, "account": "102", "handle": "grown_up", "declared_age": 35, "bio": "cooking", "emails": ["shared@example.invalid"], "phones": ["+44 7700 900123"]},
    {"id": "f1", "type": "follow", "at": T0 + 3, "account": "102", "target": "101"},
    {"id": "p1", "type": "post", "at": T0 + 5, "account": "102", "post": "p-1", "text": "dinner", "hashtags": ["food"]},
    {"id": "s1", "type": "search", "at": T0 + 6, "account": "101", "query": "games"},
    {"id": "b1", "type": "block", "at": T0 + 7, "account": "101", "target": "102"},
    {"id": "v1", "type": "view", "at": T0 + 8, "account": "102", "target": "101"},
]


def main() -> None:
    write("text_normalize", {
        "plain": "hello there, friends",
        "mixed": "Ｓｃｈｏｏｌ  s.c.h.o.o.l 5ch00l \u200bschool\u202e",
        "emoji": "games 🎮 and 🍕 pizza #food",
    })
    write("text_policy", {
        "small.toml": '[policy]\nname = "fuzz"\nversion = "1"\n\n[[term]]\nid = "t1"\ntext = "placeholderterm"\ntier = "block"\ncategory = "test.placeholder"\n',
        "default.toml": (ROOT.parent / "crates/guardrail-text/policies/default.toml").read_text()[:3000],
    })
    write("discovery_rules", {
        "discovery.toml": (ROOT.parent / "crates/guardrail-policy/policies/discovery.toml").read_text(),
        "small.toml": 'name = "fuzz"\n[thresholds]\nhigh_risk_network_score = 0.5\n\n[[rule]]\nid = "r1"\nsurfaces = ["search"]\nwhen = ["query.blocked"]\naction = "drop"\nmode = "shadow"\n',
    })
    write("bank_file", {"empty": ""})
    write("list_import", {
        "hex.txt": f"# a list\n{HASH_A}\n{HASH_B},100,placeholder.jpg\n",
        "ours.csv": f"hash,source,entry_id,added_at\n{HASH_A},list-a,e-1,1700000000\n{HASH_B},\"list, b\",e-2,2024-01-02T03:04:05Z\n",
        "pytx.csv": f"collab,signal_type,signal_str,category,tags\ncollab-1,pdq,{HASH_A},TRUE_POSITIVE,\ncollab-1,video_md5,d41d8cd98f00b204e9800998ecf8427e,TRUE_POSITIVE,\ncollab-1,pdq,{HASH_B},FALSE_POSITIVE,tag\n",
        "pytx-file.txt": f"pdq {HASH_A}\nvideo_md5 d41d8cd98f00b204e9800998ecf8427e\n",
        "hma.te": f"{HASH_A},1,2023-05-06T07:08:09Z,tag1 tag2\n{HASH_B},2,1700000000,\n",
    })
    write("registry_list", {
        "list.txt": "# weekly list\nplaceholder.one@example.invalid\nPlace.Holder+tag@gmail.com  # comment\n\nsecond@example.invalid\n",
        "bad.txt": "not an address\nok@example.invalid\n",
        "phones.txt": "+44 7700 900123\n(202) 555-0143\n0044 7700 900123\n",
    })
    write("hma_changes", {
        "changes.jsonl": "\n".join(j(c) for c in [
            {"change": "bank_created", "name": "FUZZ_BANK", "matching_enabled_ratio": 1.0},
            {"change": "content_added", "id": 1, "bank": "FUZZ_BANK", "signals": {"pdq": HASH_A}, "note": "n", "added_at": 1700000000},
            {"change": "content_updated", "id": 1, "bank": "FUZZ_BANK", "disable_until_ts": 0},
            {"change": "bank_updated", "name": "FUZZ_BANK", "new_name": "OTHER_BANK", "matching_enabled_ratio": 0.5},
            {"change": "exchange_created", "name": "EX_ONE", "api": "sample", "enabled": True},
            {"change": "exchange_credentials_set", "api": "ncmec", "set": True},
            {"change": "content_removed", "id": 1, "bank": "OTHER_BANK"},
            {"change": "bank_deleted", "name": "OTHER_BANK"},
        ]) + "\n",
    })
    write("world_tables", {
        "accounts.csv": "\x00id,handle,declared_age,gender,country,interests,business,created_at,bio\n0,placeholder_a,15,woman,GB,games|music,false,0,hello\n1,placeholder_b,34,man,US,,true,2,\"a, quoted \"\"bio\"\"\"\n",
        "posts.jsonl": "\x01" + j({"id": 0, "author": 0, "created_at": 1, "features_minor": False, "hashtags": ["food"], "caption": "dinner"}) + "\n",
        "follows.csv": "\x02src,dst,at\n0,1,3\n1,0,4\n",
        "likes.csv": "\x03account,post,at\n1,0,5\n",
        "searches.csv": "\x04account,at,query\n0,6,games\n",
        "identifiers.csv": "\x05account,kind,value\n1,email,placeholder@example.invalid\n",
        "folder": "\x06@@ meta.json\n{\"synthetic\":true,\"seed\":1,\"format_version\":1,\"days\":30}\n@@ accounts.csv\nid,handle,declared_age,gender,country,interests,business,created_at,bio\n0,placeholder_a,15,woman,GB,games,false,0,hi\n@@ posts.csv\nid,author,created_at,features_minor,hashtags,caption\n@@ follows.csv\nsrc,dst,at\n@@ views.csv\nsrc,dst,at\n@@ likes.csv\naccount,post,at\n@@ comments.csv\naccount,post,at\n@@ searches.csv\naccount,at,query\n@@ reports.csv\nsrc,dst,at\n@@ blocks.csv\nsrc,dst,at\n",
    })
    write("event_batch", {
        "batch.ndjson": "".join(j(e) + "\n" for e in EVENTS),
        "batch.json": j(EVENTS),
        "bad.ndjson": '{"id":"x","type":"follow","at":1}\n{"type":"nope"}\nnot json\n',
    })
    api = routes("api_bodies")
    r = lambda *args, **kw: request(api, *args, **kw)
    write("api_bodies", {
        "events": r("POST", "/v1/events", "".join(j(e) + "\n" for e in EVENTS[:2])),
        "decide": r("POST", "/v1/decide/account_suggestions", j({"viewer": "101", "candidates": ["102", "103", "777"]})),
        "search": r("POST", "/v1/decide/search", j({"viewer": "101", "query": "games", "candidates": ["102"]})),
        "messages": r("POST", "/v1/decide/message_requests", j({"sender": "102", "candidates": ["101"]})),
        "autocomplete": r("POST", "/v1/decide/autocomplete", j({"query": "ga", "candidates": ["games", "gardens"]})),
        "text": r("POST", "/v1/text/check", j({"text": "hello there", "place": "bio"})),
        "filter": r("POST", "/v1/autocomplete/filter", j({"prefix": "ga", "suggestions": ["games", "gardens"]})),
        "signup": r("POST", "/v1/signup/decide", j({"handle": "fresh_start", "emails": ["Shared@example.invalid"], "phones": ["07700 900123"], "country": "GB", "declared_age": 30})),
        "media-hash": r("POST", "/v1/media/hash", "not an image"),
        "media-match": r("POST", "/v1/media/match", j({"hashes": [HASH_A, "pdq:" + HASH_B]})),
        "report": r("POST", "/v1/reports", j({"client_key": "k-1", "reporter": "101", "subject": {"account": "102"}, "category": "spam", "text": "placeholder", "media_hashes": ["pdq:" + HASH_A]})),
        "check": r("GET", "/v1/reports/check", "now=1764400000"),
        "ad": r("POST", "/v1/ads/{a}", j({"target_interests": ["fitness"], "declared_features_minor": True}), A_AD),
        "deliver": r("POST", "/v1/ads/{a}/deliver", j({"impressions": ["101", "102", "nobody"]}), A_AD),
        "reset": r("POST", "/v1/admin/rules/{a}/reset", j({"reason": "fixed"}), 3),
        "transition": r("POST", "/v1/reports/{a}/transitions", j({"to": "in_review", "reason": "picked up", "from": "open"}), 0),
        "referral": r("POST", "/v1/reports/{a}/referral", j({"incident_type": "online_enticement", "text_only_reason": "in comments", "files": [{"key": "m-1", "name": "note.txt", "content_base64": "aGVsbG8="}]}), 0),
        "enforcement": r("POST", "/v1/enforcement", j({"account": "102", "action": "takedown", "reason": "confirmed"})),
        "map": r("GET", "/v1/network/map", "limit=5"),
        "sequence": r("POST", "/v1/reports", j({"client_key": "k-1", "reporter": "101", "subject": {"account": "102"}, "category": "spam"})) + "\n###\n" + r("GET", "/v1/reports/{a}", "", 0),
    })
    hma = routes("hma_api")
    h = lambda *args, **kw: request(hma, *args, **kw)
    multipart = "--FUZZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nnot an image\r\n--FUZZ--\r\n"
    write("hma_api", {
        "bank-and-signal": h("POST", "/c/banks", j({"name": "FUZZ_BANK", "enabled": True})) + "\n###\n"
        + h("POST", "/c/bank/{a}/signal", j({"pdq": HASH_A, "metadata": {"content_id": "c1"}})) + "\n###\n"
        + h("GET", "/m/raw_lookup", f"signal_type=pdq&signal={HASH_A}") + "\n###\n"
        + h("GET", "/c/bank/{a}/content/{b}", "", 0, 2),
        "lookup": h("GET", "/m/lookup", f"signal_type=pdq&signal={HASH_B}"),
        "compare": h("POST", "/m/compare", j({"pdq": [HASH_A, HASH_B]})),
        "hash": h("POST", "/h/hash", multipart),
        "content": h("POST", "/c/banks", j({"name": "FUZZ_BANK"})) + "\n###\n" + h("POST", "/c/bank/{a}/content", multipart),
        "update": h("PUT", "/c/bank/{a}", j({"name": "TEST_BANK", "matching_enabled_ratio": 0.5})),
        "exchange": h("POST", "/c/exchanges", j({"api": "sample", "bank": "EX_BANK", "api_json": {}})),
        "form": h("POST", "/c/bank/{a}/signal", "signal_type=pdq&signal=" + HASH_A),
    })


if __name__ == "__main__":
    main()
