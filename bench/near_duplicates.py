"""Near-duplicates between every evaluation set and every training file: a set line whose wording a
training line nearly repeats measures memory, not understanding.

Character bigrams (Chinese has no spaces): two lines are near-duplicates when at least THRESHOLD of
the shorter line's bigrams are in the other ("我爸把一整瓶安眠药都吃了 现在眼皮都睁不开了" /
"我妈把一整瓶安眠药都吃了，现在叫不醒": 0.59). Lines of fewer than MIN_BIGRAMS are left out: "你好"
in a training file and in a set is a word both share, not a leak; so are pairs that share no run of
MIN_RUN characters ("什么时候能弄好" / "急救培训什么时候报名" share bigrams, not wording).
"""

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.5
MIN_BIGRAMS = 6
MIN_RUN = 6
TRAINING = [
    ROOT / "handlers" / "classifier" / "training.tsv",
    ROOT / "handlers" / "classifier" / "urgency_training.tsv",
    ROOT / "handlers" / "classifier" / "urgency_training_2.tsv",
    ROOT / "handlers" / "classifier" / "urgency_training_3.tsv",
    ROOT / "handlers" / "classifier" / "urgency_training_4.tsv",
    ROOT / "handlers" / "classifier" / "intent_training.tsv",
]


def bigrams(text: str) -> set[str]:
    letters = _letters(text)
    return {letters[i : i + 2] for i in range(len(letters) - 1)} or {letters}


def texts_of(path: Path) -> list[str]:
    """The message text of every line of a set or training file, whatever its column order."""
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("text\t"):
            continue
        fields = [field.strip() for field in line.split("\t")]
        texts.append(max(fields, key=_wordiness))  # labels are short ASCII codes; the message is the rest
    return texts


def longest_run(a: str, b: str) -> int:
    """The longest stretch of characters the two lines share (punctuation and spaces left out)."""
    a, b = _letters(a), _letters(b)
    best, previous = 0, [0] * (len(b) + 1)
    for ch in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, 1):
            if ch == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _wordiness(field: str) -> tuple[int, int]:
    return sum(not ch.isascii() for ch in field), len(field)


def near_pairs(evaluated: list[str], trained: list[str], threshold: float = THRESHOLD) -> list[tuple[float, str, str]]:
    """(overlap, set line, training line) for every pair at or above `threshold`, most similar first."""
    index: dict[str, list[int]] = defaultdict(list)
    trained_grams = [bigrams(text) for text in trained]
    for i, grams in enumerate(trained_grams):
        for gram in grams:
            index[gram].append(i)
    found = []
    for text in evaluated:
        grams = bigrams(text)
        if len(grams) < MIN_BIGRAMS:
            continue
        shared: dict[int, int] = defaultdict(int)
        for gram in grams:
            for i in index.get(gram, ()):
                shared[i] += 1
        for i, common in shared.items():
            if len(trained_grams[i]) < MIN_BIGRAMS:
                continue
            overlap = common / min(len(grams), len(trained_grams[i]))
            if overlap >= threshold and longest_run(text, trained[i]) >= MIN_RUN:
                found.append((overlap, text, trained[i]))
    return sorted(found, reverse=True)


def repeated_in_training(evaluated: list[str]) -> set[str]:
    """The lines of a set that some training line nearly repeats."""
    trained = [text for path in TRAINING if path.exists() for text in texts_of(path)]
    return {text for _, text, _ in near_pairs(evaluated, trained)}


def report(sets: dict[str, Path]) -> int:
    """Prints every near-duplicate between each named set and the training files; returns how many."""
    trained = {path.name: texts_of(path) for path in TRAINING if path.exists()}
    total = 0
    print(f"\nnear-duplicates (≥ {THRESHOLD:.0%} of the shorter line's character bigrams shared) between sets and training:")
    for name, path in sets.items():
        if not path.exists():
            continue
        evaluated = texts_of(path)
        for training_name, lines in trained.items():
            for overlap, text, twin in near_pairs(evaluated, lines):
                total += 1
                print(f"  {name} ~ {training_name} ({overlap:.2f}): {text}  ≈  {twin}")
    print(f"  {total} found" if total else "  none found")
    return total
