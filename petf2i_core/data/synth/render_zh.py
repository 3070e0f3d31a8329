"""Render a :class:`~petf2i_core.data.synth.cases.Case` as a Chinese PET/CT report."""

from __future__ import annotations

import random

from petf2i_core.data.synth.builder import Builder
from petf2i_core.data.synth.cases import DIAGNOSIS_OF_CANCER, Case, Lesion, uptake_grade
from petf2i_core.data.synth.lexicon import load_lexicon
from petf2i_core.data.synth.styles import Style, format_size, size_value
from petf2i_core.data.synth.templates import compile_all

REGION_TITLES = {
    "head_neck": ("region.head_neck", ("头颈部",)),
    "chest": ("region.chest", ("胸部",)),
    "abdomen_pelvis": ("region.abdomen_pelvis", ("腹盆部", "腹部及盆部")),
    "musculoskeletal": ("region.musculoskeletal", ("骨骼肌肉", "骨骼及软组织")),
}
TRACER_TEXT = {"FDG": "FDG", "PSMA": "PSMA", "DOTATATE": "生长抑素受体", "FAPI": "FAPI"}
INDICATION_TEXT = {
    "initial_staging": ("初诊分期", "治疗前分期评估"),
    "restaging": ("治疗后再分期", "术后复查，评估有{n:无}{f:diagnosis.recurrence:复发}{f:diagnosis.metastasis:转移}"),
    "treatment_response": ("治疗后疗效评估", "化疗后复查"),
    "surveillance": ("治疗后随访", "定期复查"),
    "unknown_primary": ("寻找{f:diagnosis.primary_tumor:原发灶}",),
    "non_oncologic": ("不明原因发热，寻找病因", "发热{h:待查}"),
}

# Normal statements per region: (sites they cover, template). A statement is left
# out when a described lesion lies in one of the sites it covers.
NORMAL = {
    "head_neck": (
        ((), "FDG", ("{a:brain.cortex:脑皮质}放射性摄取呈{f:finding.physiological_uptake:生理性分布}，{a:brain:脑实质}{n:未见}明显异常密度影。", "{a:brain:大脑}各叶{a:brain.cortex:脑皮质}放射性分布对称，呈{f:finding.physiological_uptake:生理性摄取}。", "{a:brain:脑实质}密度均匀，{a:brain.cortex:脑皮质}可见{f:finding.physiological_uptake:生理性摄取}。")),
        ((), "PSMA DOTATATE FAPI", "{a:brain:脑实质}{n:未见}明显异常密度影及放射性摄取。"),
        (("nasopharynx",), "", ("{a:nasopharynx:鼻咽部}形态对称，{n:未见}{f:finding.mass:软组织肿块}及{f:finding.increased_uptake:异常放射性浓聚}。", "{a:nasopharynx.wall:鼻咽顶后壁}及侧壁{n:未见}{f:finding.wall_thickening:局限性增厚}。", "{a:nasopharynx:鼻咽部}、口咽部及喉咽部{n:未见}{f:finding.increased_uptake:异常放射性浓聚}。")),
        (("lymph_node.cervical", "lymph_node.supraclavicular", "lymph_node.retropharyngeal"), "", ("{a:neck:颈部:bilateral:双侧}及{a:lymph_node.supraclavicular:锁骨上区}{n:未见}{f:finding.lymphadenopathy:肿大淋巴结}。", "{a:neck:颈部:bilateral:双侧}{n:未见}{f:finding.lymphadenopathy:肿大淋巴结}及{f:finding.increased_uptake:异常放射性浓聚}。")),
        (("thyroid",), "", ("{a:thyroid:甲状腺}形态、大小{n:未见}明显异常。", "{a:thyroid:甲状腺}大小、形态正常，放射性分布均匀。")),
    ),
    "chest": (
        (("lung",), "", ("{a:lung:肺:bilateral:双}纹理清晰，{n:未见}{f:finding.nodule:结节}及{f:finding.increased_uptake:异常放射性浓聚}。", "{a:lung:肺:bilateral:两}野清晰，{n:未见}明显{f:finding.mass:肿块}及{f:finding.nodule:结节影}。", "{a:lung:肺:bilateral:双}{n:未见}{f:finding.increased_uptake:异常放射性浓聚}，{a:lung:肺}窗{n:未见}明显实质性{f:finding.lesion:病变}。")),
        (("lymph_node.station", "mediastinum"), "", ("{a:mediastinum:纵隔}及{a:lymph_node.station_10:肺门:bilateral:双侧}{n:未见}{f:finding.lymphadenopathy:肿大淋巴结}。", "{a:mediastinum:纵隔}内{n:未见}{f:finding.lymphadenopathy:肿大淋巴结}，{a:lymph_node.station_10:肺门:bilateral:双侧}{n:未见}{f:finding.increased_uptake:异常放射性浓聚}。")),
        ((), "FDG", ("{a:heart:心脏}形态、大小尚可，{a:heart.myocardium:心肌}可见{f:finding.physiological_uptake:生理性摄取}。", "{a:heart.myocardium:心肌}放射性分布不均匀，{h:考虑为}{f:finding.physiological_uptake:生理性摄取}。")),
        ((), "PSMA DOTATATE FAPI", "{a:heart:心脏}形态、大小尚可。"),
        (("pleura",), "", ("{a:pleura:胸膜:bilateral:双侧}{n:未见}明显增厚，{n:未见}{f:finding.pleural_effusion:胸腔积液}。", "{n:未见}{f:finding.pleural_effusion:胸腔积液}。")),
    ),
    "abdomen_pelvis": (
        (("liver",), "", ("{a:liver:肝脏}大小、形态尚可，{n:未见}{f:finding.hypodense_lesion:低密度灶}及{f:finding.increased_uptake:异常放射性浓聚}。", "{a:liver:肝脏}形态规整，实质密度均匀，放射性分布均匀。")),
        (("gallbladder", "pancreas", "spleen"), "", ("{a:gallbladder:胆囊}、{a:pancreas:胰腺}、{a:spleen:脾脏}形态、密度{n:未见}明显异常。", "{a:pancreas:胰腺}、{a:spleen:脾脏}大小、形态正常，{n:未见}{f:finding.increased_uptake:异常放射性浓聚}。")),
        (("adrenal_gland",), "", ("{a:adrenal_gland:肾上腺:bilateral:双侧}{n:未见}{f:finding.nodule:结节}。", "{a:adrenal_gland:肾上腺:bilateral:双侧}{n:未见}增粗及{f:finding.nodule:结节}。")),
        ((), "FDG FAPI", ("{a:kidney:肾:bilateral:双}、{a:ureter:输尿管}及{a:bladder:膀胱}内见尿液{f:finding.physiological_uptake:生理性浓聚}。", "{a:kidney.collecting_system:肾集合系统:bilateral:双侧}及{a:bladder:膀胱}内尿液放射性滞留，为{f:finding.physiological_uptake:生理性浓聚}。")),
        (("bowel", "colon", "rectum", "stomach"), "FDG", ("{a:bowel:胃肠道}可见条形{f:finding.physiological_uptake:生理性摄取}。", "{a:bowel:肠道}内见条索状放射性分布，为{f:finding.physiological_uptake:生理性摄取}。")),
        (("retroperitoneum", "lymph_node.para_aortic", "mesentery", "pelvis", "lymph_node.common_iliac", "lymph_node.external_iliac", "lymph_node.internal_iliac", "lymph_node.obturator", "lymph_node.inguinal"), "",
         "{a:retroperitoneum:腹膜后}及{a:pelvis:盆腔}{n:未见}{f:finding.lymphadenopathy:肿大淋巴结}，{n:未见}{f:finding.ascites:腹腔积液}。"),
    ),
    "musculoskeletal": (
        (("bone",), "", ("全身{a:bone:骨骼}{n:未见}{f:finding.osteolytic:骨质破坏}及{f:finding.increased_uptake:异常放射性浓聚}。", "{a:bone.spine:脊柱}及{a:bone.pelvis:骨盆}{n:未见}{f:finding.osteolytic:骨质破坏}，全身{a:bone:骨骼}放射性分布{n:未见}明显异常。")),
        (("muscle", "soft_tissue"), "", "{a:muscle:肌肉}及{a:soft_tissue.subcutaneous:皮下}软组织{n:未见}{f:finding.increased_uptake:异常放射性浓聚}。"),
    ),
}
STRUCTURED_NORMAL = {
    "chest": ((("pleura",), "{f:finding.pleural_effusion:胸腔积液}：无。"),),
    "abdomen_pelvis": ((("pelvis", "peritoneum"), "{f:finding.ascites:腹腔积液}：无。"),),
}
SEX_NORMAL = {
    "F": (("uterus", "ovary"), "abdomen_pelvis", "{a:uterus:子宫}及{a:ovary:附件区:bilateral:双侧}{n:未见}{f:finding.mass:肿块}及{f:finding.increased_uptake:异常放射性浓聚}。"),
    "M": (("prostate",), "abdomen_pelvis", "{a:prostate:前列腺}形态、大小尚可，{n:未见}{f:finding.increased_uptake:异常放射性浓聚}。"),
}
PHYSIOLOGY = {
    "PSMA": {
        "head_neck": "{a:lacrimal_gland:泪腺:bilateral:双侧}、{a:salivary_gland.parotid:腮腺}及{a:salivary_gland.submandibular:颌下腺}可见{f:finding.physiological_uptake:生理性摄取}。",
        "abdomen_pelvis": "{a:liver:肝脏}、{a:spleen:脾脏}、{a:kidney:肾:bilateral:双}及{a:bowel:肠道}可见{f:finding.physiological_uptake:生理性摄取}，{a:bladder:膀胱}内见尿液{f:finding.physiological_uptake:生理性浓聚}。",
    },
    "DOTATATE": {
        "head_neck": "{a:pituitary:垂体}可见{f:finding.physiological_uptake:生理性摄取}。",
        "abdomen_pelvis": "{a:spleen:脾脏}、{a:adrenal_gland:肾上腺:bilateral:双侧}、{a:kidney:肾:bilateral:双}及{a:liver:肝脏}可见{f:finding.physiological_uptake:生理性摄取}。",
    },
    "FAPI": {
        "chest": "全身本底放射性摄取较低，图像对比良好。",
    },
}

_NORMAL = compile_all({region: tuple(t for _, _, t in rows) for region, rows in NORMAL.items()}, "zh")
_STRUCTURED = compile_all({region: tuple(t for _, t in rows) for region, rows in STRUCTURED_NORMAL.items()}, "zh")
_SEX = compile_all({sex: row[2] for sex, row in SEX_NORMAL.items()}, "zh")
_PHYSIOLOGY = compile_all(PHYSIOLOGY, "zh")
_INDICATION = compile_all(INDICATION_TEXT, "zh")

BONE_FORMS = {
    "bone.sternum": "胸骨", "bone.sacrum": "骶骨", "bone.ilium": "髂骨", "bone.femur": "股骨上段",
    "bone.scapula": "肩胛骨", "bone.humerus": "肱骨",
}
NODE_FORMS = {
    "lymph_node.supraclavicular": ("锁骨上区", "锁骨上窝"), "axilla": ("腋窝", "腋下"), "lymph_node.internal_mammary": ("内乳",),
    "lymph_node.para_aortic": ("腹主动脉旁",), "mesentery": ("肠系膜",), "lymph_node.perigastric": ("胃周",),
    "lymph_node.peripancreatic": ("胰周",), "lymph_node.porta_hepatis": ("肝门区",), "lymph_node.common_iliac": ("髂总血管旁",),
    "lymph_node.external_iliac": ("髂外血管旁",), "lymph_node.internal_iliac": ("髂内血管旁",), "lymph_node.obturator": ("闭孔",),
    "lymph_node.inguinal": ("腹股沟",), "lymph_node.retropharyngeal": ("咽后",),
}
ORGAN_FORMS = {
    "lung.upper_lobe": "肺上叶", "lung.middle_lobe": "肺中叶", "lung.lower_lobe": "肺下叶", "breast": "乳腺",
    "colon.sigmoid": "乙状结肠", "rectum": "直肠", "colon.ascending": "升结肠", "colon.transverse": "横结肠",
    "colon.descending": "降结肠", "colon.cecum": "回盲部", "esophagus.middle": "食管中段", "esophagus.lower": "食管下段",
    "esophagus": "食管", "stomach.antrum": "胃窦", "stomach.body": "胃体", "stomach.lesser_curvature": "胃小弯", "stomach": "胃",
    "pancreas.head": "胰头", "pancreas.body": "胰体", "pancreas.tail": "胰尾", "pancreas": "胰腺", "uterus.cervix": "宫颈",
    "ovary": "附件区", "prostate": "前列腺", "prostate.bed": "前列腺术区", "bowel.small": "小肠", "adrenal_gland": "肾上腺",
    "pleura": "胸膜", "peritoneum": "腹膜", "peritoneum.omentum": "大网膜", "spleen": "脾脏", "bone.marrow": "骨髓",
    "portal_vein": "门静脉主干", "skull_base": "颅底", "aorta": "主动脉弓", "pelvis": "盆腔", "liver": "肝脏",
    "nasopharynx": "鼻咽", "thyroid": "甲状腺", "neck": "颈部", "joint.shoulder": "肩关节", "joint.knee": "膝关节",
    "joint.hip": "髋关节", "brain": "大脑",
}
MORPHOLOGY_FORMS = {
    "finding.solid_nodule": ("软组织密度结节影", "实性结节"),
    "finding.ground_glass_nodule": ("磨玻璃结节", "磨玻璃密度结节"),
    "finding.nodule": ("结节影", "结节"),
    "finding.mass": ("软组织肿块影", "软组织肿块", "肿块影"),
    "finding.hypodense_lesion": ("低密度灶", "稍低密度灶"),
    "finding.wall_thickening": ("管壁增厚", "局限性增厚"),
    "finding.nodular_thickening": ("结节样增厚", "结节状增厚"),
    "finding.osteolytic": ("溶骨性骨质破坏", "骨质破坏"),
    "finding.osteoblastic": ("成骨性骨质改变", "骨质硬化"),
    "finding.enlargement": ("体积增大",),
    "finding.post_treatment_change": ("术后改变", "治疗后改变"),
}
# CT descriptors of a mass-like lesion: (malignant-looking, benign-looking).
ZH_DESCRIPTORS = (("边界欠清", "密度不均匀", "形态不规则", "边缘模糊"), ("边界清楚", "密度均匀", "边缘光整"))
# Uptake phrases of each grade of :func:`~petf2i_core.data.synth.cases.uptake_grade`.
# 代谢 (metabolism) is FDG wording, so the other tracers get 摄取 (uptake) phrases.
UPTAKE_FORMS = {
    "mild": {"FDG": ("放射性摄取轻度增高", "代谢轻度增高"), "other": ("放射性摄取轻度增高", "轻度摄取增高")},
    "moderate": {"FDG": ("放射性摄取增高", "代谢增高"), "other": ("放射性摄取增高",)},
    "intense": {"FDG": ("放射性摄取明显增高", "放射性摄取异常增高", "代谢异常增高"), "other": ("放射性摄取明显增高", "放射性摄取异常增高")},
}
# Hedges of a benign impression item: 不除外 (cannot exclude) or 疑为 (suspected)
# would imply a worry that the benign diagnosis does not carry.
BENIGN_HEDGES = ("考虑", "多考虑")
# Impression and comparison words: (FDG, other tracers).
RAISED = ("代谢增高", "摄取增高")
LOWERED = ("代谢减低", "摄取减低")
CHANGE_CONNECTOR = "、"


class ZhRenderer:
    """Write the Chinese findings and impression of a case in one style."""

    language = "zh"

    def __init__(self, style: Style, rng: random.Random):
        self.style = style
        self.rng = rng
        self.lexicon = load_lexicon()

    def builder(self) -> Builder:
        """Return an empty builder for this language."""
        return Builder("zh", self.lexicon)

    # --- findings ---------------------------------------------------------------------

    def header(self, b: Builder, case: Case) -> None:
        """Write the technique header: tracer, activity, uptake time and blood glucose."""
        rng, style = self.rng, self.style
        activity = f"{case.activity_mbq / 37:.1f}mCi" if style.activity_unit == "mCi" else f"{case.activity_mbq}MBq"
        b.text("检查目的：")
        b.segments.extend(rng.choice(_INDICATION[case.indication]))
        b.fixed("\n")
        b.text("检查方法：")
        if case.glucose_mmol is not None:
            b.text(rng.choice(("患者空腹6小时以上，", "空腹状态下，"))).text("测血糖").fixed(f"{case.glucose_mmol}mmol/L").text("，")
        b.text("静脉注射").fixed(f"{case.agent} {activity}" if rng.random() < 0.5 else f"{case.agent}{activity}")
        b.text(f"，安静休息约").fixed(f"{case.uptake_min}").text("分钟后行PET/CT显像，扫描范围自颅顶至大腿中上段，CT图像用于衰减校正及解剖定位。").fixed("\n")

    def region_title(self, b: Builder, region: str) -> None:
        """Write the heading of a body region."""
        concept, forms = REGION_TITLES[region]
        title = self.rng.choice(forms)
        before, after = self.style.region_title.split("{title}")
        b.fixed(before).anatomy(concept, title).fixed(after)

    def site(self, b: Builder, lesion: Lesion) -> None:
        """Write the anatomical site of a lesion, with its lateral cue."""
        site, side, rng = lesion.site, lesion.laterality, self.rng
        cue = rng.choice(("左", "左侧")) if side == "left" else rng.choice(("右", "右侧")) if side == "right" else rng.choice(("双侧", "两侧")) if side == "bilateral" else None
        if site.startswith("lung."):
            b.anatomy(site, ORGAN_FORMS[site], side, cue[0] if cue else None)
        elif site.startswith("liver.s"):
            b.anatomy(site, f"肝S{site[-1]}段")
        elif site == "bone.vertebra.t" or site == "bone.vertebra.l":
            letter = "T" if site.endswith("t") else "L"
            level = lesion.detail["level"]
            form = f"{letter}{level}椎体" if rng.random() < 0.6 else f"{'胸' if letter == 'T' else '腰'}{level}椎体"
            b.anatomy(site, form)
        elif site == "bone.rib":
            b.anatomy(site, f"第{lesion.detail['number']}{lesion.detail['part']}肋", side, cue)
        elif site in BONE_FORMS:
            b.anatomy(site, BONE_FORMS[site], side, cue)
        elif site.startswith("lymph_node.station"):
            self._station(b, lesion)
        elif site.startswith("lymph_node.cervical_level_"):
            level = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}[site[-1]]
            b.anatomy(site, f"颈部{level}区" if rng.random() < 0.5 else f"颈{level}区", side, cue)
        elif site in NODE_FORMS:
            b.anatomy(site, rng.choice(NODE_FORMS[site]), side, cue)
            if site in ("lymph_node.internal_mammary", "lymph_node.obturator", "lymph_node.inguinal"):
                b.text("区")
        elif site == "nasopharynx.wall":
            b.anatomy("nasopharynx", "鼻咽").fixed({"left": "左侧壁", "right": "右侧壁"}.get(side, "顶后壁"))
        elif site == "thyroid.lobe":
            b.anatomy(site, "甲状腺左叶" if side == "left" else "甲状腺右叶")
        elif site == "prostate":
            b.anatomy(site, "前列腺").fixed({"left": "左侧外周带", "right": "右侧外周带", "bilateral": "双侧外周带"}.get(side, ""))
        elif site == "joint.facet":
            b.anatomy("bone.vertebra.l", "腰椎").anatomy(site, "小关节")
        elif site == "brain":
            b.anatomy(site, "大脑", side, cue).text("半球")
        elif site == "ovary":
            b.anatomy(site, "附件区", side, {"left": "左侧", "right": "右侧", "bilateral": "双侧"}[side] if side else None)
        else:
            b.anatomy(site, ORGAN_FORMS[site], side, cue)

    def _station(self, b: Builder, lesion: Lesion) -> None:
        site, side = lesion.site, lesion.laterality
        code = lesion.detail.get("code")
        if site == "lymph_node.station_10":
            b.anatomy(site, "肺门", side, {"left": "左", "right": "右", "bilateral": "双侧"}.get(side) if side else None)
            return
        names = {"lymph_node.station_2": "上气管旁", "lymph_node.station_4": "下气管旁", "lymph_node.station_5": "主肺动脉窗", "lymph_node.station_7": "隆突下"}
        b.anatomy("mediastinum", "纵隔").fixed(f"{code}区（" if code else "（")
        b.anatomy(site, names[site], side if site in ("lymph_node.station_2", "lymph_node.station_4") else None)
        b.fixed("）")

    def size_text(self, b: Builder, lesion: Lesion, lead: str) -> None:
        """Write a size mention preceded by ``lead`` (大小约, 较大者约)."""
        written = size_value(lesion.size_cm, self.style)
        b.text(lead).size(format_size(written, self.style), written)

    def suv_text(self, b: Builder, value: float) -> None:
        """Write an SUVmax mention in this style's spelling."""
        b.suv(self.style.suv_format.format(value=f"{value:.1f}"), value)

    def uptake(self, b: Builder, lesion: Lesion, tracer: str) -> None:
        """Write the uptake clause of a lesion, with its SUVmax in this style's place."""
        rng = self.rng
        if lesion.uptake == "none" or lesion.suv is None:
            b.negation(rng.choice(("未见", "未见明显"))).finding("finding.increased_uptake", "异常放射性浓聚")
            return
        grade = uptake_grade(lesion.suv)
        if lesion.uptake == "diffuse":
            b.finding("finding.diffuse_uptake", rng.choice(("弥漫性放射性摄取增高", "弥漫性代谢增高") if tracer == "FDG" else ("弥漫性放射性摄取增高",)))
        elif lesion.uptake == "focal":
            b.finding("finding.focal_bowel_uptake", "局灶性放射性浓聚")
        elif grade == "mild":
            b.finding("finding.mild_uptake", rng.choice(UPTAKE_FORMS["mild"]["FDG" if tracer == "FDG" else "other"]))
        elif tracer in ("PSMA", "DOTATATE") and rng.random() < 0.5:
            b.text(TRACER_TEXT[tracer]).finding("finding.increased_uptake", "表达异常增高" if grade == "intense" else "表达增高")
        elif tracer == "FDG" and grade == "moderate" and rng.random() < 0.3:
            b.text("FDG").finding("finding.increased_uptake", "摄取增高")
        else:
            b.finding("finding.increased_uptake", rng.choice(UPTAKE_FORMS[grade]["FDG" if tracer == "FDG" else "other"]))
        if self.style.suv_inline:
            b.text("（")
            self.suv_text(b, lesion.suv)
            b.text("）")
        else:
            b.text("，")
            self.suv_text(b, lesion.suv)

    def change(self, b: Builder, lesion: Lesion, tracer: str = "FDG") -> None:
        """Write the comparison of a lesion with the prior scan, in the wording of ``tracer``."""
        other = tracer != "FDG"
        if lesion.change is None:
            return
        b.text("，")
        if lesion.change == "new":
            if self.rng.random() < 0.5:
                b.text("为新发").finding("finding.lesion", "病灶")
            else:
                b.text("较前新出现")
        elif lesion.change == "increased":
            b.text("较前")
            if lesion.size_cm:
                b.finding("finding.enlargement", "增大").text("、")
            b.finding("finding.increased_uptake", RAISED[other])
            self._prior(b, lesion)
        elif lesion.change == "decreased":
            b.text("较前缩小、" if lesion.size_cm else "较前").finding("finding.decreased_uptake", LOWERED[other])
            self._prior(b, lesion)
        elif lesion.change == "stable":
            b.text("较前大致相仿")
            self._prior(b, lesion)

    def _prior(self, b: Builder, lesion: Lesion) -> None:
        # NOTE: the prior SUVmax sits in the change clause, so by the value rule it is
        # the gold SUVmax of that clause's findings (代谢减低), not of the lesion itself.
        if lesion.prior_suv is not None:
            b.text("（前次").suv(f"SUVmax {lesion.prior_suv:.1f}", lesion.prior_suv).text("）")

    def lesion_sentence(self, b: Builder, lesion: Lesion, case: Case) -> None:
        """Write the findings sentence of one lesion."""
        rng, style = self.rng, self.style
        if lesion.change == "resolved":
            b.text("原")
            self.site(b, lesion)
            b.finding("finding.lesion", "病灶").text("，现").negation("未见明显").finding("finding.increased_uptake", "异常放射性浓聚").text("。")
            return
        if lesion.site == "lymph_node.supraclavicular" and "finding.brown_fat_uptake" in lesion.morphology:
            b.anatomy("neck", "颈部", "bilateral", "双侧").text("及").anatomy("lymph_node.supraclavicular", "锁骨上区")
            b.text("脂肪间隙内见对称性").finding("finding.increased_uptake", "放射性浓聚").text("，")
            self.suv_text(b, lesion.suv)
            b.text("，CT相应部位为脂肪密度。")
            return
        morphology = lesion.morphology
        if lesion.morphology and lesion.morphology[0] in ("finding.ascites", "finding.pleural_effusion"):
            concept = lesion.morphology[0]
            b.text("可见").finding(concept, "腹腔积液" if concept == "finding.ascites" else "胸腔积液").text("。")
            return

        self.site(b, lesion)
        many = False
        if _is_node(lesion):
            many = self._node_noun(b, lesion)
            b.text("，")
        elif morphology:
            self._lesion_noun(b, lesion)
            b.text("，")
            descriptor = _descriptor(rng, lesion, ZH_DESCRIPTORS)
            if descriptor:
                b.text(descriptor + "，")
        else:
            b.text(rng.choice(("见", "可见")))
        margins = [extra for extra in morphology[1:] if extra in ("finding.spiculation", "finding.lobulation")]
        if margins:
            b.text("边缘见")
            for index, extra in enumerate(margins):
                b.text("及" if index else "")
                b.finding(extra, "毛刺" if extra == "finding.spiculation" else rng.choice(("分叶", "浅分叶")))
            b.text("，")
        for extra in morphology[1:]:
            if extra == "finding.calcification":
                b.text("内见").finding(extra, rng.choice(("钙化", "钙化灶"))).text("，")
            elif extra == "finding.pleural_effusion":
                b.text("伴").finding(extra, "胸腔积液").text("，")
        if lesion.size_cm and not style.size_first:
            self.size_text(b, lesion, "较大者约" if many else "大小约" if len(lesion.size_cm) > 1 else "直径约")
            b.text("，")
        self.uptake(b, lesion, case.tracer)
        self.change(b, lesion, case.tracer)
        if lesion.site == "portal_vein":
            b.text("，管腔内见充盈缺损")
        b.text("。")

    def _node_noun(self, b: Builder, lesion: Lesion) -> bool:
        """Write the node noun phrase; return True when several nodes are described."""
        rng, style = self.rng, self.style
        many = lesion.laterality == "bilateral" or lesion.diagnosis == "diagnosis.lymphoma" or rng.random() < 0.3
        b.text("见多发" if many else "见")
        if style.size_first and lesion.size_cm:
            self.size_text(b, lesion, "较大者约" if many else "大小约")
            b.text("的")
        if lesion.size_cm and lesion.size_cm[0] >= 1.0:
            b.finding("finding.lymphadenopathy", "肿大淋巴结")
        else:
            b.anatomy("lymph_node", "淋巴结").text("影")
        if many and lesion.diagnosis == "diagnosis.lymphoma" and rng.random() < 0.4:
            b.text("，部分融合")
        return many

    def _lesion_noun(self, b: Builder, lesion: Lesion) -> None:
        rng, style = self.rng, self.style
        concept = lesion.morphology[0]
        form = "局限性增厚" if concept == "finding.wall_thickening" and lesion.site.startswith("nasopharynx") else rng.choice(MORPHOLOGY_FORMS[concept])
        if concept in ("finding.wall_thickening", "finding.nodular_thickening", "finding.enlargement", "finding.post_treatment_change", "finding.osteolytic", "finding.osteoblastic"):
            b.text(rng.choice(("见", "可见", ""))).finding(concept, form)
            return
        b.text(rng.choice(("见一", "可见一", "见")))
        if style.size_first and lesion.size_cm:
            self.size_text(b, lesion, "大小约")
            b.text("的")
        b.finding(concept, form)

    def region_body(self, b: Builder, region: str, case: Case) -> None:
        """Write a region: its lesions first, then tracer physiology, then normal statements."""
        lesions = sorted((l for l in case.lesions if l.region == region), key=lambda l: ROLE_ORDER.index(l.role))
        if self.style.lesions_first:
            for lesion in lesions:
                self.lesion_sentence(b, lesion, case)
        physiology = _PHYSIOLOGY.get(case.tracer, {}).get(region)
        if physiology:
            b.segments.extend(physiology)
        structured = self.style.structured_negatives and region in _STRUCTURED
        rows = NORMAL[region]
        for index, (covers, tracers, _) in enumerate(rows):
            if tracers and case.tracer not in tracers.split():
                continue
            if _covered(case, covers):
                continue
            segments = _pick(self.rng, _NORMAL[region][index])
            if structured and any(s.concept in ("finding.pleural_effusion", "finding.ascites") for s in segments):
                continue
            b.segments.extend(segments)
        if structured:
            for index, (covers, _) in enumerate(STRUCTURED_NORMAL[region]):
                if not _covered(case, covers):
                    b.segments.extend(_STRUCTURED[region][index])
        sex_row = SEX_NORMAL[case.sex]
        if sex_row[1] == region and not _covered(case, sex_row[0]):
            b.segments.extend(_SEX[case.sex])
        if not self.style.lesions_first:
            if lesions and self.language == "en" and b.segments and b.segments[-1].text.endswith("."):
                b.text(" ")
            for lesion in lesions:
                self.lesion_sentence(b, lesion, case)

    # --- impression ---------------------------------------------------------------------

    def hedge(self, b: Builder) -> None:
        """Write one of this style's hedge cues."""
        weights = [3] + [1] * (len(self.style.hedges) - 1)
        b.hedge(self.rng.choices(self.style.hedges, weights)[0])

    def impression(self, case: Case) -> Builder:
        """Write the numbered impression, most important item first."""
        items = self.impression_items(case)
        b = self.builder()
        for number, item in enumerate(items, start=1):
            b.fixed(self.style.numbering.format(n=number))
            b.segments.extend(item.segments)
            b.fixed("。" if number == len(items) else self.style.item_end)
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
            item = self.builder().text("全身PET/CT显像").negation("未见明确").finding("diagnosis.primary_tumor", "原发灶")
            item.text("，建议结合内镜及病理检查")
            items.append(item)
        if case.response and case.indication == "treatment_response":
            items.append(self._response_item(case))
        for lesion in case.lesions:
            if lesion.role in ("benign", "incidental", "physiologic") and not (case.indication == "non_oncologic" and lesion.diagnosis in FUO_DIAGNOSES):
                items.append(self._benign_item(case, lesion))
        if case.indication == "non_oncologic":
            items.append(self.builder().text(self.rng.choice(("建议结合临床及实验室检查", "建议结合临床，必要时随访复查"))))
        if not items:
            items.append(self.builder().text("全身PET/CT显像").negation("未见明显").finding("diagnosis.malignancy", "恶性肿瘤").text("征象"))
        return items

    def _cancer_form(self, cancer: str, site: str | None = None) -> tuple[str, str]:
        concept = DIAGNOSIS_OF_CANCER[cancer]
        if cancer == "colorectal" and site is not None:
            return concept, "直肠癌" if site == "rectum" else "结肠癌"
        forms = {"lung": "肺癌", "colorectal": "结直肠癌", "hepatocellular": "肝细胞癌", "thyroid": "甲状腺癌"}
        return concept, forms.get(cancer) or self.lexicon.forms[("zh", concept)][0]

    def _sites(self, b: Builder, lesions: list[Lesion]) -> None:
        for index, lesion in enumerate(_distinct_sites(lesions)[:4]):
            if index:
                b.text("、")
            self.site(b, lesion)

    def _tumour_items(self, case: Case, tumour: list[Lesion]) -> list[Builder]:
        rng = self.rng
        items = []
        primary = [l for l in tumour if l.role == "primary"]
        nodes = [l for l in tumour if l.role == "node"]
        distant = [l for l in tumour if l.role == "distant"]
        lymphoma = case.cancer.startswith("lymphoma")
        for lesion in primary:
            item = self.builder()
            if case.prior_date and lesion.change and not items:
                item.text(f"与{case.prior_date}PET/CT比较，")
            self.site(item, lesion)
            if lesion.morphology:
                concept = lesion.morphology[0]
                short = {"finding.solid_nodule": "实性结节", "finding.ground_glass_nodule": "磨玻璃结节", "finding.nodule": "结节", "finding.mass": "肿块", "finding.wall_thickening": "管壁增厚", "finding.nodular_thickening": "结节样增厚"}
                form = "局限性增厚" if concept == "finding.wall_thickening" and lesion.site.startswith("nasopharynx") else short.get(concept, MORPHOLOGY_FORMS[concept][0])
                item.finding(concept, form)
            item.text("，")
            self._impression_uptake(item, lesion, case.tracer)
            item.text("，")
            self._primary_diagnosis(item, lesion, case)
            items.append(item)

        if nodes:
            item = self.builder()
            if case.prior_date and not items and any(l.change for l in nodes):
                item.text(f"与{case.prior_date}PET/CT比较，")
            self._sites(item, nodes)
            item.anatomy("lymph_node", "淋巴结")
            item.text("，")
            self._impression_uptake(item, nodes[0], case.tracer)
            item.text("，")
            self.hedge(item)
            if lymphoma:
                concept, form = self._cancer_form(case.cancer)
                item.finding(concept, form)
            else:
                item.text("多发" if len(nodes) > 1 else "").anatomy("lymph_node", "淋巴结").finding("diagnosis.metastasis", "转移")
            items.append(item)

        for group, lesions in _group_distant(distant).items():
            item = self.builder()
            self._sites(item, lesions)
            concept = lesions[0].morphology[0] if lesions[0].morphology else None
            if concept in MORPHOLOGY_FORMS:
                item.finding(concept, "结节" if concept == "finding.nodule" else MORPHOLOGY_FORMS[concept][0])
            item.text("，")
            self._impression_uptake(item, lesions[0], case.tracer)
            item.text("，")
            self.hedge(item)
            self._distant_diagnosis(item, group, case, len(lesions) > 1)
            items.append(item)

        if any(l.diagnosis == "diagnosis.metastasis" for l in distant) and not lymphoma and case.indication == "initial_staging":
            items.append(self.builder().text("以上提示远处").finding("diagnosis.metastasis", "转移").text("，临床分期为IV期"))
        if lymphoma and case.indication == "initial_staging":
            items.append(self.builder().text(f"Ann Arbor分期{_ann_arbor(case)}期"))
        if case.indication == "initial_staging" and primary and rng.random() < 0.6:
            items.append(self.builder().text(rng.choice(("建议病理活检以明确诊断", "建议穿刺活检明确病理"))))
        return items

    def _primary_diagnosis(self, item: Builder, lesion: Lesion, case: Case) -> None:
        concept, form = self._cancer_form(case.cancer, lesion.site)
        if lesion.diagnosis == "diagnosis.recurrence":
            self.hedge(item)
            item.text("局部").finding("diagnosis.recurrence", "复发")
        elif case.indication in ("initial_staging", "unknown_primary"):
            self.hedge(item)
            if case.cancer == "lung":
                form = "周围型肺癌" if lesion.size_cm and lesion.size_cm[0] < 3.5 else self.rng.choice(("肺癌", "中央型肺癌"))
            item.finding(concept, form)
            if case.indication == "unknown_primary":
                item.text("（").finding("diagnosis.primary_tumor", "原发灶").text("）")
        elif lesion.change == "decreased":
            item.text("符合").finding(concept, form).finding("finding.post_treatment_change", "治疗后改变").text("，仍有少许肿瘤活性")
        elif lesion.change == "increased":
            item.text("提示").finding(concept, form).finding("finding.lesion", "病灶").text("进展")
        else:
            self.hedge(item)
            item.text("肿瘤").finding("diagnosis.residual_disease", "残留")

    def _impression_uptake(self, b: Builder, lesion: Lesion, tracer: str = "FDG") -> None:
        other = tracer != "FDG"
        if lesion.change == "decreased":
            b.text("较前缩小、").finding("finding.decreased_uptake", LOWERED[other])
        elif lesion.change == "increased":
            b.text("较前").finding("finding.enlargement", "增大").text("、").finding("finding.increased_uptake", RAISED[other])
        elif lesion.change == "new":
            b.text("为新发").finding("finding.increased_uptake", "放射性浓聚" if other else "高代谢").finding("finding.lesion", "病灶")
        elif _mild(lesion):
            b.finding("finding.mild_uptake", "摄取轻度增高" if other else "代谢轻度增高")
        elif tracer in ("PSMA", "DOTATATE"):
            b.text(TRACER_TEXT[tracer]).finding("finding.increased_uptake", self.rng.choice(("表达异常增高", "表达增高")))
        elif tracer == "FAPI":
            b.text("FAPI").finding("finding.increased_uptake", "摄取增高")
        else:
            b.finding("finding.increased_uptake", self.rng.choice(("代谢异常增高", "代谢增高")))

    def _distant_diagnosis(self, b: Builder, group: str, case: Case, many: bool = False) -> None:
        if group == "portal_vein":
            b.anatomy("portal_vein", "门静脉").finding("diagnosis.tumor_thrombus", "癌栓")
        elif group in ("spleen", "bone.marrow", "stomach") and case.cancer.startswith("lymphoma"):
            b.finding("diagnosis.lymphoma", "淋巴瘤").finding("diagnosis.involvement", "浸润")
        elif group == "skull_base":
            b.anatomy("skull_base", "颅底").finding("diagnosis.involvement", "受累")
        elif group == "pelvis":
            b.text("癌性").finding("finding.ascites", "腹水")
        else:
            concept, form = {"bone": ("bone", "骨"), "liver": ("liver", "肝"), "lung": ("lung", "肺"), "adrenal_gland": ("adrenal_gland", "肾上腺"),
                             "peritoneum": ("peritoneum", "腹膜"), "brain": ("brain", "脑"), "pleura": ("pleura", "胸膜")}.get(group, ("bone", "骨"))
            b.text("多发" if many else "").anatomy(concept, form).finding("diagnosis.metastasis", "转移")

    def _resolved_item(self, case: Case, lesions: list[Lesion]) -> Builder:
        b = self.builder()
        concept, form = self._cancer_form(case.cancer)
        b.finding(concept, form).text("治疗后，与").text(f"{case.prior_date}PET/CT比较，原")
        self._sites(b, lesions)
        b.finding("finding.lesion", "病灶").text("，现").negation("未见").finding("finding.increased_uptake", "异常放射性浓聚")
        return b

    def _no_evidence_item(self, case: Case) -> Builder:
        b = self.builder()
        concept, form = self._cancer_form(case.cancer)
        b.finding(concept, form).text(self.rng.choice(("治疗后", "术后"))).text("，全身PET/CT显像").negation("未见明确").finding("diagnosis.recurrence", "复发")
        b.text("及").finding("diagnosis.metastasis", "转移").text("征象")
        return b

    def _response_item(self, case: Case) -> Builder:
        names = {"CMR": "完全代谢缓解", "PMR": "部分代谢缓解", "SMD": "疾病代谢稳定", "PMD": "疾病代谢进展"}
        b = self.builder()
        if case.deauville is not None:
            b.anatomy("mediastinum", "纵隔").text("血池").fixed(f"SUVmax约{case.blood_pool_suv:.1f}").text("，")
            b.anatomy("liver", "肝脏").text("血池").fixed(f"SUVmax约{case.liver_suv:.1f}").text("，")
            b.text(f"Deauville评分{case.deauville}分，提示{names[case.response]}")
        elif case.tracer == "FDG":
            b.text(f"依据PERCIST 1.0标准，疗效评估为{names[case.response]}（{case.response}）")
        else:
            # PERCIST grades FDG uptake only, so other tracers get a plain response statement.
            plain = {"CMR": "完全缓解", "PMR": "部分缓解", "SMD": "疾病稳定", "PMD": "疾病进展"}
            b.text(f"{TRACER_TEXT[case.tracer]} PET/CT疗效评估为{plain[case.response]}")
        return b

    def _fuo_items(self, case: Case) -> list[Builder]:
        items = []
        for lesion in case.lesions:
            if lesion.role != "benign" or lesion.diagnosis not in FUO_DIAGNOSES:
                continue
            if lesion.diagnosis == "diagnosis.sarcoidosis" and lesion.site == "lymph_node.station_7":
                continue  # written together with the hilar nodes
            item = self.builder()
            self.site(item, lesion)
            if lesion.diagnosis == "diagnosis.sarcoidosis":
                item.text("及").anatomy("mediastinum", "纵隔").anatomy("lymph_node", "淋巴结").text("对称性")
            item.finding("finding.increased_uptake", "代谢增高").text("，")
            self.hedge(item)
            form = {"diagnosis.infection": "感染性病变", "diagnosis.vasculitis": "大动脉炎", "diagnosis.sarcoidosis": "结节病", "diagnosis.inflammation": "炎性"}[lesion.diagnosis]
            item.finding(lesion.diagnosis, form)
            if lesion.diagnosis == "diagnosis.inflammation":
                item.finding("diagnosis.reactive_hyperplasia", "反应性增生")
            items.append(item)
        if not items:
            item = self.builder().text("全身PET/CT显像").negation("未见明确").finding("diagnosis.infection", "感染").text("及")
            item.finding("diagnosis.malignancy", "恶性肿瘤").text("征象")
            items.append(item)
        return items

    def _benign_item(self, case: Case, lesion: Lesion) -> Builder:
        rng = self.rng
        b = self.builder()
        if "finding.brown_fat_uptake" in lesion.morphology:
            b.anatomy("neck", "颈部", "bilateral", "双侧").text("及").anatomy("lymph_node.supraclavicular", "锁骨上区")
            b.finding("finding.brown_fat_uptake", "棕色脂肪").finding("finding.physiological_uptake", "生理性摄取")
            return b
        self.site(b, lesion)
        if lesion.recommendation == "thyroid_ultrasound":
            b.finding("finding.nodule", "结节").text("伴").finding("finding.increased_uptake", "代谢增高").text("，建议").anatomy("thyroid", "甲状腺").text("超声检查，必要时穿刺活检")
            return b
        if lesion.recommendation == "colonoscopy":
            b.finding("finding.focal_bowel_uptake", "局灶性放射性浓聚").text("，").hedge("不除外").finding("diagnosis.adenoma", "腺瘤")
            b.text("或").finding("diagnosis.polyp", "息肉").text("，建议").anatomy("colon", "结肠").text("镜检查")
            return b
        if "finding.post_treatment_change" in lesion.morphology:
            b.finding("finding.post_treatment_change", rng.choice(("术后改变", "治疗后改变")))
            return b
        if lesion.site.startswith("lymph_node") or lesion.site == "axilla":
            b.anatomy("lymph_node", "淋巴结")
        if lesion.uptake != "none" and _mild(lesion):
            b.finding("finding.mild_uptake", "代谢轻度增高" if case.tracer == "FDG" else "摄取轻度增高").text("，")
        elif lesion.uptake != "none":
            b.finding("finding.increased_uptake", "代谢增高" if case.tracer == "FDG" else "摄取增高").text("，")
        elif lesion.certainty == "positive":
            pass  # "肝S5段囊肿": the site and the diagnosis alone
        else:
            for concept in lesion.morphology[:1]:
                b.finding(concept, "小结节" if concept == "finding.nodule" else "低密度灶").text("，")
        if lesion.certainty == "uncertain":
            b.hedge(rng.choice(BENIGN_HEDGES))
        form = {"diagnosis.degenerative_change": "退行性变", "diagnosis.granulomatous_disease": "肉芽肿性病变", "diagnosis.reactive_hyperplasia": "反应性增生",
                "diagnosis.cyst": "囊肿", "diagnosis.fibrosis": "陈旧性病变", "diagnosis.inflammation": "炎性病变"}[lesion.diagnosis]
        if lesion.detail.get("radiation"):
            form = "放射性肺炎"
        if lesion.diagnosis == "diagnosis.reactive_hyperplasia" and lesion.site == "bone.marrow":
            b.text("化疗后").anatomy("bone.marrow", "骨髓")
        b.finding(lesion.diagnosis, form)
        return b


def _descriptor(rng: random.Random, lesion: Lesion, descriptors: tuple[tuple[str, ...], tuple[str, ...]]) -> str | None:
    """Return a CT descriptor for a nodule, mass or focal lesion about half the time, else None."""
    shape = lesion.morphology[0] if lesion.morphology else None
    if shape not in ("finding.solid_nodule", "finding.nodule", "finding.mass", "finding.hypodense_lesion") or rng.random() < 0.5:
        return None
    benign_looking = lesion.role in ("benign", "incidental") or lesion.uptake == "none"
    return rng.choice(descriptors[1] if benign_looking else descriptors[0])


def _pick(rng: random.Random, compiled):
    """Return one compiled template: ``compiled`` itself, or one of its alternatives."""
    if compiled and isinstance(compiled[0], tuple):
        return rng.choice(compiled)
    return compiled


def _distinct_sites(lesions: list[Lesion]) -> list[Lesion]:
    """Return the lesions with a site and side not seen before in the list."""
    seen = set()
    distinct = []
    for lesion in lesions:
        key = (lesion.site, lesion.laterality, tuple(sorted(lesion.detail.items())))
        if key not in seen:
            seen.add(key)
            distinct.append(lesion)
    return distinct


def _mild(lesion: Lesion) -> bool:
    """Whether the uptake of a lesion is worded as mild: by its SUVmax when it has one."""
    if lesion.suv is None:
        return lesion.uptake == "mild"
    return uptake_grade(lesion.suv) == "mild"


def _is_node(lesion: Lesion) -> bool:
    node_site = lesion.site.startswith("lymph_node") or lesion.site in ("axilla", "mesentery")
    return node_site and lesion.role in ("node", "benign") and "finding.brown_fat_uptake" not in lesion.morphology


FUO_DIAGNOSES = ("diagnosis.infection", "diagnosis.vasculitis", "diagnosis.sarcoidosis", "diagnosis.inflammation")
ROLE_ORDER = ("primary", "node", "distant", "response", "incidental", "benign", "physiologic")


def _covered(case: Case, covers: tuple[str, ...]) -> bool:
    return any(lesion.site.startswith(prefix) for lesion in case.lesions for prefix in covers)


def _group_distant(lesions: list[Lesion]) -> dict[str, list[Lesion]]:
    groups: dict[str, list[Lesion]] = {}
    for lesion in lesions:
        site = lesion.site
        if site.startswith("bone.") and site != "bone.marrow":
            key = "bone"
        elif site.startswith("liver."):
            key = "liver"
        elif site.startswith("lung."):
            key = "lung"
        elif site.startswith("peritoneum"):
            key = "peritoneum"
        else:
            key = site
        groups.setdefault(key, []).append(lesion)
    return groups


def _ann_arbor(case: Case) -> str:
    extranodal = any(l.site in ("bone.marrow", "stomach") for l in case.lesions)
    above = any(l.region in ("head_neck", "chest") for l in case.lesions if l.role in ("node",))
    below = any(l.region == "abdomen_pelvis" for l in case.lesions if l.role in ("node", "distant"))
    nodes = sum(1 for l in case.lesions if l.role == "node")
    if extranodal:
        return "IV"
    if above and below:
        return "III"
    return "II" if nodes > 1 else "I"
