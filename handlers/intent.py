"""What a resident's free text is, before it may become an order. Pure: text in, a kind out.

- small talk (greeting, thanks, a test, an acknowledgement, emoji, a question about the bot)
- a bare opener ("我想反映个问题") that states no problem yet
- a follow-up on one's own order: 催办 (chase), 补充 (add), 没解决 (not fixed), 已经好了 (resolved)
- otherwise a report

Two steps. The rules: small talk by subtraction (remove every polite, greeting, thanking and filler
phrase; if nothing that could describe a problem is left, it was small talk) and follow-up phrases
in short messages. Then, for a short message the rules would file, the intent model (character
n-grams, the same kind as the category model) trained on handlers/classifier/intent_training.tsv
against every report in handlers/classifier/training.tsv: it may call it small talk, an opener or a
follow-up when it is sure. Follow-ups only count when the resident has an order to follow up
(handlers/followup.py decides that; otherwise the message is a report).
"""

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from handlers.classifier.model import Model, shipped_examples

INTENT_TRAINING = Path(__file__).with_name("classifier") / "intent_training.tsv"
MODEL_MAX_CHARS = 12  # letters left after the polite words: more than this describes something, the model is not asked
MODEL_SURE = 0.5  # the model overrules "report" only above this probability


class Kind(StrEnum):
    SMALL_TALK = "smalltalk"
    OPENER = "opener"
    ABOUT_BOT = "about_bot"
    CHASE = "chase"
    ADD = "add"
    NOT_FIXED = "not_fixed"
    RESOLVED = "resolved"
    REPORT = "report"


def _words(*phrases: str) -> re.Pattern:
    return re.compile("|".join(sorted(phrases, key=len, reverse=True)))


# Polite words, greetings, thanks, acknowledgements, tests: nothing in them describes a problem.
_POLITE = _words(
    "你好",
    "您好",
    "你好呀",
    "侬好",
    "泥嚎",
    "nihao",
    "新年好",
    "过年好",
    "节日快乐",
    "新年快乐",
    "春节快乐",
    "中秋快乐",
    "国庆快乐",
    "喂",
    "你们好",
    "大家好",
    "哈喽",
    "哈罗",
    "嗨",
    "hello",
    "hi",
    "在吗",
    "在不在",
    "有人吗",
    "在么",
    "在嘛",
    "早上好",
    "上午好",
    "中午好",
    "下午好",
    "晚上好",
    "早安",
    "晚安",
    "早",
    "老师",
    "同志",
    "师傅",
    "领导",
    "小助手",
    "工作人员",
    "社区",
    "书记",
    "主任",
    "网格员",
    "谢谢",
    "多谢",
    "谢啦",
    "3q",
    "thx",
    "thanks",
    "thank you",
    "唔该晒",
    "唔该",
    "多谢晒",
    "感谢",
    "谢了",
    "辛苦了",
    "辛苦",
    "麻烦了",
    "太好了",
    "好的",
    "好",
    "嗯",
    "哦",
    "噢",
    "行",
    "可以",
    "知道了",
    "晓得了",
    "晓得",
    "了解",
    "懂了",
    "中",
    "得嘞",
    "明白了",
    "明白",
    "收到",
    "ok",
    "okay",
    "好滴",
    "好嘞",
    "测试",
    "看看好不好使",
    "好不好使",
    "能不能发出去",
    "能发出去吗",
    "试试",
    "试一下",
    "test",
    "再见",
    "拜拜",
    "拜了",
    "bye",
    "88",
    "没事了",
    "没事",
    "点赞",
    "赞",
    "棒",
    "给力",
    "你们真好",
    "打扰了",
    "不好意思",
    "对不起",
    "请问",
    "您",
    "你",
    "们",
    "啊",
    "呀",
    "吧",
    "呢",
    "哈",
    "啦",
    "嘛",
    "哇",
    "哟",
    "嘞",
    "咯",
    "喽",
    "了",
    "的",
    "一下",
    "一声",
    "非常",
    "真",
    "很",
    "太",
    "大家",
    "各位",
)
# A bare opener: the resident is about to say something, but has not said it yet.
_OPENER = _words(
    "我想反映",
    "想反映",
    "我要反映",
    "反映个问题",
    "反映一个问题",
    "反映个情况",
    "反映一下",
    "反映",
    "我要投诉",
    "反应",
    "报修",
    "报个修",
    "帮我个忙",
    "能不能",
    "问",
    "投诉",
    "我想问",
    "想问问",
    "想问",
    "问一下",
    "问个事",
    "咨询一下",
    "咨询",
    "有个事",
    "有件事",
    "有个问题",
    "有个情况",
    "能帮个忙吗",
    "帮个忙",
    "帮忙",
    "麻烦",
    "求助",
    "请教",
    "说个事",
    "我有事",
    "有事",
    "找你们",
    "找一下",
    "我想",
    "我要",
    "想",
    "我",
    "个",
    "一个",
    "事情",
    "事",
    "问题",
    "情况",
    "下",
    "能",
    "吗",
    "可以吗",
)
_ABOUT_BOT = re.compile(
    r"你是(谁|机器人|真人|人工|ai|AI)|机器人吗|你能(干|做)(什么|啥)|你会(干|做)?(什么|啥)|怎么用|人工客服|转人工|"
    r"你叫(什么|啥)|你们是(哪|什么)|(这|这个|这里)是(干|做)(什么|啥)|自动回复|听(得)?懂|(这|这个|这里)是.{0,10}(公众号|号)吗|"
    r"这里(可以|能)(报修|反映|投诉)吗"
)
_EMOTICON = re.compile(r"\[[^\[\]]{1,6}\]")  # WeChat's [微笑], [抱拳]

# Follow-ups: short phrases about one's own order.
_CHASE = re.compile(
    r"催一下|催催|催办|怎么还没|咋还没|还没人|还没有人|没人来|没人管|有人管吗|都\S{0,3}天了|好几天了|还要等|要等多久|"
    r"什么时候(来|修|处理|弄|管)|进展|进度怎么样|怎么样了|处理了吗|有消息吗|到底|还没修|还没弄|还没处理|还没好|"
    r"快点|等着呢|都过了|一直显示|有人管没有|没人回|还在等|等了"
)
_ADD = re.compile(
    r"^(补充|再补充|另外|还有|再说一下|再说一句|忘了说|忘记说|对了|我家门牌|门牌是|具体位置|具体是|位置在|地址是|"
    r"是\S{1,8}不是\S{1,8})"
)
_NOT_FIXED = re.compile(
    r"没解决|没修好|没弄好|没处理好|又坏了|又坏|还是不行|还是坏|还是没|没有修好|根本没修|根本没人|没用|又出现|又开始|又漏|又堵|"
    r"又不亮|按了没反应|还是老样子|跟没修一样|冇修好|一点没变|没变化|没什么变化"
)
_RESOLVED = re.compile(
    r"已经好了|已经修好了|已经解决了|自己解决了|自己弄好了|不用了|不需要了|可以撤|撤了吧|撤销吧|好了不用|"
    r"能用了|灯亮了|"
    r"不用(管|处理|来|修)了|看错了|不漏了|拉走了|修好了(谢谢|多谢)"
)
LONE_ASCII = 4  # letters or digits alone, this short, describe nothing
FOLLOW_UP_MAX_CHARS = 30  # a longer message describes a problem of its own


def kind_of(text: str) -> Kind:
    """The kind of one message. Follow-up kinds need an order to follow (the caller checks)."""
    cleaned = letters_and_digits(text)
    if not cleaned:
        return Kind.SMALL_TALK  # emoji, stickers, punctuation
    if cleaned.isascii() and not cleaned.isdigit() and len(cleaned) <= LONE_ASCII:
        return Kind.SMALL_TALK  # "a", "ok", "hi": a test or a slip of the finger (digits: a missed button)
    if _ABOUT_BOT.search(cleaned) and len(cleaned) <= 15:
        return Kind.ABOUT_BOT
    if len(cleaned) <= FOLLOW_UP_MAX_CHARS:
        for kind, pattern in ((Kind.NOT_FIXED, _NOT_FIXED), (Kind.RESOLVED, _RESOLVED), (Kind.CHASE, _CHASE), (Kind.ADD, _ADD)):
            if pattern.search(cleaned):
                return kind
    rest = _POLITE.sub("", cleaned.lower())
    if not rest:
        return Kind.SMALL_TALK
    if not _OPENER.sub("", rest) and len(cleaned) <= 20:
        return Kind.OPENER
    return _modelled(cleaned) if len(rest) <= MODEL_MAX_CHARS else Kind.REPORT


def _modelled(cleaned: str) -> Kind:
    """The intent model's call on a short message the rules would file; a report unless it is sure."""
    probabilities = intent_model().probabilities(cleaned)
    best = max(probabilities, key=probabilities.__getitem__)
    return Kind(best) if best != Kind.REPORT and probabilities[best] >= MODEL_SURE else Kind.REPORT


@lru_cache(maxsize=1)
def intent_model() -> Model:
    """Trained once per process (about a second): intent examples against the shipped reports."""
    reports = [(Kind.REPORT.value, text) for _, text in shipped_examples()]
    return Model(shipped_examples(INTENT_TRAINING) + reports)


def letters_and_digits(text: str) -> str:
    """Letters and digits only: emoji, WeChat emoticons, punctuation and spaces go."""
    text = _EMOTICON.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
