"""The month's workbook: sheets 总览, 网格, 类别, 党员, 台账, with native Excel charts that point at
the sheets' own cells (so the numbers stay live), Chinese headers, frozen header rows, widths
that fit the text. A rate with nothing to divide by is the text `—`."""

import io
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from storage import figures
from storage.figures import Figures, Ratio
from storage.report import Report

SHEETS = ("总览", "网格", "类别", "党员", "台账")
FIGURE_HEADERS = ("受理量", *(name for name, _ in figures.RATIOS), "领单用时中位数（小时）", "办结用时中位数（小时）")
LEDGER_HEADERS = (
    "工单号",
    "提交时间",
    "类别",
    "分级",
    "网格",
    "状态",
    "领单人",
    "派单时间",
    "领单时间",
    "办结时间",
    "评分",
    "返工次数",
)
DEFINITIONS = {
    "受理量": "本月新建工单（闲聊不计）",
    "响应率": "派单后在领单时限内领单 / 派单",
    "按时办结率": "在办结时限内办结 / 办结",
    "解决率": "办结且未返工 / 受理（派单或转部门）",
    "满意率": "评 4–5 星 / 评价",
    "参评率": "评价 / 办结",
    "返工率": "返工 / 办结",
}
PERCENT = "0.0%"
WHEN = "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="FDE9D9")  # the pale red of the Party's reports


def workbook_bytes(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    overview(book.create_sheet("总览"), report)
    breakdown(book.create_sheet("网格"), "网格", report.by_grid)
    breakdown(book.create_sheet("类别"), "类别", report.by_category)
    members(book.create_sheet("党员"), report)
    ledger(book.create_sheet("台账"), report, report.month.tz)
    book.properties.title = f"{report.community} {report.month.title} 工单统计"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def overview(sheet: Worksheet, report: Report) -> None:
    _header(sheet, ("指标", "数值", "分子", "分母", "口径"))
    sheet.append(("受理量", report.overall.intake, None, None, DEFINITIONS["受理量"]))
    for name, attribute in figures.RATIOS:
        ratio: Ratio = getattr(report.overall, attribute)
        sheet.append((name, _rate(ratio), ratio.part, ratio.whole, DEFINITIONS[name]))
        _percent(sheet, sheet.max_row, 2)
    sheet.append(("领单用时中位数（小时）", _hours(report.overall.to_claim), None, None, "派单到领单"))
    sheet.append(("办结用时中位数（小时）", _hours(report.overall.to_finish), None, None, "提交到办结"))
    sheet.append(())
    sheet.append(("社区", report.community))
    sheet.append(("月份", report.month.title))
    sheet.append(("生成时间", report.made_at.astimezone(report.month.tz).replace(tzinfo=None)))
    sheet.cell(sheet.max_row, 2).number_format = WHEN
    rates = len(figures.RATIOS)
    _bar(sheet, "各项比率", data=(2, 3, 2 + rates), labels=(1, 3, 2 + rates), anchor="G2", percent=True)
    _fit(sheet)


def breakdown(sheet: Worksheet, label: str, groups: list[tuple[str, Figures]]) -> None:
    _header(sheet, (label, *FIGURE_HEADERS))
    for name, group in groups:
        sheet.append((name, *_figure_cells(group)))
        for column in range(3, 3 + len(figures.RATIOS)):
            _percent(sheet, sheet.max_row, column)
    last = max(sheet.max_row, 2)
    _bar(sheet, f"各{label}受理量", data=(2, 2, last), labels=(1, 2, last), anchor=f"A{last + 3}")
    satisfied = 3 + [a for _, a in figures.RATIOS].index("satisfied")
    _bar(sheet, f"各{label}满意率", data=(satisfied, 2, last), labels=(1, 2, last), anchor=f"H{last + 3}", percent=True)
    _fit(sheet)


def members(sheet: Worksheet, report: Report) -> None:
    _header(sheet, ("姓名", "网格", "领单", "办结", "本月积分"))
    for line in report.members:
        sheet.append((line.name, line.grid, line.claimed, line.finished, line.points))
    last = max(sheet.max_row, 2)
    _bar(sheet, "党员本月先锋积分", data=(5, 2, last), labels=(1, 2, last), anchor="G2")
    _fit(sheet)


def ledger(sheet: Worksheet, report: Report, tz: ZoneInfo) -> None:
    _header(sheet, LEDGER_HEADERS)
    for line in report.ledger:
        f = line.facts
        sheet.append(
            (
                f.order_id,
                _local(f.created_at, tz),
                line.category,
                f.tier,
                line.grid,
                line.status,
                line.claimer,
                _local(f.handed_over_at, tz),
                _local(f.responded_at, tz),
                _local(f.done_at, tz),
                f.rating,
                f.reopens,
            )
        )
    for column in ("B", "H", "I", "J"):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=ord(column) - 64, max_col=ord(column) - 64):
            cell.number_format = WHEN
    _fit(sheet)


def _figure_cells(group: Figures) -> tuple:
    return (
        group.intake,
        *(_rate(getattr(group, attribute)) for _, attribute in figures.RATIOS),
        _hours(group.to_claim),
        _hours(group.to_finish),
    )


def _rate(ratio: Ratio) -> float | str:
    return figures.NONE if ratio.value is None else ratio.value


def _hours(span) -> float | str:
    hours = figures.span_hours(span)
    return figures.NONE if hours is None else hours


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)  # Excel keeps no time zone


def _header(sheet: Worksheet, names: tuple[str, ...]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, Alignment(horizontal="center")
    sheet.freeze_panes = "A2"


def _percent(sheet: Worksheet, row: int, column: int) -> None:
    cell = sheet.cell(row, column)
    if not isinstance(cell.value, str):
        cell.number_format = PERCENT


def _bar(sheet: Worksheet, title: str, data: tuple[int, int, int], labels: tuple[int, int, int], anchor: str, percent=False):
    """A bar chart of one column (`data` = column, first row, last row), bars named by `labels`."""
    column, first, last = data
    chart = BarChart()
    chart.title, chart.style, chart.legend = title, 10, None
    chart.add_data(Reference(sheet, min_col=column, min_row=first, max_row=last))
    chart.set_categories(Reference(sheet, min_col=labels[0], min_row=labels[1], max_row=labels[2]))
    if percent:
        chart.y_axis.number_format, chart.y_axis.scaling.min, chart.y_axis.scaling.max = "0%", 0, 1
    chart.width, chart.height = 16, 8
    sheet.add_chart(chart, anchor)


def _fit(sheet: Worksheet, widest: int = 40) -> None:
    """Column widths by the widest text in the first rows (a Chinese character is two columns wide)."""
    widths: dict[str, int] = {}
    for row in sheet.iter_rows(max_row=min(sheet.max_row, 500)):
        for cell in row:
            if cell.value is not None:
                text = "2025-05-01 08:30" if isinstance(cell.value, datetime) else str(cell.value)
                width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
                widths[cell.column_letter] = max(widths.get(cell.column_letter, 0), width)
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = min(width + 2, widest)
