"""The support checker of verified generation, on a labelled set built from SciQ (../shared/data/sciq_valid).

    python benchmarks/verify.py [--limit 400]     # prints JSON

Supported: the sentences of each gold support paragraph that state the answer, as written and lightly reworded
(a framing phrase, a general word swapped for a synonym, a parenthesis dropped). Unsupported: the same sentences
with the answer replaced by one of the question's distractors. The passage a sentence is checked against is the
support paragraph, cited as [1]. Also the time the check adds per sentence (the embedding model warm, the
passage's sentences not yet seen, as for a new answer).
"""

from __future__ import annotations

import argparse
import json
import re
import time

from common import median, percentile, sciq

# Light rewordings: general words a paraphrase swaps, none of them a fact.
SYNONYMS = {
    "many": "numerous",
    "large": "big",
    "small": "little",
    "also": "as well",
    "usually": "typically",
    "often": "commonly",
    "because": "since",
    "important": "key",
    "different": "various",
    "very ": "",
    "is called": "is known as",
    "are called": "are known as",
    "can be": "may be",
}
FRAMES = ("In short, ", "The course explains that ", "Note that ", "Basically, ")


def reworded(sentence: str, n: int) -> str:
    text = re.sub(r"\s*\((?:[^()]*)\)", "", sentence)  # "( Figure below )"
    swaps = 0
    for word, synonym in SYNONYMS.items():
        pattern = re.compile(rf"\b{re.escape(word)}", re.I)
        if swaps < 2 and pattern.search(text):
            text = pattern.sub(synonym, text, count=1)
            swaps += 1
    frame = FRAMES[n % len(FRAMES)]
    return frame + text[0].lower() + text[1:] if text[:2] != text[:2].upper() else frame + text


def labelled_set(limit: int) -> tuple[list[tuple[str, str, bool]], int]:
    """(sentence, passage, supported) triples, and how many SciQ items they came from."""
    from tutor.answers.passages import split_passage

    out: list[tuple[str, str, bool]] = []
    used = 0
    for item in sciq():
        answer = item["correct_answer"].strip()
        distractor = item["distractor1"].strip()
        passage = item["support"]
        if not answer or not distractor or answer.lower() == distractor.lower():
            continue
        sentences = [s.text for s in split_passage(passage) if re.search(rf"\b{re.escape(answer)}\b", s.text, re.I)]
        if not sentences:
            continue
        used += 1
        for sentence in sentences[:2]:
            out.append((f"{sentence} [1]", passage, True))
            out.append((f"{reworded(sentence, len(out))} [1]", passage, True))
            swapped = re.sub(rf"\b{re.escape(answer)}\b", distractor, sentence, flags=re.I)
            out.append((f"{swapped} [1]", passage, False))
        if used >= limit:
            break
    return out, used


def main(limit: int) -> None:
    from tutor.answers.verify import SupportChecker
    from tutor.embeddings import get_embedder
    from tutor.llm.base import Passage
    from tutor.settings import Settings

    embedder = get_embedder(Settings())
    embedder.embed_query("warm up")
    checker = SupportChecker(embedder)
    cases, items = labelled_set(limit)
    passed = caught = supported = unsupported = 0
    times: list[float] = []
    missed: list[dict[str, str]] = []
    rejected: list[dict[str, str]] = []
    for sentence, passage, is_supported in cases:
        started = time.perf_counter()
        verdict = checker.check(sentence, [Passage(1, passage, "support")])
        times.append(1000 * (time.perf_counter() - started))
        if is_supported:
            supported += 1
            passed += verdict.supported
            if not verdict.supported and len(rejected) < 5:
                rejected.append({"sentence": sentence, "reason": verdict.reason})
        else:
            unsupported += 1
            caught += not verdict.supported
            if verdict.supported and len(missed) < 5:
                missed.append({"sentence": sentence})
    print(
        json.dumps(
            {
                "sciq_items": items,
                "supported_sentences": supported,
                "unsupported_sentences": unsupported,
                "supported_passed": round(passed / supported, 3),
                "unsupported_caught": round(caught / unsupported, 3),
                "ms_per_sentence_p50": median(times),
                "ms_per_sentence_p95": percentile(times, 0.95),
                "targets": {"unsupported_caught_at_least": 0.95, "supported_passed_at_least": 0.9},
                "examples_missed": missed,
                "examples_rejected": rejected,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=400, help="SciQ items to draw sentences from")
    main(parser.parse_args().limit)
