"""Loading the packaged lexicon and rejecting malformed lexicon files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from petf2i_core.entities.extractor import extract_entities
from petf2i_core.entities.lexicon import LEXICON_DIR, default_lexicon, load_lexicon


def test_packaged_lexicon_loads():
    lexicon = default_lexicon()
    assert len(lexicon.concepts) > 100
    assert lexicon.version.startswith("anatomy")
    assert "#" in lexicon.version


def test_concept_ids_have_no_laterality():
    for concept_id in default_lexicon().concepts:
        for side in ("left", "right", "bilateral"):
            assert side not in concept_id.split("."), concept_id


def test_parents_exist():
    lexicon = default_lexicon()
    missing = {c.id: c.parent for c in lexicon.concepts.values() if c.parent and c.parent not in lexicon.concepts}
    # Parents that group anatomy without being mentionable themselves (joint, soft_tissue) may be absent.
    assert set(missing.values()) <= {"joint", "soft_tissue"}, missing


def test_surface_forms_map_to_one_concept_per_language():
    lexicon = default_lexicon()
    for language in ("zh", "en"):
        for form, concept_id in lexicon.surface_index[language].items():
            assert concept_id == "" or concept_id in lexicon.concepts, (language, form)


def test_extends_adds_forms_to_pet_concept():
    lexicon = default_lexicon()
    assert lexicon.surface_index["en"]["effusion"] == "finding.pleural_effusion"
    assert lexicon.surface_index["zh"]["心影"] == "heart"


def test_ancestors_and_related():
    lexicon = default_lexicon()
    assert "lung" in lexicon.ancestors("lung.upper_lobe")
    assert lexicon.related("lung", "lung.upper_lobe")
    assert not lexicon.related("lung", "liver")


def test_ignored_words_are_not_entities():
    concepts = [entity.concept for entity in extract_entities("左足诸骨骨皮质光整,骨小梁连续", "zh")]
    assert concepts == ["bone"]


@pytest.fixture
def lexicon_copy(tmp_path: Path) -> Path:
    target = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, target)
    return target


def test_version_changes_with_content(lexicon_copy: Path):
    before = load_lexicon(lexicon_copy).version
    path = lexicon_copy / "radiology.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("[气胸]", "[气胸, 液气胸]"), encoding="utf-8")
    after = load_lexicon(lexicon_copy)
    assert after.version != before
    assert after.surface_index["zh"]["液气胸"] == "pneumothorax"


def test_yaml_boolean_form_is_rejected(lexicon_copy: Path):
    path = lexicon_copy / "radiology.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("[pneumothorax, pneumothoraces]", "[pneumothorax, no]"), encoding="utf-8")
    with pytest.raises(ValueError, match="radiology.yaml.*pneumothorax.*booleans"):
        load_lexicon(lexicon_copy)


def test_duplicate_concept_id_is_rejected(lexicon_copy: Path):
    path = lexicon_copy / "radiology.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: trachea\n    type: anatomy\n    zh: [主气管]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'trachea' is already defined"):
        load_lexicon(lexicon_copy)


def test_extending_unknown_concept_is_rejected(lexicon_copy: Path):
    path = lexicon_copy / "radiology.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - extends: no_such_concept\n    zh: [某物]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="extends 'no_such_concept'"):
        load_lexicon(lexicon_copy)


def test_missing_cue_file_is_an_error(lexicon_copy: Path):
    (lexicon_copy / "cues.yaml").unlink()
    with pytest.raises(FileNotFoundError, match="cues.yaml"):
        load_lexicon(lexicon_copy)


def test_invalid_yaml_names_the_file(lexicon_copy: Path):
    (lexicon_copy / "findings.yaml").write_text("version: '1.0'\nconcepts: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="findings.yaml: invalid YAML"):
        load_lexicon(lexicon_copy)


def test_split_form_unknown_concept_is_rejected(lexicon_copy: Path):
    path = lexicon_copy / "radiology.yaml"
    text = path.read_text(encoding="utf-8").replace("  - concept: finding.ascites\n", "  - concept: finding.no_such\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="split form names unknown concept 'finding.no_such'"):
        load_lexicon(lexicon_copy)


def test_split_form_without_tail_is_rejected(lexicon_copy: Path):
    path = lexicon_copy / "radiology.yaml"
    text = path.read_text(encoding="utf-8").replace("zh: {head: [胸腔], tail: [积液影, 积液]}", "zh: {head: [胸腔]}")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="needs non-empty 'head' and 'tail'"):
        load_lexicon(lexicon_copy)
