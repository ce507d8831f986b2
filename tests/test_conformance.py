"""Accuracy on the shared real-world corpus, measured by bench/accuracy.py (one place)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
sys.path.insert(0, str(ROOT))

from bench import accuracy  # noqa: E402


@pytest.mark.skipif(not (CORPUS / "labels.json").is_file(),
                    reason=f"corpus not present at {CORPUS} (../shared/corpus/dev)")
def test_corpus_accuracy_meets_thresholds():
    scores = accuracy.measure(CORPUS)
    print(scores.line())
    assert accuracy.failures(scores) == []
