"""工单台账 as an .xlsx: the ledger's filtered list, one sheet, styled as the monthly report's sheets.

Written with XlsxWriter, not openpyxl: a download of a thousand rows is a page a secretary waits on, and
XlsxWriter writes cells about twice as fast (the monthly report keeps openpyxl: it is made once a month).
The resident's words are masked as on a group card (storage/privacy.py): the file leaves the office."""

import io
import unicodedata
from zoneinfo import ZoneInfo

import xlsxwriter

from storage import order_cards
from storage.ledger import Row
from storage.policy import Policy
from storage.report_workbook import WHEN, _local

SHEET = "工单台账"
HEADERS = ("工单号", "提交时间", "类别", "分级", "紧急", "状态", "网格", "楼栋", "领单人", "内容")
WIDEST = 40
FITTED_ROWS = 500  # column widths by the widest text in the first rows, as the report's sheets
WHEN_WIDTH = 16  # "2025-05-01 08:30"


def workbook_bytes(rows: list[Row], policy: Policy, tz: ZoneInfo, title: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties({"title": title})
    sheet = book.add_worksheet(SHEET)
    header = book.add_format({"bold": True, "bg_color": "#FDE9D9", "align": "center"})  # the report's pale red
    when = book.add_format({"num_format": WHEN})
    sheet.write_row(0, 0, HEADERS, header)
    sheet.freeze_panes(1, 0)
    widths = [_width(name) for name in HEADERS]
    for number, row in enumerate(rows, start=1):
        values = (
            row.id,
            policy.category(row.category).name,
            row.tier,
            "是" if row.urgent else "",
            order_cards.STATUS_NAMES.get(row.status, row.status),
            row.grid or "",
            row.building or "",
            row.claimer or "",
            order_cards.summary(row.text),
        )
        sheet.write_number(number, 0, row.id)
        created = _local(row.created_at, tz)
        if created is not None:
            sheet.write_datetime(number, 1, created, when)
        sheet.write_row(number, 2, values[1:])
        if number <= FITTED_ROWS:
            widths = [max(width, _width(value)) for width, value in zip(widths, (row.id, "", *values[1:]), strict=True)]
    widths[1] = max(widths[1], WHEN_WIDTH)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, min(width + 2, WIDEST))
    book.close()
    return out.getvalue()


def _width(value) -> int:
    """A Chinese character is two columns wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))
