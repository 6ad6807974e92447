"""Fixtures of the console's browser tests: the seeded server, the browser, logins.

What it is for: scripts/browser_test.sh starts `guardrail serve` on a throwaway ledger with
one console user per role and passes their names and passwords here in the environment;
the session fixture seeds a small synthetic platform through the JSON API (accounts with
invented placeholder handles, follows, posts with made-up PDQ hashes, a hash bank, reports)
so every page has something to show. The browser is the system Chromium.

What it must never do: talk to anything but the server the script started, download a
browser, or use real account names or real images (media are stand-ins drawn from hashes).
"""

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

BASE = os.environ.get("GUARDRAIL_BASE", "")
TOKEN = os.environ.get("GUARDRAIL_TOKEN", "")
ARTIFACTS = Path(os.environ.get("GUARDRAIL_ARTIFACTS", "target/browser-artifacts"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
T0 = int(time.time()) - 3_600

# A made-up PDQ hash (not of any image) that the seeded bank holds, and one it does not.
BANKED = "c3" * 32
UNBANKED = "5a" * 16 + "a5" * 16
# Markup in a handle and a bio: it must show as text, and nothing of it may run.
MARKUP_HANDLE = "<b>x</b><script>window.__xss=1</script>"
MARKUP_BIO = '<img src=x onerror="window.__xss=2">bio'

USERS = {
    role: (os.environ[f"GUARDRAIL_{role.upper()}_USER"], os.environ[f"GUARDRAIL_{role.upper()}_PASSWORD"])
    for role in ("reviewer", "investigator", "admin")
    if f"GUARDRAIL_{role.upper()}_USER" in os.environ
}


def api(method, path, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def seed():
    """The synthetic platform and its reports; answers report ids by name."""
    events = [
        {"id": "a201", "type": "account_created", "at": T0, "account": "201", "handle": "kid_placeholder", "declared_age": 14, "bio": "games"},
        {"id": "a202", "type": "account_created", "at": T0 + 1, "account": "202", "handle": "seed_placeholder", "declared_age": 30, "bio": "mnsfw trades"},
        {"id": "a203", "type": "account_created", "at": T0 + 2, "account": "203", "handle": "suspect_placeholder", "declared_age": 33, "bio": "collector", "emails": ["shared@example.invalid"]},
        {"id": "a204", "type": "account_created", "at": T0 + 3, "account": "204", "handle": "follower_placeholder", "declared_age": 40, "bio": "hiking"},
        {"id": "a205", "type": "account_created", "at": T0 + 4, "account": "205", "handle": "other_placeholder", "declared_age": 28, "bio": "cooking"},
        {"id": "a206", "type": "account_created", "at": T0 + 5, "account": "206", "handle": "alt_placeholder", "declared_age": 33, "bio": "new here", "emails": ["shared@example.invalid"]},
        {"id": "a207", "type": "account_created", "at": T0 + 6, "account": "207", "handle": MARKUP_HANDLE, "declared_age": 25, "bio": MARKUP_BIO},
        {"id": "f1", "type": "follow", "at": T0 + 10, "account": "203", "target": "202"},
        {"id": "f2", "type": "follow", "at": T0 + 11, "account": "202", "target": "203"},
        {"id": "f3", "type": "follow", "at": T0 + 12, "account": "204", "target": "203"},
        {"id": "f4", "type": "follow", "at": T0 + 13, "account": "203", "target": "201"},
        {"id": "f5", "type": "follow", "at": T0 + 14, "account": "205", "target": "204"},
        {"id": "f6", "type": "follow", "at": T0 + 15, "account": "206", "target": "202"},
        {"id": "p1", "type": "post", "at": T0 + 20, "account": "203", "post": "p-1", "text": "new set", "hashtags": ["trade"], "media_hashes": [f"pdq:{BANKED}"]},
    ]
    status, answer = api("POST", "/v1/events", events)
    assert status in (200, 201), (status, answer)
    status, answer = api("POST", "/c/banks", {"name": "TEST_BANK", "enabled": "true", "matching_enabled_ratio": 1.0})
    assert status in (201, 403), (status, answer)
    status, answer = api("POST", "/c/bank/TEST_BANK/signal", {"pdq": BANKED})
    assert status == 200, (status, answer)
    status, answer = api("POST", "/v1/admin/remap")
    assert status == 200, (status, answer)
    # Decisions for the rules page's backfill: a minor's feed and an adult's, repeated.
    for _ in range(12):
        for viewer in ("201", "205"):
            status, answer = api("POST", "/v1/decide/feed", {"viewer": viewer, "candidates": ["202", "203", "204", "205", "206"]})
            assert status == 200, (status, answer)
    reports = {
        "grooming": {"client_key": "k-grooming", "reporter": "201", "subject": {"account": "203"}, "category": "child_grooming", "text": "keeps offering mnsfw trades in messages"},
        "media": {"client_key": "k-media", "reporter": "204", "subject": {"post": "p-1"}, "category": "child_sexual_exploitation", "text": "this post", "media_hashes": [f"pdq:{UNBANKED}"]},
        "markup": {"client_key": "k-markup", "reporter": "205", "subject": {"account": "207"}, "category": "harassment", "text": "<script>window.__xss=3</script> rude messages"},
        "spam": {"client_key": "k-spam", "reporter": "205", "subject": {"account": "205"}, "category": "spam", "text": "adverts"},
    }
    ids = {}
    for name, body in reports.items():
        status, answer = api("POST", "/v1/reports", body)
        assert status == 201, (name, status, answer)
        ids[name] = answer["id"]
    return ids


@pytest.fixture(scope="session")
def reports():
    assert BASE and TOKEN, "run through scripts/browser_test.sh (GUARDRAIL_BASE and GUARDRAIL_TOKEN unset)"
    return seed()


@pytest.fixture(scope="session")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # The system Chromium; as root it needs --no-sandbox.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def login(browser, role, **context_options):
    """A new browser context signed in as the user of `role`; answers its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.messages = messages
    name, password = USERS[role]
    page.goto(BASE + "/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")
    page.wait_for_url(BASE + "/queue")
    return page


@pytest.fixture()
def as_role(browser, reports):
    pages = []

    def open_as(role, **options):
        page = login(browser, role, **options)
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.context.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
