"""Render a :class:`~petf2i_core.data.synth.cases.Case` as an English PET/CT report."""

from __future__ import annotations

import random

from petf2i_core.data.synth.builder import PLAIN, Builder, Segment
from petf2i_core.data.synth.cases import DIAGNOSIS_OF_CANCER, Case, Lesion, uptake_grade
from petf2i_core.data.synth.lexicon import load_lexicon
from petf2i_core.data.synth.render_zh import (
    FUO_DIAGNOSES,
    ROLE_ORDER,
    _ann_arbor,
    _covered,
    _descriptor,
    _distinct_sites,
    _group_distant,
    _is_node,
    _mild,
    _pick,
)
from petf2i_core.data.synth.styles import Style, format_size, size_value
from petf2i_core.data.synth.templates import compile_all

REGION_TITLES = {
    "head_neck": ("region.head_neck", ("HEAD AND NECK", "Head and neck")),
    "chest": ("region.chest", ("CHEST", "Chest", "Thorax")),
    "abdomen_pelvis": ("region.abdomen_pelvis", ("ABDOMEN AND PELVIS", "Abdomen and pelvis")),
    "musculoskeletal": ("region.musculoskeletal", ("MUSCULOSKELETAL", "Musculoskeletal", "Bones and soft tissues")),
}
# Hedges of a benign impression item. Malignancy hedges such as "concerning for" or
# "suspicious for" would imply a worry that the benign diagnosis does not carry.
BENIGN_HEDGES = ("likely", "probably")
# Uptake phrases of each grade of :func:`~petf2i_core.data.synth.cases.uptake_grade`,
# for FDG and for the other tracers.
UPTAKE_FORMS = {
    "mild": {"FDG": ("mildly increased uptake", "mild FDG uptake"), "other": ("mildly increased uptake", "mild uptake")},
    "moderate": {"FDG": ("moderately increased FDG uptake", "increased FDG uptake"), "other": ("moderately increased tracer uptake", "increased tracer uptake")},
    "intense": {"FDG": ("intense FDG uptake", "intense uptake"), "other": ("intense tracer uptake", "intense uptake")},
}
TRACER_AVID = {"FDG": "FDG-avid", "PSMA": "PSMA-avid", "DOTATATE": "DOTATATE-avid", "FAPI": "FAPI-avid"}
INDICATION_TEXT = {
    "initial_staging": ("Initial staging.", "Staging before treatment."),
    "restaging": ("Restaging after treatment.", "{h:Suspected} {f:diagnosis.recurrence:recurrence} after surgery."),
    "treatment_response": ("Assessment of treatment response.", "Response assessment after chemotherapy."),
    "surveillance": ("Surveillance after treatment.", "Routine follow-up."),
    "unknown_primary": ("{f:diagnosis.metastasis:Metastases} of unknown origin; search for the {f:diagnosis.primary_tumor:primary site}.",),
    "non_oncologic": ("Fever of unknown origin.", "Prolonged fever; search for a source."),
}
NORMAL = {
    "head_neck": (
        ((), "FDG", ("{f:finding.physiological_uptake:Physiological uptake} in the {a:brain.cortex:cerebral cortex}. The {a:brain:brain} shows {n:no} {f:finding.mass:mass} on CT.", "{f:finding.physiological_uptake:Physiological activity} in the {a:brain.cortex:cerebral cortex}; the {a:brain:brain} is unremarkable on CT.")),
        ((), "PSMA DOTATATE FAPI", "The {a:brain:brain} shows {n:no} {f:finding.increased_uptake:abnormal uptake}."),
        (("nasopharynx",), "", ("The {a:nasopharynx:nasopharynx} is symmetric {n:without} {f:finding.mass:mass} or {f:finding.increased_uptake:abnormal uptake}.", "{n:No} {f:finding.wall_thickening:focal thickening} or {f:finding.increased_uptake:abnormal uptake} in the {a:nasopharynx:nasopharynx}.")),
        (("lymph_node.cervical", "lymph_node.supraclavicular", "lymph_node.retropharyngeal"), "", ("{n:No} {f:finding.lymphadenopathy:lymphadenopathy} in the {a:neck:neck} or {a:lymph_node.supraclavicular:supraclavicular} regions.", "{n:No} {f:finding.increased_uptake:abnormal uptake} in the {a:lymph_node.cervical:cervical lymph nodes}.")),
        (("thyroid",), "", ("The {a:thyroid:thyroid gland} is unremarkable.", "The {a:thyroid:thyroid} shows {n:no} {f:finding.increased_uptake:focal uptake}.")),
    ),
    "chest": (
        (("lung",), "", ("{n:No} {f:finding.nodule:nodules} or {f:finding.increased_uptake:focal uptake} in {a:lung:lungs:bilateral:both}.", "The {a:lung:lungs} are clear {n:without} {f:finding.nodule:nodules} or {f:finding.increased_uptake:focal uptake}.")),
        (("lymph_node.station", "mediastinum"), "", ("{n:No} {f:finding.lymphadenopathy:enlarged lymph nodes} in the {a:mediastinum:mediastinum} or {a:lymph_node.station_10:hilar:bilateral:bilateral} regions.", "{n:No} {f:finding.increased_uptake:abnormal uptake} in the {a:mediastinum:mediastinal} or {a:lymph_node.station_10:hilar} {a:lymph_node:lymph nodes}.")),
        ((), "FDG", ("Variable {f:finding.physiological_uptake:physiological activity} in the {a:heart.myocardium:myocardium}.", "Heterogeneous {a:heart.myocardium:myocardial} activity, in keeping with {f:finding.physiological_uptake:physiological uptake}.")),
        ((), "PSMA DOTATATE FAPI", "The {a:heart:heart} is normal in size."),
        (("pleura",), "", ("{n:No} {f:finding.pleural_effusion:pleural effusion}.", "{n:No} {f:finding.pleural_effusion:pleural effusions} are seen.")),
    ),
    "abdomen_pelvis": (
        (("liver",), "", ("The {a:liver:liver} is normal in size {n:without} {f:finding.hypodense_lesion:hypodense lesion} or {f:finding.increased_uptake:abnormal uptake}.", "The {a:liver:liver} shows homogeneous tracer distribution.")),
        (("gallbladder", "pancreas", "spleen"), "", ("The {a:gallbladder:gallbladder}, {a:pancreas:pancreas} and {a:spleen:spleen} are unremarkable.", "{n:No} {f:finding.increased_uptake:focal uptake} in the {a:pancreas:pancreas} or {a:spleen:spleen}.")),
        (("adrenal_gland",), "", ("{n:No} {f:finding.nodule:nodule} in the {a:adrenal_gland:adrenal glands:bilateral:bilateral}.", "The {a:adrenal_gland:adrenal glands} are unremarkable.")),
        ((), "FDG FAPI", ("Excreted tracer in the {a:kidney.collecting_system:collecting systems}, {a:ureter:ureters} and {a:bladder:bladder} ({f:finding.physiological_uptake:physiological activity}).", "{f:finding.physiological_uptake:Physiological activity} in the {a:kidney:kidneys} and {a:bladder:urinary bladder}.")),
        (("bowel", "colon", "rectum", "stomach"), "FDG", ("{f:finding.physiological_uptake:Physiological uptake} in the {a:bowel:bowel}.", "Mild {f:finding.physiological_uptake:physiological activity} in the {a:bowel:bowel}.")),
        (("retroperitoneum", "lymph_node.para_aortic", "mesentery", "pelvis", "lymph_node.common_iliac", "lymph_node.external_iliac", "lymph_node.internal_iliac", "lymph_node.obturator", "lymph_node.inguinal"), "",
         "{n:No} {f:finding.lymphadenopathy:lymphadenopathy} in the {a:retroperitoneum:retroperitoneum} or {a:pelvis:pelvis}. {n:No} {f:finding.ascites:ascites}."),
    ),
    "musculoskeletal": (
        (("bone",), "", ("{n:No} {f:finding.osteolytic:bone destruction} or {f:finding.increased_uptake:abnormal uptake} in the {a:bone:skeleton}.", "{n:No} {f:finding.increased_uptake:focal uptake} or {f:finding.osteolytic:lytic lesion} in the {a:bone:skeleton}.")),
        (("muscle", "soft_tissue"), "", "{n:No} {f:finding.increased_uptake:abnormal uptake} in the {a:muscle:muscles} or {a:soft_tissue.subcutaneous:subcutaneous} tissues."),
    ),
}
STRUCTURED_NORMAL = {
    "chest": ((("pleura",), "{f:finding.pleural_effusion:Pleural effusion}: none."),),
    "abdomen_pelvis": ((("pelvis", "peritoneum"), "{f:finding.ascites:Ascites}: none."),),
}
SEX_NORMAL = {
    "F": (("uterus", "ovary"), "abdomen_pelvis", "The {a:uterus:uterus} and {a:ovary:adnexa:bilateral:bilateral} show {n:no} {f:finding.mass:mass} or {f:finding.increased_uptake:abnormal uptake}."),
    "M": (("prostate",), "abdomen_pelvis", "The {a:prostate:prostate} shows {n:no} {f:finding.increased_uptake:focal uptake}."),
}
PHYSIOLOGY = {
    "PSMA": {
        "head_neck": "{f:finding.physiological_uptake:Physiological uptake} in the {a:lacrimal_gland:lacrimal glands:bilateral:bilateral}, {a:salivary_gland.parotid:parotid glands} and {a:salivary_gland.submandibular:submandibular glands}.",
        "abdomen_pelvis": "{f:finding.physiological_uptake:Physiological uptake} in the {a:liver:liver}, {a:spleen:spleen}, {a:kidney:kidneys}, {a:bowel:bowel} and {a:bladder:urinary bladder}.",
    },
    "DOTATATE": {
        "head_neck": "{f:finding.physiological_uptake:Physiological uptake} in the {a:pituitary:pituitary gland}.",
        "abdomen_pelvis": "{f:finding.physiological_uptake:Physiological uptake} in the {a:spleen:spleen}, {a:adrenal_gland:adrenal glands}, {a:kidney:kidneys} and {a:liver:liver}.",
    },
    "FAPI": {"chest": "Low background activity throughout the body with good image contrast."},
}
_NORMAL = compile_all({region: tuple(t for _, _, t in rows) for region, rows in NORMAL.items()}, "en")
_STRUCTURED = compile_all({region: tuple(t for _, t in rows) for region, rows in STRUCTURED_NORMAL.items()}, "en")
_SEX = compile_all({sex: row[2] for sex, row in SEX_NORMAL.items()}, "en")
_PHYSIOLOGY = compile_all(PHYSIOLOGY, "en")
_INDICATION = compile_all(INDICATION_TEXT, "en")

ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII", "8": "VIII"}
ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}
PART = {"": "", "前": "anterior ", "后": "posterior ", "侧": "lateral "}
BONE_FORMS = {"bone.sternum": "sternum", "bone.sacrum": "sacrum", "bone.ilium": "iliac bone", "bone.femur": "proximal femur", "bone.scapula": "scapula", "bone.humerus": "humerus"}
NODE_FORMS = {
    "lymph_node.supraclavicular": "supraclavicular", "axilla": "axillary", "lymph_node.internal_mammary": "internal mammary",
    "lymph_node.para_aortic": "para-aortic", "mesentery": "mesenteric", "lymph_node.perigastric": "perigastric",
    "lymph_node.peripancreatic": "peripancreatic", "lymph_node.porta_hepatis": "porta hepatis", "lymph_node.common_iliac": "common iliac",
    "lymph_node.external_iliac": "external iliac", "lymph_node.internal_iliac": "internal iliac", "lymph_node.obturator": "obturator",
    "lymph_node.inguinal": "inguinal", "lymph_node.retropharyngeal": "retropharyngeal",
}
STATION_FORMS = {"lymph_node.station_2": "upper paratracheal", "lymph_node.station_4": "lower paratracheal", "lymph_node.station_5": "aortopulmonary window", "lymph_node.station_7": "subcarinal"}
ORGAN_FORMS = {
    "lung.upper_lobe": "upper lobe", "lung.middle_lobe": "middle lobe", "lung.lower_lobe": "lower lobe", "breast": "breast",
    "colon.sigmoid": "sigmoid colon", "rectum": "rectum", "colon.ascending": "ascending colon", "colon.transverse": "transverse colon",
    "colon.descending": "descending colon", "colon.cecum": "cecum", "esophagus.middle": "mid esophagus", "esophagus.lower": "distal esophagus",
    "esophagus": "esophagus", "stomach.antrum": "gastric antrum", "stomach.body": "gastric body", "stomach.lesser_curvature": "lesser curvature",
    "stomach": "stomach", "pancreas.head": "pancreatic head", "pancreas.body": "pancreatic body", "pancreas.tail": "pancreatic tail",
    "pancreas": "pancreas", "uterus.cervix": "cervix", "ovary": "adnexa", "prostate": "prostate", "prostate.bed": "prostate bed",
    "bowel.small": "small bowel", "adrenal_gland": "adrenal gland", "pleura": "pleura", "peritoneum": "peritoneum",
    "peritoneum.omentum": "omentum", "spleen": "spleen", "bone.marrow": "bone marrow", "portal_vein": "main portal vein",
    "skull_base": "skull base", "aorta": "aortic arch", "pelvis": "pelvis", "liver": "liver", "nasopharynx": "nasopharynx",
    "thyroid": "thyroid", "neck": "neck", "joint.shoulder": "shoulder", "joint.knee": "knee", "joint.hip": "hip",
}
MORPHOLOGY_FORMS = {
    "finding.solid_nodule": ("solid nodule", "soft-tissue nodule"),
    "finding.ground_glass_nodule": ("ground-glass nodule", "ground-glass opacity"),
    "finding.nodule": ("nodule",),
    "finding.mass": ("mass", "soft-tissue mass"),
    "finding.hypodense_lesion": ("hypodense lesion", "hypoattenuating lesion"),
    "finding.wall_thickening": ("wall thickening", "focal thickening"),
    "finding.nodular_thickening": ("nodular thickening",),
    "finding.osteolytic": ("osteolytic lesion", "lytic lesion"),
    "finding.osteoblastic": ("osteoblastic lesion", "sclerotic lesion"),
    "finding.enlargement": ("enlargement",),
    "finding.post_treatment_change": ("post-treatment changes", "postoperative changes"),
}
# CT descriptors of a mass-like lesion: (malignant-looking, benign-looking).
EN_DESCRIPTORS = (("ill-defined", "heterogeneous", "irregular"), ("well-defined", "homogeneous", "smoothly marginated"))
CANCER_FORMS = {
    "lung": "lung cancer", "lymphoma_hodgkin": "Hodgkin lymphoma", "lymphoma_dlbcl": "diffuse large B-cell lymphoma", "breast": "breast cancer",
    "colorectal": "colorectal cancer", "esophageal": "esophageal cancer", "gastric": "gastric cancer", "hepatocellular": "hepatocellular carcinoma",
    "pancreatic": "pancreatic adenocarcinoma", "nasopharyngeal": "nasopharyngeal carcinoma", "cervical": "cervical cancer",
    "ovarian": "ovarian cancer", "prostate": "prostate cancer", "neuroendocrine": "neuroendocrine tumor", "thyroid": "thyroid cancer",
}


class EnRenderer:
    """Write the English findings and impression of a case in one style."""

    language = "en"

    def __init__(self, style: Style, rng: random.Random):
        self.style = style
        self.rng = rng
        self.lexicon = load_lexicon()
        self.british = style.name == "en-d"

    def builder(self) -> Builder:
        """Return an empty builder for this language."""
        return Builder("en", self.lexicon)

    # --- findings ---------------------------------------------------------------------

    def header(self, b: Builder, case: Case) -> None:
        """Write the indication and technique header: tracer, activity, uptake time, glucose."""
        rng, style = self.rng, self.style
        if style.activity_unit == "mCi":
            activity = f"{case.activity_mbq / 37:.1f} mCi ({case.activity_mbq} MBq)"
        else:
            activity = f"{case.activity_mbq} MBq"
        b.text("Indication: ")
        b.segments.extend(rng.choice(_INDICATION[case.indication]))
        b.fixed("\n")
        b.text("Technique: ")
        if case.glucose_mmol is not None:
            glucose = f"{case.glucose_mmol} mmol/L" if rng.random() < 0.7 else f"{round(case.glucose_mmol * 18)} mg/dL"
            b.text("Fasting blood glucose ").fixed(glucose).text(". ")
        b.fixed(activity).text(" of ").fixed(case.agent).text(" was injected intravenously")
        b.text(", and images from the vertex to the mid-thigh were acquired after ").fixed(f"{case.uptake_min}").text(" minutes")
        b.text(" with low-dose CT for attenuation correction.").fixed("\n")

    def region_title(self, b: Builder, region: str) -> None:
        """Write the heading of a body region."""
        concept, forms = REGION_TITLES[region]
        title = forms[0] if self.style.name in ("en-a", "en-c") else self.rng.choice(forms[1:])
        before, after = self.style.region_title.split("{title}")
        b.fixed(before).anatomy(concept, title).fixed(after + ("\n" if self.style.name == "en-b" else " "))

    def site(self, b: Builder, lesion: Lesion, capital: bool = False) -> None:
        """Write the anatomical site of a lesion with its lateral cue (``capital`` for a sentence start)."""
        site, side = lesion.site, lesion.laterality
        cue = side if side else None
        if cue and capital:
            cue = cue.capitalize()
        def form(text: str) -> str:
            return text[0].upper() + text[1:] if capital and not cue else text
        if site.startswith("liver.s"):
            b.anatomy(site, form(f"hepatic segment {ROMAN[site[-1]]}" if self.rng.random() < 0.5 else f"segment {ROMAN[site[-1]]}"))
        elif site in ("bone.vertebra.t", "bone.vertebra.l"):
            letter = "T" if site.endswith("t") else "L"
            b.anatomy(site, f"{letter}{lesion.detail['level']} " + self.rng.choice(("vertebral body", "vertebra")))
        elif site == "bone.rib":
            number = lesion.detail["number"]
            b.anatomy(site, f"{ORDINAL.get(number, f'{number}th')} {PART[lesion.detail['part']]}rib", side, cue)
        elif site in BONE_FORMS:
            b.anatomy(site, form(BONE_FORMS[site]), side, cue)
        elif site.startswith("lymph_node.station"):
            self._station(b, lesion, cue, form)
        elif site.startswith("lymph_node.cervical_level_"):
            b.anatomy(site, form(f"level {ROMAN[site[-1]]}"), side, cue)
        elif site in NODE_FORMS:
            b.anatomy(site, form(NODE_FORMS[site]), side, cue)
        elif site == "nasopharynx.wall":
            b.anatomy(site, form("lateral nasopharyngeal wall" if side in ("left", "right") else "posterior nasopharyngeal wall"), side if side != "bilateral" else None, cue if side != "bilateral" else None)
        elif site == "thyroid.lobe":
            b.anatomy(site, form("thyroid lobe"), side, cue)
        elif site == "prostate":
            b.anatomy(site, form("prostate")).fixed(f" ({side} peripheral zone)" if side else "")
        elif site == "joint.facet":
            b.anatomy("bone.vertebra.l", form("lumbar spine")).text(" ").anatomy(site, "facet joints")
        elif site == "brain":
            b.anatomy(site, form("brain")).fixed(f" ({side} hemisphere)" if side else "")
        elif site.startswith("joint.") and side == "bilateral":
            b.anatomy(site, ORGAN_FORMS[site] + "s", side, cue)
        else:
            b.anatomy(site, form(ORGAN_FORMS[site]), side, cue)

    def _station(self, b: Builder, lesion: Lesion, cue: str | None, form) -> None:
        site, side = lesion.site, lesion.laterality
        code = lesion.detail.get("code")
        if site == "lymph_node.station_10":
            b.anatomy(site, form("hilar"), side, cue)
            return
        lateral = site in ("lymph_node.station_2", "lymph_node.station_4")
        b.anatomy(site, form(STATION_FORMS[site]), side if lateral else None, cue if lateral else None)
        b.fixed(f" (station {code})" if code else "")

    def size_text(self, b: Builder, lesion: Lesion) -> None:
        """Write a size mention in this style's spelling."""
        written = size_value(lesion.size_cm, self.style)
        b.size(format_size(written, self.style), written)

    def suv_text(self, b: Builder, value: float) -> None:
        """Write an SUVmax mention in this style's spelling."""
        b.suv(self.style.suv_format.format(value=f"{value:.1f}"), value)

    def uptake(self, b: Builder, lesion: Lesion, tracer: str) -> None:
        """Write the uptake phrase of a lesion, with its SUVmax in this style's place."""
        rng = self.rng
        if lesion.uptake == "none" or lesion.suv is None:
            b.negation("no").text(" ").finding("finding.increased_uptake", "abnormal uptake")
            return
        if lesion.uptake == "diffuse":
            b.finding("finding.diffuse_uptake", "diffusely increased uptake")
        elif lesion.uptake == "focal":
            b.finding("finding.focal_bowel_uptake", "focal intense uptake")
        else:
            grade = uptake_grade(lesion.suv)
            concept = "finding.mild_uptake" if grade == "mild" else "finding.increased_uptake"
            b.finding(concept, rng.choice(UPTAKE_FORMS[grade]["FDG" if tracer == "FDG" else "other"]))
        if self.style.suv_inline:
            b.text(" (")
            self.suv_text(b, lesion.suv)
            b.text(")")
        else:
            b.text(", ")
            self.suv_text(b, lesion.suv)

    def change(self, b: Builder, lesion: Lesion) -> None:
        """Write the comparison of a lesion with the prior scan."""
        if lesion.change is None:
            return
        b.text(", ")
        if lesion.change == "new":
            b.text(self.rng.choice(("new since the prior study", "new compared with the prior study")))
        elif lesion.change == "increased":
            if lesion.size_cm:
                b.finding("finding.enlargement", "enlarged").text(" with ")
            else:
                b.text("with ")
            b.finding("finding.increased_uptake", "increased uptake").text(" since the prior study")
            self._prior(b, lesion)
        elif lesion.change == "decreased":
            b.text("smaller and " if lesion.size_cm else "").text("with ").finding("finding.decreased_uptake", "decreased uptake")
            self._prior(b, lesion)
        elif lesion.change == "stable":
            b.text("stable compared with the prior study")

    def _prior(self, b: Builder, lesion: Lesion) -> None:
        if lesion.prior_suv is not None:
            b.text(" (previously ").suv(f"SUVmax {lesion.prior_suv:.1f}", lesion.prior_suv).text(")")

    def lesion_sentence(self, b: Builder, lesion: Lesion, case: Case) -> None:
        """Write the findings sentence of one lesion."""
        rng, style = self.rng, self.style
        if lesion.change == "resolved":
            b.text("The previously seen ").finding("finding.lesion", "lesion").text(" in the ")
            self.site(b, lesion)
            b.text(" shows ").negation("no").text(" residual ").finding("finding.increased_uptake", "abnormal uptake").text(". ")
            return
        if "finding.brown_fat_uptake" in lesion.morphology:
            strength = "intense uptake" if uptake_grade(lesion.suv) == "intense" else "increased uptake"
            b.text("Symmetric ").finding("finding.increased_uptake", strength).text(" in the fat of the ")
            b.anatomy("neck", "neck", "bilateral", "bilateral").text(" and ").anatomy("lymph_node.supraclavicular", "supraclavicular").text(" regions (")
            self.suv_text(b, lesion.suv)
            b.text("), in keeping with ").finding("finding.brown_fat_uptake", "brown fat").text(". ")
            return
        if lesion.morphology and lesion.morphology[0] in ("finding.ascites", "finding.pleural_effusion"):
            concept = lesion.morphology[0]
            b.text("There is ").finding(concept, "ascites" if concept == "finding.ascites" else "pleural effusion").text(". ")
            return
        if "finding.post_treatment_change" in lesion.morphology:
            b.finding("finding.post_treatment_change", rng.choice(MORPHOLOGY_FORMS["finding.post_treatment_change"]).capitalize()).text(" in the ")
            self.site(b, lesion)
            b.text(" with ")
            self.uptake(b, lesion, case.tracer)
        elif style.size_first and (lesion.morphology or _is_node(lesion)) and not _plural(lesion):
            self._sentence_site_last(b, lesion, case)
        else:
            self._sentence_site_first(b, lesion, case)
        if lesion.site == "portal_vein":
            b.text(" with a filling defect")
        b.text(". ")

    def _noun(self, lesion: Lesion, plural: bool = False) -> tuple[str | None, str | None, str]:
        """Return the noun of a lesion sentence as (segment kind, concept, text); kind None is plain text."""
        if _is_node(lesion):
            if lesion.size_cm and lesion.size_cm[0] >= 1.0:
                return "finding", "finding.lymphadenopathy", "enlarged lymph nodes" if plural else "enlarged lymph node"
            return "anatomy", "lymph_node", "lymph nodes" if plural else "lymph node"
        concept = lesion.morphology[0] if lesion.morphology else None
        if concept is None or concept == "finding.enlargement":
            return None, None, "abnormal activity"
        form = _thickening_form(lesion) or self.rng.choice(MORPHOLOGY_FORMS[concept])
        if plural and concept in ("finding.mass", "finding.nodule", "finding.solid_nodule"):
            form = form + "es" if form.endswith("mass") else form + "s"
        return "finding", concept, form

    @staticmethod
    def _write_noun(b: Builder, noun: tuple[str | None, str | None, str]) -> None:
        kind, concept, text = noun
        if kind == "finding":
            b.finding(concept, text)
        elif kind == "anatomy":
            b.anatomy(concept, text)
        else:
            b.text(text)

    def _extras(self, b: Builder, lesion: Lesion) -> None:
        for extra in lesion.morphology[1:]:
            if extra == "finding.spiculation":
                b.text(", ").finding(extra, "spiculated").text(" margins")
            elif extra == "finding.lobulation":
                b.text(", ").finding(extra, "lobulated").text(" contour")
            elif extra == "finding.calcification":
                b.text(", with internal ").finding(extra, "calcification")
            elif extra == "finding.pleural_effusion":
                b.text(", with an associated ").finding(extra, "pleural effusion")

    def _sentence_site_first(self, b: Builder, lesion: Lesion, case: Case) -> None:
        plural = _plural(lesion)
        b.text("In " + _article(lesion))
        self.site(b, lesion)
        b.text((" regions" if plural else " region") if _is_node(lesion) else "")
        if not _is_node(lesion) and not lesion.morphology:
            b.text(", there is ")
            self.uptake(b, lesion, case.tracer)
            self.change(b, lesion)
            return
        noun = self._noun(lesion, plural)
        descriptor = None if _is_node(lesion) else _descriptor(self.rng, lesion, EN_DESCRIPTORS)
        first_word = descriptor or noun[2]
        if plural:
            b.text(", there are " + (descriptor + " " if descriptor else ""))
        else:
            b.text(", there is " + indefinite_article(first_word) + " " + (descriptor + " " if descriptor else ""))
        self._write_noun(b, noun)
        if lesion.size_cm:
            b.text(" measuring up to " if plural else " measuring ")
            self.size_text(b, lesion)
        b.text(" with ")
        self.uptake(b, lesion, case.tracer)
        self._extras(b, lesion)
        self.change(b, lesion)

    def _sentence_site_last(self, b: Builder, lesion: Lesion, case: Case) -> None:
        noun = self._noun(lesion)
        if lesion.size_cm:
            written = format_size(size_value(lesion.size_cm, self.style), self.style)
            b.text(indefinite_article(written).capitalize() + " ")
            self.size_text(b, lesion)
            b.text(" ")
        else:
            b.text(indefinite_article(noun[2]).capitalize() + " ")
        self._write_noun(b, noun)
        b.text(" in " + _article(lesion))
        self.site(b, lesion)
        b.text(" region" if _is_node(lesion) else "")
        b.text(" shows ")
        self.uptake(b, lesion, case.tracer)
        self._extras(b, lesion)
        self.change(b, lesion)

    def region_body(self, b: Builder, region: str, case: Case) -> None:
        """Write a region: its lesions first, then tracer physiology, then normal statements."""
        lesions = sorted((l for l in case.lesions if l.region == region), key=lambda l: ROLE_ORDER.index(l.role))
        if self.style.lesions_first:
            for lesion in lesions:
                self.lesion_sentence(b, lesion, case)
        physiology = _PHYSIOLOGY.get(case.tracer, {}).get(region)
        if physiology:
            b.segments.extend(physiology)
            b.text(" ")
        structured = self.style.structured_negatives and region in _STRUCTURED
        for index, (covers, tracers, _) in enumerate(NORMAL[region]):
            if tracers and case.tracer not in tracers.split():
                continue
            if _covered(case, covers):
                continue
            segments = _pick(self.rng, _NORMAL[region][index])
            if structured and any(s.concept in ("finding.pleural_effusion", "finding.ascites") for s in segments):
                continue
            b.segments.extend(segments)
            b.text(" ")
        if structured:
            for index, (covers, _) in enumerate(STRUCTURED_NORMAL[region]):
                if not _covered(case, covers):
                    while b.segments and b.segments[-1].text == " ":
                        b.segments.pop()
                    b.fixed("\n")
                    b.segments.extend(_STRUCTURED[region][index])
                    b.text(" ")
        sex_row = SEX_NORMAL[case.sex]
        if sex_row[1] == region and not _covered(case, sex_row[0]):
            b.segments.extend(_SEX[case.sex])
        if not self.style.lesions_first:
            if lesions and self.language == "en" and b.segments and b.segments[-1].text.endswith("."):
                b.text(" ")
            for lesion in lesions:
                self.lesion_sentence(b, lesion, case)
        while b.segments and b.segments[-1].text == " ":
            b.segments.pop()
        last = b.segments[-1] if b.segments else None
        if last is not None and last.kind == PLAIN and last.text.endswith(" "):
            b.segments[-1] = Segment(PLAIN, last.text.rstrip())

    # --- impression ---------------------------------------------------------------------

    def hedge(self, b: Builder) -> None:
        """Write one of this style's hedge cues followed by a space."""
        weights = [3] + [1] * (len(self.style.hedges) - 1)
        b.hedge(self.rng.choices(self.style.hedges, weights)[0]).text(" ")

    def impression(self, case: Case) -> Builder:
        """Write the numbered impression, most important item first."""
        items = self.impression_items(case)
        b = self.builder()
        for number, item in enumerate(items, start=1):
            b.fixed(self.style.numbering.format(n=number))
            _capitalize(item)
            b.segments.extend(item.segments)
            b.fixed(".")
            if number < len(items):
                b.fixed("\n")
        return b

    def impression_items(self, case: Case) -> list[Builder]:
        """Return the impression items of a case as separate builders."""
        items: list[Builder] = []
        tumour = [l for l in case.lesions if l.role in ("primary", "node", "distant")]
        resolved = [l for l in case.lesions if l.role == "response"]
        if case.indication == "non_oncologic":
            items.extend(self._fuo_items(case))
        elif tumour:
            items.extend(self._tumour_items(case, tumour))
        elif resolved:
            items.append(self._resolved_item(case, resolved))
        elif case.cancer not in ("none", "unknown_primary"):
            items.append(self._no_evidence_item(case))
        if case.indication == "unknown_primary" and not case.primary_found:
            item = self.builder().negation("no").text(" ").finding("diagnosis.primary_tumor", "primary site").text(" identified on whole-body PET/CT")
            items.append(item)
            items.append(self.builder().text("correlation with endoscopy and tissue sampling is recommended"))
        if case.response and case.indication == "treatment_response":
            items.append(self._response_item(case))
        for lesion in case.lesions:
            if lesion.role in ("benign", "incidental", "physiologic") and not (case.indication == "non_oncologic" and lesion.diagnosis in FUO_DIAGNOSES):
                items.append(self._benign_item(case, lesion))
        if case.indication == "non_oncologic":
            items.append(self.builder().text(self.rng.choice(("clinical and laboratory correlation is recommended", "correlate clinically; follow-up as indicated"))))
        if not items:
            items.append(self.builder().negation("no").text(" scintigraphic evidence of ").finding("diagnosis.malignancy", "malignancy"))
        return items

    def _sites(self, b: Builder, lesions: list[Lesion]) -> None:
        shown = _distinct_sites(lesions)[:4]
        for index, lesion in enumerate(shown):
            if index:
                b.text(" and " if index == len(shown) - 1 else ", ")
            self.site(b, lesion)

    def _cancer(self, b: Builder, cancer: str, site: str | None = None) -> None:
        form = CANCER_FORMS[cancer]
        if cancer == "colorectal" and site is not None:
            form = "rectal cancer" if site == "rectum" else "colon cancer"
        if self.british and cancer == "esophageal":
            form = "oesophageal cancer"
        b.finding(DIAGNOSIS_OF_CANCER[cancer], form)

    def _uptake_word(self, b: Builder, lesion: Lesion, tracer: str) -> None:
        """Write the uptake adjective that opens an item (nothing when the uptake is described after)."""
        if lesion.change not in ("decreased", "increased") and not _mild(lesion):
            forms = ("hypermetabolic", TRACER_AVID[tracer]) if tracer == "FDG" else (TRACER_AVID[tracer],)
            b.finding("finding.increased_uptake", self.rng.choice(forms)).text(" ")

    def _uptake_after(self, b: Builder, lesion: Lesion) -> None:
        """Write the uptake phrase that follows the site when the uptake changed or is mild."""
        if lesion.change == "decreased":
            b.text(" with ").finding("finding.decreased_uptake", "decreased uptake")
        elif lesion.change == "increased":
            b.text(" with ").finding("finding.increased_uptake", "increased uptake")
        elif _mild(lesion):
            b.text(" with ").finding("finding.mild_uptake", "mild uptake")

    def _tumour_items(self, case: Case, tumour: list[Lesion]) -> list[Builder]:
        rng = self.rng
        items = []
        primary = [l for l in tumour if l.role == "primary"]
        nodes = [l for l in tumour if l.role == "node"]
        distant = [l for l in tumour if l.role == "distant"]
        lymphoma = case.cancer.startswith("lymphoma")
        for lesion in primary:
            item = self.builder()
            self._uptake_word(item, lesion, case.tracer)
            self.site(item, lesion)
            item.text(" ")
            self._primary_noun(item, lesion)
            self._uptake_after(item, lesion)
            if lesion.change in ("decreased", "increased") and case.prior_date:
                item.text(f" compared with {case.prior_date}")
            item.text(", ")
            self._primary_diagnosis(item, lesion, case)
            items.append(item)

        if nodes:
            item = self.builder()
            self._uptake_word(item, nodes[0], case.tracer)
            self._sites(item, nodes)
            many = len(nodes) > 1 or nodes[0].laterality == "bilateral"
            item.text(" ").anatomy("lymph_node", "lymph nodes" if many else "lymph node")
            self._uptake_after(item, nodes[0])
            item.text(", ")
            self.hedge(item)
            if lymphoma:
                item.finding("diagnosis.involvement", "involvement").text(" by ")
                self._cancer(item, case.cancer)
            else:
                item.text("nodal ").finding("diagnosis.metastasis", "metastases" if many else "metastasis")
            items.append(item)

        for group, lesions in _group_distant(distant).items():
            item = self.builder()
            self._uptake_word(item, lesions[0], case.tracer)
            self._sites(item, lesions)
            concept = lesions[0].morphology[0] if lesions[0].morphology else None
            if concept in MORPHOLOGY_FORMS:
                item.text(" ").finding(concept, MORPHOLOGY_FORMS[concept][0] + ("s" if len(lesions) > 1 and concept not in ("finding.enlargement", "finding.wall_thickening", "finding.nodular_thickening") else ""))
            self._uptake_after(item, lesions[0])
            item.text(", ")
            self.hedge(item)
            self._distant_diagnosis(item, group, case, len(lesions) > 1)
            items.append(item)

        if any(l.diagnosis == "diagnosis.metastasis" for l in distant) and not lymphoma and case.indication == "initial_staging":
            items.append(self.builder().text("findings indicate distant ").finding("diagnosis.metastasis", "metastatic disease").text(" (stage IV)"))
        if lymphoma and case.indication == "initial_staging":
            items.append(self.builder().text(f"Ann Arbor stage {_ann_arbor(case)}"))
        if case.indication == "initial_staging" and primary and rng.random() < 0.6:
            items.append(self.builder().text(rng.choice(("tissue sampling is recommended for confirmation", "recommend biopsy for histological confirmation"))))
        return items

    def _primary_noun(self, b: Builder, lesion: Lesion) -> None:
        if lesion.morphology:
            concept = lesion.morphology[0]
            b.finding(concept, _thickening_form(lesion) or MORPHOLOGY_FORMS[concept][0])
        else:
            b.finding("finding.lesion", "lesion")

    def _primary_diagnosis(self, item: Builder, lesion: Lesion, case: Case) -> None:
        if lesion.diagnosis == "diagnosis.recurrence":
            self.hedge(item)
            item.text("local ").finding("diagnosis.recurrence", "recurrence")
        elif case.indication in ("initial_staging", "unknown_primary"):
            self.hedge(item)
            if case.cancer == "lung":
                item.finding("diagnosis.lung_cancer", self.rng.choice(("primary lung cancer", "lung cancer", "non-small cell lung cancer")))
            else:
                self._cancer(item, case.cancer, lesion.site)
            if case.indication == "unknown_primary":
                item.text(" as the ").finding("diagnosis.primary_tumor", "primary tumor")
        elif lesion.change == "decreased":
            item.text("consistent with treated ")
            self._cancer(item, case.cancer)
            item.text(" with residual activity")
        elif lesion.change == "increased":
            item.text("consistent with progression of ")
            self._cancer(item, case.cancer)
        else:
            self.hedge(item)
            item.finding("diagnosis.residual_disease", "residual tumor" if not self.british else "residual tumour")

    def _distant_diagnosis(self, b: Builder, group: str, case: Case, many: bool) -> None:
        if group == "portal_vein":
            b.anatomy("portal_vein", "portal vein").text(" ").finding("diagnosis.tumor_thrombus", "tumour thrombus" if self.british else "tumor thrombus")
        elif group in ("spleen", "bone.marrow", "stomach") and case.cancer.startswith("lymphoma"):
            b.finding("diagnosis.lymphoma", "lymphoma").text(" ").finding("diagnosis.involvement", "involvement")
        elif group == "skull_base":
            b.anatomy("skull_base", "skull base").text(" ").finding("diagnosis.involvement", "involvement")
        elif group == "pelvis":
            b.text("malignant ").finding("finding.ascites", "ascites")
        else:
            concept, form = {"bone": ("bone", "osseous"), "liver": ("liver", "hepatic"), "lung": ("lung", "pulmonary"), "adrenal_gland": ("adrenal_gland", "adrenal"),
                             "peritoneum": ("peritoneum", "peritoneal"), "brain": ("brain", "brain"), "pleura": ("pleura", "pleural")}.get(group, ("bone", "osseous"))
            b.anatomy(concept, form).text(" ").finding("diagnosis.metastasis", "metastases" if many else "metastasis")

    def _resolved_item(self, case: Case, lesions: list[Lesion]) -> Builder:
        b = self.builder()
        b.text("treated ")
        self._cancer(b, case.cancer)
        b.text(f": compared with {case.prior_date}, the previously seen ").finding("finding.lesion", "lesions").text(" in the ")
        self._sites(b, lesions)
        b.text(" show ").negation("no").text(" residual ").finding("finding.increased_uptake", "abnormal uptake")
        return b

    def _no_evidence_item(self, case: Case) -> Builder:
        b = self.builder()
        b.text("treated ")
        self._cancer(b, case.cancer)
        b.text(" with ").negation("no evidence of").text(" ").finding("diagnosis.recurrence", "recurrence").text(" or ").finding("diagnosis.metastasis", "metastatic disease")
        return b

    def _response_item(self, case: Case) -> Builder:
        names = {"CMR": "complete metabolic response", "PMR": "partial metabolic response", "SMD": "stable metabolic disease", "PMD": "progressive metabolic disease"}
        b = self.builder()
        if case.deauville is not None:
            b.text(f"Deauville score {case.deauville} (").anatomy("mediastinum", "mediastinal").text(" blood pool ").fixed(f"SUVmax {case.blood_pool_suv:.1f}")
            b.text("; ").anatomy("liver", "liver").text(" ").fixed(f"SUVmax {case.liver_suv:.1f}").text(f"), {names[case.response]}")
        elif case.tracer == "FDG":
            b.text(f"{names[case.response]} by PERCIST 1.0 ({case.response})")
        else:
            # PERCIST grades FDG uptake only, so other tracers get a plain response statement.
            plain = {"CMR": "complete response", "PMR": "partial response", "SMD": "stable disease", "PMD": "progressive disease"}
            b.text(f"{plain[case.response]} on {case.tracer} PET/CT")
        return b

    def _fuo_items(self, case: Case) -> list[Builder]:
        items = []
        for lesion in case.lesions:
            if lesion.role != "benign" or lesion.diagnosis not in FUO_DIAGNOSES:
                continue
            if lesion.diagnosis == "diagnosis.sarcoidosis" and lesion.site == "lymph_node.station_7":
                continue  # written together with the hilar nodes
            item = self.builder()
            if lesion.diagnosis == "diagnosis.sarcoidosis":
                item.text("symmetric ").finding("finding.increased_uptake", "hypermetabolic").text(" ")
                self.site(item, lesion)
                item.text(" and ").anatomy("mediastinum", "mediastinal").text(" ").anatomy("lymph_node", "lymph nodes")
            else:
                self._uptake_word(item, lesion, case.tracer)
                self.site(item, lesion)
                if _is_node(lesion):
                    item.text(" ").anatomy("lymph_node", "lymph nodes" if lesion.laterality == "bilateral" else "lymph node")
                self._uptake_after(item, lesion)
            item.text(", ")
            self.hedge(item)
            form = {"diagnosis.infection": "infection", "diagnosis.vasculitis": "large-vessel vasculitis", "diagnosis.sarcoidosis": "sarcoidosis", "diagnosis.inflammation": "inflammatory"}[lesion.diagnosis]
            item.finding(lesion.diagnosis, form)
            if lesion.diagnosis == "diagnosis.inflammation":
                item.text(" or ").finding("diagnosis.reactive_hyperplasia", "reactive").text(" nodal change")
            items.append(item)
        if not items:
            item = self.builder().negation("no").text(" PET/CT evidence of ").finding("diagnosis.infection", "infection").text(" or ")
            item.finding("diagnosis.malignancy", "malignancy")
            items.append(item)
        return items

    def _benign_item(self, case: Case, lesion: Lesion) -> Builder:
        rng = self.rng
        b = self.builder()
        if "finding.brown_fat_uptake" in lesion.morphology:
            b.finding("finding.physiological_uptake", "physiological uptake").text(" in ").finding("finding.brown_fat_uptake", "brown fat").text(" of the ")
            b.anatomy("neck", "neck", "bilateral", "bilateral").text(" and ").anatomy("lymph_node.supraclavicular", "supraclavicular").text(" regions")
            return b
        if lesion.recommendation == "thyroid_ultrasound":
            b.text("incidental ").finding("finding.increased_uptake", "hypermetabolic").text(" ")
            self.site(b, lesion)
            b.text(" ").finding("finding.nodule", "nodule").text("; ").anatomy("thyroid", "thyroid").text(" ultrasound and, if indicated, fine-needle aspiration are recommended")
            return b
        if lesion.recommendation == "colonoscopy":
            b.finding("finding.focal_bowel_uptake", "focal FDG uptake").text(" in the ")
            self.site(b, lesion)
            b.text(", ").hedge("possible").text(" ").finding("diagnosis.adenoma", "adenoma").text(" or ").finding("diagnosis.polyp", "polyp")
            b.text("; colonoscopy is recommended")
            return b
        if "finding.post_treatment_change" in lesion.morphology:
            b.finding("finding.post_treatment_change", rng.choice(("post-treatment changes", "postoperative changes"))).text(" in the ")
            self.site(b, lesion)
            return b
        if lesion.uptake != "none" and _mild(lesion):
            b.finding("finding.mild_uptake", "mild uptake").text(" in " + _article(lesion))
        elif lesion.uptake != "none":
            b.finding("finding.increased_uptake", "moderately increased uptake").text(" in " + _article(lesion))
        else:
            concept = lesion.morphology[0] if lesion.morphology else "finding.nodule"
            b.finding(concept, "nodule" if concept == "finding.nodule" else "hypodense lesion").text(" in " + _article(lesion))
        self.site(b, lesion)
        if _is_node(lesion):
            b.text(" ").anatomy("lymph_node", "lymph nodes" if lesion.laterality == "bilateral" else "lymph node")
        b.text(", ")
        if lesion.certainty == "uncertain":
            b.hedge(rng.choice(BENIGN_HEDGES)).text(" ")
        else:
            b.text("consistent with ")
        form = {"diagnosis.degenerative_change": "degenerative change", "diagnosis.granulomatous_disease": "granulomatous disease", "diagnosis.reactive_hyperplasia": "reactive hyperplasia",
                "diagnosis.cyst": "cyst", "diagnosis.fibrosis": "scarring", "diagnosis.inflammation": "inflammation"}[lesion.diagnosis]
        if lesion.detail.get("radiation"):
            form = "radiation pneumonitis"
        if lesion.diagnosis == "diagnosis.reactive_hyperplasia" and lesion.site == "bone.marrow":
            b.text("post-chemotherapy ")
        b.finding(lesion.diagnosis, form)
        return b


def _plural(lesion: Lesion) -> bool:
    """Whether a lesion sentence describes several lesions: a bilateral node group, mass or nodule."""
    if lesion.laterality != "bilateral":
        return False
    return _is_node(lesion) or bool(lesion.morphology and lesion.morphology[0] in ("finding.mass", "finding.nodule", "finding.solid_nodule"))


def _thickening_form(lesion: Lesion) -> str | None:
    """Return "focal thickening" for a nasopharyngeal wall, whose site form already ends in "wall"."""
    if lesion.morphology and lesion.morphology[0] == "finding.wall_thickening" and lesion.site.startswith("nasopharynx"):
        return "focal thickening"
    return None


def indefinite_article(phrase: str) -> str:
    """Return "a" or "an" for the spoken start of ``phrase`` (letters, or a number such as 8 or 11)."""
    word = phrase.lstrip().split(" ")[0].lower()
    if not word:
        return "a"
    if word[0].isdigit():
        whole = word.split(".")[0].split("x")[0].split("×")[0]
        return "an" if whole.startswith("8") or whole in ("11", "18") else "a"
    return "an" if word[0] in "aeiou" else "a"


def _article(lesion: Lesion) -> str:
    return "" if lesion.site.startswith("liver.s") else "the "


def _capitalize(item: Builder) -> None:
    """Upper-case the first letter of an impression item (lexicon forms match any case)."""
    for segment in item.segments:
        if segment.text.strip():
            stripped = segment.text.lstrip()
            lead = segment.text[: len(segment.text) - len(stripped)]
            segment.text = lead + stripped[0].upper() + stripped[1:]
            return
