"""A message as the rules and the models read it: letters and digits, lower-cased, in simplified characters
(a phone set to traditional writes 謝謝, 怎麼樣)."""

import re
import unicodedata
from functools import lru_cache

import opencc

_EMOTICON = re.compile(r"\[[^\[\]]{1,6}\]")  # WeChat's [微笑], [抱拳]


# Cantonese and Shanghainese words the rules would not know, as Mandarin ("成晚停咗电 冇通知", "仲未清好", "啥辰光来弄").
# Not 唔该 (thanks), nor 仲裁 (arbitration).
_DIALECT = re.compile(r"咗|冇|喺|嘅|佢|唔(?!该)|仲(?!裁|夏|秋)|辰光")
_MANDARIN = {"咗": "了", "冇": "没", "喺": "在", "嘅": "的", "佢": "他", "唔": "不", "仲": "还", "辰光": "时候"}


# Internet slang that says nothing of the world, however it sounds ("蚌埠住了": can't hold it in; "破大防": hurt).
# Not 裂开 (a wall cracks too) nor 麻了 (numb hands may be a stroke).
_SLANG = re.compile(
    r"蚌埠住了?|破大?防了?|(?<![a-z])emo(?![a-z])了?|栓q|yyds|绝绝子|社死|芭比q了?|无语子|笑死(我了)?", re.IGNORECASE
)


def without_slang(text: str) -> str:
    """The words with internet slang taken out: what the rules, the category model and the urgency reading see."""
    return _SLANG.sub(" ", text)


def letters_and_digits(text: str) -> str:
    """Letters and digits only, lower-cased, in simplified characters and Mandarin words: emoji, WeChat emoticons,
    internet slang, punctuation and spaces go."""
    text = _DIALECT.sub(lambda match: _MANDARIN[match.group()], _simplified(without_slang(_EMOTICON.sub("", text))))
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").lower()


@lru_cache(maxsize=1)
def _converter() -> "opencc.OpenCC":
    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    return _converter().convert(text) if text else text
