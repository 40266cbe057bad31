"""The month's chart as a PNG: orders by category and each grid's rates, labelled in Chinese.

matplotlib's own fonts have no Chinese glyphs (labels come out as boxes), so the chart is drawn
in Noto Sans CJK SC, shipped by the `mplfonts` package this project depends on; a system CJK
font (Debian's fonts-noto-cjk or fonts-wqy-microhei) is used when that package is missing.
"""

import io
import logging
from functools import cache
from importlib import resources
from pathlib import Path

from matplotlib import font_manager
from matplotlib.figure import Figure  # the object API, no pyplot: no display, no global state
from matplotlib.ticker import MaxNLocator, PercentFormatter

from storage import figures
from storage.report import Report

logger = logging.getLogger(__name__)

SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
RATES_SHOWN = (("响应率", "response"), ("按时办结率", "on_time"), ("满意率", "satisfied"))


class NoChineseFont(RuntimeError):
    """No CJK font found: a chart would show boxes instead of words."""


@cache
def chinese_font() -> str:
    """The family name of a CJK font registered with matplotlib."""
    candidates = []
    try:
        candidates.append(Path(str(resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf")))
    except ModuleNotFoundError:
        logger.warning("mplfonts is not installed; looking for a system CJK font")
    candidates += [Path(path) for path in SYSTEM_FONTS]
    for path in candidates:
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    raise NoChineseFont("找不到中文字体：请安装 mplfonts（pip）或 fonts-noto-cjk（apt）")


def chart_png(report: Report) -> bytes:
    family = chinese_font()
    figure = Figure(figsize=(11, 5.5), dpi=110)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    font = {"family": family}
    figure.suptitle(f"{report.community} {report.month.title} 工单概况（受理 {report.overall.intake} 件）", fontsize=15, **font)

    shown = [(name, group.intake) for name, group in report.by_category if group.intake] or [("无工单", 0)]
    names, counts = zip(*reversed(shown), strict=True)
    bars = left.barh(names, counts, color="#c0392b")
    left.bar_label(bars, padding=3, fontsize=9)
    left.set_title("各类别受理量（件）", **font)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    for label in left.get_yticklabels():
        label.set_fontfamily(family)

    grids = [(name, group) for name, group in report.by_grid if group.intake]
    width = 0.8 / len(RATES_SHOWN)
    colours = ("#e67e22", "#2980b9", "#27ae60")
    for index, ((rate_name, attribute), colour) in enumerate(zip(RATES_SHOWN, colours, strict=True)):
        values = [getattr(group, attribute).value for _, group in grids]
        xs = [i + (index - 1) * width for i in range(len(grids))]
        drawn = right.bar(xs, [v or 0 for v in values], width, label=rate_name, color=colour)
        right.bar_label(drawn, labels=[figures.NONE if v is None else f"{v:.0%}" for v in values], fontsize=8, padding=2)
    right.set_xticks(range(len(grids)), [name for name, _ in grids], fontfamily=family)
    right.set_ylim(0, 1.3)  # room above 100% for the legend
    right.set_yticks([step / 5 for step in range(6)])
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_title("各网格响应、按时办结、满意情况", **font)
    right.legend(prop={"family": family, "size": 9}, loc="upper center", ncol=len(RATES_SHOWN), frameon=False)
    if not grids:
        right.text(0.5, 0.5, "本月无工单", ha="center", transform=right.transAxes, **font)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
