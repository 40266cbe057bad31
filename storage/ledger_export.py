"""工单台账 as an .xlsx: the ledger's filtered list, one sheet, styled as the monthly report's sheets.

The resident's words are masked as on a group card (storage/privacy.py): the file leaves the office."""

import io
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from storage import order_cards
from storage.ledger import Row
from storage.policy import Policy
from storage.report_workbook import WHEN, _fit, _header, _local

SHEET = "工单台账"
HEADERS = ("工单号", "提交时间", "类别", "分级", "紧急", "状态", "网格", "楼栋", "领单人", "内容")


def workbook_bytes(rows: list[Row], policy: Policy, tz: ZoneInfo, title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    _header(sheet, HEADERS)
    for number, row in enumerate(rows, start=2):
        sheet.append(
            (
                row.id,
                _local(row.created_at, tz),
                policy.category(row.category).name,
                row.tier,
                "是" if row.urgent else "",
                order_cards.STATUS_NAMES.get(row.status, row.status),
                row.grid,
                row.building,
                row.claimer,
                order_cards.summary(row.text),
            )
        )
        sheet.cell(number, 2).number_format = WHEN  # by number: max_row counts every cell each time
    _fit(sheet)
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
