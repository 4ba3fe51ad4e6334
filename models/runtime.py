"""Where the app's models and database live, and the models themselves, loaded once on first use.

`configure` is called once by ``app.py`` (from its options); the accessors load lazily, share
one read-only copy between all users and sessions, and raise ValueError with a sentence the
UI can show when a model is missing. Importing this module loads nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Paths:
    """Locations of the shipped or user-chosen models and the quiz database.

    Attributes:
        classifier_dir: folder of a trained classifier (config.json, model.safetensors).
        generator_dir: folder of a trained PhenoFace diffusion pipeline (model_index.json, ...).
        external_pipeline: optional local diffusers pipeline folder offered as a third generator
            (set by the operator on the command line, never from the web page).
        db_path: SQLite file of quiz results, or a database URL (``postgresql+psycopg://...``) kept as text.
    """

    classifier_dir: Path = ROOT / "assets" / "classifier"
    generator_dir: Path = ROOT / "assets" / "generator"
    external_pipeline: Path | None = None
    db_path: Path | str = Path.home() / ".phenoface" / "quiz.sqlite3"


_paths = Paths()
_cache: dict[str, Any] = {}
_lock = threading.Lock()


def configure(**changes: Any) -> Paths:
    """Set locations (keyword arguments of `Paths`; None keeps the default) and forget loaded models."""
    global _paths
    # a database URL stays text (a Path would fold its "//"); everything else is a path
    fields = {k: v if k == "db_path" and "://" in str(v) else Path(v) for k, v in changes.items() if v is not None}
    unknown = set(fields) - set(Paths.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown runtime settings: {sorted(unknown)}")
    with _lock:
        _paths = Paths(**{**_paths.__dict__, **fields})
        _cache.clear()
    return _paths


def paths() -> Paths:
    """The current locations."""
    return _paths


def classifier():
    """The syndrome classifier (`models.classifier.model.Classifier`, eval mode, CPU), loaded once.

    Raises:
        ValueError: no classifier in the configured folder.
    """
    with _lock:
        if "classifier" not in _cache:
            from models.classifier.model import load_classifier

            folder = _paths.classifier_dir
            if not (folder / "config.json").is_file():
                raise ValueError(f"no classifier found in {folder}")
            _cache["classifier"] = load_classifier(folder).eval()
        return _cache["classifier"]


def generator():
    """The learned diffusion generator, a `PhenoFacePipeline` with its privacy checker.

    Raises:
        ValueError: no generator in the configured folder.
    """
    from models.generator.sample import load_generator

    folder = _paths.generator_dir
    if not (folder / "model_index.json").is_file():
        raise ValueError(f"the learned generator is not installed (no model in {folder})")
    return load_generator(folder)


def generator_available() -> bool:
    """Whether the configured generator folder holds a pipeline (checks files only, loads nothing)."""
    return (_paths.generator_dir / "model_index.json").is_file()


def warm_up() -> list[str]:
    """Load what the first requests need (catalogue, classifier, one render, one attribution), so that the
    first user does not wait for it. Meant for a background thread at start-up; never raises.

    Returns:
        what could not be warmed, as sentences (empty when everything loaded).
    """
    problems = []
    try:
        from models.faces import APP_ENGINE, PHENOTYPE, draw_face
        from models.phenotype.spec import RenderSpec

        for engine in dict.fromkeys((APP_ENGINE, PHENOTYPE)):
            draw_face(RenderSpec(syndrome="down", age=5.0, sex="female", skin_tone=4, seed=0, size=128), engine)
    except Exception as err:  # noqa: BLE001 - a warm-up failure only delays the first request
        problems.append(f"phenotype engine: {err}")
    try:
        import numpy as np

        from models.saliency.attribution import attribute

        model = classifier()
        attribute(model, np.zeros((112, 112, 3), dtype=np.uint8), "integrated_gradients", steps=2)
    except Exception as err:  # noqa: BLE001
        problems.append(f"classifier: {err}")
    return problems
