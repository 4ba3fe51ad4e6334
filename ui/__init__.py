"""The PhenoFace web app: one module per tab, assembled by `build_app`.

Tabs call the phenotype engine in ``models/``; they hold no model logic. Per-user data lives in
``gr.State``; nothing is shared between users but the read-only catalogue.
"""

from __future__ import annotations

import gradio as gr

from ui import generate, notice


def build_app(render_size: int = generate.DEFAULT_SIZE, generate_on_load: bool = True) -> gr.Blocks:
    """Build the app (not launched, no queue set).

    Args:
        render_size: width and height of each face in pixels (128 to 512).
        generate_on_load: draw an example when the page opens.

    Returns:
        the Blocks; the caller sets ``queue(...)`` and calls ``launch(...)``.
    """
    with gr.Blocks(title="PhenoFace: synthetic faces for genetics education") as demo:
        gr.Markdown(notice.HEADER_MARKDOWN)
        with gr.Tabs():
            generate.build_tab(demo, render_size=render_size, generate_on_load=generate_on_load)
        gr.Markdown(notice.FOOTER_MARKDOWN)
    return demo
