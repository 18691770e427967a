"""Verified generation completes a supported answer with the course sentences it left out, not those it said."""

from __future__ import annotations

import pytest

from tutor.answers.verify import SupportChecker, already_says
from tutor.embeddings import get_embedder
from tutor.settings import Settings

COURSE = "Most of the energy a cell uses is produced in the mitochondria."


@pytest.fixture(scope="module")
def checker() -> SupportChecker:
    return SupportChecker(get_embedder(Settings()))


def test_an_answer_that_says_the_course_sentence_in_its_own_words_covers_it(checker: SupportChecker) -> None:
    assert already_says(checker, f"Good question! {COURSE} [1]", COURSE)
    assert already_says(checker, "The mitochondria produce most of the energy that a cell uses [1].", COURSE)


def test_a_true_answer_that_misses_the_point_does_not_cover_it(checker: SupportChecker) -> None:
    # What a small model writes: supported by the passage, on the topic, without the answer.
    assert not already_says(checker, "A cell uses energy for many things [1]. Cells are very small [1].", COURSE)
    # The same words, another claim.
    assert not already_says(checker, "Most of the energy a cell uses is stored in the nucleus [1].", COURSE)
