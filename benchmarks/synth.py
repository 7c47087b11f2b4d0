"""Synthetic Daily Papers dumps: realistic lengths and the samples' metadata mix.

Titles of 6-16 words, abstracts of 150-260 words drawn from a Zipf-like
vocabulary of 30,000 words (a few hundred real research words among them), 95%
with metadata, 3% with an organisation line, 19% with upvotes, half the dates
without a year, 15% with a code link.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

REAL = (
    "learning model models neural network networks training language large data reinforcement "
    "policy agent agents transformer transformers attention diffusion generation reasoning "
    "grokking lottery ticket tickets sparse pruning generalization memorization robot robotic "
    "manipulation vision image video graph optimization gradient descent convergence theory "
    "benchmark evaluation dataset retrieval alignment reward preference scaling laws efficient "
    "inference quantization distillation contrastive representation embedding multimodal audio "
    "speech planning world control exploration offline online continual meta federated privacy "
    "causal uncertainty calibration bayesian kernel stochastic dynamics physics molecule protein "
    "chemistry code program synthesis mathematical proof logic symbolic tokenizer context memory "
    "long horizon hierarchical mixture experts routing adapter lora fine tuning instruction"
).split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
CHROME = [
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
]


class Vocabulary:
    def __init__(self, rng: random.Random, size: int = 30_000) -> None:
        letters = "abcdefghijklmnopqrstuvwxyz"
        fake = {
            "".join(rng.choice(letters) for _ in range(rng.randint(3, 11))) for _ in range(size)
        }
        # Research words sit at mid-frequency ranks (every 25th from rank 40): a
        # topic word like "grokking" is not among the commonest words of a corpus.
        self.words = sorted(fake)
        for number, word in enumerate(REAL):
            self.words.insert(40 + 25 * number, word)
        # Zipf-like weights: rank r gets 1/(r+10).
        self.weights = [1.0 / (rank + 10) for rank in range(len(self.words))]
        # Accumulated once: choices(weights=...) would add up 30,000 weights per call.
        self.cum_weights = list(itertools.accumulate(self.weights))
        self.rng = rng

    def sample(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum_weights, k=n)


def entries(n: int, seed: int = 7) -> Iterator[list[str]]:
    """The lines of ``n`` entries, each a list ending with a blank line."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    for number in range(n):
        title_words = vocab.sample(rng.randint(5, 12))
        title = " ".join(w.capitalize() for w in title_words) + f" {number}"
        sentences = []
        words = vocab.sample(rng.randint(140, 245))
        for start in range(0, len(words), 18):
            chunk = words[start : start + 18]
            sentences.append(" ".join(chunk).capitalize() + ".")
        if rng.random() < 0.15:
            sentences.append(f"Code: https://github.com/lab{number % 997}/repo{number}.")
        lines = [title, "", " ".join(sentences), ""]
        if rng.random() < 0.95:
            if rng.random() < 0.03:
                lines.append(f"org Organisation {number % 50}")
            else:
                lines.append(f"  • {rng.randint(1, 30)} authors")
            lines.append("·")
            month, day = rng.choice(MONTHS), rng.randint(1, 28)
            date = (
                f"{month} {day}"
                if rng.random() < 0.5
                else f"{month} {day}, {rng.randint(2015, 2024)}"
            )
            if rng.random() < 0.19:
                date += f" {rng.randint(1, 300)}"
            lines.extend([date, ""])
        yield lines


def dump(n: int, seed: int = 7, page_size: int = 80) -> str:
    """A whole dump: pages of ``page_size`` entries, each with its chrome and date."""
    out: list[str] = []
    for index, lines in enumerate(entries(n, seed)):
        if index % page_size == 0:
            for line in CHROME:
                out.extend([line, ""])
            out.extend([f"Nov {1 + index // page_size % 28}", ""])
        out.extend(lines)
    return "\n".join(out)


def write_dump(path, n: int, seed: int = 7, page_size: int = 80) -> None:
    """The same dump as ``dump(n)``, written to ``path`` a page at a time (1M papers
    are 1.7 GB of text)."""
    with open(path, "w", encoding="utf-8") as out:
        page: list[str] = []
        for index, lines in enumerate(entries(n, seed)):
            if index % page_size == 0:
                if page:
                    out.write("\n".join(page) + "\n")
                    page = []
                for line in CHROME:
                    page.extend([line, ""])
                page.extend([f"Nov {1 + index // page_size % 28}", ""])
            page.extend(lines)
        out.write("\n".join(page))
