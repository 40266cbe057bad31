"""A file carried in an outbox row's payload (`{"name": …, "data": base64}`), so that whichever
process delivers the row can send it: the monthly workbook and chart."""

import base64


def attach(name: str, content: bytes) -> dict:
    return {"name": name, "data": base64.b64encode(content).decode("ascii")}


def content_of(attachment: dict) -> bytes:
    return base64.b64decode(attachment["data"])
