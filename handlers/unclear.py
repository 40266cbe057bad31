"""Are a resident's words enough to file? A few words that name no trouble, or news with nothing wrong in it that
fits no category, are asked about or answered rather than filed: an order costs a community worker a triage (and,
when the urgency model guesses on few words, an alarm). What is decided here only reads; resident.py acts on it."""

from handlers import acts
from handlers.classifier import ORDINARY, keyword_hits
from handlers.context import Ctx
from handlers.intent import (
    FEW_WORDS,
    asks,
    asks_the_staff,
    just_venting,
    letters_and_digits,
    mentions_trouble,
    names_a_fault,
    names_danger_or_pests,
    only_own_things_broken,
    report_by_model,
    says_what,
)

SAYS_NOTHING_WRONG = 30  # letters: up to this, words with no trouble that the triage calls 其他 are asked about
SURE_ON_FEW_WORDS = 0.7  # on a few words the category model is this sure of small talk too ("小张在不在呀": 0.72)
LEANS_TO_CHAT = 0.3  # the chat model this sure of words with nothing wrong in them, that no category fits: not filed
ALL_BUT_CERTAIN = 0.98  # … and this sure, even beside a question or a category's word
BROKEN_IN_PASSING = 0.999  # … and this sure, even beside a word for something broken
TELLS_AT_MOST = 100  # letters: longer, a message describes something
OTHER = "other"
CONSULT = "consult"  # 政策咨询: a question to the staff is a report …
QUESTION_SURE = 0.5  # … when the category model thinks so more than not


def says_too_little(ctx: Ctx, text: str) -> bool:
    """A few words that name no trouble ("小张在不在呀", "老师 我有个情况要说"): asked what the problem
    is rather than filed, which would cost a community worker a triage (or, when the urgency model
    guesses on them, an alarm). Never when something else (a photo, a place, a voice) came with them."""
    inbound = ctx.inbound
    letters = len(letters_and_digits(text))
    if not text or inbound.photo or inbound.location or inbound.voice or letters > SAYS_NOTHING_WRONG:
        return False
    if letters > FEW_WORDS:  # news or chat at more length ("我孙子考上大学了 高兴"): the model is heard
        return _chat_at_length(ctx, text)
    return not names_a_problem(ctx, text)


def _chat_at_length(ctx: Ctx, text: str) -> bool:
    """No trouble, no question, no keyword, and the category model sure it is 其他."""
    if mentions_trouble(text) or asks(text) or keyword_hits(text, ctx.policy) or ctx.urgent_by_pattern(text):
        return False
    if report_by_model(text, ctx.services.acts):
        return False
    verdict = ctx.classify(text)  # at this length the urgency model is heard too: it may be what no pattern foresaw
    return verdict.category == OTHER and verdict.confidence >= ctx.policy.confidence_threshold and verdict.urgency == ORDINARY


def reads_as_chat(ctx: Ctx, text: str) -> bool:
    """News that names no danger or pest, asks the staff for nothing, that the urgency model and its patterns hear
    nothing in and no category fits surely, when the chat model is as sure as `_chat_bar` asks ("唉 老伴走了三年了
    有时候还是想他", "你说是不是这个理", "家里电视坏了 闺女说直接买新的"); or what the resident calls just venting
    ("烦死了 没事就是吐槽下"), whatever it is about, or one's own things broken ("老花镜腿断了"), whatever category the
    words suggest: answered, and asked what the problem is if there is one, rather than filed (a triage for nothing).
    Nothing kept."""
    inbound = ctx.inbound
    cleaned = letters_and_digits(text)
    if not text or inbound.photo or inbound.location or inbound.voice or len(cleaned) > TELLS_AT_MOST:
        return False
    if names_danger_or_pests(text) or asks_the_staff(text) or ctx.urgent_by_pattern(text):
        return False  # "老鼠", "打架", "想问一下怎么弄": never chat, however sure the chat model is
    if acts.chat_probability(cleaned, ctx.services.acts) < _chat_bar(ctx, text):
        return False
    verdict = ctx.classify(text)
    no_category = verdict.category == OTHER or verdict.confidence < ctx.policy.confidence_threshold
    return verdict.urgency == ORDINARY and (no_category or just_venting(text) or only_own_things_broken(text))


def _chat_bar(ctx: Ctx, text: str) -> float:
    """How sure the chat model must be: certain beside a word for something broken (all but certain when it is one's own),
    all but certain beside a question or a category's word (unless venting), leaning otherwise; venting needs nothing."""
    if names_a_fault(text):  # one's own things broken ("牙坏了一颗") are for the chat model as a question is
        return ALL_BUT_CERTAIN if only_own_things_broken(text) else BROKEN_IN_PASSING
    venting = just_venting(text)
    if asks(text) or (keyword_hits(text, ctx.policy) and not venting):
        return ALL_BUT_CERTAIN
    return 0.0 if venting else LEANS_TO_CHAT


def names_a_problem(ctx: Ctx, text: str) -> bool:
    """Trouble words (坏, 漏, 没人管), an emergency pattern, or words the chat model is sure are a report;
    else, unless the category model calls it 其他, a category's keyword, or words that name a thing or an
    act ("电动车在楼道充电", not "门口那个") of which the model is sure."""
    if mentions_trouble(text) or ctx.urgent_by_pattern(text) or report_by_model(text, ctx.services.acts):
        return True
    verdict = ctx.classify(text)
    if verdict.category == OTHER:  # a keyword alone is an object, not a problem ("广场舞队今天表演得真好看")
        return False
    if verdict.category == CONSULT and asks(text) and verdict.confidence >= QUESTION_SURE:
        return True  # a question for the staff ("刚搬来 户口迁到这边要咋弄")
    return bool(keyword_hits(text, ctx.policy)) or (says_what(text) and verdict.confidence >= SURE_ON_FEW_WORDS)
