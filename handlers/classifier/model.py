"""The trained part: TF-IDF over character 1–2-grams (unigrams and bigrams) and a linear SVM, softmax-calibrated.

Trained at first use on `training.tsv` (shipped in the package) plus every category's config
keywords as pseudo-examples, so a category added through GRIDBOT_CONFIG is learnable at once.
Cached in-process per category set. Scoring one message is plain numpy over the learnt weights
(scikit-learn's per-call checks cost more than the arithmetic).

Character n-grams rather than jieba words: residents misspell (以经, 反应), drop spaces and
punctuation, and mix dialect; n-grams match what they share. jieba words measured worse here.
"""

import math
import re
from collections import Counter
from functools import lru_cache
from operator import add
from pathlib import Path

import numpy as np

TRAINING = Path(__file__).with_name("training.tsv")
KEYWORD_REPEATS = 2  # each config keyword counts as this many one-word examples
NGRAMS = (1, 2)
SVM_C = 3.0
TEMPERATURES = np.linspace(0.5, 15, 59)
_SPACES = re.compile(r"\s\s+")
Example = tuple[str, str]  # (category code, text)


def shipped_examples(path: Path = TRAINING) -> list[Example]:
    """`category<TAB>text` lines; blank lines and `#` comments skipped."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, _, text = line.partition("\t")
            rows.append((code.strip(), text.strip()))
    return rows


def keyword_examples(keywords: dict[str, tuple[str, ...]]) -> list[Example]:
    return [(code, word) for code, words in keywords.items() for word in words for _ in range(KEYWORD_REPEATS)]


def char_ngrams(text: str) -> Counter:
    """The same n-grams scikit-learn's `analyzer="char"` makes (lower-cased, runs of spaces squeezed)."""
    text = _SPACES.sub(" ", text.lower())
    grams = Counter(text)  # NGRAMS (1, 2): the characters, then each with the next, counted in C
    grams.update(map(add, text, text[1:]))
    return grams


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class Model:
    """Fitted on examples; `probabilities(text)` → {category code: p}."""

    def __init__(self, examples: list[Example]):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.model_selection import cross_val_predict
        from sklearn.svm import LinearSVC

        texts, labels = [text for _, text in examples], [code for code, _ in examples]
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True)
        features = vectorizer.fit_transform(texts)
        svm = LinearSVC(C=SVM_C).fit(features, labels)
        self.codes: list[str] = [str(code) for code in svm.classes_]
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_
        self.weights = np.asarray(svm.coef_).T  # (features, categories); 2 categories → 1 column
        self.bias = np.asarray(svm.intercept_)
        folds = min(3, min(Counter(labels).values()))
        held_out = (
            cross_val_predict(LinearSVC(C=SVM_C), features, labels, cv=folds, method="decision_function") if folds >= 2 else None
        )
        self.temperature = self._fitted_temperature(held_out, labels)

    def _fitted_temperature(self, scores: np.ndarray | None, labels: list[str]) -> float:
        """The softmax temperature that makes out-of-fold margins honest probabilities (least log-loss)."""
        if scores is None or scores.ndim == 1:
            return float(TEMPERATURES[len(TEMPERATURES) // 2])
        truth = np.array([self.codes.index(code) for code in labels])
        losses = [-np.log(softmax(scores * t)[np.arange(len(truth)), truth] + 1e-12).mean() for t in TEMPERATURES]
        return float(TEMPERATURES[int(np.argmin(losses))])

    def margins(self, text: str) -> np.ndarray:
        vocabulary = self.vocabulary
        counts = [(column, count) for gram, count in char_ngrams(text).items() if (column := vocabulary.get(gram)) is not None]
        if not counts:
            return self.bias.copy()
        columns = np.array([column for column, _ in counts])
        values = np.array([1 + math.log(count) for _, count in counts]) * self.idf[columns]
        values /= math.sqrt(values @ values)  # the L2 norm, without np.linalg's checks
        return values @ self.weights[columns] + self.bias

    def probabilities(self, text: str) -> dict[str, float]:
        margins = self.margins(text)
        if len(self.codes) == 2:  # binary SVM: one margin, for the second class
            margins = np.array([-margins[0], margins[0]])
        return dict(zip(self.codes, softmax(margins * self.temperature).tolist(), strict=True))


@lru_cache(maxsize=4)
def model_for(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> Model:
    """The model for this category set (codes and keywords), trained once per process."""
    wanted = dict(keywords)
    examples = [(code, text) for code, text in shipped_examples() if code in wanted]
    return Model(examples + keyword_examples(wanted))
