"""Numbered choices: WeChat has no inline buttons, so `2` answers the second button last shown."""

import json

from sqlmodel import Session

from storage import people

MAX_CHOICE_DIGITS = 2


def _key(openid: str) -> str:
    return f"wechat_choices:{openid}"


def remember(session: Session, openid: str, choices: tuple[str, ...]) -> str | None:
    """The buttons just shown replace any earlier ones; no buttons leaves the earlier ones.
    Returns what was remembered before (for `take_back`)."""
    earlier = people.get_setting(session, _key(openid))
    if choices:
        people.put_setting(session, _key(openid), json.dumps(list(choices)))
    return earlier


def take_back(session: Session, openid: str, choices: tuple[str, ...], earlier: str | None) -> None:
    """The message with these choices did not arrive: the earlier ones stand again, unless something
    newer was shown meanwhile."""
    if not choices or people.get_setting(session, _key(openid)) != json.dumps(list(choices)):
        return
    if earlier is None:
        people.delete_setting(session, _key(openid))
    else:
        people.put_setting(session, _key(openid), earlier)


def may_be_choice(text: str) -> bool:
    typed = text.strip()
    return typed.isdigit() and len(typed) <= MAX_CHOICE_DIGITS


def take(session: Session, openid: str, text: str) -> str | None:
    """The callback behind a typed number, spent once; None when the text is no such number."""
    if not may_be_choice(text):
        return None
    typed = text.strip()
    remembered = people.get_setting(session, _key(openid))
    if remembered is None:
        return None
    choices = json.loads(remembered)
    index = int(typed) - 1
    if not 0 <= index < len(choices):
        return None
    people.delete_setting(session, _key(openid))
    return choices[index]
