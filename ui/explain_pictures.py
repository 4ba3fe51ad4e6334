"""Pictures of the Explain tab: the aligned crop and the heat map side by side as inline images, and
the bar chart of the classifier's top classes (HTML: its names and numbers are text a screen reader
reads, and drawing it costs nothing on the server, where a matplotlib figure cost 0.2 s per answer).

Images go to the page as inline PNG data, not as files: an upload's pictures stay in memory; a drawn
face's pictures pass through its session folder so that they keep their provenance metadata.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from models import provenance
from ui import notice
from ui.explain_tables import ExplainResult


def _png_data_url(image: np.ndarray, info: dict | None = None, path: Path | None = None) -> str:
    """An image as an inline PNG; drawn faces keep their provenance metadata (written via the session folder)."""
    if info is not None and path is not None:
        data = provenance.save_png(image, path, info).read_bytes()
    else:  # an upload's picture stays in memory
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG", compress_level=provenance.PNG_COMPRESS_LEVEL)
        data = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def pictures_html(result: ExplainResult, session_dir: str | None = None) -> str:
    """The aligned crop and the heat map side by side, as inline images (no file for uploads)."""
    folder = Path(session_dir) if result.synthetic and session_dir else None
    info = provenance.png_metadata(generator="PhenoFace app (Explain)", app_notice=notice.NOTICE) if folder else None
    crop = _png_data_url(result.crop, info, folder / "crop.png" if folder else None)
    heat = _png_data_url(result.overlay, info, folder / "overlay.png" if folder else None)
    kind = "synthetic face" if result.synthetic else "uploaded image (not stored)"
    figure = (
        '<figure style="margin:0;max-width:336px"><img src="{src}" alt="{alt}" style="width:100%;height:auto">'
        '<figcaption style="font-size:13px">{caption}</figcaption></figure>'
    )
    return (
        '<div style="display:flex;gap:12px;flex-wrap:wrap">'
        + figure.format(src=crop, alt=f"Aligned crop of the {kind}", caption=f"Aligned crop of the {kind}")
        + figure.format(src=heat, alt="Heat map of positive attribution", caption="Positive attribution (cividis)")
        + "</div>"
        '<div style="font-size:12px;margin-top:6px">low <span style="display:inline-block;width:140px;height:10px;'
        'background:linear-gradient(to right,#00224e,#575d6d,#a59c74,#fee838);vertical-align:middle"></span> high '
        "attribution toward the target (only positive attribution is drawn)</div>"
    )


TOP_TITLE = "The classifier's top 5 (trained on synthetic faces only; not a diagnosis)"


def top_figure(top: pd.DataFrame) -> str:
    """A horizontal bar chart of the top classes' probabilities, as HTML (a list of labelled bars).

    Args:
        top: the table of `ui.explain_tables.top_table` with its "Probability" column.

    Returns:
        HTML: a titled figure with one row per class, most probable first, each with its name, a bar
        as wide as its probability and the probability as text.
    """
    rows = []
    for name, p in zip(top["Syndrome"], top["Probability"], strict=True):
        p = min(max(float(p), 0.0), 1.0)
        rows.append(
            '<li style="display:flex;align-items:center;gap:8px;margin:3px 0">'
            f'<span style="flex:0 0 14em;text-align:right">{html.escape(str(name))}</span>'
            f'<span aria-hidden="true" style="flex:0 0 auto;width:{p * 16:.2f}em;height:0.9em;background:#3b528b">'
            f"</span><span>{p:.2f}</span></li>"
        )
    return (
        f'<figure style="margin:0"><figcaption style="font-weight:600">{html.escape(TOP_TITLE)}</figcaption>'
        f'<ol style="list-style:none;padding:0;margin:4px 0">{"".join(rows)}</ol></figure>'
    )
