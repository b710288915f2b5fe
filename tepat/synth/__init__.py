"""Synthetic Kota Bekasi: registry, survey sample and messy files, seeded and reproducible."""

from __future__ import annotations

from tepat.synth.messy import write_messy_files
from tepat.synth.registry import SynthRegistry, generate_registry, write_registry, write_truth
from tepat.synth.survey import generate_survey
from tepat.synth.welfare import POVERTY_LINE, POVERTY_SHARE

__all__ = [
    "POVERTY_LINE",
    "POVERTY_SHARE",
    "SynthRegistry",
    "generate_registry",
    "generate_survey",
    "write_messy_files",
    "write_registry",
    "write_truth",
]
