"""Masking what a group must not read in a resident's words (placeholder: mobiles only)."""

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_private(text: str) -> str:
    return _MOBILE.sub(r"\1****\2", text)
