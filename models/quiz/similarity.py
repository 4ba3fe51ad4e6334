"""How alike two syndromes look: shared facial HPO features, weighted by their frequencies.

Each syndrome becomes a *feature profile*: for every facial feature the renderer draws
(`models.phenotype.morphology.FEATURES`), the fraction of children with the syndrome who have it
(`Term.sampling_frequency`, catalogue of HPO release 2025-01-16; a term the renderer draws through a
rendered ancestor, `Term.renders_as`, counts for that ancestor, the most frequent one winning).

Similarity of two syndromes is the weighted Jaccard (Ruzicka) index of their profiles,
``sum_f min(a_f, b_f) / sum_f max(a_f, b_f)``: 1 for identical profiles, 0 when they share no
feature. It is symmetric and 1 on the diagonal. A child without a syndrome has an empty profile; its
similarity to a syndrome is defined as ``1 / (1 + E)``, where E is the syndrome's expected number of
drawn features per child (the sum of its profile), so syndromes with few, rare facial features count as
the ones most easily mistaken for no syndrome.

Only features that can be seen on the rendered face enter: the quiz asks about faces, so terms such as
cleft palate or hearing loss, which a face does not show, would make two syndromes look alike for
reasons a trainee cannot see.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from models.constants import UNAFFECTED
from models.phenotype.catalog import Catalog, Syndrome, load_catalog
from models.phenotype.morphology import FEATURES


def feature_profile(syndrome: Syndrome) -> dict[str, float]:
    """The syndrome's drawn features and how often children with it have them.

    Args:
        syndrome: a catalogue entry.

    Returns:
        rendered HPO id -> sampling frequency in [0, 1] (unknown frequencies at
        `models.phenotype.catalog.UNKNOWN_FREQUENCY`); empty for ``"unaffected"``.
    """
    profile: dict[str, float] = {}
    for term in syndrome.depicted_terms:
        if term.renders_as in FEATURES:
            profile[term.renders_as] = max(profile.get(term.renders_as, 0.0), term.sampling_frequency)
    return profile


def known_frequencies(syndrome: Syndrome) -> dict[str, float | None]:
    """Like `feature_profile`, but None where no term rendered as the feature has a known frequency.

    Used to show frequencies to trainees: an unknown frequency is said to be unknown, not 25 %.
    """
    known: dict[str, float | None] = {}
    for term in syndrome.depicted_terms:
        if term.renders_as not in FEATURES:
            continue
        values = [f for f in (known.get(term.renders_as), term.frequency) if f is not None]
        known[term.renders_as] = max(values) if values else None
    return known


def weighted_jaccard(a: dict[str, float], b: dict[str, float]) -> float:
    """Weighted Jaccard (Ruzicka) index of two non-negative profiles, in [0, 1].

    Two empty profiles count as identical (1.0).
    """
    keys = set(a) | set(b)
    top = sum(max(a.get(k, 0.0), b.get(k, 0.0)) for k in keys)
    if top == 0.0:
        return 1.0
    return sum(min(a.get(k, 0.0), b.get(k, 0.0)) for k in keys) / top


def profile_similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """Similarity of two feature profiles (see the module docstring), in [0, 1].

    Weighted Jaccard, except that an empty profile (no syndrome) against a non-empty one gives
    ``1 / (1 + E)`` with E the sum of the other profile.
    """
    if bool(a) != bool(b):
        return 1.0 / (1.0 + sum(a.values()) + sum(b.values()))
    return weighted_jaccard(a, b)


@dataclass(frozen=True)
class SimilarityMatrix:
    """Pairwise similarity of the catalogue's entries.

    Attributes:
        keys: catalogue keys in catalogue order (``"unaffected"`` first).
        matrix: (K, K) float64 in [0, 1], symmetric, 1 on the diagonal; ``matrix[i, j]`` is the
            similarity of ``keys[i]`` and ``keys[j]``.
    """

    keys: tuple[str, ...]
    matrix: np.ndarray

    def __call__(self, a: str, b: str) -> float:
        """Similarity of two catalogue keys.

        Raises:
            KeyError: a key is not in the catalogue.
        """
        return float(self.matrix[self._index[a], self._index[b]])

    def ranked(self, key: str, among: tuple[str, ...] | list[str] | None = None) -> list[tuple[str, float]]:
        """Other entries by similarity to ``key``, most similar first (ties in catalogue order).

        Args:
            key: a catalogue key.
            among: restrict to these keys (``key`` itself is always left out); None for all.
        """
        candidates = [k for k in (self.keys if among is None else among) if k != key]
        return sorted(((k, self(key, k)) for k in candidates), key=lambda kv: (-kv[1], self._index[kv[0]]))

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}


def similarity_matrix(catalog: Catalog | None = None) -> SimilarityMatrix:
    """Pairwise similarity of every catalogue entry (deterministic; cached for the default catalogue).

    Args:
        catalog: the catalogue; the committed one (`load_catalog`) when None.

    Returns:
        `SimilarityMatrix` over all entries, ``"unaffected"`` included.
    """
    if catalog is None:
        return _default_matrix()
    profiles = [feature_profile(s) for s in catalog.syndromes]
    n = len(profiles)
    matrix = np.ones((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i, j] = matrix[j, i] = profile_similarity(profiles[i], profiles[j])
    return SimilarityMatrix(keys=catalog.keys(), matrix=matrix)


@functools.lru_cache(maxsize=1)
def _default_matrix() -> SimilarityMatrix:
    return similarity_matrix(load_catalog())


@dataclass(frozen=True)
class FeatureContrast:
    """One feature that tells two syndromes apart.

    Attributes:
        hpo_id: rendered HPO id.
        name: HPO term name.
        frequency_a: fraction of children with syndrome A who have it, in [0, 1]; None when the
            catalogue gives no frequency (the term is annotated but not counted); 0.0 when not annotated.
        frequency_b: the same for syndrome B.
    """

    hpo_id: str
    name: str
    frequency_a: float | None
    frequency_b: float | None


def contrast(
    a: str, b: str, *, min_difference: float = 0.25, top: int = 5, catalog: Catalog | None = None
) -> tuple[list[FeatureContrast], list[FeatureContrast]]:
    """Features that set syndrome A apart from syndrome B, and B from A.

    A feature sets A apart when it is at least ``min_difference`` more frequent in A than in B
    (sampling frequencies, unknown at 0.25; a feature not annotated for a syndrome counts as 0).

    Args:
        a, b: catalogue keys (``"unaffected"`` allowed: it has no features).
        min_difference: smallest frequency difference reported, in [0, 1].
        top: at most this many features per side, largest difference first.
        catalog: the catalogue; the committed one when None.

    Returns:
        ``(frequent in A but rare or absent in B, frequent in B but rare or absent in A)``.

    Raises:
        ValueError: unknown syndrome.
    """
    catalog = catalog or load_catalog()
    sa, sb = catalog.get(a), catalog.get(b)
    pa, pb = feature_profile(sa), feature_profile(sb)
    ka, kb = known_frequencies(sa), known_frequencies(sb)

    def side(p, q, kp, kq, swap):
        diffs = sorted(
            ((p[f] - q.get(f, 0.0), f) for f in p if p[f] - q.get(f, 0.0) >= min_difference),
            key=lambda df: (-df[0], df[1]),
        )
        out = []
        for _, f in diffs[:top]:
            fp, fq = kp[f], kq.get(f, 0.0)
            out.append(FeatureContrast(f, FEATURES[f].name, *((fq, fp) if swap else (fp, fq))))
        return out

    return side(pa, pb, ka, kb, False), side(pb, pa, kb, ka, True)


def is_unaffected(key: str) -> bool:
    """True for the catalogue's entry of a child without a syndrome."""
    return key == UNAFFECTED
