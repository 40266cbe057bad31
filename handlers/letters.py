"""A message as the rules and the models read it: letters and digits, lower-cased, in simplified characters
(a phone set to traditional writes 謝謝, 怎麼樣)."""

import re
import unicodedata
from functools import lru_cache

import opencc

_EMOTICON = re.compile(r"\[[^\[\]]{1,6}\]")  # WeChat's [微笑], [抱拳]


def letters_and_digits(text: str) -> str:
    """Letters and digits only, lower-cased and in simplified characters: emoji, WeChat emoticons,
    punctuation and spaces go."""
    text = _simplified(_EMOTICON.sub("", text))
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").lower()


@lru_cache(maxsize=1)
def _converter() -> "opencc.OpenCC":
    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    return _converter().convert(text) if text else text
