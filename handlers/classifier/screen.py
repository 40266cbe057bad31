"""Characters a pattern cannot match without: a text with none of them is not searched at all.

Most messages name no emergency, so most of the urgency patterns find nothing; a set lookup says so
faster than a regex search (about four patterns in five are passed over). The characters come from one
element every match must contain (a literal, a class of literals, a group, an alternation whose every
branch has such characters, a repeat of at least one): the fewest such characters. A pattern of which
nothing can be told (a flag; only negated classes, wildcards or optional parts) is always searched.
"""

import re

try:
    from re import _constants as sre  # the pattern parser `re` itself uses
    from re import _parser as sre_parse
except ImportError:  # another Python's layout: every pattern is searched
    sre = sre_parse = None

Needs = frozenset[str] | None  # None: nothing known, search it


def needed_characters(pattern: str) -> Needs:
    """One of these characters is in every match of `pattern`; None when that cannot be told."""
    if sre_parse is None:
        return None
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:  # an unreadable pattern is simply searched (re.compile reports it)
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _in_sequence(parsed)


def may_match(needs: Needs, present: frozenset[str]) -> bool:
    return needs is None or not needs.isdisjoint(present)


def _in_sequence(items) -> Needs:
    """Every element of a sequence is in the match: the element with the fewest characters known."""
    fewest = None
    for op, value in items:
        needs = _in_element(op, value)
        if needs is not None and (fewest is None or len(needs) < len(fewest)):
            fewest = needs
    return fewest


def _in_element(op, value) -> Needs:
    if op is sre.LITERAL:
        return frozenset(chr(value))
    if op is sre.IN:  # a class of literals only; a negated class or a range tells nothing
        return frozenset(chr(code) for _, code in value) if all(kind is sre.LITERAL for kind, _ in value) else None
    if op is sre.SUBPATTERN:
        return _in_sequence(value[-1])
    if op is sre.BRANCH:
        branches = [_in_sequence(branch) for branch in value[1]]
        return None if any(needs is None for needs in branches) else frozenset().union(*branches)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        least, _most, item = value
        return _in_sequence(item) if least >= 1 else None
    return None  # anchors, lookarounds, any character, categories: they need no character of their own
