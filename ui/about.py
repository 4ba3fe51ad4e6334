"""The About tab (being built)."""

from __future__ import annotations

import gradio as gr


def build_tab(demo: gr.Blocks) -> None:
    """Lay out the About tab inside ``demo``."""
    with gr.Tab("About"):
        gr.Markdown("This tab is being built.")
