"""The Explain tab (being built)."""

from __future__ import annotations

import gradio as gr


def build_tab(demo: gr.Blocks) -> None:
    """Lay out the Explain tab inside ``demo``."""
    with gr.Tab("Explain"):
        gr.Markdown("This tab is being built.")
