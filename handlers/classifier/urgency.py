"""Emergencies, whatever the category: the policy's `[urgency]` patterns, and a model for the wordings
no pattern foresaw.

Patterns are sharp but only as wide as their author's imagination: on a set of fresh emergencies
they caught a third. The model (character n-grams, as for categories) learns from
`urgency_training.tsv` plus the category examples, and flags what the patterns miss.
"""

import re
from functools import lru_cache
from pathlib import Path

from handlers.classifier.model import TRAINING, Model, shipped_examples
from handlers.classifier.screen import Needs, may_match, needed_characters
from storage.urgency_rules import UrgencyRules

URGENCY_TRAINING = Path(__file__).with_name("urgency_training.tsv")
# Written by someone who had seen no evaluation set nor the rules: emergencies of every kind and near-misses.
URGENCY_TRAINING_BY_KIND = Path(__file__).with_name("urgency_training_2.tsv")
# Ordinary messages that sound alarming, written after reading the seen sets' false alarms (its header says how).
URGENCY_TRAINING_CALM = Path(__file__).with_name("urgency_training_3.tsv")
# Short everyday lines (acknowledgements, greetings, thanks): a space between a few words is no emergency.
URGENCY_TRAINING_EVERYDAY = Path(__file__).with_name("urgency_training_4.tsv")
# Warm everyday chat (family, pets, the weather, "累死了"), the chat model's corpus, as ordinary: the model had seen no
# chat and alarmed on "刚吃完饭 在楼下散步"; and, so that it still hears them, emergencies written like personal news.
EVERYDAY_CHAT = Path(__file__).with_name("act_corpus.tsv")
URGENCY_TRAINING_PERSONAL = Path(__file__).with_name("urgency_training_5.tsv")
URGENT, UNSURE, ORDINARY = "1", "?", "0"  # as `gridbot classify` prints them
# A cue this close before a match, in the same clause, makes it hypothetical or past ("万一着火了…",
# "去年冬天隔壁楼煤气中毒…"), not an emergency happening now.
LOOKBEHIND = 12
CLAUSE_END = re.compile(r"[，,。！!？?；;\n]")
LOOKAHEAD = 8
STILL_GOING = re.compile(r"到现在|现在还|还在|还没|正在|从.{0,4}(起|开始)")  # overrides a past cue: it has not stopped
OVER = re.compile(r"后来|好多了|没事了|已经(好了|拔了|关了|灭了|救出来了|处理了|修好了|送医院了|找到了)|(就|已经)跑了|找到了")
NEGATED = re.compile(r"(没|没有|不|未|并没)$")  # "没漏气", "还没掉": the words deny the danger they name


def assess(text: str, rules: UrgencyRules) -> tuple[str, str | None]:
    """(URGENT, UNSURE or ORDINARY; the kind of emergency where a kind's pattern names it).

    What matched is then read against the whole message (the policy's `happening_now`, `over`, `asks_about`):
    an alarm or a question about something over is neither, and an alarm in a question about danger
    becomes the question to the resident — unless it is happening now."""
    urgency, kind = _assess_words(text, rules)
    if urgency == ORDINARY or _any_match(text, rules.happening_now):
        return urgency, kind
    if _any_match(text, rules.over):
        return ORDINARY, None
    if urgency == URGENT and _any_match(text, rules.asks_about):
        return UNSURE, kind
    return urgency, kind


def _assess_words(text: str, rules: UrgencyRules) -> tuple[str, str | None]:
    present = frozenset(text)  # the characters of the text, for every pattern's screen
    for code, patterns in rules.kinds:
        if matches_a_pattern(text, patterns, rules.hypothetical, present):
            return URGENT, code
    if matches_a_pattern(text, rules.kindless, rules.hypothetical, present):
        return URGENT, None
    probability = 0.0
    if rules.model_threshold is not None:
        probability = urgency_model(rules.patterns, rules.hypothetical).probabilities(text)[URGENT]
        if probability >= rules.model_threshold:
            return URGENT, None
    if rules.ask_threshold is not None and probability >= rules.ask_threshold:
        return UNSURE, None
    if matches_a_pattern(text, rules.ask, rules.hypothetical, present):
        return UNSURE, None
    return ORDINARY, None


def is_urgent(text: str, rules: UrgencyRules) -> bool:
    """An emergency pattern that is not just a 'what if', or the model sure enough it is one."""
    return assess(text, rules)[0] == URGENT


def matches_a_pattern(
    text: str, patterns: tuple[str, ...], hypothetical: tuple[str, ...], present: frozenset[str] | None = None
) -> bool:
    """A pattern matches, and not in a hypothetical or past clause. `present`: the text's characters."""
    present = frozenset(text) if present is None else present
    needs_of_any, screened = _screened(patterns)
    if not may_match(needs_of_any, present):  # one look for all of them (a kind's, say)
        return False
    for pattern, needs in screened:
        if not may_match(needs, present):  # a character every match needs is not in the text
            continue
        for match in pattern.finditer(text):  # the cues are looked up only for a match: most texts have none
            if not _hypothetical_or_past(text, match.start(), match.end(), _compiled(hypothetical)):
                return True
    return False


def _any_match(text: str, patterns: tuple[str, ...]) -> bool:
    return any(pattern.search(text) for pattern in _compiled(patterns))


@lru_cache(maxsize=4)
def urgency_model(patterns: tuple[str, ...], hypothetical: tuple[str, ...]) -> Model:
    """Trained once per process: the urgency examples, and the category examples labelled by the patterns."""
    examples = [(label, text) for label, text in shipped_examples(URGENCY_TRAINING)]
    if URGENCY_TRAINING_BY_KIND.exists():
        examples += shipped_examples(URGENCY_TRAINING_BY_KIND)
    examples += shipped_examples(URGENCY_TRAINING_CALM)
    examples += shipped_examples(URGENCY_TRAINING_EVERYDAY)
    examples += shipped_examples(URGENCY_TRAINING_PERSONAL)
    examples += [(ORDINARY, text) for act, text in shipped_examples(EVERYDAY_CHAT) if act == "smalltalk"]
    examples += [
        (URGENT if matches_a_pattern(text, patterns, hypothetical) else ORDINARY, text) for _, text in shipped_examples(TRAINING)
    ]
    return Model(examples)


@lru_cache(maxsize=64)  # every kind's patterns, the kindless ones, the cues, the asks, the whole-message sets: ~33
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


@lru_cache(maxsize=64)
def _screened(patterns: tuple[str, ...]) -> tuple[Needs, tuple[tuple[re.Pattern, Needs], ...]]:
    """Each pattern with the characters one of which its every match contains (handlers.classifier.screen),
    and those of all of them together (None if one pattern's cannot be told)."""
    needs = [needed_characters(pattern) for pattern in patterns]
    of_any = None if None in needs else frozenset().union(*needs)
    return of_any, tuple(zip(_compiled(patterns), needs, strict=True))


def _hypothetical_or_past(text: str, start: int, end: int, cues: tuple[re.Pattern, ...]) -> bool:
    """A cue earlier in the match's clause (at most LOOKBEHIND characters back) or inside the match
    ("刮大风怕掉下来"), 过 right after it, or the message saying later that it is over ("后来自己好了",
    "已经拔了") — unless the words say it is still going on ("到现在还没回来")."""
    before = CLAUSE_END.split(text[max(0, start - LOOKBEHIND) : start])[-1]
    after = text[end : end + 2]
    if NEGATED.search(before):
        return True
    if STILL_GOING.search(before + text[start : end + LOOKAHEAD]):
        return False
    cued = any(cue.search(before) or cue.search(text[start:end]) for cue in cues)
    return cued or (after.startswith("过") and after not in ("过来", "过去")) or bool(OVER.search(text[end:]))
