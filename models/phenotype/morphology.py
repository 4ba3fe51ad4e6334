"""The curated morphology table: which facial HPO term moves which dimension of the face, and how far.

Every child is described by a vector of *morphology dimensions* (`DIMENSIONS`). Continuous
dimensions are signed z-scores (SD units) against the age- and sex-matched normal population;
categorical dimensions are amounts in [0, 1.5] of a sign that is either there or not (synophrys,
Brushfield spots). A `Feature` maps one HPO term onto one dimension with a sign. A continuous
feature counts as *present* on a child only when its dimension passes the definition's
threshold (2 SD for most, per the objective definitions of Elements of Morphology); a categorical
one when its amount is at least 0.5.

Sources of definitions (abbreviated in `Feature.source`):
    EoM-head: Allanson JE et al. 2009. Elements of morphology: standard terminology for the head
        and face. Am J Med Genet A 149A:6-28.
    EoM-eye: Hall BD et al. 2009. Elements of morphology: standard terminology for the
        periorbital region. Am J Med Genet A 149A:29-39.
    EoM-ear: Hunter A et al. 2009. Elements of morphology: standard terminology for the ear.
        Am J Med Genet A 149A:40-60.
    EoM-nose: Hennekam RCM et al. 2009. Elements of morphology: standard terminology for the nose
        and philtrum. Am J Med Genet A 149A:61-76.
    EoM-lips: Carey JC et al. 2009. Elements of morphology: standard terminology for the lips,
        mouth, and oral region. Am J Med Genet A 149A:77-92.
    HPO: the term's definition in the Human Phenotype Ontology (release 2025-01-16).
"""

from __future__ import annotations

from dataclasses import dataclass

CONTINUOUS = "continuous"
CATEGORICAL = "categorical"

#: Threshold of a continuous feature in SD (objective definitions in Elements of Morphology).
DEFAULT_THRESHOLD_SD = 2.0
#: A categorical sign counts as present from this amount on (0 = absent, 1 = typical).
CATEGORICAL_THRESHOLD = 0.5


@dataclass(frozen=True)
class Feature:
    """One facial HPO term and the morphological operation that renders it.

    Attributes:
        hpo_id: HPO id, e.g. ``"HP:0000316"``.
        name: HPO term name, e.g. ``"Hypertelorism"``.
        dimension: the morphology dimension it moves (a key of `DIMENSIONS`).
        direction: +1 or -1, the sign of the shift in SD (always +1 for categorical features).
        definition: the definition it is rendered from (paraphrased from `source`).
        source: where the definition comes from (see the module docstring).
        threshold: 2.0 SD for continuous features unless the definition says otherwise;
            `CATEGORICAL_THRESHOLD` for categorical ones.
        profile_only: True where the feature is judged in profile (e.g. low hanging columella);
            it is still rendered in the frontal view, just less visibly.
    """

    hpo_id: str
    name: str
    dimension: str
    direction: int
    definition: str
    source: str
    threshold: float = DEFAULT_THRESHOLD_SD
    profile_only: bool = False

    @property
    def kind(self) -> str:
        """``"continuous"`` or ``"categorical"``, from the dimension it moves."""
        return DIMENSIONS[self.dimension]


#: Morphology dimensions and their kind. Continuous ones are SD scores; categorical ones amounts.
DIMENSIONS: dict[str, str] = {
    # eyes and periorbital region
    "interpupillary": CONTINUOUS,
    "intercanthal": CONTINUOUS,  # inner canthal distance beyond what the IPD implies
    "canthal_tilt": CONTINUOUS,
    "fissure_length": CONTINUOUS,
    "fissure_height": CONTINUOUS,
    "iris_coloboma": CATEGORICAL,
    "eyelid_coloboma": CATEGORICAL,
    "lateral_brow_sparse": CATEGORICAL,
    "epicanthus": CATEGORICAL,
    "lower_lid_eversion": CATEGORICAL,
    "ptosis": CONTINUOUS,
    "eye_depth": CONTINUOUS,
    "periorbital_fullness": CONTINUOUS,
    "lash_length": CONTINUOUS,
    "synophrys": CATEGORICAL,
    "brow_arch": CONTINUOUS,
    "brow_thickness": CONTINUOUS,
    "brow_medial_flare": CATEGORICAL,
    "brushfield_spots": CATEGORICAL,
    "stellate_iris": CATEGORICAL,
    "strabismus": CATEGORICAL,
    # nose and philtrum
    "nasal_bridge_width": CONTINUOUS,
    "nasal_bridge_height": CONTINUOUS,
    "nose_length": CONTINUOUS,
    "nares_anteversion": CONTINUOUS,
    "nasal_tip_width": CONTINUOUS,
    "nasal_tip_projection": CONTINUOUS,
    "alar_fullness": CONTINUOUS,
    "alar_width": CONTINUOUS,
    "columella_low": CONTINUOUS,
    "philtrum_length": CONTINUOUS,
    "philtrum_depth": CONTINUOUS,
    # lips and mouth
    "upper_lip_height": CONTINUOUS,
    "lower_lip_height": CONTINUOUS,
    "mouth_width": CONTINUOUS,
    "mouth_corners": CONTINUOUS,
    "upper_lip_tented": CATEGORICAL,
    "cupids_bow": CATEGORICAL,
    "open_mouth": CATEGORICAL,
    "protruding_tongue": CATEGORICAL,
    # jaw, cheeks, face shape
    "mandible_length": CONTINUOUS,
    "chin_pointed": CONTINUOUS,
    "malar_prominence": CONTINUOUS,
    "midface_projection": CONTINUOUS,
    "cheek_fullness": CONTINUOUS,
    "face_flatness": CONTINUOUS,
    "face_length": CONTINUOUS,
    "face_roundness": CONTINUOUS,
    "face_triangular": CONTINUOUS,
    "asymmetry": CATEGORICAL,
    # forehead, cranium, hair, neck, skin
    "frontal_bossing": CONTINUOUS,
    "forehead_prominence": CONTINUOUS,
    "neck_length": CONTINUOUS,
    "forehead_height": CONTINUOUS,
    "forehead_width": CONTINUOUS,
    "head_size": CONTINUOUS,
    "cephalic_index": CONTINUOUS,
    "hairline_height": CONTINUOUS,
    "webbed_neck": CATEGORICAL,
    "skin_hypopigmentation": CATEGORICAL,
    # ears
    "ear_height": CONTINUOUS,
    "ear_rotation": CONTINUOUS,
    "ear_length": CONTINUOUS,
    "ear_protrusion": CONTINUOUS,
    "earlobe_uplift": CATEGORICAL,
}


def _f(hpo_id, name, dimension, direction, definition, source, **kw) -> Feature:
    return Feature(hpo_id, name, dimension, direction, definition, source, **kw)


_TABLE: tuple[Feature, ...] = (
    # --- periorbital region (Hall et al. 2009) ---
    _f(
        "HP:0000316",
        "Hypertelorism",
        "interpupillary",
        +1,
        "Interpupillary distance more than 2 SD above the mean.",
        "EoM-eye",
    ),
    _f(
        "HP:0000601",
        "Hypotelorism",
        "interpupillary",
        -1,
        "Interpupillary distance more than 2 SD below the mean.",
        "EoM-eye",
    ),
    _f(
        "HP:0000506",
        "Telecanthus",
        "intercanthal",
        +1,
        "Lateral displacement of the inner canthi with a normal interpupillary distance.",
        "EoM-eye",
    ),
    _f(
        "HP:0000286",
        "Epicanthus",
        "epicanthus",
        +1,
        "A fold of skin starting above the medial upper eyelid and arching downward to cover, pass in "
        "front of and lateral to the medial canthus.",
        "EoM-eye",
    ),
    _f(
        "HP:0000582",
        "Upslanted palpebral fissure",
        "canthal_tilt",
        +1,
        "Palpebral fissure inclination more than 2 SD above the mean.",
        "EoM-eye",
    ),
    _f(
        "HP:0000494",
        "Downslanted palpebral fissures",
        "canthal_tilt",
        -1,
        "Palpebral fissure inclination more than 2 SD below the mean.",
        "EoM-eye",
    ),
    _f(
        "HP:0000637",
        "Long palpebral fissure",
        "fissure_length",
        +1,
        "Distance between the medial and lateral canthi more than 2 SD above the mean.",
        "EoM-eye",
    ),
    _f(
        "HP:0012745",
        "Short palpebral fissure",
        "fissure_length",
        -1,
        "Distance between the medial and lateral canthi more than 2 SD below the mean.",
        "EoM-eye",
    ),
    _f(
        "HP:0007655",
        "Eversion of lateral third of lower eyelids",
        "lower_lid_eversion",
        +1,
        "The lateral third of the lower eyelid is turned outward, showing its inner surface.",
        "EoM-eye",
    ),
    _f(
        "HP:0000508",
        "Ptosis",
        "ptosis",
        +1,
        "The upper eyelid margin sits 3 mm or more lower than usual and covers the upper iris.",
        "EoM-eye",
    ),
    _f(
        "HP:0000490",
        "Deeply set eye",
        "eye_depth",
        +1,
        "An eye that is more deeply recessed into the plane of the face than is typical.",
        "EoM-eye",
    ),
    _f(
        "HP:0000629",
        "Periorbital fullness",
        "periorbital_fullness",
        +1,
        "Increased volume of the periorbital soft tissues.",
        "EoM-eye",
    ),
    _f(
        "HP:0000527",
        "Long eyelashes",
        "lash_length",
        +1,
        "Mid upper eyelash length more than 10 mm, or apparently increased.",
        "EoM-eye",
    ),
    _f("HP:0000664", "Synophrys", "synophrys", +1, "Meeting of the medial eyebrows in the midline.", "EoM-eye"),
    _f(
        "HP:0002553",
        "Highly arched eyebrow",
        "brow_arch",
        +1,
        "Increased height of the central eyebrow, forming a crescent or inverted U.",
        "EoM-eye",
    ),
    _f(
        "HP:0000574",
        "Thick eyebrow",
        "brow_thickness",
        +1,
        "Increased density and/or diameter of eyebrow hairs.",
        "EoM-eye",
    ),
    _f(
        "HP:0010747",
        "Medial flaring of the eyebrow",
        "brow_medial_flare",
        +1,
        "Broadening of the medial portion of the eyebrow.",
        "EoM-eye",
    ),
    _f(
        "HP:0001088",
        "Brushfield spots",
        "brushfield_spots",
        +1,
        "Grey-white spots in a ring in the mid-periphery of the iris.",
        "HPO",
    ),
    _f(
        "HP:0012775",
        "Stellate iris",
        "stellate_iris",
        +1,
        "A lacy, star-like pattern of the iris stroma radiating from the pupil like the spokes of a wheel.",
        "HPO",
    ),
    _f(
        "HP:0000486",
        "Strabismus",
        "strabismus",
        +1,
        "A misalignment of the eyes so that the visual axes deviate from bifoveal fixation.",
        "HPO",
    ),
    # --- nose and philtrum (Hennekam et al. 2009) ---
    _f(
        "HP:0000431",
        "Wide nasal bridge",
        "nasal_bridge_width",
        +1,
        "Increased breadth of the nasal bridge and with it the nasal root.",
        "EoM-nose",
    ),
    _f(
        "HP:0000446",
        "Narrow nasal bridge",
        "nasal_bridge_width",
        -1,
        "Decreased breadth of the nasal bridge and with it the nasal root.",
        "EoM-nose",
    ),
    _f(
        "HP:0005280",
        "Depressed nasal bridge",
        "nasal_bridge_height",
        -1,
        "Posterior positioning of the nasal root relative to the facial profile for age.",
        "EoM-nose",
    ),
    _f(
        "HP:0000426",
        "Prominent nasal bridge",
        "nasal_bridge_height",
        +1,
        "Anterior positioning of the nasal root relative to the facial profile for age.",
        "EoM-nose",
    ),
    _f(
        "HP:0003196",
        "Short nose",
        "nose_length",
        -1,
        "Distance from nasion to subnasale more than 2 SD below the mean.",
        "EoM-nose",
    ),
    _f(
        "HP:0000463",
        "Anteverted nares",
        "nares_anteversion",
        +1,
        "Nostrils that face anteriorly, visible from the front with the head in Frankfurt horizontal.",
        "EoM-nose",
    ),
    _f("HP:0000455", "Broad nasal tip", "nasal_tip_width", +1, "Increased width of the nasal tip.", "EoM-nose"),
    _f(
        "HP:0000445",
        "Wide nose",
        "alar_width",
        +1,
        "Interalar distance more than 2 SD above the mean for age.",
        "EoM-nose",
    ),
    _f(
        "HP:0009765",
        "Low hanging columella",
        "columella_low",
        +1,
        "The columella extends below the nasal alae in profile.",
        "EoM-nose",
        profile_only=True,
    ),
    _f(
        "HP:0000343",
        "Long philtrum",
        "philtrum_length",
        +1,
        "Distance from nasal base to upper vermilion border more than 2 SD above the mean.",
        "EoM-nose",
    ),
    _f(
        "HP:0000322",
        "Short philtrum",
        "philtrum_length",
        -1,
        "Distance from nasal base to upper vermilion border more than 2 SD below the mean.",
        "EoM-nose",
    ),
    _f(
        "HP:0000319",
        "Smooth philtrum",
        "philtrum_depth",
        -1,
        "Flat skin surface with no ridge formation between the nasal base and upper vermilion.",
        "EoM-nose",
    ),
    # --- lips, mouth and oral region (Carey et al. 2009) ---
    _f(
        "HP:0000219",
        "Thin upper lip vermilion",
        "upper_lip_height",
        -1,
        "Height of the upper lip vermilion in the midline more than 2 SD below the mean.",
        "EoM-lips",
    ),
    _f(
        "HP:0000179",
        "Thick lower lip vermilion",
        "lower_lip_height",
        +1,
        "Height of the lower lip vermilion in the midline more than 2 SD above the mean.",
        "EoM-lips",
    ),
    _f(
        "HP:0000154",
        "Wide mouth",
        "mouth_width",
        +1,
        "Distance between the oral commissures more than 2 SD above the mean.",
        "EoM-lips",
    ),
    _f(
        "HP:0000160",
        "Narrow mouth",
        "mouth_width",
        -1,
        "Distance between the oral commissures more than 2 SD below the mean.",
        "EoM-lips",
    ),
    _f(
        "HP:0002714",
        "Downturned corners of mouth",
        "mouth_corners",
        -1,
        "The oral commissures sit below the midline labial fissure.",
        "EoM-lips",
    ),
    _f("HP:0000194", "Open mouth", "open_mouth", +1, "A permanently or nearly permanently open mouth.", "EoM-lips"),
    _f("HP:0010808", "Protruding tongue", "protruding_tongue", +1, "The tongue rests beyond the lips.", "EoM-lips"),
    # --- head and face (Allanson et al. 2009) ---
    _f(
        "HP:0000347",
        "Micrognathia",
        "mandible_length",
        -1,
        "Developmental hypoplasia of the mandible: a small, receding jaw.",
        "EoM-head",
    ),
    _f(
        "HP:0000303",
        "Mandibular prognathia",
        "mandible_length",
        +1,
        "Abnormal prominence of the chin from increased length of the mandible.",
        "EoM-head",
    ),
    _f("HP:0000307", "Pointed chin", "chin_pointed", +1, "Tapering of the lower face to the chin.", "EoM-head"),
    _f(
        "HP:0000272",
        "Malar flattening",
        "malar_prominence",
        -1,
        "Underdevelopment of the malar prominence, seen in profile and frontal view.",
        "EoM-head",
    ),
    _f(
        "HP:0011800",
        "Midface retrusion",
        "midface_projection",
        -1,
        "Posterior position and/or vertical shortening of the infraorbital and perialar regions.",
        "EoM-head",
    ),
    _f(
        "HP:0000293",
        "Full cheeks",
        "cheek_fullness",
        +1,
        "Increased prominence of the soft tissues of the cheeks.",
        "EoM-head",
    ),
    _f(
        "HP:0012368",
        "Flat face",
        "face_flatness",
        +1,
        "Absence of concavity or convexity of the face in profile.",
        "EoM-head",
    ),
    _f("HP:0000276", "Long face", "face_length", +1, "Facial height more than 2 SD above the mean.", "EoM-head"),
    _f(
        "HP:0000311",
        "Round face",
        "face_roundness",
        +1,
        "Round facial shape: bizygomatic width close to face height.",
        "EoM-head",
    ),
    _f(
        "HP:0000324",
        "Facial asymmetry",
        "asymmetry",
        +1,
        "An abnormal difference between the left and right sides of the face.",
        "EoM-head",
    ),
    _f(
        "HP:0002007",
        "Frontal bossing",
        "frontal_bossing",
        +1,
        "Bilateral bulging of the lateral frontal bone prominences, sparing the midline.",
        "EoM-head",
    ),
    _f(
        "HP:0000348",
        "High forehead",
        "forehead_height",
        +1,
        "Height of the forehead more than 2 SD above the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000337",
        "Broad forehead",
        "forehead_width",
        +1,
        "Distance between the frontotemporales more than 2 SD above the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000252",
        "Microcephaly",
        "head_size",
        -1,
        "Occipitofrontal circumference more than 2 SD below the mean for age and sex.",
        "HPO",
    ),
    _f(
        "HP:0000256",
        "Macrocephaly",
        "head_size",
        +1,
        "Occipitofrontal circumference more than 2 SD above the mean for age and sex.",
        "HPO",
    ),
    _f(
        "HP:0000248",
        "Brachycephaly",
        "cephalic_index",
        +1,
        "Short anteroposterior skull with a broad head: cephalic index more than 2 SD above the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0009890",
        "High anterior hairline",
        "hairline_height",
        +1,
        "Distance from trichion to glabella more than 2 SD above the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000268",
        "Dolichocephaly",
        "cephalic_index",
        -1,
        "Long, narrow skull: cephalic index more than 2 SD below the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000341",
        "Narrow forehead",
        "forehead_width",
        -1,
        "Distance between the frontotemporales more than 2 SD below the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000275",
        "Narrow face",
        "face_roundness",
        -1,
        "Bizygomatic (facial) width more than 2 SD below the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000278",
        "Retrognathia",
        "mandible_length",
        -1,
        "The mandible is set back relative to the maxilla and forehead, seen in profile.",
        "EoM-head",
    ),
    _f(
        "HP:0000294",
        "Low anterior hairline",
        "hairline_height",
        -1,
        "Distance from trichion to glabella more than 2 SD below the mean.",
        "EoM-head",
    ),
    _f(
        "HP:0000465",
        "Webbed neck",
        "webbed_neck",
        +1,
        "A thick fold of skin on the side of the neck from the mastoid to the acromion.",
        "HPO",
    ),
    _f(
        "HP:0001010",
        "Hypopigmentation of the skin",
        "skin_hypopigmentation",
        +1,
        "A reduction of skin pigmentation.",
        "HPO",
    ),
    # --- further terms frequent in the catalogue ---
    _f(
        "HP:0045025",
        "Narrow palpebral fissure",
        "fissure_height",
        -1,
        "Reduced vertical distance between the upper and lower eyelids.",
        "EoM-eye",
    ),
    _f(
        "HP:0000581",
        "Blepharophimosis",
        "fissure_height",
        -1,
        "A fixed reduction in the vertical distance between the upper and lower eyelids.",
        "EoM-eye",
    ),
    _f(
        "HP:0000612",
        "Iris coloboma",
        "iris_coloboma",
        +1,
        "A gap in the iris, usually inferonasal, giving a keyhole-shaped pupil.",
        "HPO",
    ),
    _f(
        "HP:0000625",
        "Eyelid coloboma",
        "eyelid_coloboma",
        +1,
        "A notch-like defect of the eyelid margin (in Treacher Collins syndrome, the lateral lower lid).",
        "EoM-eye",
    ),
    _f(
        "HP:0005338",
        "Sparse lateral eyebrow",
        "lateral_brow_sparse",
        +1,
        "Decreased density of hairs in the lateral portion of the eyebrow.",
        "EoM-eye",
    ),
    _f(
        "HP:0011229",
        "Broad eyebrow",
        "brow_thickness",
        +1,
        "Increased height of the eyebrow (rendered as a broader, thicker brow).",
        "EoM-eye",
    ),
    _f(
        "HP:0000520",
        "Proptosis",
        "eye_depth",
        -1,
        "An eye that protrudes anterior to the plane of the face to a greater extent than is typical.",
        "EoM-eye",
    ),
    _f(
        "HP:0000437",
        "Depressed nasal tip",
        "nasal_tip_projection",
        -1,
        "Decreased anterior projection of the nasal tip.",
        "EoM-nose",
    ),
    _f(
        "HP:0000414",
        "Bulbous nose",
        "nasal_tip_width",
        +1,
        "Increased volume and globular shape of the anteroinferior nose (rendered as a broad, full tip).",
        "EoM-nose",
    ),
    _f(
        "HP:0000430",
        "Underdeveloped nasal alae",
        "alar_fullness",
        -1,
        "Thinning and/or decreased size of the ala nasi.",
        "EoM-nose",
    ),
    _f(
        "HP:0010804",
        "Tented upper lip vermilion",
        "upper_lip_tented",
        +1,
        "The upper lip vermilion is drawn up in the midline, like a tent.",
        "EoM-lips",
    ),
    _f(
        "HP:0002263",
        "Exaggerated cupid's bow",
        "cupids_bow",
        +1,
        "Accentuated peaks and midline notch of the upper lip vermilion border.",
        "EoM-lips",
    ),
    _f(
        "HP:0000232",
        "Everted lower lip vermilion",
        "lower_lip_height",
        +1,
        "The lower lip is turned outward, showing more vermilion (rendered as a fuller lower lip).",
        "EoM-lips",
    ),
    _f(
        "HP:0010669",
        "Hypoplasia of the zygomatic bone",
        "malar_prominence",
        -1,
        "Underdevelopment of the zygomatic bone, seen as flat cheekbones.",
        "EoM-head",
    ),
    _f(
        "HP:0000325",
        "Triangular face",
        "face_triangular",
        +1,
        "Facial contour that is broad at the temples and tapers to a narrow chin.",
        "EoM-head",
    ),
    _f(
        "HP:0011220",
        "Prominent forehead",
        "forehead_prominence",
        +1,
        "Forward prominence of the whole forehead, including its midline.",
        "EoM-head",
    ),
    _f("HP:0000470", "Short neck", "neck_length", -1, "Diminished length of the neck.", "HPO"),
    # --- ear (Hunter et al. 2009) ---
    _f(
        "HP:0000369",
        "Low-set ears",
        "ear_height",
        -1,
        "Upper insertion of the ear below the horizontal line through the inner canthi.",
        "EoM-ear",
    ),
    _f(
        "HP:0000358",
        "Posteriorly rotated ears",
        "ear_rotation",
        +1,
        "Longitudinal ear axis rotated posteriorly by more than 2 SD.",
        "EoM-ear",
    ),
    _f(
        "HP:0000400",
        "Macrotia",
        "ear_length",
        +1,
        "Median longitudinal ear length more than 2 SD above the mean.",
        "EoM-ear",
    ),
    _f(
        "HP:0008551",
        "Microtia",
        "ear_length",
        -1,
        "Median longitudinal ear length more than 2 SD below the mean.",
        "EoM-ear",
    ),
    _f(
        "HP:0000411",
        "Protruding ear",
        "ear_protrusion",
        +1,
        "Angle between the ear and the mastoid more than 2 SD above the mean.",
        "EoM-ear",
    ),
    _f(
        "HP:0009909",
        "Uplifted earlobe",
        "earlobe_uplift",
        +1,
        "Upward and outward rotation of the earlobe.",
        "EoM-ear",
    ),
)

#: HPO id -> Feature, for every term the renderer depicts.
FEATURES: dict[str, Feature] = {f.hpo_id: f for f in _TABLE}


def feature(hpo_id: str) -> Feature:
    """The rendered feature for an HPO id.

    Raises:
        KeyError: the term is not depicted by the renderer.
    """
    return FEATURES[hpo_id]


def is_depicted(hpo_id: str) -> bool:
    """True when the renderer can draw this HPO term."""
    return hpo_id in FEATURES
