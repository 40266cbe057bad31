"""What a message does, learnt from every seen line: the models handlers/intent.py and handlers/resident.py
ask where the rules are silent.

- the chat model: small talk (praise, news, the weather, a pet, food, a greeting at length) against a report
  (a state of trouble, a request, a question to staff), at any length;
- the follow-up model, for a resident with an order to follow: 补充 (a detail about the job: when they are
  home, a phone, where, that it got worse, what it looks like), 催办, 没解决, 已经好了 — or a new report.

Both are the category model's kind (handlers/classifier/model.py: character n-grams, a linear SVM) trained
at first use on: handlers/classifier/act_training.tsv (every line of the seen conversation sets and the
shared samples' reports, built by bench/act_examples.py), act_written.tsv (lines written for the thin
classes, in no set's words), intent_training.tsv; the chat model also on act_corpus.tsv (a general corpus of warm
chat and reports, written for it by someone who read no set) and the category model's reports (training.tsv).

The shipped pair is trained once per process (`shipped`); `trained(left_out=…)` trains a pair without some
lines, which bench/conversation.py --leave-out hands to the handlers (Services.acts) to measure a set the
models never saw. Nothing here changes after import.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handlers.classifier.model import Model, shipped_examples
from handlers.letters import letters_and_digits

HERE = Path(__file__).with_name("classifier")
ACT_TRAINING = HERE / "act_training.tsv"
ACT_WRITTEN = HERE / "act_written.tsv"
ACT_CORPUS = HERE / "act_corpus.tsv"  # chat and reports at large, for the chat model only (no follow-ups in it)
INTENT_TRAINING = HERE / "intent_training.tsv"
SMALL_TALK, REPORT = "smalltalk", "report"
FOLLOW_UP_ACTS = ("add", "chase", "not_fixed", "resolved")
CHAT_INTENTS = ("smalltalk", "opener", "about_bot")  # intent_training.tsv's kinds of small talk


@dataclass(frozen=True)
class ActModels:
    """A chat model and a follow-up model trained on the same examples."""

    chat: Model
    follow_up: Model


def examples(category_reports: bool = True, left_out: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(act, letters of the text) for every example but those `left_out` (compared as letters and digits);
    `category_reports`: with the category model's reports and the general corpus (chat against reports: the
    follow-up model does better without them)."""
    rows = [(act, text) for path in (ACT_TRAINING, ACT_WRITTEN) for act, text, *_ in _rows(path)]
    rows += [(act, text) for act, text, *_ in _rows(ACT_CORPUS)] if category_reports else []
    rows += [(SMALL_TALK if kind in CHAT_INTENTS else kind, text) for kind, text in shipped_examples(INTENT_TRAINING)]
    rows += [(REPORT, text) for _, text in shipped_examples()] if category_reports else []
    gone = frozenset(letters_and_digits(text) for text in left_out)
    cleaned = [(act, letters_and_digits(text)) for act, text in rows]
    return [(act, text) for act, text in cleaned if text and text not in gone]


def trained(left_out: Iterable[str] = ()) -> ActModels:
    """Both models, trained without the lines `left_out` (for measuring a set they never saw)."""
    gone = frozenset(left_out)
    return ActModels(chat_model_from(examples(left_out=gone)), follow_up_model_from(examples(False, gone)))


def chat_model_from(rows: list[tuple[str, str]]) -> Model:
    """Small talk against the rest: reports, and follow-ups ("我下午两点以后都在家" is about a job, not chat)."""
    return Model([(act if act == SMALL_TALK else REPORT, text) for act, text in rows])


def follow_up_model_from(rows: list[tuple[str, str]]) -> Model:
    """Each follow-up act, and a new report, for a resident with an order."""
    return Model([(act, text) for act, text in rows if act in (*FOLLOW_UP_ACTS, REPORT)])


@lru_cache(maxsize=1)
def chat_model() -> Model:
    """The shipped chat model, trained at first use."""
    return chat_model_from(examples())


@lru_cache(maxsize=1)
def follow_up_model() -> Model:
    """The shipped follow-up model, trained at first use."""
    return follow_up_model_from(examples(category_reports=False))


def chat_probability(cleaned: str, models: ActModels | None = None) -> float:
    """How sure the chat model is that these letters (intent.letters_and_digits) are small talk.
    `models`: a pair of one's own (bench/conversation.py --leave-out); else the shipped ones."""
    model = models.chat if models is not None else chat_model()
    return model.probabilities(cleaned)[SMALL_TALK]


def follow_up_act(cleaned: str, models: ActModels | None = None) -> tuple[str, float]:
    """The follow-up model's act for these letters ("report": a new problem) and its probability."""
    model = models.follow_up if models is not None else follow_up_model()
    probabilities = model.probabilities(cleaned)
    act = max(probabilities, key=probabilities.__getitem__)
    return act, probabilities[act]


def _rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
