"""A class server in a real browser: Gradio's sign-in page and the Class tab, with axe-core's accessibility
check on both (zero critical and serious findings), an educator creating a class and a learner joining it. Skipped
without a system Chromium outside CI, as tests/test_browser.py is (importing it skips this module too)."""

from __future__ import annotations

from models.quiz.programme import ProgrammeStore
from tests.app_server import Server
from tests.test_browser import CHROMIUM


def _severe(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations
            if v["impact"] in ("critical", "serious")]  # fmt: skip


def _sign_in(page, name: str, password: str) -> None:
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.get_by_role("tab", name="Class").wait_for(timeout=120_000)


def test_sign_in_and_the_class_tab_in_a_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI must install Debian's chromium for the browser test"
    db = str(tmp_path / "class.sqlite3")
    store = ProgrammeStore(db)
    store.create_account("Dr Rivera", "teaching-2026", role="educator")
    store.create_account("Ada", "ada-password")
    server = Server(tmp_path / "server", args=("--accounts", "--db", db))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(server.url, wait_until="load", timeout=120_000)
            assert "sign in with the name and password you were given" in page.content()
            # Gradio's own sign-in page has no <title> (its page head, where the app's scripts go, is added
            # only after signing in): the one serious finding there, and none critical
            assert [s[0] for s in _severe(page)] in ([], ["document-title"]), _severe(page)
            page.get_by_label("username").fill("Ada")
            page.get_by_label("password").fill("wrong password")
            page.get_by_role("button", name="Login").click()
            page.wait_for_timeout(1500)
            assert page.get_by_role("tab", name="Class").count() == 0  # still on the sign-in page
            _sign_in(page, "Dr Rivera", "teaching-2026")
            page.get_by_role("tab", name="Class").click()
            page.get_by_text("Educators: create a class").click()
            page.get_by_label("Class title").fill("<b>Residents</b> 2026")
            page.get_by_role("button", name="Create class").click()
            page.wait_for_function(
                "document.body.innerText.includes('Learners join it with the code')", timeout=60_000
            )
            text = page.inner_text("body")
            code = text.split("Learners join it with the code ")[1].split(".")[0].strip()
            assert "<b>Residents</b> 2026" in text  # the title shown as text, not markup
            assert not _severe(page), _severe(page)
            page.screenshot(path=str(tmp_path / "class_tab.png"), full_page=True)
            quiz = page.get_by_role("tab", name="Quiz")
            quiz.click()
            page.wait_for_function(
                "[...document.querySelectorAll('input, textarea')].some(e => e.value === 'Dr Rivera')", timeout=60_000
            )  # the signed-in name fills the Quiz tab
            assert not _severe(page), _severe(page)
            context = browser.new_context(viewport={"width": 1280, "height": 1400})
            learner = context.new_page()
            learner.goto(server.url, wait_until="load", timeout=120_000)
            _sign_in(learner, "Ada", "ada-password")
            learner.get_by_role("tab", name="Class").click()
            learner.get_by_label("Class code").fill(code.lower())
            learner.get_by_role("button", name="Join", exact=True).click()
            learner.wait_for_function("document.body.innerText.includes('You have joined')", timeout=60_000)
            browser.close()
    finally:
        server.stop()
    assert ProgrammeStore(db).class_answers("Dr Rivera", code) == []  # joined, no answers yet
