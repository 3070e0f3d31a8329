"""Generate the parallel Chinese/English synthetic PET/CT corpus with gold entities."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from petf2i_core.data.records import Report, write_jsonl
from petf2i_core.data.synth.builder import render
from petf2i_core.data.synth.cases import Case, sample_case
from petf2i_core.data.synth.noise import apply_noise
from petf2i_core.data.synth.render_en import EnRenderer
from petf2i_core.data.synth.render_zh import ZhRenderer
from petf2i_core.data.synth.styles import STYLE_NAMES, STYLES

logger = logging.getLogger(__name__)

LANGUAGE_CHOICES = ("zh", "en", "both")
REGION_ORDER = ("head_neck", "chest", "abdomen_pelvis", "musculoskeletal")
RENDERERS = {"zh": ZhRenderer, "en": EnRenderer}
# A case is redrawn when its findings repeat an earlier report's findings, at most this often.
MAX_REDRAWS = 20


def render_segments(case: Case, language: str, style_name: str, seed: int, noise_rate: float):
    """Return the findings and impression segments of one case, with the count of noise edits."""
    rng = random.Random(f"{seed}:{case.case_id}:{language}")
    renderer = RENDERERS[language](STYLES[style_name], rng)

    findings = renderer.builder()
    renderer.header(findings, case)
    for region in REGION_ORDER:
        renderer.region_title(findings, region)
        renderer.region_body(findings, region, case)
        findings.fixed("\n")
    impression = renderer.impression(case)

    noise_rng = random.Random(f"{seed}:{case.case_id}:{language}:noise")
    findings_segments, findings_edits = apply_noise(findings.segments, language, noise_rate, noise_rng)
    impression_segments, impression_edits = apply_noise(impression.segments, language, noise_rate, noise_rng)
    return findings_segments, impression_segments, findings_edits + impression_edits


def render_report(case: Case, language: str, style_name: str, seed: int, noise_rate: float) -> Report:
    """Render one case in one language and style, apply noise, and attach the gold entities."""
    findings_segments, impression_segments, edits = render_segments(case, language, style_name, seed, noise_rate)
    findings_text, findings_gold = render(findings_segments, language)
    impression_text, impression_gold = render(impression_segments, language)

    return Report(
        id=f"synth-{case.case_id:06d}-{language}",
        findings=findings_text.rstrip("\n"),
        impression=impression_text,
        language=language,
        patient_id=f"synth-patient-{case.case_id:06d}",
        meta={
            "source": "synthetic",
            "case_id": case.case_id,
            "tracer": case.tracer,
            "agent": case.agent,
            "cancer": case.cancer,
            "indication": case.indication,
            "style": style_name,
            "sex": case.sex,
            "age": case.age,
            "response": case.response,
            "deauville": case.deauville,
            "seed": seed,
            "noise_rate": noise_rate,
            "noise_edits": edits,
            "entities": {"findings": findings_gold, "impression": impression_gold},
        },
    )


def generate_corpus(n: int, language: str = "both", seed: int = 0, noise_rate: float = 0.05) -> list[Report]:
    """Generate ``n`` cases and render each in ``language`` ("zh", "en" or "both").

    With "both", every case yields a Chinese and an English report with the same
    ``case_id`` (ids ``synth-000123-zh`` and ``synth-000123-en``). The same
    arguments always give the same reports. ``noise_rate`` is the chance that
    each editable spot (plain-text run, punctuation, value spelling) is edited;
    0 gives clean text.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if language not in LANGUAGE_CHOICES:
        raise ValueError(f"language must be one of {LANGUAGE_CHOICES}, got {language!r}")
    if not 0.0 <= noise_rate <= 1.0:
        raise ValueError(f"noise_rate must be between 0 and 1, got {noise_rate}")

    languages = ("zh", "en") if language == "both" else (language,)
    case_rng = random.Random(seed)
    seen: set[str] = set()
    reports: list[Report] = []
    for case_id in _progress(range(n)):
        for attempt in range(MAX_REDRAWS + 1):
            case = sample_case(case_rng, case_id)
            rendered = [
                render_report(case, lang, _style_for(case_rng, lang), seed, noise_rate) for lang in languages
            ]
            keys = [report.language + report.findings for report in rendered]
            if not any(key in seen for key in keys):
                break
            logger.debug("case %d repeats an earlier report; redrawing (attempt %d)", case_id, attempt + 1)
        else:
            logger.warning("case %d still repeats an earlier report after %d redraws; keeping it", case_id, MAX_REDRAWS)
        seen.update(keys)
        reports.extend(rendered)
    return reports


def _style_for(rng: random.Random, language: str) -> str:
    return rng.choice(STYLE_NAMES[language])


def _progress(iterable):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but the generator works without it
        return iterable
    return tqdm(iterable, desc="synthetic cases", unit="case", disable=len(iterable) < 5000, leave=False)


def write_corpus(reports: list[Report], path: str | Path) -> Path:
    """Write ``reports`` as JSONL to ``path`` and the dataset card beside it (``<path>.card.md``)."""
    from petf2i_core.data.synth.card import write_card

    path = Path(path)
    count = write_jsonl(path, reports)
    card = write_card(reports, path)
    logger.info("wrote %d synthetic reports to %s and the card to %s", count, path, card)
    return path
