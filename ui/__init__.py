"""The PhenoFace web app: one module per tab, assembled by `build_app`.

Tabs call the models in ``models/``; they hold no model logic. Models are loaded lazily and
shared read-only (`models.runtime`); per-user data lives in ``gr.State`` or the quiz database,
never in module globals.
"""

from __future__ import annotations

import gradio as gr

from ui import about, accounts, classroom, explain, generate, notice, quiz
from ui.explain_files import MAX_UPLOAD_BYTES

__all__ = ["ACCESSIBILITY_SCRIPT", "MAX_UPLOAD_BYTES", "THEME", "accounts", "build_app"]

#: Uploaded and generated files older than 30 minutes are removed from Gradio's cache every 10
#: minutes; uploads are also deleted right after processing (see `ui.explain_files`), and the whole
#: cache with the process's folder at shutdown (`models.tempfiles`).
DELETE_CACHE = (600, 1800)


#: Gradio's default theme with enough contrast to read (WCAG 2.1 AA, 4.5:1; axe-core's color-contrast rule):
#: its subdued text (slider limits, info lines, the footer) #bbbbc2 on white is 1.9:1, #5f5f6b is 6.3:1; white on
#: its primary orange #f97316 is 2.8:1, on #c2410c 5.2:1.
THEME = gr.themes.Default().set(
    body_text_color_subdued="#5f5f6b",
    body_text_color_subdued_dark="#c8c8d0",
    button_primary_background_fill="#c2410c",
    button_primary_background_fill_hover="#9a3412",
    button_primary_background_fill_dark="#c2410c",
    button_primary_background_fill_hover_dark="#9a3412",
    button_primary_text_color="#ffffff",
    button_primary_text_color_dark="#ffffff",
)


#: Three accessibility repairs of Gradio 6's markup, run in the page (passed to ``launch(head=...)``):
#: its Image has no alt text, so the pictures that carry meaning are named for screen readers, without giving
#: a quiz answer away (the face is described, never named); and each radio button of a group has its own
#: ``name``, so the arrow keys did not move between the choices: the buttons of one group get one name; and a
#: dropdown's list stayed open over the page when the keyboard moved on: it is closed when focus leaves it.
ACCESSIBILITY_SCRIPT = """<script>
(() => {
  const alts = {
    "phenoface-quiz-face": "Synthetic face of the child in this question, marked SYNTHETIC",
    "phenoface-quiz-saliency": "Saliency map over the synthetic face: brighter areas moved the classifier more",
  };
  const name = () => {
    document.querySelectorAll("fieldset").forEach((group) => {
      const radios = group.querySelectorAll("input[type=radio]");
      if (radios.length > 1 && new Set([...radios].map((r) => r.name)).size > 1) {
        const shared = "phenoface-" + radios[0].name;
        radios.forEach((r) => { r.name = shared; });
      }
    });
    for (const [id, text] of Object.entries(alts)) {
      document.querySelectorAll(`#${id} img`).forEach((img) => { if (!img.alt) img.alt = text; });
      document.querySelectorAll(`#${id} button`).forEach((b) => {
        if (!b.getAttribute("aria-label") && !b.textContent.trim()) b.setAttribute("aria-label", text);
      });
    }
  };
  new MutationObserver(name).observe(document.documentElement, { childList: true, subtree: true });
  // a dropdown's list stays open when the keyboard leaves it; close every list whose dropdown lost focus
  document.addEventListener("focusin", () => {
    document.querySelectorAll("[role=listbox]").forEach((list) => {
      const block = list.closest(".block");
      const input = block && block.querySelector("input");
      if (input && !block.contains(document.activeElement) && list.offsetParent !== null) {
        input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
        input.dispatchEvent(new FocusEvent("blur"));
      }
    });
  });
})();
</script>"""


def build_app(render_size: int = generate.DEFAULT_SIZE, generate_on_load: bool = True) -> gr.Blocks:
    """Build the app (not launched, no queue set).

    Args:
        render_size: width and height of each face in pixels (128 to 512).
        generate_on_load: draw an example when the page opens.

    Returns:
        the Blocks; the caller sets ``queue(...)`` and calls ``launch(...)``.
    """
    with gr.Blocks(
        title="PhenoFace: synthetic faces for genetics education",
        delete_cache=DELETE_CACHE,
        analytics_enabled=False,
    ) as demo:
        gr.Markdown(notice.HEADER_MARKDOWN)
        with gr.Tabs():
            generate.build_tab(demo, render_size=render_size, generate_on_load=generate_on_load)
            explain.build_tab(demo)
            quiz.build_tab(demo)
            classroom.build_tab(demo)
            about.build_tab(demo)
        gr.Markdown(notice.FOOTER_MARKDOWN)
    return demo
