"""Entity extraction on hand-checked Chinese and English sentences."""

from __future__ import annotations

import pytest

from petf2i_core.entities.extractor import analysed_text, detect_language, entity_set, extract_entities


def keys(text: str, language: str = "auto") -> set[tuple]:
    return set(entity_set(extract_entities(text, language)))


def only(text: str, concept: str, language: str = "auto"):
    matches = [entity for entity in extract_entities(text, language) if entity.concept == concept]
    assert len(matches) == 1, f"expected one {concept} in {text!r}, got {matches}"
    return matches[0]


def test_m7_negated_uptake_in_liver():
    negated = only("肝脏未见异常代谢增高", "finding.increased_uptake")
    asserted = only("肝脏可见异常代谢增高", "finding.increased_uptake")
    assert negated.polarity == "negative"
    assert negated.site == "liver"
    assert asserted.polarity == "positive"
    assert asserted.site == "liver"


@pytest.mark.parametrize("text", ["肝脏代谢未见增高", "肝脏代谢未见明显增高", "肝脏放射性摄取未见异常增高", "肝脏FDG摄取未见增高"])
def test_uptake_negated_inside_phrase(text):
    uptake = only(text, "finding.increased_uptake", "zh")
    assert uptake.polarity == "negative"
    assert uptake.site == "liver"


def test_uptake_with_qualifier_inside_phrase():
    assert only("右肺结节摄取较前增高", "finding.increased_uptake", "zh").polarity == "positive"


def test_m7_negated_nodule_both_sides():
    assert keys("双肺无结节") == {
        ("anatomy", "lung", "bilateral", "positive"),
        ("finding", "finding.nodule", "bilateral", "negative"),
    }


@pytest.mark.parametrize("text", ["右肺结节，SUVmax 5.2", "右肺结节，SUVmax：5.2", "右肺结节，ＳＵＶｍａｘ：５．２", "右肺结节，SUV max = 5.2"])
def test_d2_suvmax_forms(text):
    assert only(text, "finding.nodule").suvmax == 5.2


def test_negation_scope_ends_at_comma():
    text = "未见明显肿大淋巴结，右肺结节"
    assert only(text, "finding.lymphadenopathy").polarity == "negative"
    nodule = only(text, "finding.nodule")
    assert nodule.polarity == "positive"
    assert nodule.laterality == "right"


def test_no_evidence_of_metastasis():
    metastasis = only("No evidence of metastasis.", "diagnosis.metastasis", "en")
    assert metastasis.type == "diagnosis"
    assert metastasis.polarity == "negative"


@pytest.mark.parametrize(
    "text, language",
    [
        ("肝脏未见异常代谢增高", "zh"),
        ("肝脏未发现代谢增高", "zh"),
        ("肝脏无代谢增高", "zh"),
        ("排除肝脏代谢增高", "zh"),
        ("There is no increased uptake in the liver.", "en"),
        ("Liver without increased uptake.", "en"),
        ("Liver negative for increased uptake.", "en"),
    ],
)
def test_negation_cues(text, language):
    assert only(text, "finding.increased_uptake", language).polarity == "negative"


def test_english_negation_spans_a_list():
    text = "The lungs are clear without focal consolidation, pneumothorax, or pleural effusion."
    polarities = {e.concept: e.polarity for e in extract_entities(text, "en") if e.type == "finding"}
    assert polarities == {"consolidation": "negative", "pneumothorax": "negative", "finding.pleural_effusion": "negative"}


def test_english_negation_stops_at_but():
    text = "No pneumothorax, but there is a small nodule."
    assert only(text, "pneumothorax", "en").polarity == "negative"
    assert only(text, "finding.nodule", "en").polarity == "positive"


def test_post_negation_cue():
    assert only("Pneumothorax is not seen.", "pneumothorax", "en").polarity == "negative"


@pytest.mark.parametrize(
    "text, concept",
    [("右肺上叶结节，考虑肺癌", "diagnosis.lung_cancer"), ("右肺上叶结节，转移可能", "diagnosis.metastasis"),
     ("左肾小结石?", "calculus"), ("Right lower lobe opacity, suspicious for pneumonia.", "pneumonia")],
)
def test_hedge_gives_uncertain(text, concept):
    assert only(text, concept).polarity == "uncertain"


def test_hedge_stays_in_its_clause():
    assert only("右肺上叶结节，考虑肺癌", "finding.nodule").polarity == "positive"


def test_not_excluded_is_a_hedge_not_a_negation():
    assert only("Pneumonia cannot be excluded.", "pneumonia", "en").polarity == "uncertain"
    assert only("不除外转移", "diagnosis.metastasis", "zh").polarity == "uncertain"


@pytest.mark.parametrize(
    "text, language, concept",
    [("胸腔积液：无", "zh", "finding.pleural_effusion"), ("胸腔积液:无", "zh", "finding.pleural_effusion"),
     ("Pleural effusion: none", "en", "finding.pleural_effusion"), ("Pneumothorax: no", "en", "pneumothorax")],
)
def test_structured_line_is_negative(text, language, concept):
    assert only(text, concept, language).polarity == "negative"


def test_structured_line_with_finding_is_positive():
    assert only("胸腔积液：少量", "finding.pleural_effusion", "zh").polarity == "positive"


@pytest.mark.parametrize(
    "text, language, concept, side",
    [
        ("左肺上叶结节", "zh", "lung.upper_lobe", "left"),
        ("右侧肾上腺结节", "zh", "adrenal_gland", "right"),
        ("两侧腋窝淋巴结", "zh", "axilla", "bilateral"),
        ("左侧第7前肋骨折", "zh", "bone.rib", "left"),
        ("Nodule in the left lower lobe.", "en", "lung.lower_lobe", "left"),
        ("Both lungs are clear.", "en", "lung", "bilateral"),
        ("Bilateral pleural thickening.", "en", "pleural_thickening", "bilateral"),
    ],
)
def test_laterality_cues(text, language, concept, side):
    assert only(text, concept, language).laterality == side


def test_anatomy_without_cue_has_no_side():
    assert only("肝脏未见异常代谢增高", "liver").laterality is None


def test_finding_takes_side_and_site_of_anatomy():
    nodule = only("左肺上叶见结节影", "finding.nodule")
    assert nodule.laterality == "left"
    assert nodule.site == "lung.upper_lobe"


def test_finding_takes_site_from_sentence():
    uptake = only("右肺上叶见一结节，放射性摄取增高。", "finding.increased_uptake")
    assert uptake.site == "lung.upper_lobe"
    assert uptake.laterality == "right"


def test_site_does_not_cross_sentences():
    uptake = only("右肺上叶见一结节。放射性摄取增高。", "finding.increased_uptake")
    assert uptake.site is None
    assert uptake.laterality is None


def test_size_in_mm_and_cm():
    assert only("右肺结节，直径约6mm", "finding.nodule").size_cm == (0.6,)
    assert only("右肺结节，大小约0.8×1.2cm", "finding.nodule").size_cm == (1.2, 0.8)
    assert only("A 12 x 8 mm nodule in the right upper lobe.", "finding.nodule", "en").size_cm == (1.2, 0.8)


def test_prior_suvmax_does_not_replace_current():
    text = "A nodule in the left thyroid lobe shows increased uptake, SUVmax 3.7, smaller (previously SUVmax 8.7)."
    assert only(text, "finding.nodule", "en").suvmax == 3.7
    assert only(text, "finding.increased_uptake", "en").suvmax == 3.7


def test_own_clause_size_wins_over_later():
    # The size clause comes first, the SUVmax clause second, and the later clause's size must not replace it.
    entities = extract_entities("Nodule, 2.1 x 1.0 cm, SUVmax 4.0, previously 3.0 x 2.0 cm.", "en")
    nodule = [entity for entity in entities if entity.concept == "finding.nodule"][0]
    assert nodule.size_cm == (2.1, 1.0)
    assert nodule.suvmax == 4.0


def test_values_attach_to_findings_not_diagnoses():
    entities = extract_entities("右肺上叶肿块，SUVmax 7.4，考虑肺癌", "zh")
    by_concept = {entity.concept: entity for entity in entities}
    assert by_concept["finding.mass"].suvmax == 7.4
    assert by_concept["diagnosis.lung_cancer"].suvmax is None


def test_offsets_index_normalised_text():
    text = "右肺结节，ＳＵＶｍａｘ：５．２"
    normalised = analysed_text(text)
    for entity in extract_entities(text, "zh"):
        assert normalised[entity.start : entity.end] == entity.text


def test_english_matches_whole_words_only():
    assert not [e for e in extract_entities("Distribution of tracer is normal.", "en") if e.concept == "bone.rib"]


def test_detect_language():
    assert detect_language("右肺上叶结节，SUVmax 5.2") == "zh"
    assert detect_language("No acute cardiopulmonary abnormality.") == "en"
    assert detect_language("") == "en"


def test_auto_language_matches_explicit():
    text = "右肺上叶结节，考虑肺癌"
    assert extract_entities(text, "auto") == extract_entities(text, "zh")


def test_rejects_unknown_language():
    with pytest.raises(ValueError, match="unsupported language"):
        extract_entities("nodule", "fr")


def test_empty_text_has_no_entities():
    assert extract_entities("", "zh") == []


def test_split_form_effusion_negated():
    effusion = only("两侧胸腔未见明显积液影。", "finding.pleural_effusion", "zh")
    assert effusion.polarity == "negative"
    assert effusion.laterality == "bilateral"


def test_split_form_ascites_after_anatomy():
    assert only("腹、盆腔未见积液。", "finding.ascites", "zh").polarity == "negative"


def test_contiguous_form_not_split_twice():
    assert [e.concept for e in extract_entities("胸腔积液：无", "zh")] == ["finding.pleural_effusion"]


def test_fracture_overlapping_rib():
    fracture = only("右侧7-9肋骨折同前。", "fracture", "zh")
    assert fracture.laterality == "right"
    assert fracture.site == "bone.rib"


def test_question_mark_keeps_sentence_site():
    calcification = only("右肾集合系统内点状高密度影,结石?钙化?", "finding.calcification", "zh")
    assert calcification.polarity == "uncertain"
    assert calcification.laterality == "right"


def test_negation_cue_overlapping_term():
    assert only("前列腺未见异常放射性浓聚。", "finding.increased_uptake", "zh").polarity == "negative"


def test_first_mention_keeps_its_values():
    entities = extract_entities("右肺结节。右肺结节，SUVmax 5.2", "zh")
    nodule = entity_set(entities)[("finding", "finding.nodule", "right", "positive")]
    assert nodule.suvmax is None
    assert [e.suvmax for e in entities if e.concept == "finding.nodule"] == [None, 5.2]


@pytest.mark.parametrize(
    ("text", "language"),
    [("No liver lesion.", "en"), ("No focal lesions in the liver.", "en"), ("肝内未见明确病灶。", "zh"), ("肺窗未见明显实质性病变。", "zh")],
)
def test_generic_lesion_negated(text, language):
    lesion = only(text, "finding.lesion", language)
    assert lesion.type == "finding"
    assert lesion.polarity == "negative"


def test_generic_lesion_asserted_with_site():
    lesion = only("A new lesion in the liver.", "finding.lesion", "en")
    assert lesion.polarity == "positive"
    assert lesion.site == "liver"


def test_specific_lesion_form_wins():
    found = keys("An osteolytic lesion and a hypodense lesion.", "en")
    assert not any(key[1] == "finding.lesion" for key in found)


@pytest.mark.parametrize("text", ["A calcified nodule without FDG uptake.", "A calcified nodule without abnormal uptake.", "A nodule without abnormal tracer uptake."])
def test_without_uptake_negates(text):
    uptake = only(text, "finding.increased_uptake", "en")
    nodule = [entity for entity in extract_entities(text, "en") if entity.concept.startswith("finding.nodule")]
    assert uptake.polarity == "negative"
    assert nodule and nodule[0].polarity == "positive"
