"""Emergencies: rules from the policy's `[urgency]` table, applied whatever the category."""

import re
from functools import lru_cache

# A cue this close before a match, in the same clause, makes it hypothetical or past ("万一着火了…",
# "去年冬天隔壁楼煤气中毒…"), not an emergency happening now.
LOOKBEHIND = 12
CLAUSE_END = re.compile(r"[，,。！!？?；;\n]")


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
            if not _hypothetical_or_past(text, match.start(), match.end(), cues):
                return True
    return False


def _hypothetical_or_past(text: str, start: int, end: int, cues: tuple[re.Pattern, ...]) -> bool:
    """A cue earlier in the match's clause (at most LOOKBEHIND characters back), or 过 right after it."""
    before = CLAUSE_END.split(text[max(0, start - LOOKBEHIND):start])[-1]
    after = text[end:end + 2]
    return any(cue.search(before) for cue in cues) or (after.startswith("过") and after not in ("过来", "过去"))
