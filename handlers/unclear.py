"""Are a resident's words enough to file? A few words that name no trouble, or news with nothing wrong in it that
fits no category, are asked about or answered rather than filed: an order costs a community worker a triage (and,
when the urgency model guesses on few words, an alarm). What is decided here only reads; resident.py acts on it."""

from handlers import acts
from handlers.classifier import ORDINARY, keyword_hits
from handlers.context import Ctx
from handlers.intent import (
    FEW_WORDS,
    asks,
    letters_and_digits,
    mentions_trouble,
    names_a_fault,
    report_by_model,
    says_what,
)

SAYS_NOTHING_WRONG = 30  # letters: up to this, words with no trouble that the triage calls 其他 are asked about
SURE_ON_FEW_WORDS = 0.7  # on a few words the category model is this sure of small talk too ("小张在不在呀": 0.72)
LEANS_TO_CHAT = 0.3  # the chat model this sure of words with nothing wrong in them, that no category fits: not filed
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


def leans_to_chat(ctx: Ctx, text: str) -> bool:
    """News that names nothing broken, no pest or danger, asks nothing, fits no category the model is sure of, and
    that the chat model leans to calling chat ("唉 老伴走了三年了 有时候还是想他", "忙死了 今天店里客人一波又一波"):
    answered, and asked what the problem is if there is one, rather than filed (a triage for nothing). Nothing kept."""
    inbound = ctx.inbound
    cleaned = letters_and_digits(text)
    if not text or inbound.photo or inbound.location or inbound.voice or len(cleaned) > TELLS_AT_MOST:
        return False
    if names_a_fault(text) or asks(text) or keyword_hits(text, ctx.policy) or ctx.urgent_by_pattern(text):
        return False  # "忙死了", "天黑" may be chat; "口子", "老鼠", "打架" never are
    if acts.chat_probability(cleaned, ctx.services.acts) < LEANS_TO_CHAT:
        return False
    verdict = ctx.classify(text)
    return verdict.urgency == ORDINARY and (verdict.category == OTHER or verdict.confidence < ctx.policy.confidence_threshold)


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
