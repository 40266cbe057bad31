"""Emergencies: rules from the policy's `[urgency]` table, applied whatever the category."""

import re
from functools import lru_cache

# A cue this close before a match makes it hypothetical ("万一着火了…"), not an emergency.
LOOKBEHIND = 6


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


def urgency_rules(raw_policy: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(patterns, hypothetical cues) from the policy TOML; empty when the table is missing."""
    table = raw_policy.get("urgency", {})
    return tuple(table.get("patterns", ())), tuple(table.get("hypothetical", ()))


def is_urgent(text: str, patterns: tuple[str, ...], hypothetical: tuple[str, ...]) -> bool:
    """True when an emergency pattern matches and is not just a 'what if'."""
    cues = _compiled(hypothetical)
    for pattern in _compiled(patterns):
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - LOOKBEHIND):match.start()]
            if not any(cue.search(before) for cue in cues):
                return True
    return False
