"""petf2i: impression generation for PET/CT reports with language models.

The package holds the study's reusable parts: report data handling (``data``),
text normalisation (``text``), model access (``models``), generation
(``generation``), LoRA training (``training``), the six metrics (``metrics``),
the bilingual clinical entity extractor (``entities``) and the papermill study
runner (``study``). Notebooks in ``notebooks/`` call these modules.
"""

__version__ = "0.1.0"
