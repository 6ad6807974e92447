"""The reviewer console in a real browser (issue 14): logins and roles, a case worked from
the queue to closed, media blurred until an audited reveal, CSRF refusals, markup shown as
text, the network drawing, the rules page's shadow publish and one-click promotion, and
axe-core over the main pages. Screenshots go to target/browser-artifacts/.

What it must never do: pass without having looked: each test asserts what the page shows
after the action, not only that a request succeeded.
"""

import os
import re
from pathlib import Path

import pytest

from conftest import ARTIFACTS, BASE, MARKUP_BIO, MARKUP_HANDLE, USERS, api, login, shot

ROLE_PAGES = {"reviewer": "/queue", "investigator": "/network", "admin": "/rules"}


@pytest.mark.parametrize("role", ["reviewer", "investigator", "admin"])
def test_every_role_logs_in_and_out(browser, reports, role):
    page = login(browser, role)
    assert f"({role})" in page.inner_text("header .who")
    response = page.goto(BASE + ROLE_PAGES[role])
    assert response.status == 200
    page.click("form.logout button")
    page.wait_for_url(BASE + "/login")
    # The session is gone: a page sends the browser back to the login form.
    page.goto(BASE + "/queue")
    assert page.url == BASE + "/login"
    page.context.close()


def test_no_session_redirects_to_login(browser, reports):
    context = browser.new_context()
    page = context.new_page()
    page.goto(BASE + "/cases/" + reports["grooming"])
    assert page.url == BASE + "/login"
    assert page.locator("input[type=hidden][name=csrf]").count() == 1
    # The session cookie is HttpOnly and SameSite once set.
    context.close()


def test_session_cookie_is_httponly_and_samesite(as_role):
    page = as_role("reviewer")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["guardrail_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("guardrail_session") == -1


def test_lockout_after_repeated_failures(browser, reports):
    name, password = os.environ["GUARDRAIL_LOCKED_USER"], os.environ["GUARDRAIL_LOCKED_PASSWORD"]
    context = browser.new_context()
    page = context.new_page()
    for _ in range(5):
        page.goto(BASE + "/login")
        page.fill("#username", name)
        page.fill("#password", "not the password at all")
        page.click("form.login button")
    assert "locked" in page.inner_text("main")
    # Locked: even the right password is refused now.
    page.goto(BASE + "/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("form.login button")
    assert page.url.startswith(BASE + "/login")
    assert "locked" in page.inner_text("main")
    context.close()


def test_reviewer_works_a_case_from_queue_to_closed(as_role, reports):
    page = as_role("reviewer")
    report = reports["grooming"]
    page.select_option("#category", "child_grooming")
    page.click("form.filters button")
    row = page.locator(f"tr.report-row[data-report='{report}']")
    assert row.count() == 1
    assert re.search(r"due in|overdue by", row.locator("td.sla").inner_text())
    # Child-safety first: the first row of the unfiltered queue is priority 0.
    page.goto(BASE + "/queue")
    assert page.locator("tr.report-row td").first.inner_text() == "P0"
    shot(page, "queue")
    page.locator(f"tr.report-row[data-report='{report}'] button", has_text="Claim").click()
    page.wait_for_url(BASE + f"/cases/{report}")
    assert page.inner_text("#case-state") == "in_review"
    # The text guard's match is highlighted in the reporter's words.
    assert page.locator("blockquote.report-text mark").count() >= 1
    shot(page, "case")
    page.check("input[name=decision][value=no_violation]")
    page.fill("#reason", "looked at the messages: no violation")
    page.click("form.decide button[type=submit]")
    page.wait_for_url(BASE + f"/cases/{report}")
    assert page.inner_text("#case-state") == "no_violation"
    page.fill("#close-reason", "decided; closing")
    page.click("form.close button")
    assert page.inner_text("#case-state") == "closed"
    history = page.locator("table.history tbody tr")
    assert history.count() == 3
    reviewer = USERS["reviewer"][0]
    assert f"person:{reviewer}" in history.nth(1).inner_text()
    assert "looked at the messages" in history.nth(1).inner_text()


def test_action_labels_the_entity_with_expiry(as_role, reports):
    page = as_role("reviewer")
    report = reports["spam"]
    page.goto(BASE + f"/cases/{report}")
    page.click("text=Claim this case")
    page.check("input[name=decision][value=action]")
    page.fill("#label", "spam-restricted")
    page.fill("#expires_days", "30")
    page.fill("#reason", "adverts in every comment")
    page.click("form.decide button[type=submit]")
    assert page.inner_text("#case-state") == "actioned"
    assert "spam-restricted" in page.inner_text("section.account")


def test_media_blurred_by_default_and_reveal_audited(as_role, reports):
    page = as_role("reviewer")
    report = reports["media"]
    page.goto(BASE + f"/cases/{report}")
    images = page.locator("img.media")
    assert images.count() == 2
    for index in range(2):
        style = images.nth(index).evaluate("i => getComputedStyle(i).filter")
        assert "blur" in style and "grayscale" in style, style
    # The banked hash shows its bank and distance.
    assert "TEST_BANK" in page.inner_text(".media-grid")
    assert "distance 0" in page.inner_text(".media-grid")
    shot(page, "case-media")
    # htmx swaps the item in place: the page is not reloaded (the marker survives).
    page.evaluate("window.__still_here = true")
    page.click("#media-0 button.reveal")
    page.wait_for_selector("#media-0 img.revealed")
    assert page.evaluate("window.__still_here === true")
    assert not [m for m in page.messages if "Content Security Policy" in m], page.messages
    assert page.locator("#media-0 img").evaluate("i => getComputedStyle(i).filter") == "none"
    assert "blur" in page.locator("#media-1 img").evaluate("i => getComputedStyle(i).filter")
    admin = as_role("admin")
    admin.goto(BASE + "/audit")
    views = admin.locator("table.evidence-views tbody tr")
    reviewer = USERS["reviewer"][0]
    assert any(
        f"person:{reviewer}" in views.nth(i).inner_text() and report in views.nth(i).inner_text()
        for i in range(views.count())
    )
    assert "verifies" in admin.inner_text("#chain-status")
    shot(admin, "audit")


@pytest.mark.parametrize(
    "role,path",
    [("reviewer", "/network"), ("reviewer", "/rules"), ("reviewer", "/audit"), ("investigator", "/rules"), ("investigator", "/audit")],
)
def test_a_role_cannot_open_another_roles_page(as_role, role, path):
    page = as_role(role)
    response = page.goto(BASE + path)
    assert response.status == 403
    assert "needs the" in page.inner_text("main")


def test_forms_without_their_csrf_token_are_refused(as_role, browser, reports):
    page = as_role("reviewer")
    report = reports["markup"]
    # Same cookies as the page (the session), but no token, then someone else's token.
    for form in ({"from": "received"}, {"from": "received", "csrf": "0" * 64}):
        response = page.request.post(BASE + f"/queue/{report}/claim", form=form, max_redirects=0)
        assert response.status == 403
        assert "CSRF" in response.text()
    page.goto(BASE + f"/cases/{report}")
    assert page.inner_text("#case-state") == "received"
    # The login form too: its token is tied to a cookie set with the form.
    context = browser.new_context()
    response = context.request.post(BASE + "/login", form={"username": "x", "password": "y" * 12})
    assert response.status == 403
    context.close()


def test_markup_in_handle_and_bio_renders_as_text(as_role, reports):
    page = as_role("reviewer")
    page.goto(BASE + f"/cases/{reports['markup']}")
    assert page.inner_text("dd.handle") == "@" + MARKUP_HANDLE
    assert page.inner_text("dd.bio") == MARKUP_BIO
    assert "<script>window.__xss=3</script>" in page.inner_text("blockquote.report-text")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main script, main img[src=x], main b").count() == 0
    assert page.errors == []


# Markup that would run, or add elements, if any value reached a page unescaped.
MARKUP_REASON = '<img src=x onerror="window.__xss=4"><b>reason</b>'
MARKUP_TEXT = "<script>window.__xss=5</script><b>caption</b>"


@pytest.fixture(scope="module")
def markup_everywhere(reports):
    """Markup in every free-text field a page can show: an enforcement's action, reason
    and rule, a post's text and hashtag, a report transition's reason."""
    status, answer = api("POST", "/v1/events", [
        {"id": "p-markup", "type": "post", "at": 1_764_400_100, "account": "207", "post": "p-markup",
         "text": MARKUP_TEXT, "hashtags": ["<b>tag</b>"]},
    ])
    assert status == 200, (status, answer)
    status, answer = api("POST", "/v1/enforcement", {
        "id": "enf-markup", "account": "207", "action": "<b>restrict</b>", "reason": MARKUP_REASON,
        "rule": "<script>window.__xss=6</script>"})
    assert status in (200, 201), (status, answer)
    # A report of its own, so no other test has moved it first.
    status, report = api("POST", "/v1/reports", {"client_key": "k-markup-reason", "reporter": "205",
                                                 "subject": {"account": "207"}, "category": "spam",
                                                 "text": MARKUP_TEXT})
    assert status in (200, 201), (status, report)
    status, answer = api("POST", f"/v1/reports/{report['id']}/transitions",
                         {"to": "in_review", "reason": MARKUP_REASON})
    assert status == 200, (status, answer)
    return {**reports, "reasoned": report["id"]}


# Where the markup must be visible, as the characters it is made of.
SHOWN_AS_TEXT = {
    "/cases/{markup}": [MARKUP_HANDLE, MARKUP_BIO],
    "/cases/{reasoned}": [MARKUP_REASON, MARKUP_TEXT],
    "/accounts/207": [MARKUP_HANDLE, MARKUP_BIO],
}


@pytest.mark.parametrize("path", ["/queue", "/cases/{markup}", "/cases/{reasoned}", "/accounts/207", "/network",
                                  "/ads", "/transparency", "/audit", "/rules"])
def test_every_page_renders_every_value_as_text(as_role, markup_everywhere, path):
    page = as_role("admin")
    response = page.goto(BASE + path.format(**markup_everywhere))
    assert response.status == 200, path
    assert page.evaluate("typeof window.__xss") == "undefined", path
    # No element the markup would have made: scripts, images pointing at x, bold tags.
    assert page.locator("main script, main img[src=x], main b").count() == 0, path
    assert page.errors == [], path
    shown = page.inner_text("main")
    for text in SHOWN_AS_TEXT.get(path, []):
        assert text in shown, (path, text)


def test_network_drawing_renders_its_nodes(as_role, reports):
    page = as_role("investigator")
    page.goto(BASE + "/network")
    assert page.locator("table.suspects tbody tr").count() >= 1
    shot(page, "network-map")
    page.goto(BASE + "/accounts/203")
    nodes = page.locator("svg.neighbourhood circle.node")
    assert nodes.count() >= 3
    assert page.locator("svg.neighbourhood circle.centre").count() == 1
    assert page.locator("svg.neighbourhood circle.node title").first.text_content().startswith("account 203")
    box = nodes.first.bounding_box()
    assert box and box["width"] > 10
    # Linked accounts: 206 shares an email with 203.
    assert "206" in page.inner_text("ul.linked")
    shot(page, "account")


NEW_RULE = """
[[rule]]
id = "console-test-rule"
surfaces = ["feed"]
when = ["viewer.minor"]
action = "drop"
mode = "enforce"
description = "A rule added in the browser test: no feed for minors at all."
"""


def test_rules_publish_in_shadow_then_promote(as_role):
    page = as_role("admin")
    page.goto(BASE + "/rules")
    toml = page.input_value("#rules-toml")
    page.fill("#rules-toml", toml + NEW_RULE)
    page.click("text=Publish (new and changed rules in shadow)")
    page.wait_for_url(re.compile(r".*/rules\?published=\d+"))
    backfill = page.locator("#backfill-console-test-rule")
    assert backfill.count() == 1, "a new rule goes out in shadow, with its backfill"
    # The minor's feed allowed some candidates: enforced, the rule would drop them.
    assert int(backfill.locator(".changes").inner_text()) > 0
    assert "feed" in backfill.locator("ul.samples").inner_text()
    assert "shadow" in page.locator("table.rules", has_text="console-test-rule").first.inner_text()
    # In force at once: the running guard enforces the published version.
    assert "enforces this version" in page.inner_text("main")
    shot(page, "rules")
    backfill.locator("button").click()
    page.wait_for_url(re.compile(r".*/rules\?published=\d+"))
    assert page.locator("#backfill-console-test-rule").count() == 0
    row = page.locator("table.rules tr", has_text="console-test-rule").first
    assert "enforce" in row.inner_text()
    page.goto(BASE + "/audit")
    assert "discovery rules" in page.inner_text("table.publishes")


AXE = os.environ.get("AXE_PATH", "")


@pytest.mark.parametrize(
    "role,path",
    [
        ("reviewer", "/queue"),
        ("reviewer", "/cases/{media}"),
        ("investigator", "/network"),
        ("investigator", "/accounts/203"),
        ("admin", "/rules"),
        ("reviewer", "/transparency"),
        ("admin", "/audit"),
        (None, "/login"),
    ],
)
def test_axe_finds_no_serious_violation(browser, as_role, reports, role, path):
    assert AXE and Path(AXE).is_file(), "AXE_PATH must name axe.min.js (scripts/browser_test.sh installs it)"
    # The page's CSP forbids injected scripts; only the axe context bypasses it.
    if role is None:
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
    else:
        page = as_role(role, bypass_csp=True)
    page.goto(BASE + path.format(**reports))
    page.add_script_tag(path=AXE)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], "\n".join(serious)
    if role is None:
        context.close()


def test_pages_carry_a_strict_content_security_policy(as_role):
    page = as_role("reviewer")
    response = page.goto(BASE + "/queue")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.evaluate("typeof htmx") == "object", "htmx loads from /assets"
    # Nothing on the pages, htmx included, needs what the policy forbids.
    for path in ("/queue", "/transparency"):
        page.goto(BASE + path)
    assert not [m for m in page.messages if "Content Security Policy" in m], page.messages
