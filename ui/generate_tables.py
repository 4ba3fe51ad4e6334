"""What the Generate tab says about a syndrome, from the catalogue: the syndrome choices and their
lookup, person-first labels, the tables of features a child shows (or the syndrome lists) and of
features we do not draw, and the feature checkboxes.

Pure helpers without components; the catalogue is loaded on first use (`catalog`), never at import.
Term names and frequencies come from the HPO annotations in the catalogue, definitions from
*Elements of Morphology* and HPO (`models.phenotype.morphology`).
"""

from __future__ import annotations

import functools

import pandas as pd

from models.constants import UNAFFECTED
from models.phenotype import catalog as catalog_lib
from models.phenotype.morphology import FEATURES
from ui import notice
from ui.generate_choice import PHENOTYPE, PHENOTYPE_3D
from ui.session import Refusal

FEATURE_COLUMNS = ["HPO id", "Feature", "What it means", "Frequency"]
NOT_DEPICTED_COLUMNS = ["HPO id", "Feature", "Why we do not draw it"]


@functools.lru_cache(maxsize=1)
def catalog():
    """The syndrome catalogue, loaded on first use (never at import)."""
    return catalog_lib.load_catalog()


def who(syndrome) -> str:
    """Person-first phrase for a child drawn from a catalogue entry (see `ui.notice`)."""
    return notice.UNAFFECTED if syndrome.key == UNAFFECTED else notice.with_syndrome(syndrome.name)


def syndrome_choices() -> list[tuple[str, str]]:
    """Dropdown choices ``(label, key)``, the unaffected entry first.

    Labels read ``"Name (OMIM:xxxxxx)"``, the name as the catalogue gives it.
    """
    choices = []
    for syndrome in catalog().syndromes:
        if syndrome.key == UNAFFECTED:
            label = "No syndrome (unaffected child)"
        elif syndrome.omim:
            label = f"{syndrome.name} ({syndrome.omim[0]})"
        else:
            label = syndrome.name
        choices.append((label, syndrome.key))
    return choices


def resolve_syndrome(name: str | None):
    """Catalogue entry for a key, name or OMIM id.

    Args:
        name: what the user chose or typed in the syndrome box.

    Returns:
        the catalogue's `Syndrome` entry.

    Raises:
        gr.Error: empty, or not in the catalogue (one line that says to choose from the list).
    """
    if not name or not str(name).strip():
        raise Refusal("Choose a syndrome from the list.")
    try:
        return catalog().get(str(name).strip())
    except (KeyError, ValueError) as err:
        message = str(err).strip("'\"").removesuffix(" (see Catalog.keys())")
        end = "" if message.endswith(("?", ".")) else "."
        raise Refusal(f"{message}{end} Choose one from the list.") from None


# --- tables -------------------------------------------------------------------------------------


def frequency_text(frequency: float | None) -> str:
    """``0.75 -> "75%"``, None -> ``"not known"``."""
    return "not known" if frequency is None else f"{round(100 * frequency)}%"


def rendered_frequencies(syndrome) -> dict[str, float | None]:
    """Frequency of each rendered feature (`Term.renders_as`) and term of a syndrome.

    Where several terms render as one feature, the most frequent known one counts.
    """
    frequency: dict[str, float | None] = {}
    for term in syndrome.depicted_terms:
        for hpo_id in {term.hpo_id, term.renders_as}:
            known = [f for f in (frequency.get(hpo_id), term.frequency) if f is not None]
            frequency[hpo_id] = max(known) if known else None
    return frequency


def _feature_row(hpo_id: str, frequency: float | None) -> list[str]:
    feature = FEATURES.get(hpo_id)
    name = feature.name if feature else catalog().term_name(hpo_id)
    return [hpo_id, name, feature.definition if feature else "", frequency_text(frequency)]


def features_table(sample, syndrome) -> pd.DataFrame:
    """The HPO features a rendered child shows, with plain-language definitions.

    Args:
        sample: a `FaceSample`; its ``hpo_present`` terms are listed.
        syndrome: the catalogue entry the child was drawn from (for term frequencies).

    Returns:
        a table with `FEATURE_COLUMNS`, one row per present term, in the order of ``hpo_present``.
    """
    return terms_table(sample.hpo_present, syndrome)


def terms_table(hpo_ids, syndrome) -> pd.DataFrame:
    """Given HPO features of one child, with plain-language definitions and the syndrome's frequencies.

    Returns:
        a table with `FEATURE_COLUMNS`, one row per id of `hpo_ids`, in their order.
    """
    frequency = rendered_frequencies(syndrome)
    rows = [_feature_row(hpo_id, frequency.get(hpo_id)) for hpo_id in hpo_ids]
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def catalogue_features_table(syndrome) -> pd.DataFrame:
    """The syndrome's depicted HPO terms from the catalogue, most frequent first (for generators
    that have no list of features per child).

    Returns:
        a table with `FEATURE_COLUMNS`, one row per term; the definition is that of the feature
        the term is drawn as (Elements of Morphology or HPO, see `models.phenotype.morphology`).
    """
    rows = []
    for term in syndrome.depicted_terms:
        row = _feature_row(term.renders_as or term.hpo_id, term.frequency)
        rows.append([term.hpo_id, term.name, row[2], row[3]])
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def not_depicted_table(syndrome) -> pd.DataFrame:
    """The syndrome's terms the renderer does not draw, with the reason for each."""
    rows = [[term.hpo_id, term.name, term.reason or ""] for term in syndrome.not_depicted_terms]
    return pd.DataFrame(rows, columns=NOT_DEPICTED_COLUMNS)


def feature_choices(syndrome, generator: str = PHENOTYPE) -> list[tuple[str, str]]:
    """Checkbox choices ``(label, HPO id)`` of the features a phenotype engine draws for a syndrome.

    One per rendered feature, most frequent first; labels read ``"HP:0000316 Hypertelorism (45%)"``.
    `PHENOTYPE_3D` keeps only the features the 3D child draws (`engine3d.DRAWN_3D`).
    """
    frequency = rendered_frequencies(syndrome)
    drawable = FEATURES
    if generator == PHENOTYPE_3D:
        from models.phenotype.engine3d import DRAWN_3D

        drawable = DRAWN_3D
    ids = dict.fromkeys(term.renders_as for term in syndrome.depicted_terms if term.renders_as in drawable)
    return [(f"{i} {FEATURES[i].name} ({frequency_text(frequency.get(i))})", i) for i in ids]
