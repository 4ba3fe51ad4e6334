"""The app as its users meet it: ``python app.py`` driven by a real headless Chromium (Playwright).

Chromium comes from the system (Debian's ``chromium`` package, which ``.ci/run`` installs); Playwright
never downloads a browser. Outside CI the test is skipped when no Chromium is installed; in CI
(``CI=true``) a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil

import pytest
from PIL import Image

from tests.app_server import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("no system Chromium (apt-get install chromium); CI installs it", allow_module_level=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI must install Debian's chromium for the browser test"
    server = Server(tmp_path_factory.mktemp("browser"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(server.url, wait_until="load", timeout=120_000)
            yield page
            browser.close()
    finally:
        server.stop()


def _loaded_images(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(
        selector, "els => els.map(e => ({w: e.naturalWidth, complete: e.complete, alt: e.alt}))"
    )


def test_the_first_page_shows_the_notice_and_a_pair_of_faces(page, tmp_path):
    assert "not a diagnostic tool" in page.content() or "Not for diagnosis" in page.content()
    page.wait_for_function(
        "[...document.querySelectorAll('#phenoface-gallery img')].filter(i => i.complete && i.naturalWidth > 0)"
        ".length >= 2",
        timeout=120_000,
    )  # the example drawn when the page opens: a child and the same child without the syndrome
    images = [i for i in _loaded_images(page, "#phenoface-gallery img") if i["complete"]]
    assert len(images) >= 2 and all(i["w"] >= 128 for i in images)
    assert all(i["alt"] for i in images)  # each face is described for a screen reader
    shot = tmp_path / "generate.png"
    page.screenshot(path=str(shot), full_page=True)
    pixels = Image.open(shot).convert("L")
    lo, hi = pixels.getextrema()
    assert pixels.size[0] >= 1000 and hi - lo > 100  # a real page, not a blank one


def test_arrow_keys_move_between_the_choices_of_a_radio_group(page):
    page.get_by_role("tab", name="Explain").click()
    draw = page.get_by_label("Draw a synthetic face")
    draw.check()
    draw.focus()
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("Upload an image").is_checked()
    page.get_by_text("Click to Upload").wait_for(state="visible", timeout=10_000)  # the app saw the change
    page.keyboard.press("ArrowUp")
    assert draw.is_checked()
    page.get_by_text("Click to Upload").wait_for(state="hidden", timeout=10_000)


def test_explain_draws_a_saliency_map_in_the_browser(page):
    page.get_by_role("tab", name="Explain").click()
    page.get_by_role("button", name="Explain", exact=True).click()
    page.wait_for_function(
        "[...document.querySelectorAll('img')].filter(i => i.src.startsWith('data:image/png')).length >= 2",
        timeout=120_000,
    )
    shown = page.eval_on_selector_all(
        "img", "els => els.filter(e => e.src.startsWith('data:image/png')).map(e => e.naturalWidth)"
    )
    assert len(shown) >= 2 and min(shown) >= 112
    assert "Integrated Gradients" in page.content()


def test_an_uploaded_image_is_explained_in_the_browser(page, tmp_path):
    from models.faces import draw_face
    from models.phenotype.spec import RenderSpec

    photo = tmp_path / "child.png"
    Image.fromarray(draw_face(RenderSpec(syndrome="noonan", age=7, seed=3, size=256)).unmarked).save(photo)
    page.get_by_role("tab", name="Explain").click()
    page.get_by_text("Upload an image").click()
    with page.expect_file_chooser() as chooser:  # as a user does: click the upload box, pick a file
        page.get_by_text("Click to Upload").click()
    chooser.value.set_files(str(photo))
    page.wait_for_function(  # the upload is explained as soon as it arrives
        "document.body.innerText.includes('ranking is hidden for uploaded images')", timeout=120_000
    )
    text = page.inner_text("body")
    assert "top-1 class (hidden)" in text and "not uploaded to this server" not in text
    assert "Noonan syndrome (OMIM" not in text  # no syndrome is named for an upload outside research mode


def test_the_quiz_face_is_described_for_screen_readers(page):
    page.get_by_role("tab", name="Quiz").click()
    page.get_by_label("Your name").fill("Sam")
    page.get_by_role("button", name="Start quiz").click()
    page.wait_for_function(
        "[...document.querySelectorAll('#phenoface-quiz-face img')].some(i => i.complete && i.naturalWidth > 0)",
        timeout=120_000,
    )
    alts = page.eval_on_selector_all("#phenoface-quiz-face img", "els => els.map(e => e.alt)")
    assert alts and all("Synthetic face" in a for a in alts)
    assert not any(word in " ".join(alts) for word in ("syndrome", "Down", "Noonan"))  # no answer given away


def test_after_next_question_focus_is_on_the_new_question(page):
    page.get_by_role("tab", name="Quiz").click()
    page.locator("#phenoface-quiz-answer input[type=radio]").first.check()
    page.locator("#phenoface-quiz-confidence input[type=radio]").nth(2).check()
    page.get_by_role("button", name="Submit answer").click()
    page.get_by_role("button", name="Next question").wait_for(state="visible", timeout=60_000)
    page.wait_for_function(  # the saliency map follows the feedback by itself (its own event)
        "[...document.querySelectorAll('#phenoface-quiz-saliency img')].some(i => i.complete && i.naturalWidth > 0)",
        timeout=120_000,
    )
    assert "being drawn" not in page.inner_text("body")
    before = page.inner_text("#phenoface-quiz-prompt")
    page.get_by_role("button", name="Next question").click()
    page.wait_for_function(
        "document.activeElement && document.activeElement.closest('#phenoface-quiz-prompt') !== null", timeout=60_000
    )
    assert page.inner_text("#phenoface-quiz-prompt")  # a question is shown where the focus is
    page.keyboard.press("Tab")  # and the answers are the next stop, not 35 presses away
    focused = page.evaluate("document.activeElement.closest('#phenoface-quiz-answer') !== null")
    assert focused, before


def test_a_dropdown_list_closes_when_the_keyboard_moves_on(page):
    page.get_by_role("tab", name="Generate").click()
    page.get_by_label("Eye colour").click()
    for _ in range(3):  # past the hair colour dropdown too
        page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    open_lists = page.eval_on_selector_all("[role=listbox]", "els => els.filter(e => e.offsetParent !== null).length")
    assert open_lists == 0


@pytest.mark.parametrize("tab", ["Generate", "Explain", "Quiz", "About"])
def test_every_tab_has_no_critical_or_serious_accessibility_finding(page, tab):
    # axe-core (vendored by axe-playwright-python) on each tab as the earlier tests left it: faces drawn,
    # a map explained, a quiz started
    from axe_playwright_python.sync_playwright import Axe

    page.get_by_role("tab", name=tab).click()
    page.wait_for_timeout(1000)
    violations = Axe().run(page).response["violations"]
    severe = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
    severe = [s for s in severe if s[1] in ("critical", "serious")]
    assert not severe, severe


def test_a_failed_upload_shows_one_message_not_an_error_on_every_output(page, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not an image at all")
    page.get_by_role("tab", name="Explain").click()
    page.get_by_text("Upload an image").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Click to Upload").click()
    chooser.value.set_files(str(broken))
    page.wait_for_function("document.body.innerText.includes('Could not read the file')", timeout=60_000)
    # Gradio marks each output of a failed event with its status tracker's "Error" (six did); now only the
    # message box does, beside the one toast that says what went wrong
    badges = page.eval_on_selector_all(
        ".error",
        "els => els.filter(e => e.offsetParent !== null && e.innerText.trim() === 'Error')"
        ".map(e => e.className.includes('toast') ? 'toast' : 'output')",
    )
    assert badges.count("toast") == 1 and badges.count("output") <= 1, badges
