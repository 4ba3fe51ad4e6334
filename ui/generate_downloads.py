"""Files of the Generate tab: per-session download folders, the PNG of face 1, and the ZIP of every
face shown with its ``attributes.csv``.

Each session has its own folder under one temporary root per process (removed when the process
exits; a session's folder when its ``gr.State`` is deleted). Every PNG is written with the SYNTHETIC
mark already drawn and its provenance metadata (`models.provenance.save_png`), atomically.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from models import provenance
from models.files import atomic_output
from models.spreadsheet import safe_row
from ui import notice
from ui.session import SessionFolders

#: Columns of ``attributes.csv`` in the ZIP of a set (the first ones follow the cohort's metadata.csv).
ATTRIBUTE_COLUMNS = [
    "file", "generator", "syndrome", "omim", "age_years", "sex", "skin_tone", "intensity", "seed", "hpo_present",
]  # fmt: skip
#: Sub-folders of a session folder that hold the faces shown, in the order the ZIP lists them.
SECTIONS = ("faces", "features", "age_strip", "average")


_FOLDERS = SessionFolders("downloads-")


def downloads_root() -> Path:
    """This process's folder of per-session download folders, removed when the process exits."""
    return _FOLDERS.root


def session_dir(current: str | None) -> Path:
    """This session's folder for downloads, created on first use."""
    return _FOLDERS.get(current)


def remove_session_dir(path: str | None) -> None:
    """Delete a session's download folder (the ``gr.State`` delete callback)."""
    _FOLDERS.remove(path)


def fresh_section(folder: Path, section: str) -> Path:
    """Empty (create) the session's sub-folder for one section of faces; returns it."""
    path = folder / section
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def attributes(generator: str, syndrome, age, sex, skin_tone, intensity, seed, hpo_present=()) -> dict:
    """One row of ``attributes.csv`` (without ``file``), stored as JSON in each PNG of a set."""
    return {
        "generator": generator,
        "syndrome": syndrome.key,
        "omim": ";".join(syndrome.omim),
        "age_years": f"{float(age):g}",
        "sex": sex,
        "skin_tone": int(skin_tone),
        "intensity": "" if intensity is None else f"{float(intensity):g}",
        "seed": "" if seed is None else int(seed),
        "hpo_present": ";".join(hpo_present),
    }


def save_face(image: np.ndarray, path: Path, info: dict) -> str:
    """Write one marked face as a PNG with its provenance metadata, atomically; returns its path."""
    provenance.save_png(image, path, info)
    return str(path)


def write_set_zip(folder: Path, name: str) -> Path:
    """Zip every face shown in a session (its `SECTIONS` sub-folders) with ``attributes.csv``.

    Each PNG keeps its provenance metadata; the CSV has one row per PNG (`ATTRIBUTE_COLUMNS`,
    read from the PNG's ``attributes`` text chunk). Older ZIPs in `folder` are removed; the new
    one is written atomically.

    Args:
        folder: the session folder.
        name: file name of the ZIP.

    Returns:
        the ZIP's path.
    """
    for old in folder.glob("*.zip"):
        old.unlink(missing_ok=True)
    rows, members = [], []
    for section in SECTIONS:
        for png in sorted((folder / section).glob("*.png")):
            meta = provenance.read_png_metadata(png)
            arcname = f"{section}/{png.name}"
            rows.append({"file": arcname, **json.loads(meta.get("attributes", "{}"))})
            members.append((png, arcname))
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=ATTRIBUTE_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_row(row) for row in rows)
    path = folder / name
    with atomic_output(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for png, arcname in members:
            archive.write(png, arcname, compress_type=zipfile.ZIP_STORED)  # PNGs are compressed already
        archive.writestr("attributes.csv", table.getvalue())
        archive.writestr("NOTICE.txt", f"PhenoFace. {notice.NOTICE}\n{provenance.NOTICE}.\n")
    return path


def archive_name(key: str, seed: int) -> str:
    """File name of a set's ZIP, e.g. ``"phenoface_down_seed3_set.zip"``."""
    return f"phenoface_{key}_seed{seed}_set.zip"


def save_download(image: np.ndarray, info: dict, name: str, folder: Path) -> Path:
    """Write the first face as a PNG with provenance metadata, replacing the session's last one.

    Args:
        image: (H, W, 3) uint8, already marked SYNTHETIC.
        info: PNG text metadata (`models.provenance.png_metadata`).
        name: file name of the PNG.
        folder: the session folder.

    Returns:
        the PNG's path.
    """
    for old in folder.glob("*.png"):
        old.unlink(missing_ok=True)
    return provenance.save_png(image, folder / name, info)
