"""Sample language-neutral PET/CT cases: patient, tracer, indication and lesions.

A :class:`Case` holds everything both renderers need, so the Chinese and the
English report of one case describe the same patient and the same lesions. Every
draw goes through the ``random.Random`` passed in, never the global state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TRACERS = ("FDG", "PSMA", "DOTATATE", "FAPI")
TRACER_AGENTS = {
    "FDG": ("18F-FDG",),
    "PSMA": ("68Ga-PSMA-11", "18F-PSMA-1007"),
    "DOTATATE": ("68Ga-DOTATATE",),
    "FAPI": ("68Ga-FAPI-04",),
}
# Typical injected activity in MBq (low, high) and uptake time in minutes (low, high).
TRACER_ACTIVITY_MBQ = {"FDG": (185, 444), "PSMA": (111, 259), "DOTATATE": (111, 200), "FAPI": (111, 222)}
TRACER_UPTAKE_MIN = {"FDG": (50, 75), "PSMA": (55, 90), "DOTATATE": (45, 70), "FAPI": (30, 60)}

INDICATIONS = (
    "initial_staging",
    "restaging",
    "treatment_response",
    "surveillance",
    "unknown_primary",
    "non_oncologic",
)
CANCERS = (
    "lung",
    "lymphoma_hodgkin",
    "lymphoma_dlbcl",
    "breast",
    "colorectal",
    "esophageal",
    "gastric",
    "hepatocellular",
    "pancreatic",
    "nasopharyngeal",
    "cervical",
    "ovarian",
    "prostate",
    "neuroendocrine",
    "thyroid",
)
# Relative frequency of each primary among oncologic cases (an estimate of a
# Chinese PET/CT centre's case mix, with lung and lymphoma most common).
CANCER_WEIGHTS = (22, 5, 8, 8, 9, 6, 6, 5, 4, 6, 4, 3, 4, 3, 3)
CANCER_SEX = {"breast": "F", "cervical": "F", "ovarian": "F", "prostate": "M"}
DIAGNOSIS_OF_CANCER = {
    "lung": "diagnosis.lung_cancer",
    "lymphoma_hodgkin": "diagnosis.lymphoma.hodgkin",
    "lymphoma_dlbcl": "diagnosis.lymphoma.dlbcl",
    "breast": "diagnosis.breast_cancer",
    "colorectal": "diagnosis.colorectal_cancer",
    "esophageal": "diagnosis.esophageal_cancer",
    "gastric": "diagnosis.gastric_cancer",
    "hepatocellular": "diagnosis.hepatocellular_carcinoma",
    "pancreatic": "diagnosis.pancreatic_cancer",
    "nasopharyngeal": "diagnosis.nasopharyngeal_carcinoma",
    "cervical": "diagnosis.cervical_cancer",
    "ovarian": "diagnosis.ovarian_cancer",
    "prostate": "diagnosis.prostate_cancer",
    "neuroendocrine": "diagnosis.neuroendocrine_tumor",
    "thyroid": "diagnosis.thyroid_cancer",
}
REGIONS = ("head_neck", "chest", "abdomen_pelvis", "musculoskeletal")

# SUVmax limits of the uptake wording that both renderers use: a lesion below the
# first limit has "mild" uptake, below the second "moderate", else "intense".
# NOTE: these are fixed cut-offs chosen for the corpus. Real reports often grade
# uptake against the liver or blood pool instead, which the corpus does not model.
UPTAKE_GRADE_LIMITS = (("mild", 2.5), ("moderate", 5.0))


def uptake_grade(suv: float) -> str:
    """Return "mild", "moderate" or "intense" for an SUVmax, by :data:`UPTAKE_GRADE_LIMITS`."""
    for grade, limit in UPTAKE_GRADE_LIMITS:
        if suv < limit:
            return grade
    return "intense"


@dataclass
class Lesion:
    """One described abnormality.

    ``role`` is primary, node, distant, benign, incidental or response (a treated
    site). ``site`` is an anatomy concept id and ``detail`` what the renderers need
    to spell it (rib number, vertebral level, liver segment, station code).
    ``morphology`` lists finding concept ids of the CT appearance. ``uptake`` is
    high, mild, diffuse or none. ``diagnosis`` is a diagnosis concept id and
    ``certainty`` positive or uncertain. ``change`` is new, increased, decreased,
    stable or resolved against the prior scan, with ``prior_suv`` then set.
    """

    role: str
    site: str
    region: str
    laterality: str | None = None
    detail: dict = field(default_factory=dict)
    morphology: tuple[str, ...] = ()
    size_cm: tuple[float, ...] | None = None
    suv: float | None = None
    uptake: str = "high"
    diagnosis: str | None = None
    certainty: str = "uncertain"
    change: str | None = None
    prior_suv: float | None = None
    recommendation: str | None = None


@dataclass
class Case:
    """One patient study, rendered into a Chinese and an English report."""

    case_id: int
    sex: str
    age: int
    tracer: str
    agent: str
    indication: str
    cancer: str
    activity_mbq: int
    uptake_min: int
    glucose_mmol: float | None
    weight_kg: int
    prior_date: str | None = None
    lesions: list[Lesion] = field(default_factory=list)
    response: str | None = None          # PERCIST CMR/PMR/SMD/PMD
    deauville: int | None = None
    blood_pool_suv: float = 1.8
    liver_suv: float = 2.6
    primary_found: bool = True
    fuo_cause: str | None = None

    @property
    def normal(self) -> bool:
        """Whether the case has no tumour lesion (only physiological, benign or incidental findings)."""
        return not any(lesion.role in ("primary", "node", "distant", "response") for lesion in self.lesions)


def _round1(value: float) -> float:
    return round(value, 1)


def _size(rng: random.Random, low: float, high: float, dims: int = 2) -> tuple[float, ...]:
    first = _round1(rng.uniform(low, high))
    if dims == 1:
        return (first,)
    second = _round1(max(0.3, first * rng.uniform(0.55, 0.95)))
    return (first, second)


def _side(rng: random.Random) -> str:
    return rng.choice(("left", "right"))


def _suv(rng: random.Random, low: float, high: float) -> float:
    return _round1(rng.uniform(low, high))


# --- sites -----------------------------------------------------------------------------

LUNG_LOBES = {"right": ("lung.upper_lobe", "lung.middle_lobe", "lung.lower_lobe"), "left": ("lung.upper_lobe", "lung.lower_lobe")}


def _lung_site(rng: random.Random, side: str | None = None) -> tuple[str, str]:
    side = side or _side(rng)
    return rng.choice(LUNG_LOBES[side]), side


def _bone_site(rng: random.Random) -> tuple[str, str | None, dict]:
    kind = rng.choices(("t", "l", "rib", "ilium", "sacrum", "femur", "sternum", "scapula", "humerus"), (18, 16, 16, 12, 6, 8, 4, 4, 3))[0]
    if kind == "t":
        return "bone.vertebra.t", None, {"level": rng.randint(1, 12)}
    if kind == "l":
        return "bone.vertebra.l", None, {"level": rng.randint(1, 5)}
    if kind == "rib":
        return "bone.rib", _side(rng), {"number": rng.randint(2, 11), "part": rng.choice(("", "前", "后", "侧"))}
    if kind == "sternum":
        return "bone.sternum", None, {}
    if kind == "sacrum":
        return "bone.sacrum", None, {}
    return f"bone.{kind}", _side(rng), {}


def _liver_site(rng: random.Random) -> tuple[str, None, dict]:
    return f"liver.s{rng.choice((2, 3, 4, 5, 6, 7, 8, 8, 7, 6))}", None, {}


def node(rng, site, side, suv_range, size_range=(1.0, 2.6), detail=None, diagnosis="diagnosis.metastasis", certainty="uncertain", uptake="high"):
    """Build a lymph node lesion at ``site`` with short-axis size and SUVmax drawn from the ranges."""
    return Lesion(
        role="node",
        site=site,
        region=_node_region(site),
        laterality=side,
        detail=detail or {},
        size_cm=_size(rng, *size_range),
        suv=_suv(rng, *suv_range),
        uptake=uptake,
        diagnosis=diagnosis,
        certainty=certainty,
    )


def _node_region(site: str) -> str:
    if site.startswith("lymph_node.cervical") or site in ("lymph_node.retropharyngeal", "lymph_node.supraclavicular"):
        return "head_neck"
    if site in ("axilla", "lymph_node.internal_mammary", "lymph_node.station_10") or site.startswith("lymph_node.station"):
        return "chest"
    return "abdomen_pelvis"


STATIONS = (
    ("lymph_node.station_2", "2"),
    ("lymph_node.station_4", "4"),
    ("lymph_node.station_5", "5"),
    ("lymph_node.station_7", "7"),
    ("lymph_node.station_10", "10"),
)


def _mediastinal_node(rng, side, suv_range, diagnosis="diagnosis.metastasis"):
    site, code = rng.choice(STATIONS)
    lateral = site not in ("lymph_node.station_5", "lymph_node.station_7")
    if site == "lymph_node.station_5":
        side = "left"
    node_side = side if lateral else None
    if lateral:
        code += "R" if side == "right" else "L"
    return node(rng, site, node_side, suv_range, (0.9, 2.4), {"code": code}, diagnosis)


def distant(rng, site, region, side, morphology, suv_range, size_range, detail=None, diagnosis="diagnosis.metastasis", certainty="uncertain"):
    """Build a distant metastasis lesion."""
    return Lesion(
        role="distant",
        site=site,
        region=region,
        laterality=side,
        detail=detail or {},
        morphology=morphology,
        size_cm=_size(rng, *size_range) if size_range else None,
        suv=_suv(rng, *suv_range),
        diagnosis=diagnosis,
        certainty=certainty,
    )


def bone_met(rng, suv_range, blastic_share=0.3):
    """Build a bone metastasis (osteolytic or osteoblastic)."""
    site, side, detail = _bone_site(rng)
    morphology = ("finding.osteoblastic",) if rng.random() < blastic_share else ("finding.osteolytic",)
    return distant(rng, site, "musculoskeletal", side, morphology, suv_range, None, detail)


def liver_met(rng, suv_range, diagnosis="diagnosis.metastasis"):
    """Build a hypodense liver metastasis."""
    site, _, detail = _liver_site(rng)
    return distant(rng, site, "abdomen_pelvis", None, ("finding.hypodense_lesion",), suv_range, (0.8, 4.5), detail, diagnosis)


def lung_met(rng, suv_range):
    """Build a solid pulmonary metastasis nodule."""
    site, side = _lung_site(rng)
    return distant(rng, site, "chest", side, ("finding.solid_nodule",), suv_range, (0.5, 1.8))


def adrenal_met(rng, suv_range):
    """Build an adrenal metastasis nodule."""
    return distant(rng, "adrenal_gland", "abdomen_pelvis", _side(rng), ("finding.nodule",), suv_range, (1.0, 3.5))


def peritoneal_met(rng, suv_range):
    """Build peritoneal or omental nodular thickening."""
    site = rng.choice(("peritoneum", "peritoneum.omentum"))
    return distant(rng, site, "abdomen_pelvis", None, ("finding.nodular_thickening",), suv_range, (0.8, 3.0))


def primary(rng, site, region, side, morphology, suv_range, size_range, diagnosis, detail=None, certainty="uncertain"):
    """Build the primary tumour lesion."""
    return Lesion(
        role="primary",
        site=site,
        region=region,
        laterality=side,
        detail=detail or {},
        morphology=morphology,
        size_cm=_size(rng, *size_range),
        suv=_suv(rng, *suv_range),
        diagnosis=diagnosis,
        certainty=certainty,
    )


# --- primaries and their spread ---------------------------------------------------------


def _spread(rng, stage_weights=(3, 4, 3)) -> int:
    """Return 0 (localised), 1 (nodal) or 2 (distant) for an initial staging scan."""
    return rng.choices((0, 1, 2), stage_weights)[0]


def lesions_lung(rng, case):
    side = _side(rng)
    site, side = _lung_site(rng, side)
    ground_glass = rng.random() < 0.12
    if ground_glass:
        morphology = ("finding.ground_glass_nodule",)
        first = primary(rng, site, "chest", side, morphology, (1.0, 3.2), (0.8, 2.0), "diagnosis.lung_cancer")
        first.uptake = "mild"
        return [first]
    morphology = rng.choice((("finding.solid_nodule", "finding.spiculation"), ("finding.mass", "finding.lobulation"), ("finding.solid_nodule", "finding.lobulation", "finding.spiculation"), ("finding.mass",)))
    size = (1.2, 3.0) if "finding.solid_nodule" in morphology else (3.1, 6.5)
    lesions = [primary(rng, site, "chest", side, morphology, (4.0, 18.0), size, "diagnosis.lung_cancer")]
    spread = _spread(rng)
    if spread >= 1:
        lesions.append(node(rng, "lymph_node.station_10", side, (3.0, 11.0), (0.8, 2.0)))
        other_side = "left" if side == "right" else "right"
        for _ in range(rng.randint(1, 3)):
            node_side = side if rng.random() < 0.7 else other_side
            lesions.append(_mediastinal_node(rng, node_side, (3.0, 12.0)))
        if rng.random() < 0.2:
            lesions.append(node(rng, "lymph_node.supraclavicular", side, (3.0, 9.0), (0.8, 1.8)))
    if spread == 2:
        makers = [lambda: bone_met(rng, (4.0, 12.0)), lambda: adrenal_met(rng, (4.0, 11.0)), lambda: lung_met(rng, (1.5, 7.0)), lambda: liver_met(rng, (4.0, 10.0))]
        for maker in rng.sample(makers, rng.randint(1, 3)):
            lesions.append(maker())
        if rng.random() < 0.25:
            lesions.append(distant(rng, "pleura", "chest", side, ("finding.nodular_thickening", "finding.pleural_effusion"), (2.5, 8.0), (0.5, 1.5)))
        if rng.random() < 0.12:
            lesions.append(distant(rng, "brain", "head_neck", _side(rng), ("finding.nodule",), (6.0, 14.0), (0.6, 2.0)))
    return lesions


def lesions_lymphoma(rng, case, hodgkin: bool):
    suv_range = (6.0, 16.0) if hodgkin else (10.0, 32.0)
    sites = [
        ("lymph_node.cervical_level_2", "head_neck"), ("lymph_node.cervical_level_3", "head_neck"), ("lymph_node.cervical_level_4", "head_neck"),
        ("lymph_node.supraclavicular", "head_neck"), ("axilla", "chest"), ("lymph_node.station_4", "chest"), ("lymph_node.station_7", "chest"),
        ("lymph_node.para_aortic", "abdomen_pelvis"), ("mesentery", "abdomen_pelvis"), ("lymph_node.external_iliac", "abdomen_pelvis"), ("lymph_node.inguinal", "abdomen_pelvis"),
    ]
    if hodgkin:
        chosen = rng.sample(sites[:7], rng.randint(2, 5))
    else:
        chosen = rng.sample(sites, rng.randint(2, 6))
    lesions = []
    for site, _region in chosen:
        lateral = site not in ("lymph_node.station_7", "lymph_node.para_aortic", "mesentery")
        side = rng.choice(("left", "right", "bilateral")) if lateral else None
        detail = {}
        if site == "lymph_node.station_4":
            if side == "bilateral":
                side = "right"  # station 4 is named per side (4R, 4L)
            detail = {"code": "4R" if side == "right" else "4L"}
        elif site == "lymph_node.station_7":
            detail = {"code": "7"}
        lesions.append(node(rng, site, side, suv_range, (1.2, 4.5), detail, "diagnosis.lymphoma", "uncertain"))
    if rng.random() < 0.35:
        spleen = distant(rng, "spleen", "abdomen_pelvis", None, ("finding.enlargement",), suv_range, None, diagnosis="diagnosis.involvement")
        spleen.uptake = "diffuse" if rng.random() < 0.5 else "high"
        lesions.append(spleen)
    if rng.random() < 0.2:
        marrow = distant(rng, "bone.marrow", "musculoskeletal", None, (), (4.0, 9.0), None, diagnosis="diagnosis.involvement")
        marrow.uptake = "diffuse"
        lesions.append(marrow)
    if not hodgkin and rng.random() < 0.25:
        lesions.append(distant(rng, "stomach", "abdomen_pelvis", None, ("finding.wall_thickening",), suv_range, None, diagnosis="diagnosis.involvement"))
    return lesions


def lesions_breast(rng, case):
    side = _side(rng)
    lesions = [primary(rng, "breast", "chest", side, ("finding.mass",), (2.5, 12.0), (1.2, 4.0), "diagnosis.breast_cancer")]
    spread = _spread(rng)
    if spread >= 1:
        lesions.append(node(rng, "axilla", side, (2.5, 10.0), (0.8, 2.2)))
        if rng.random() < 0.3:
            lesions.append(node(rng, "lymph_node.internal_mammary", side, (2.0, 7.0), (0.5, 1.2)))
        if rng.random() < 0.2:
            lesions.append(node(rng, "lymph_node.supraclavicular", side, (2.5, 8.0), (0.6, 1.5)))
    if spread == 2:
        for _ in range(rng.randint(1, 3)):
            lesions.append(bone_met(rng, (3.0, 11.0), 0.45))
        if rng.random() < 0.4:
            lesions.append(liver_met(rng, (3.5, 10.0)))
        if rng.random() < 0.25:
            lesions.append(lung_met(rng, (1.5, 6.0)))
    return lesions


def lesions_colorectal(rng, case):
    site = rng.choice(("colon.sigmoid", "rectum", "colon.ascending", "colon.transverse", "colon.descending", "colon.cecum"))
    lesions = [primary(rng, site, "abdomen_pelvis", None, ("finding.wall_thickening",), (6.0, 20.0), (2.0, 6.0), "diagnosis.colorectal_cancer")]
    spread = _spread(rng)
    if spread >= 1:
        lesions.append(node(rng, "mesentery", None, (2.5, 8.0), (0.6, 1.6)))
    if spread == 2:
        for _ in range(rng.randint(1, 3)):
            lesions.append(liver_met(rng, (4.5, 14.0)))
        if rng.random() < 0.35:
            lesions.append(lung_met(rng, (1.5, 6.5)))
        if rng.random() < 0.3:
            lesions.append(peritoneal_met(rng, (3.0, 9.0)))
    return lesions


def lesions_esophageal(rng, case):
    site = rng.choice(("esophagus.middle", "esophagus.lower", "esophagus"))
    lesions = [primary(rng, site, "chest", None, ("finding.wall_thickening",), (7.0, 22.0), (3.0, 8.0), "diagnosis.esophageal_cancer")]
    spread = _spread(rng)
    if spread >= 1:
        lesions.append(_mediastinal_node(rng, _side(rng), (3.0, 9.0)))
        if rng.random() < 0.5:
            lesions.append(node(rng, "lymph_node.perigastric", None, (2.5, 8.0), (0.6, 1.5)))
    if spread == 2:
        lesions.append(rng.choice((liver_met(rng, (4.0, 11.0)), lung_met(rng, (1.5, 6.0)), bone_met(rng, (4.0, 10.0)))))
    return lesions


def lesions_gastric(rng, case):
    site = rng.choice(("stomach.antrum", "stomach.body", "stomach.lesser_curvature"))
    lesions = [primary(rng, site, "abdomen_pelvis", None, ("finding.wall_thickening",), (4.0, 16.0), (2.0, 6.0), "diagnosis.gastric_cancer")]
    spread = _spread(rng)
    if spread >= 1:
        lesions.append(node(rng, "lymph_node.perigastric", None, (2.5, 8.0), (0.6, 1.8)))
    if spread == 2:
        if rng.random() < 0.5:
            lesions.append(peritoneal_met(rng, (2.5, 8.0)))
            if rng.random() < 0.5:
                lesions.append(distant(rng, "pelvis", "abdomen_pelvis", None, ("finding.ascites",), (1.0, 2.0), None))
        else:
            lesions.append(liver_met(rng, (4.0, 12.0)))
        if rng.random() < 0.2:
            lesions.append(node(rng, "lymph_node.supraclavicular", "left", (3.0, 8.0), (0.8, 1.6)))
    return lesions


def lesions_hcc(rng, case):
    site, _, detail = _liver_site(rng)
    lesions = [primary(rng, site, "abdomen_pelvis", None, ("finding.mass",), (3.0, 9.0), (3.0, 9.0), "diagnosis.hepatocellular_carcinoma", detail)]
    if rng.random() < 0.35:
        lesions.append(distant(rng, "portal_vein", "abdomen_pelvis", None, (), (3.0, 7.0), None, diagnosis="diagnosis.tumor_thrombus"))
    if rng.random() < 0.3:
        lesions.append(node(rng, "lymph_node.porta_hepatis", None, (2.5, 7.0), (0.8, 2.0)))
    if rng.random() < 0.3:
        lesions.append(lung_met(rng, (1.5, 5.0)))
    if rng.random() < 0.2:
        lesions.append(bone_met(rng, (3.0, 9.0), 0.1))
    return lesions


def lesions_pancreatic(rng, case):
    site = rng.choice(("pancreas.head", "pancreas.head", "pancreas.body", "pancreas.tail"))
    lesions = [primary(rng, site, "abdomen_pelvis", None, ("finding.mass",), (3.5, 12.0), (2.0, 5.0), "diagnosis.pancreatic_cancer")]
    spread = _spread(rng, (3, 3, 4))
    if spread >= 1:
        lesions.append(node(rng, "lymph_node.peripancreatic", None, (2.5, 7.0), (0.6, 1.5)))
    if spread == 2:
        for _ in range(rng.randint(1, 3)):
            lesions.append(liver_met(rng, (4.0, 10.0)))
        if rng.random() < 0.3:
            lesions.append(peritoneal_met(rng, (2.5, 7.0)))
    return lesions


def lesions_nasopharyngeal(rng, case):
    side = _side(rng)
    lesions = [primary(rng, "nasopharynx.wall", "head_neck", side, ("finding.wall_thickening",), (8.0, 22.0), (2.0, 4.5), "diagnosis.nasopharyngeal_carcinoma")]
    if rng.random() < 0.4:
        lesions.append(distant(rng, "skull_base", "head_neck", None, ("finding.osteolytic",), (5.0, 14.0), None, diagnosis="diagnosis.involvement"))
    for level in rng.sample((2, 2, 3, 4, 5), rng.randint(1, 3)):
        node_side = side if rng.random() < 0.7 else "bilateral"
        lesions.append(node(rng, f"lymph_node.cervical_level_{level}", node_side, (4.0, 15.0), (1.0, 3.5)))
    if rng.random() < 0.4:
        lesions.append(node(rng, "lymph_node.retropharyngeal", side, (4.0, 12.0), (0.7, 1.6)))
    if _spread(rng, (6, 0, 1)) == 2:
        lesions.append(rng.choice((bone_met(rng, (5.0, 13.0)), liver_met(rng, (5.0, 12.0)), lung_met(rng, (2.0, 7.0)))))
    return lesions


def lesions_cervical(rng, case):
    lesions = [primary(rng, "uterus.cervix", "abdomen_pelvis", None, ("finding.mass",), (7.0, 20.0), (2.5, 6.0), "diagnosis.cervical_cancer")]
    spread = _spread(rng)
    if spread >= 1:
        for site in rng.sample(("lymph_node.external_iliac", "lymph_node.internal_iliac", "lymph_node.obturator", "lymph_node.common_iliac"), rng.randint(1, 2)):
            lesions.append(node(rng, site, rng.choice(("left", "right", "bilateral")), (3.0, 12.0), (0.8, 2.4)))
    if spread == 2:
        lesions.append(node(rng, "lymph_node.para_aortic", None, (3.0, 10.0), (0.8, 2.2)))
        if rng.random() < 0.3:
            lesions.append(lung_met(rng, (2.0, 7.0)))
    return lesions


def lesions_ovarian(rng, case):
    side = rng.choice(("left", "right", "bilateral"))
    lesions = [primary(rng, "ovary", "abdomen_pelvis", side, ("finding.mass",), (4.0, 14.0), (3.0, 10.0), "diagnosis.ovarian_cancer")]
    spread = _spread(rng, (2, 3, 5))
    if spread >= 1:
        lesions.append(node(rng, "lymph_node.para_aortic", None, (3.0, 9.0), (0.7, 2.0)))
    if spread == 2:
        lesions.append(peritoneal_met(rng, (3.0, 10.0)))
        if rng.random() < 0.6:
            lesions.append(distant(rng, "pelvis", "abdomen_pelvis", None, ("finding.ascites",), (1.0, 2.0), None))
    return lesions


def lesions_prostate(rng, case):
    psma = case.tracer == "PSMA"
    suv_high = (8.0, 45.0) if psma else (2.5, 7.0)
    side = rng.choice(("left", "right", "bilateral"))
    lesions = []
    if case.indication != "restaging" or rng.random() < 0.3:
        lesions.append(primary(rng, "prostate", "abdomen_pelvis", side, ("finding.nodule",), suv_high, (0.8, 2.8), "diagnosis.prostate_cancer"))
    else:
        lesions.append(primary(rng, "prostate.bed", "abdomen_pelvis", None, ("finding.nodule",), suv_high, (0.5, 1.5), "diagnosis.recurrence"))
    spread = _spread(rng)
    if spread >= 1:
        for site in rng.sample(("lymph_node.external_iliac", "lymph_node.internal_iliac", "lymph_node.obturator"), rng.randint(1, 2)):
            lesions.append(node(rng, site, _side(rng), (6.0, 30.0) if psma else (2.0, 6.0), (0.5, 1.6)))
    if spread == 2:
        for _ in range(rng.randint(1, 4)):
            lesions.append(bone_met(rng, (8.0, 40.0) if psma else (3.0, 9.0), 0.85))
    return lesions


def lesions_neuroendocrine(rng, case):
    dota = case.tracer == "DOTATATE"
    suv = (15.0, 60.0) if dota else (3.0, 10.0)
    site = rng.choice(("pancreas.tail", "pancreas.head", "bowel.small"))
    lesions = [primary(rng, site, "abdomen_pelvis", None, ("finding.nodule",) if site.startswith("pancreas") else ("finding.wall_thickening",), suv, (1.0, 3.5), "diagnosis.neuroendocrine_tumor")]
    if rng.random() < 0.6:
        lesions.append(node(rng, "mesentery", None, suv, (0.8, 2.5)))
    if rng.random() < 0.6:
        for _ in range(rng.randint(1, 3)):
            lesions.append(liver_met(rng, suv))
    if rng.random() < 0.2:
        lesions.append(bone_met(rng, suv, 0.7))
    return lesions


def lesions_thyroid(rng, case):
    side = _side(rng)
    lesions = [primary(rng, "thyroid.lobe", "head_neck", side, ("finding.nodule", "finding.calcification"), (2.0, 9.0), (0.8, 3.0), "diagnosis.thyroid_cancer")]
    if rng.random() < 0.6:
        for level in rng.sample((3, 4, 6), rng.randint(1, 2)):
            if level == 6:
                continue
            lesions.append(node(rng, f"lymph_node.cervical_level_{level}", side, (2.5, 9.0), (0.6, 1.8)))
    if rng.random() < 0.25:
        for _ in range(rng.randint(1, 2)):
            lesions.append(lung_met(rng, (1.2, 5.0)))
    return lesions


CANCER_LESIONS = {
    "lung": lesions_lung,
    "lymphoma_hodgkin": lambda rng, case: lesions_lymphoma(rng, case, True),
    "lymphoma_dlbcl": lambda rng, case: lesions_lymphoma(rng, case, False),
    "breast": lesions_breast,
    "colorectal": lesions_colorectal,
    "esophageal": lesions_esophageal,
    "gastric": lesions_gastric,
    "hepatocellular": lesions_hcc,
    "pancreatic": lesions_pancreatic,
    "nasopharyngeal": lesions_nasopharyngeal,
    "cervical": lesions_cervical,
    "ovarian": lesions_ovarian,
    "prostate": lesions_prostate,
    "neuroendocrine": lesions_neuroendocrine,
    "thyroid": lesions_thyroid,
}


# --- benign, incidental and non-oncologic findings ---------------------------------------


def benign(rng, site, region, side, morphology, suv, size, diagnosis, uptake="mild", certainty="uncertain", role="benign", detail=None, recommendation=None):
    """Build a benign or incidental finding."""
    return Lesion(
        role=role, site=site, region=region, laterality=side, detail=detail or {}, morphology=morphology,
        size_cm=size, suv=suv, uptake=uptake, diagnosis=diagnosis, certainty=certainty, recommendation=recommendation,
    )


def incidental_findings(rng, case) -> list[Lesion]:
    """Draw the benign, physiological and incidental findings a whole-body scan often shows."""
    found = []
    fdg = case.tracer == "FDG"

    if fdg and case.age > 45 and rng.random() < 0.25:
        site = rng.choice(("joint.shoulder", "joint.knee", "joint.hip", "joint.facet"))
        side = None if site == "joint.facet" else rng.choice(("left", "right", "bilateral"))
        found.append(benign(rng, site, "musculoskeletal", side, (), _suv(rng, 2.0, 4.5), None, "diagnosis.degenerative_change"))

    if fdg and case.age < 45 and rng.random() < 0.15:
        found.append(benign(rng, "lymph_node.supraclavicular", "head_neck", "bilateral", ("finding.brown_fat_uptake",), _suv(rng, 3.0, 9.0), None, None, uptake="high", role="physiologic"))

    if fdg and rng.random() < 0.12:
        site = rng.choice(("lymph_node.station_10", "axilla", "lymph_node.inguinal"))
        diagnosis = "diagnosis.granulomatous_disease" if site == "lymph_node.station_10" else "diagnosis.reactive_hyperplasia"
        found.append(benign(rng, site, _node_region(site), "bilateral", ("finding.calcification",) if site == "lymph_node.station_10" else (), _suv(rng, 2.2, 4.5), _size(rng, 0.5, 1.0), diagnosis))

    if fdg and rng.random() < 0.03:
        found.append(benign(rng, "thyroid.lobe", "head_neck", _side(rng), ("finding.nodule",), _suv(rng, 3.0, 12.0), _size(rng, 0.6, 2.0), None, uptake="high", role="incidental", recommendation="thyroid_ultrasound"))

    if fdg and rng.random() < 0.03:
        site = rng.choice(("colon.ascending", "colon.transverse", "colon.descending", "colon.sigmoid", "colon.cecum"))
        found.append(benign(rng, site, "abdomen_pelvis", None, (), _suv(rng, 4.0, 12.0), None, "diagnosis.adenoma", uptake="focal", role="incidental", recommendation="colonoscopy"))

    if rng.random() < 0.10:
        site, _, detail = _liver_site(rng)
        found.append(benign(rng, site, "abdomen_pelvis", None, ("finding.hypodense_lesion",), None, _size(rng, 0.4, 2.5), "diagnosis.cyst", uptake="none", certainty="positive", detail=detail))

    if rng.random() < 0.10:
        site, side = _lung_site(rng)
        found.append(benign(rng, site, "chest", side, ("finding.nodule", "finding.calcification"), None, _size(rng, 0.3, 0.8, 1), "diagnosis.fibrosis", uptake="none"))

    if fdg and case.indication == "treatment_response" and case.cancer in ("lung", "esophageal", "breast") and rng.random() < 0.2:
        site, side = _lung_site(rng)
        found.append(benign(rng, site, "chest", side, (), _suv(rng, 2.2, 4.5), None, "diagnosis.inflammation", detail={"radiation": True}))

    if fdg and case.indication == "treatment_response" and rng.random() < 0.12:
        found.append(benign(rng, "bone.marrow", "musculoskeletal", None, (), _suv(rng, 2.5, 4.5), None, "diagnosis.reactive_hyperplasia", uptake="diffuse"))
    return found


def non_oncologic_lesions(rng, case) -> list[Lesion]:
    """Draw the findings of a fever-of-unknown-origin or inflammatory work-up."""
    cause = rng.choices(("normal", "infection", "vasculitis", "sarcoidosis", "lymphadenitis"), (3, 3, 2, 2, 2))[0]
    case.fuo_cause = cause
    if cause == "infection":
        site, side = _lung_site(rng)
        return [benign(rng, site, "chest", side, ("finding.nodule",) if rng.random() < 0.3 else (), _suv(rng, 3.0, 9.0), _size(rng, 1.5, 4.5), "diagnosis.infection", uptake="high")]
    if cause == "vasculitis":
        return [benign(rng, "aorta", "chest", None, ("finding.wall_thickening",), _suv(rng, 2.8, 6.0), None, "diagnosis.vasculitis", uptake="diffuse")]
    if cause == "sarcoidosis":
        lesions = [benign(rng, "lymph_node.station_10", "chest", "bilateral", (), _suv(rng, 5.0, 14.0), _size(rng, 1.0, 2.2), "diagnosis.sarcoidosis", uptake="high")]
        lesions.append(benign(rng, "lymph_node.station_7", "chest", None, (), _suv(rng, 4.0, 12.0), _size(rng, 1.0, 2.2), "diagnosis.sarcoidosis", uptake="high", detail={"code": "7"}))
        return lesions
    if cause == "lymphadenitis":
        level = rng.choice((2, 3))
        return [benign(rng, f"lymph_node.cervical_level_{level}", "head_neck", rng.choice(("left", "right", "bilateral")), (), _suv(rng, 3.0, 8.0), _size(rng, 0.8, 1.8), "diagnosis.inflammation", uptake="high")]
    return []


# --- response and change against a prior scan -------------------------------------------


def apply_response(rng, case) -> None:
    """Mark each lesion's change against the prior scan and set the PERCIST or Deauville category."""
    category = rng.choices(("CMR", "PMR", "SMD", "PMD"), (30, 35, 15, 20))[0]
    case.response = category
    tumour = [lesion for lesion in case.lesions if lesion.role in ("primary", "node", "distant")]
    for lesion in tumour:
        lesion.prior_suv = lesion.suv
        if category == "CMR":
            lesion.change = "resolved"
            lesion.suv = _suv(rng, 1.0, min(case.liver_suv, 2.4)) if lesion.role != "distant" else None
            lesion.role = "response"
        elif category == "PMR":
            lesion.change = "decreased"
            lesion.suv = _round1(max(1.5, lesion.prior_suv * rng.uniform(0.25, 0.65)))
            if lesion.size_cm:
                lesion.size_cm = tuple(_round1(max(0.3, d * rng.uniform(0.5, 0.85))) for d in lesion.size_cm)
        elif category == "SMD":
            lesion.change = "stable"
            lesion.suv = _round1(lesion.prior_suv * rng.uniform(0.8, 1.2))
        else:
            lesion.change = "increased"
            lesion.suv = _round1(lesion.prior_suv * rng.uniform(1.3, 1.9))
            if lesion.size_cm:
                lesion.size_cm = tuple(_round1(d * rng.uniform(1.2, 1.6)) for d in lesion.size_cm)
    if category == "PMD":
        extra = bone_met(rng, (4.0, 12.0)) if rng.random() < 0.5 else liver_met(rng, (4.0, 12.0))
        extra.change = "new"
        case.lesions.append(extra)
    if case.cancer.startswith("lymphoma"):
        case.deauville = {"CMR": rng.choice((1, 2, 3)), "PMR": 4, "SMD": rng.choice((4, 5)), "PMD": 5}[category]


def mark_new(case) -> None:
    """Mark every tumour lesion as new against the prior scan (recurrence found at follow-up)."""
    for lesion in case.lesions:
        if lesion.role in ("primary", "node", "distant"):
            lesion.change = "new"


def post_treatment_lesion(rng, case) -> Lesion:
    """Build the post-treatment change left at the primary site of a treated cancer."""
    site = {
        "lung": "lung.upper_lobe", "breast": "breast", "colorectal": "rectum", "esophageal": "esophagus",
        "gastric": "stomach", "hepatocellular": "liver", "pancreatic": "pancreas", "nasopharyngeal": "nasopharynx",
        "cervical": "uterus.cervix", "ovarian": "pelvis", "prostate": "prostate.bed", "neuroendocrine": "pancreas",
        "thyroid": "thyroid",
    }.get(case.cancer, "neck")
    side = _side(rng) if site in ("lung.upper_lobe", "breast") else None
    return benign(rng, site, _site_region(site), side, ("finding.post_treatment_change",), _suv(rng, 1.5, 3.2), None, None, uptake="mild", certainty="positive")


def _site_region(site: str) -> str:
    if site in ("nasopharynx", "thyroid", "neck"):
        return "head_neck"
    if site in ("lung.upper_lobe", "breast", "esophagus"):
        return "chest"
    return "abdomen_pelvis"


# --- the case sampler -----------------------------------------------------------------------


def _prior_date(rng) -> str:
    return f"{rng.randint(2022, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _choose_tracer(rng, cancer: str, indication: str) -> str:
    if cancer == "prostate":
        return "PSMA" if rng.random() < 0.85 else "FDG"
    if cancer == "neuroendocrine":
        return "DOTATATE" if rng.random() < 0.85 else "FDG"
    if cancer in ("gastric", "pancreatic", "hepatocellular", "colorectal", "ovarian", "nasopharyngeal") and indication == "initial_staging":
        return "FAPI" if rng.random() < 0.15 else "FDG"
    return "FDG"


def _patient(rng, cancer: str) -> tuple[str, int]:
    sex = CANCER_SEX.get(cancer) or rng.choice(("M", "F"))
    low, high = (16, 70) if cancer.startswith("lymphoma") else (25, 88)
    age = int(min(high, max(low, rng.gauss(58 if not cancer.startswith("lymphoma") else 42, 12))))
    return sex, age


def sample_case(rng: random.Random, case_id: int) -> Case:
    """Draw one case: patient, tracer, indication, primary and its lesions, incidental findings."""
    indication = rng.choices(INDICATIONS, (35, 15, 20, 12, 8, 10))[0]
    if indication == "non_oncologic":
        cancer = "none"
    elif indication == "unknown_primary":
        cancer = rng.choice(("lung", "nasopharyngeal", "esophageal", "pancreatic", "unknown_primary", "unknown_primary"))
    else:
        cancer = rng.choices(CANCERS, CANCER_WEIGHTS)[0]

    tracer = "FDG" if cancer in ("none", "unknown_primary") else _choose_tracer(rng, cancer, indication)
    sex, age = _patient(rng, cancer)
    low, high = TRACER_ACTIVITY_MBQ[tracer]
    case = Case(
        case_id=case_id, sex=sex, age=age, tracer=tracer, agent=rng.choice(TRACER_AGENTS[tracer]),
        indication=indication, cancer=cancer, activity_mbq=rng.randint(low, high),
        uptake_min=rng.randint(*TRACER_UPTAKE_MIN[tracer]),
        glucose_mmol=_round1(rng.uniform(4.2, 7.8)) if tracer == "FDG" else None,
        weight_kg=rng.randint(42, 95),
        blood_pool_suv=_round1(rng.uniform(1.4, 2.2)), liver_suv=_round1(rng.uniform(2.2, 3.2)),
    )
    _fill_lesions(rng, case)
    case.lesions.extend(incidental_findings(rng, case))
    case.lesions = unique_sites(case.lesions)
    return case


def unique_sites(lesions: list[Lesion]) -> list[Lesion]:
    """Keep the first lesion at each site, so no case describes one site twice.

    The makers draw sites independently, with replacement. Here a later lesion is
    dropped when an earlier one has the same site and position (vertebral level,
    rib, liver segment) and the same side, or when either of the two is bilateral
    or has no side. Tumour lesions come first in a case, so a benign or incidental
    finding never displaces one. The station code is ignored because the site and
    side fix it (a right hilar node is station 10R with or without the code).
    """
    kept: list[Lesion] = []
    for lesion in lesions:
        if not any(_same_site(lesion, earlier) for earlier in kept):
            kept.append(lesion)
    return kept


def _same_site(first: Lesion, second: Lesion) -> bool:
    position = lambda lesion: {key: value for key, value in lesion.detail.items() if key != "code"}
    if first.site != second.site or position(first) != position(second):
        return False
    sides = {first.laterality, second.laterality}
    return len(sides) == 1 or bool(sides & {None, "bilateral"})


def _fill_lesions(rng, case) -> None:
    indication, cancer = case.indication, case.cancer
    if indication == "non_oncologic":
        case.lesions = non_oncologic_lesions(rng, case)
        return
    if cancer == "unknown_primary":
        case.primary_found = False
        makers = (lambda: node(rng, f"lymph_node.cervical_level_{rng.choice((2, 3, 4))}", _side(rng), (4.0, 14.0), (1.2, 3.5)),
                  lambda: bone_met(rng, (4.0, 12.0)), lambda: liver_met(rng, (4.0, 12.0)))
        case.lesions = [maker() for maker in rng.sample(makers, rng.randint(1, 3))]
        return
    case.lesions = CANCER_LESIONS[cancer](rng, case)
    if case.tracer == "FAPI":
        for lesion in case.lesions:
            lesion.suv = _round1(lesion.suv * rng.uniform(1.0, 1.4))
    if indication == "unknown_primary":
        if not any(lesion.role != "primary" for lesion in case.lesions):
            case.lesions.append(node(rng, "lymph_node.supraclavicular", _side(rng), (4.0, 10.0), (1.0, 2.0)))
    elif indication == "treatment_response":
        case.prior_date = _prior_date(rng)
        apply_response(rng, case)
    elif indication in ("restaging", "surveillance"):
        recurrence = rng.random() < (0.6 if indication == "restaging" else 0.25)
        case.prior_date = _prior_date(rng) if rng.random() < 0.7 else None
        if recurrence:
            case.lesions = [lesion for lesion in case.lesions if lesion.role != "primary" or cancer.startswith("lymphoma") or cancer == "prostate"] or case.lesions
            for lesion in case.lesions:
                if lesion.role == "primary":
                    lesion.diagnosis = "diagnosis.recurrence"
            if case.prior_date:
                mark_new(case)
            case.lesions.append(post_treatment_lesion(rng, case))
        else:
            case.lesions = [post_treatment_lesion(rng, case)] if not cancer.startswith("lymphoma") else []
