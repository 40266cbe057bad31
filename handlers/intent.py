"""What a resident's free text is, before it may become an order. Pure: text in, a kind out.

- small talk (greeting, thanks, a test, an acknowledgement, a goodbye, emoji, a question about the bot)
- a bare opener ("我想反映个问题") that states no problem yet
- a follow-up on one's own order: 催办 (chase), 补充 (add), 没解决 (not fixed), 已经好了 (resolved)
- otherwise a report

Read in simplified characters (a phone set to traditional writes 謝謝, 怎麼樣). The rules, on the
phrases of handlers/intent_words.py: small talk by subtraction (remove every polite, greeting,
thanking and filler phrase; if nothing is left, it was small talk), follow-up phrases in short
messages, then chat: thanks, an acknowledgement or a goodbye beside a few words that name no trouble
and ask nothing ("收到 我转告我老伴"). Then, for a short message the rules would file, the intent
model (character n-grams, the same kind as the category model) trained on
handlers/classifier/intent_training.tsv against every report in handlers/classifier/training.tsv:
it may call it small talk, an opener or a follow-up when it is sure. Last, where the rules still file
it, the chat model of handlers/acts.py (learnt from every seen conversation line and a general corpus) may call
it chat at any length (Kind.CHITCHAT: news, praise, a pet, the weather) — never when it says something is broken,
names pests or danger, asks or requests; surer the more the words sound like a complaint (harmless idioms such as
乐坏了, 累成狗 are taken out first). When it is very sure words of some length are a report, they are filed, not
asked about (resident.py); what the urgency model alarms on is never chat (Ctx.may_be_danger).
Follow-ups only count when the resident has an order to follow up (handlers/order_in_question.py decides that, with
the follow-up model where no phrase matched; otherwise the message is a report). What stays unclear is the
caller's (handlers/unclear.py): a few words that name no trouble are asked about, news the chat model leans to and no
category fits is answered.
"""

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from handlers import acts
from handlers.classifier.model import Model, shipped_examples
from handlers.intent_words import (
    ABOUT_BOT,
    ADD,
    ASKS_THE_STAFF,
    BROKEN,
    BUT,
    CHASE,
    CHAT,
    CONCEDES,
    DANGER,
    DONE_BUT,
    FIXED,
    GRATITUDE,
    GREETING,
    HARMLESS,
    HOURS,
    INTRODUCES,
    JUST_VENTING,
    KEEPS_ON,
    LEFT_UNDONE,
    LONG_AGO,
    NOT_FIXED,
    OPENER,
    OWN_THINGS,
    PAST,
    PEST,
    PLACE,
    POLITE,
    PRAISE,
    PRAISED_THING,
    QUESTION,
    REFERS_BACK,
    REQUEST,
    RESOLVED,
    STAFF_ASKED,
    STAFF_MATTER,
    STILL_FINE,
    STILL_WRONG,
    SUGGESTION,
    THING,
    TOPIC,
    TROUBLE,
    UNFINISHED,
    VAGUE,
    WHO_ANSWERS,
    WITHOUT_YOU,
)
from handlers.letters import letters_and_digits

INTENT_TRAINING = Path(__file__).with_name("classifier") / "intent_training.tsv"
MODEL_MAX_CHARS = 12  # letters left after the polite words: more than this describes something, the model is not asked
MODEL_SURE = 0.5  # the model overrules "report" only above this probability
FEW_WORDS = 12  # letters: a message this short that names no trouble is asked about, not filed; the urgency model,
# which guesses on so few, is not heard on it
# How sure the chat model must be to call words the rules would file small talk (chosen on the seen sets, each left out):
CHAT_SURE = 0.7  # words that name nothing of a complaint
WARY_CHAT_SURE = 0.9  # words that name a topic of complaints (a dog, "again")
CERTAIN_CHAT = 0.99  # words that often mean trouble or a wish ("热死了", "希望"), or more than CHAT_MAX_CHARS letters
CHAT_MAX_CHARS = 40  # longer, a message mostly describes something
REPORT_SURE = 0.9999  # the chat model calls words the rules would ask about a report only this sure (its odds are steep)…
REPORT_MIN_CHARS = 10  # … and of at least this many letters


class Kind(StrEnum):
    SMALL_TALK = "smalltalk"
    CHITCHAT = "chitchat"  # news, praise, a pet, the weather: small talk the chat model recognised
    OPENER = "opener"
    ABOUT_BOT = "about_bot"
    CHASE = "chase"
    ADD = "add"
    NOT_FIXED = "not_fixed"
    RESOLVED = "resolved"
    REPORT = "report"


ABOUT_BOT_SHORT = 15  # a question about the bot is this short …
ABOUT_BOT_CHARS = 20  # … or, about who answers, a little longer
LONE_ASCII = 12  # a message in Latin letters alone, this short ("ok", "testing 123"), is a test or a slip
FOLLOW_UP_MAX_CHARS = 30  # a longer message describes a problem of its own
REPORT_LENGTH = 20  # longer than this, a follow-up's phrase needs words that tie it to an earlier job
CHAT_REST = 8  # letters left beside a thanks, an acknowledgement or a goodbye that name no trouble: chat
THANKS_REST = 20  # thanks may recall what was done ("谢谢你们上次修路灯") at more length
SAYS_WHAT = 2  # letters left beside who, where and when: a thing or an act named
NAME_REST = 3  # beside a greeting, this few letters are a name ("小张在吗")
_LEADING_POLITE = re.compile(f"^(?:{POLITE.pattern})+")
_INTERJECTION = re.compile(r"^(哦|噢|喔|嗯|啊|哎|诶|欸|唉|呃|额)+")
CHAT_KINDS = (Kind.SMALL_TALK, Kind.OPENER, Kind.ABOUT_BOT)
FOLLOW_UP_KINDS = (Kind.CHASE, Kind.ADD, Kind.NOT_FIXED, Kind.RESOLVED)
FOLLOW_UPS = ((Kind.NOT_FIXED, NOT_FIXED), (Kind.RESOLVED, RESOLVED), (Kind.CHASE, CHASE), (Kind.ADD, ADD))


def kind_of(text: str, models: acts.ActModels | None = None, follow_ups: bool = True) -> Kind:
    """The kind of one message. Follow-up kinds need an order to follow (the caller checks; `follow_ups=False`
    reads the words as from someone with none). `models`: the act models to ask (handlers/acts.py; None: the
    shipped ones)."""
    cleaned = letters_and_digits(text)
    if not cleaned:
        return Kind.SMALL_TALK  # emoji, stickers, punctuation
    if cleaned.isascii() and not cleaned.isdigit() and len(cleaned) <= LONE_ASCII:
        return Kind.SMALL_TALK  # "ok", "testing123": a test or a slip of the finger (digits: a missed button)
    if _about_the_bot(cleaned) and (HOURS.search(cleaned) or not report_by_model(cleaned, models)):
        # "孩子上学要开居住证明 找谁" asks the staff; the hours someone answers are the bot's, however they sound
        return Kind.ABOUT_BOT
    rest = POLITE.sub("", HARMLESS.sub("", cleaned))
    if not rest:
        return Kind.SMALL_TALK
    follow_up = _follow_up_kind(cleaned) if follow_ups else None
    if follow_up is not None:
        return follow_up
    if asks_for_a_staff_matter(rest):
        return Kind.REPORT  # "老年卡多大年纪可以办": a question for the staff, however few its words
    if is_chat(cleaned, rest):
        return Kind.SMALL_TALK
    if thanks_for_an_old_repair(cleaned):
        return Kind.CHITCHAT
    if not OPENER.sub("", rest) and len(cleaned) <= 20:
        return Kind.OPENER
    may_chat = not (BROKEN.search(rest) or PEST.search(rest))
    kind = _modelled(cleaned, may_chat) if len(rest) <= MODEL_MAX_CHARS else Kind.REPORT
    kind = kind if follow_ups or kind not in FOLLOW_UP_KINDS else Kind.REPORT
    return Kind.CHITCHAT if kind == Kind.REPORT and (chat_by_model(cleaned, rest, models) or praises(cleaned, rest)) else kind


NEVER_CHAT = (BROKEN, PEST, DANGER, QUESTION, REQUEST)


def chat_by_model(cleaned: str, rest: str, models: acts.ActModels | None = None) -> bool:
    """Where the rules are silent, the chat model (handlers/acts.py) may call it small talk when sure: news,
    praise, a pet, the food, the weather ("今天楼下的桂花开了 真香"). Never words that say something is broken,
    pests, danger, a question or a request. Words that often mean trouble or ask for something but need not ("热死了",
    "血压挺正常", "希望今年也这样"), a topic of complaints, or news at length: only when it is all but certain."""
    if cleaned.isdigit() or UNFINISHED.search(cleaned) or any(pattern.search(rest) for pattern in NEVER_CHAT):
        # digits: a missed button; "老师 我家那边有个": broken off before it says what
        return False  # a question to the staff is a report ("想问一下老年卡怎么办")
    probability = acts.chat_probability(cleaned, models)
    if any(pattern.search(rest) for pattern in (TROUBLE, SUGGESTION)) or len(cleaned) > CHAT_MAX_CHARS:
        return probability >= CERTAIN_CHAT
    return probability >= (WARY_CHAT_SURE if TOPIC.search(rest) else CHAT_SURE)


def thanks_for_an_old_repair(cleaned: str) -> bool:
    """Thanks for a job long ago, fine to this day, that recalls the old trouble ("前些年楼下那个下水道老堵 后来你们给
    换了新管子 到现在好好的 一直想说声谢谢"); not when it is back (又漏了: 没解决's words) or anything is asked."""
    if not all(pattern.search(cleaned) for pattern in (GRATITUDE, LONG_AGO, STILL_FINE)) or STILL_WRONG.search(cleaned):
        return False  # "上次修的路灯到现在都不亮 谢谢啊" is no thanks
    return not any(pattern.search(cleaned) for pattern in (NOT_FIXED, QUESTION, SUGGESTION, DANGER))  # help long ago asks nothing


def praises(cleaned: str, rest: str) -> bool:
    """Praise, or news of a sale, beside nothing that is trouble but the thing praised, asking nothing ("我家狗狗
    打了疫苗 可乖了"); not "路灯换了新的 就是不太亮" (不亮 is trouble)."""
    if not PRAISE.search(cleaned) or len(cleaned) > CHAT_MAX_CHARS:  # the whole words: "真好" is polite too
        return False
    if any(pattern.search(rest) for pattern in (QUESTION, REQUEST, SUGGESTION, BUT)):
        return False
    return not TROUBLE.search(PRAISED_THING.sub("", PRAISE.sub("", HARMLESS.sub("", cleaned))))


def _about_the_bot(cleaned: str) -> bool:
    """A short question about the bot ("你是机器人吗", "你能干什么"); at a little more length, one about
    who answers ("你怎么回复这么快 是不是电脑在回") that names no trouble besides. Never a matter only the staff can
    see to ("退休人员生存认证怎么弄 我不会用手机")."""
    if STAFF_MATTER.search(cleaned):
        return False
    if ABOUT_BOT.search(cleaned) and len(cleaned) <= ABOUT_BOT_SHORT:
        return True
    if ABOUT_BOT.search(cleaned) and len(cleaned) <= ABOUT_BOT_CHARS + 5 and not TROUBLE.search(ABOUT_BOT.sub("", cleaned)):
        return True  # "我孙子帮我关注的这个 我不太会用 要怎么弄": at more length, beside no trouble
    if len(cleaned) > ABOUT_BOT_CHARS or not WHO_ANSWERS.search(cleaned):
        return False
    return not TROUBLE.search(WHO_ANSWERS.sub("", cleaned))


def _follow_up_kind(cleaned: str) -> Kind | None:
    """A follow-up's phrase in a message that reads like one: short, or tied to an earlier job; a long
    one, or one that says where ("3号楼电梯又停了"), is a report unless it refers back. "已经不漏了"
    describes no problem, so it may name a place."""
    if len(cleaned) > FOLLOW_UP_MAX_CHARS:
        return None
    # "噢对 是二楼", "哦对了 …": the follow-up starts after the acknowledgement, or after the interjection
    openings = tuple(dict.fromkeys((cleaned, _LEADING_POLITE.sub("", cleaned), _INTERJECTION.sub("", cleaned))))
    if any(done_by_halves(opening) for opening in openings):
        return Kind.NOT_FIXED  # read before the phrases: "是拉走了" is 已经好了's, "可楼道…还没清干净" says where
    tied = any(REFERS_BACK.search(opening) for opening in openings) or bool(KEEPS_ON.search(cleaned))
    for kind, pattern in FOLLOW_UPS:
        if any(pattern.search(opening) for opening in openings):
            reads_like_one = tied or kind == Kind.RESOLVED or (len(cleaned) <= REPORT_LENGTH and not PLACE.search(cleaned))
            return kind if reads_like_one else None
    return None


def asks_for_a_staff_matter(cleaned: str) -> bool:
    """A matter only the staff can see to (老年卡, 医保, 居住证) and how to get it (办, 申请, 年纪, 材料): never chat."""
    return bool(STAFF_MATTER.search(cleaned) and STAFF_ASKED.search(STAFF_MATTER.sub("", cleaned)))


def done_by_halves(cleaned: str) -> bool:
    """Done said of part of the job, or in someone else's words, and something left after it ("垃圾是拉走了 地上一大摊脏水
    没人管", "你们说弄好了 下楼一看啥都没动", "修好了 可楼道的垃圾还没清干净"); not "物业说已经弄好了 确实不漏了"."""
    done = FIXED.search(cleaned)
    if done is None:
        return False
    before, after = cleaned[: done.start()], cleaned[done.end() :]
    left = FIXED.sub("", HARMLESS.sub("", after))
    return bool((CONCEDES.search(before) or DONE_BUT.search(after)) and LEFT_UNDONE.search(left))


def is_chat(cleaned: str, rest: str) -> bool:
    """Thanks, an acknowledgement or a goodbye beside a few words that name no trouble and ask
    nothing ("收到 我转告我老伴", "谢谢你们上次修路灯"); a greeting beside a name ("小张在吗"); the
    resident saying who they are."""
    rest = WITHOUT_YOU.sub("", rest)
    if TROUBLE.search(rest) or QUESTION.search(rest) or (REQUEST.search(rest) and not PAST.search(rest)):
        return False
    if GREETING.search(cleaned) and len(rest) <= NAME_REST:
        return True
    if INTRODUCES.search(_LEADING_POLITE.sub("", cleaned)) and not SUGGESTION.search(rest) and len(rest) <= THANKS_REST:
        return True  # "我是退休教师 在这住了二十年了": who they are, nothing asked
    if not CHAT.search(cleaned):
        return False
    return len(rest) <= (THANKS_REST if "谢" in cleaned else CHAT_REST)


def report_by_model(text: str, models: acts.ActModels | None = None) -> bool:
    """The chat model is sure these words are a report: a state of trouble, a request, a question to staff,
    in words no rule knows ("屋里冷冰冰的", "有人在楼顶私自搭房子"). Not on a few words: there it is sure of
    anything ("走了走了", "你叫什么名字" left out of its training, it calls reports)."""
    cleaned = letters_and_digits(text)
    return len(cleaned) >= REPORT_MIN_CHARS and acts.chat_probability(cleaned, models) <= 1 - REPORT_SURE


def good_news_only(text: str) -> bool:
    """Something is fine now, and nothing beside it is trouble or asks ("谢谢你们上次修好了路灯", "已经不漏了"):
    with no order of the resident's to close, news to be glad of, not a report."""
    cleaned = letters_and_digits(text)
    rest = FIXED.sub("", HARMLESS.sub("", cleaned))
    return bool(FIXED.search(cleaned)) and not TROUBLE.search(rest) and not asks(cleaned)


def mentions_trouble(text: str) -> bool:
    """Words that describe something wrong (坏, 漏, 吵, 没人管 …), however short the message."""
    return bool(TROUBLE.search(HARMLESS.sub("", letters_and_digits(text))))


def names_a_fault(text: str) -> bool:
    """Something broken, pests or danger named (坏, 口子, 老鼠, 火, 打架): the words never chat may overrule."""
    return names_danger_or_pests(text) or bool(BROKEN.search(HARMLESS.sub("", letters_and_digits(text))))


def only_own_things_broken(text: str) -> bool:
    """What is broken is one's own ("牙坏了一颗 明天去拔", "老花镜腿断了"): no thing of the community's, no place named."""
    cleaned = letters_and_digits(text)
    return bool(OWN_THINGS.search(cleaned)) and not things_named(text) and not PLACE.search(cleaned)


def names_danger_or_pests(text: str) -> bool:
    """Danger (火, 血, 打架, 煤气) or pests (老鼠, 蚊子) named: never chat, however sure the chat model is."""
    rest = HARMLESS.sub("", letters_and_digits(text))
    return bool(DANGER.search(rest) or PEST.search(rest))


def just_venting(text: str) -> bool:
    """The resident says nothing is to be done ("回南天 墙上都在出水 烦死了 没事就是吐槽下")."""
    return bool(JUST_VENTING.search(letters_and_digits(text)))


def asks_the_staff(text: str) -> bool:
    """How to get something done, asked of the staff ("想问一下这个事情怎么弄")."""
    return bool(ASKS_THE_STAFF.search(letters_and_digits(text)))


def asks(text: str) -> bool:
    """A question (怎么, 吗, 能不能 …), a request or a suggestion (申请, 建议, 请联系我): never chat."""
    cleaned = letters_and_digits(text)
    return any(pattern.search(cleaned) for pattern in (QUESTION, REQUEST, SUGGESTION))


def says_what(text: str) -> bool:
    """Something is left once who, where and when are taken out ("门口那个" leaves nothing)."""
    return len(VAGUE.sub("", POLITE.sub("", letters_and_digits(text)))) >= SAYS_WHAT


def things_named(text: str) -> set[str]:
    """The kinds of thing the words name (intent_words.THINGS): "电梯", "暖气", "井盖"."""
    cleaned = letters_and_digits(text)
    return {kind for kind, pattern in THING.items() if pattern.search(cleaned)}


def names_other_things(text: str, earlier: str) -> bool:
    """The words name things, and none of the kinds the earlier words name ("我家暖气不热" after a report
    about a lift); False when either names none (a chase seldom says what it chases)."""
    named, before = things_named(text), things_named(earlier)
    return bool(named) and bool(before) and not named & before


def refers_back(text: str) -> bool:
    """The resident points at an order of theirs ("我报的", "那个单子")."""
    return bool(REFERS_BACK.search(letters_and_digits(text)))


def keeps_on(text: str) -> bool:
    """Hurrying something on ("快点", "尽快"), or saying it is still as it was ("还是")."""
    return bool(KEEPS_ON.search(letters_and_digits(text)))


def _modelled(cleaned: str, may_chat: bool) -> Kind:
    """The intent model's call on a short message the rules would file; a report unless it is sure.
    Words that name trouble ("人行道砖松了") are never chat, however sure the model is."""
    probabilities = intent_model().probabilities(cleaned)
    best = max(probabilities, key=probabilities.__getitem__)
    if best in CHAT_KINDS and not may_chat:
        return Kind.REPORT
    return Kind(best) if best != Kind.REPORT and probabilities[best] >= MODEL_SURE else Kind.REPORT


@lru_cache(maxsize=1)
def intent_model() -> Model:
    """Trained once per process (about a second): intent examples against the shipped reports."""
    reports = [(Kind.REPORT.value, text) for _, text in shipped_examples()]
    return Model(shipped_examples(INTENT_TRAINING) + reports)
