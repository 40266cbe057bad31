"""What a grid's group may read of a resident's words: who they are and which door is theirs, masked.

The resident's phone and room go only to the member who claims the order; the card in the group
shows the report with these masked (rules applied in this order, longest numbers first):

- ID card, 18 digits (17 + digit or X) or the old 15: first 3 and last 2 kept, every other digit a star.
- bank card, 16–19 digits, run together or in groups of 4: only the last 4 digits kept.
- mainland mobile, 1[3-9] + 9 digits, also as 3-4-4 with spaces or dashes, with or without +86/86:
  138****8000 (prefix and separators dropped).
- landline with area code (010 / 02x / 0xxx, parentheses allowed): area code kept, local number
  shown as **** + its last 4.
- a bare 7–8 digit local number right after 电话/座机/联系/打 (a few words between allowed): **** + last 4.
- room: the digits identifying a household become ***; building (号楼/栋/幢/座), unit (单元) and floor
  (3楼, 5层) stay.  A room is 3–4 digits, floor + door (502, 1203, 1510), found
    after a building or unit (2单元1203, 5栋601, B座1806), before 室/房/户 (502室, 501房, 1203户; not 120户人家),
    last in a dashed address (5-2-301, 3-1102), or on its own when shaped like floor + door 01–09
    (楼下503, 从302飘出来) and not followed by a unit of time, money, count or length (2008年, 305路, 105平).

Left alone on purpose: 400/800 and 5-digit service lines (95598, 12345) are public; order numbers
(#128), times, dates, durations, counts, amounts, building numbers and floors are what the card needs.
Not caught: rooms in Chinese numerals (五零二), a bare room whose door is 10 or more (楼上1510), ID numbers
typed with spaces, digit runs longer than 19.  Over-masked on purpose: a bare 4-digit time like 1105.
"""

import re

_ROOM = r"[1-9]\d?(?:0[1-9]|[1-9]\d)"  # floor (1–2 digits) + door (01–99): 502, 1203, 1510; never 200
_UNITS = "年月日号点时分秒元块角万个只条次回天周岁斤公米克度辆台人路位件平栋幢座楼层小%"  # a number before these is no room

# the longest numbers first, so no shorter rule takes a piece of them
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{3})(\d{10}|\d{13})(\d[\dXx])(?![\dA-Za-z])")
# 16–19 digits that are not an ID: a bank card, also typed in groups of 4
_BANK_CARD = re.compile(rf"(?<![\dA-Za-z])\d{{4}}(?:[ -]?\d{{4}}){{3}}(?:\d{{1,3}}|[ -]\d{{3}})?(?![\dA-Za-z{_UNITS}])")
# the usual 3-4-4 grouping and the country code are how residents copy a number from their phone
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
# area codes are 010, 02x or 0 + 3 digits; 400/800 lines start with 4/8 and stay readable
_LANDLINE = re.compile(r"(?<!\d)([(（]?0(?:10|2\d|[3-9]\d{2})[)）]?[ -]?)\d{3,4}[ -]?(\d{4})(?!\d)")
# without an area code 7–8 digits are only a phone when the resident says so
_LOCAL_PHONE = re.compile(r"((?:电话|座机|联系|打)[^\d，。！？,.!?\n]{0,8}?)\d{3,4}[ -]?(\d{4})(?!\d)")
# the number right after a building or unit is the household's door
_ROOM_AFTER_PLACE = re.compile(rf"((?:单元|号楼|栋|幢|座)[-之]?){_ROOM}(?![\d楼层])")
# 室/房/户 say outright that the number is a home (3室 is a layout, 120户人家 a count)
_ROOM_BEFORE_SUFFIX = re.compile(rf"(?<![\d*#]){_ROOM}(?=号?[室房]|户(?![人居]))")
# building-unit-room or building-room written with dashes: the last part is the door
_ROOM_DASHED = re.compile(rf"(?<![\d-])(\d{{1,3}}-(?:\d{{1,2}}-)?){_ROOM}(?![\d-])")
# a bare floor + door 01–09 (楼下503) is still a home; # or 第 before, a unit or /month after mean it is not
_ROOM_BARE = re.compile(rf"(?<![\d*#.\-第单A-Za-z])[1-9]\d?0[1-9](?![\d.\-A-Za-z{_UNITS}]|/\d{{1,2}}(?!\d))")


def mask_private(text: str) -> str:
    """The text with phones, ID and bank card numbers and room numbers masked; see the module's docstring."""
    text = _ID_CARD.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)
    text = _BANK_CARD.sub(lambda m: re.sub(r"\d(?=(?:\D*\d){4})", "*", m[0]), text)
    text = _MOBILE.sub(r"\1****\2", text)
    text = _LANDLINE.sub(r"\1****\2", text)
    text = _LOCAL_PHONE.sub(r"\1****\2", text)
    text = _ROOM_AFTER_PLACE.sub(r"\1***", text)
    text = _ROOM_BEFORE_SUFFIX.sub("***", text)
    text = _ROOM_DASHED.sub(r"\1***", text)
    return _ROOM_BARE.sub("***", text)
