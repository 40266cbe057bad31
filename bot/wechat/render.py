"""Replies as WeChat shows them: plain text, buttons turned into numbered choices. Pure."""

from dataclasses import dataclass

from storage.order_buttons import BadCallback, OrderCb, unpack

MAX_TEXT_BYTES = 2000  # WeChat cuts a text message at 2048 bytes; stay below with a marker
# WeChat has no "share my phone" button: members bind with a code; a resident's offer is left out.
BIND_BY_CODE = "党员、网格员请回复「绑定 邀请码」绑定身份。"


@dataclass(frozen=True)
class Rendered:
    text: str
    choices: tuple[str, ...] = ()  # callback data of choice 1, 2, …


def render(payloads: list[dict]) -> Rendered:
    """Several replies (held notices first) as one text; every button becomes a numbered choice."""
    parts, choices = [], []
    for payload in map(_without_contact_button, payloads):
        labels = [(label, data) for row in payload.get("buttons", []) for label, data in row]
        line = _choice_line([label for label, _ in labels], first=len(choices) + 1)
        choices += [data for _, data in labels]
        text = payload.get("text") or payload.get("alert") or ""
        parts.append("\n".join(filter(None, [text, line])))
    return Rendered(_fit("\n\n".join(filter(None, parts))), tuple(choices))


def _without_contact_button(payload: dict) -> dict:
    if not payload.get("ask_contact"):
        return payload
    return {**payload, "text": BIND_BY_CODE if "/bind" in payload.get("text", "") else ""}


def _choice_line(labels: list[str], first: int) -> str:
    if not labels:
        return ""
    if first == 1 and labels == [f"{n}⭐" for n in range(1, 6)]:
        return "回复数字 1-5 打分（5 分最满意）"
    numbered = "　".join(f"{first + index} {label}" for index, label in enumerate(labels))
    return f"回复数字：{numbered}"


def _fit(text: str) -> str:
    if len(text.encode()) <= MAX_TEXT_BYTES:
        return text
    cut = text.encode()[: MAX_TEXT_BYTES - 4].decode(errors="ignore")
    return cut + "…"


def robot_markdown(payload: dict) -> str:
    """A grid card for a WeCom group: buttons become what to reply to the Official Account."""
    lines = [payload.get("text", "")]
    for row in payload.get("buttons", []):
        for _label, data in row:
            hint = _robot_hint(data)
            if hint:
                lines.append(hint)
    return "\n".join(filter(None, lines))


def _robot_hint(data: str) -> str:
    try:
        callback = unpack(data)
    except BadCallback:
        return ""
    if isinstance(callback, OrderCb) and callback.action == "claim":
        return f'> 领单：在公众号里回复 <font color="warning">领单 {callback.order_id}</font>'
    if isinstance(callback, OrderCb) and callback.action == "sign":  # 部门接单: the contact answers on the Official Account
        return f'> 签收：请部门联系人在公众号里回复 <font color="warning">签收 {callback.order_id}</font>'
    return ""
