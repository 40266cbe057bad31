"""A month built through the real handlers, then `gridbot report`: every figure against numbers worked
out by hand below; the charts point at the right cells; /stats and /rank agree with the workbook."""

from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.cli import main
from storage.order_buttons import BuildingCb, OrderCb, RateCb
from tests.driver import Driver
from tests.test_move_consequences import _building

R1, R2 = "501", "502"  # residents of 1号楼 (一网格) and 3号楼 (二网格)
LIMING, ZHAOQIANG, WANGFANG, CHENGANG, STAFF = "511", "512", "513", "521", "531"
G01, G02 = "-1001", "-1002"
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 2 November, 09:00 in Shanghai


@pytest.fixture
def month(services, roster, clock) -> Driver:
    """November 2026 as it happened; the hand-worked figures are in the tests below."""
    chat = Driver(services)
    for user, phone in (
        (LIMING, "13800000011"),
        (ZHAOQIANG, "13800000012"),
        (WANGFANG, "13800000013"),
        (CHENGANG, "13800000021"),
        (STAFF, "13800000031"),
    ):
        assert "绑定成功" in chat.say(user, contact=(phone, user))
    for resident, building in ((R1, "1号楼"), (R2, "3号楼")):
        chat.send(resident, "/start")
        chat.send(resident, callback=BuildingCb(_building(services, building)).pack())

    def at(day: int, hours: float = 0.0) -> None:
        clock.now = START + timedelta(days=day, hours=hours)

    def claim(user: str, group: str, number: int) -> None:
        assert "领单成功" in chat.say(user, group=group, callback=OrderCb("claim", number).pack())

    clock.now = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)  # 23:00 on 31 October: last month's
    assert "#1" in chat.say(R1, "楼里独居老人需要人帮忙买菜，能不能安排人看望一下")

    at(0)  # #2: claimed in 30 minutes, done in 3 hours, rated 5
    assert "#2" in chat.say(R1, "2单元楼道里堆满了垃圾，好几天没人清理了")
    at(0, 0.5), claim(LIMING, G01, 2)
    at(0, 3), chat.say(LIMING, "/done 2 已清理")
    at(0, 4)
    assert "谢谢您的评价" in chat.say(R1, callback=RateCb(2, 5).pack())
    assert chat.say(R1, "你好") and "#" not in chat.say(R1, "谢谢你们！辛苦了🙏")  # small talk: no order

    at(1)  # #3: claimed after 3 hours (late), done 50 hours after dispatch (late), rated 3
    assert "#3" in chat.say(R1, "楼下广场舞音响太吵了，每天晚上十点还不停")
    at(1, 3), claim(ZHAOQIANG, G01, 3)
    at(1, 50), chat.say(ZHAOQIANG, "/done 3 已协调")
    at(1, 51)
    assert "谢谢您的评价" in chat.say(R1, callback=RateCb(3, 3).pack())

    at(5)  # #4: claimed in an hour, done, 没修好 (返工), claimed by another, done again, rated 4
    assert "#4" in chat.say(R1, "单元门的门禁坏了，谁都能进来")
    at(5, 1), claim(LIMING, G01, 4)
    at(5, 5), chat.say(LIMING, "/done 4 已修")
    at(5, 6)
    assert "返工" in chat.say(R1, "没修好")
    at(5, 7), claim(ZHAOQIANG, G01, 4)
    at(5, 8), chat.say(ZHAOQIANG, "/done 4 换了新锁")
    at(5, 9)
    assert "谢谢您的评价" in chat.say(R1, callback=RateCb(4, 4).pack())

    at(7)  # #5 (二网格): claimed in an hour, done, rated 1: reopened and waiting again
    assert "#5" in chat.say(R2, "楼上邻居家漏水，渗到我家天花板了")
    at(7, 1), claim(CHENGANG, G02, 5)
    at(7, 2), chat.say(CHENGANG, "/done 5 已沟通")
    at(7, 3)
    assert "返工" in chat.say(R2, callback=RateCb(5, 1).pack())

    at(8)  # #6 (二网格): cancelled before anyone claimed it
    assert "#6" in chat.say(R2, "我家楼道灯坏了，晚上上下楼看不见")
    at(8, 1)
    assert "已撤销" in chat.say(R2, "/cancel 6")

    at(9)  # #7: claimed in 20 minutes, done in an hour, never rated
    assert "#7" in chat.say(R1, "家里卫生间顶上一直滴水，应该是楼上邻居家漏的")
    at(9, 1 / 3), claim(LIMING, G01, 7)
    at(9, 1), chat.say(LIMING, "/done 7 已处理")

    at(10)  # #8: 大事 to staff triage, escalated to a department, not done this month
    assert "#8" in chat.say(R1, "小区里好多电动车在楼道里充电，很危险")
    at(10, 1)
    assert "城管执法" in chat.say(STAFF, "/escalate 8 城管执法")
    at(20)
    return chat


# Worked out by hand from the story above (#2–#8 are November's; #1 is October's):
# 受理量 7. Handed over (dispatched) #2–#7 = 6; claimed within 2 h: #2 (30m) #4 (1h) #5 (1h) #7 (20m) → 4/6.
# Done #2 #3 #4 #5 #7 = 5; by the 48 h deadline all but #3 (50 h) → 4/5.
# Accepted: the 6 dispatched + #8 escalated = 7; done and never reopened #2 #3 #7 → 3/7.
# Rated #2 5⭐, #3 3⭐, #4 4⭐, #5 1⭐ = 4; 4–5⭐: #2 #4 → 2/4. 参评 4/5. 返工 #4 #5 → 2/5.
# Time to claim 20m 30m 1h 1h 3h → median 1 h. Time to finish 1h 2h 3h 8h 50h → median 3 h.
OVERALL = {
    "响应率": (4, 6),
    "按时办结率": (4, 5),
    "解决率": (3, 7),
    "满意率": (2, 4),
    "参评率": (4, 5),
    "返工率": (2, 5),
}
# 一网格 #2 #3 #4 #7 #8 (1号楼's grid; #8 was escalated, never dispatched), claimed in 30m 3h 1h 20m,
# finished in 3h 50h 8h 1h: medians 0.75 h and 5.5 h · 二网格 #5 #6. None = `—`.
BY_GRID = {
    "一网格": [5, (3, 4), (3, 4), (3, 5), (2, 3), (3, 4), (1, 4), 0.75, 5.5],
    "二网格": [2, (1, 2), (1, 1), (0, 2), (0, 1), (1, 1), (1, 1), 1.0, 2.0],
}
# Points: 李明 #2 5⭐ = 5 + 2; 赵强 #3 and #4 (the last claimer of the reopened order) = 5 + 5; 陈刚's #5 was reopened.
MEMBERS = [("赵强", "一网格", 2, 2, 10), ("李明", "一网格", 3, 3, 7), ("陈刚", "二网格", 1, 1, 0)]


def _expected(cell):
    return "—" if cell is None else pytest.approx(cell[0] / cell[1]) if isinstance(cell, tuple) else pytest.approx(cell)


def _report(tmp_path, monkeypatch, database_url: str, month: str = "2026-11"):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", database_url)
    out = tmp_path / "月报.xlsx"
    assert main(["report", "--month", month, "--out", str(out)]) == 0
    return load_workbook(out), out


def test_every_figure_of_the_month_matches_the_hand_count(month, tmp_path, monkeypatch, database_url, capsys):
    book, out = _report(tmp_path, monkeypatch, database_url)
    assert book.sheetnames == ["总览", "网格", "类别", "党员", "台账"]

    overview = {row[0]: row[1:4] for row in book["总览"].iter_rows(min_row=2, max_row=10, values_only=True)}
    assert overview["受理量"][0] == 7
    for name, (part, whole) in OVERALL.items():
        assert overview[name] == (pytest.approx(part / whole), part, whole), name
    assert overview["领单用时中位数（小时）"][0] == pytest.approx(1.0)
    assert overview["办结用时中位数（小时）"][0] == pytest.approx(3.0)
    assert book["总览"]["B3"].number_format == "0.0%"

    grids = {row[0]: list(row[1:]) for row in book["网格"].iter_rows(min_row=2, values_only=True) if row[0]}
    for name, expected in BY_GRID.items():
        assert grids[name] == [_expected(cell) if i else cell for i, cell in enumerate(expected)], name

    categories = {row[0]: row[1] for row in book["类别"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert categories == {
        "环境卫生": 1,
        "市政设施": 0,
        "物业管理": 2,  # 门禁 #4 and 楼道灯 #6
        "噪音扰民": 1,
        "邻里纠纷": 2,
        "治安消防": 1,
        "交通停车": 0,
        "帮扶关爱": 0,  # October's order is not November's
        "政策咨询": 0,
        "其他": 0,
    }
    empty = next(row for row in book["类别"].iter_rows(min_row=2, values_only=True) if row[0] == "交通停车")
    assert empty[2:8] == ("—",) * 6  # nothing to divide by: neither 0% nor 100%

    assert list(book["党员"].iter_rows(min_row=2, values_only=True)) == MEMBERS

    ledger = list(book["台账"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in ledger] == [2, 3, 4, 5, 6, 7, 8]
    four = ledger[2]
    assert four[2:7] == ("物业管理", "小事", "一网格", "已完成", "赵强")
    assert four[1] == datetime(2026, 11, 7, 9, 0)  # local time, as the secretary reads it
    assert four[9] == datetime(2026, 11, 7, 17, 0) and four[10:] == (4, 1)
    assert ledger[4][5] == "已撤销" and ledger[6][4:6] == ("一网格", "已转部门办理")
    assert set(grids) == set(BY_GRID)

    for sheet in ("总览", "网格", "类别", "党员", "台账"):
        assert book[sheet].freeze_panes == "A2", sheet
        assert book[sheet]["A1"].font.b
    assert book["台账"].column_dimensions["C"].width >= 10  # 物业管理 fits
    assert out.with_suffix(".png").stat().st_size > 20_000
    printed = capsys.readouterr().out
    assert "响应率 66.7%（4/6）" in printed and "满意率 50.0%（2/4）" in printed


def test_the_charts_point_at_the_figures_cells(month, tmp_path, monkeypatch, database_url):
    book, _ = _report(tmp_path, monkeypatch, database_url)
    refs = {
        sheet: [
            (c.series[0].val.numRef.f, c.series[0].cat.strRef.f if c.series[0].cat.strRef else c.series[0].cat.numRef.f)
            for c in book[sheet]._charts
        ]
        for sheet in ("总览", "网格", "类别", "党员")
    }
    assert refs["总览"] == [("'总览'!$B$3:$B$8", "'总览'!$A$3:$A$8")]  # the six rates
    assert refs["网格"] == [("'网格'!$B$2:$B$3", "'网格'!$A$2:$A$3"), ("'网格'!$F$2:$F$3", "'网格'!$A$2:$A$3")]
    assert refs["类别"][0] == ("'类别'!$B$2:$B$11", "'类别'!$A$2:$A$11")
    assert refs["党员"] == [("'党员'!$E$2:$E$4", "'党员'!$A$2:$A$4")]
    assert book["网格"]["F1"].value == "满意率"


def test_stats_and_rank_say_what_the_workbook_says(month, tmp_path, monkeypatch, database_url):
    staff = month.say(STAFF, "/stats")
    assert "幸福里社区 2026年11月" in staff and "受理 7 件" in staff
    for line in ("响应率 66.7%（4/6）", "按时办结率 80.0%（4/5）", "解决率 42.9%（3/7）", "满意率 50.0%（2/4）"):
        assert line in staff
    assert "参评率 80.0%（4/5）" in staff and "返工率 40.0%（2/5）" in staff
    assert "领单用时中位数 1小时0分钟 · 办结用时中位数 3小时0分钟" in staff

    leader = month.say(WANGFANG, "统计")  # 王芳 leads 一网格: her grid only
    assert "一网格" in leader and "受理 5 件" in leader and "满意率 66.7%（2/3）" in leader and "解决率 60.0%（3/5）" in leader
    assert "社区工作人员和网格长" in month.say(LIMING, "/stats")
    assert "党员身份" in month.say(R1, "/stats")

    rank = month.say(LIMING, "/rank")
    assert "🥇 赵强 10分" in rank and "🥈 李明 7分" in rank
    assert "本月 7 分" in month.say(LIMING, "/points")
    book, _ = _report(tmp_path, monkeypatch, database_url)
    points = {row[0]: row[4] for row in book["党员"].iter_rows(min_row=2, values_only=True)}
    assert points["赵强"] == 10 and points["李明"] == 7


def test_a_month_without_orders_shows_dashes_not_percentages(services, roster, tmp_path, monkeypatch, database_url):
    book, _ = _report(tmp_path, monkeypatch, database_url, month="2027-02")
    overview = {row[0]: row[1] for row in book["总览"].iter_rows(min_row=2, max_row=10, values_only=True)}
    assert overview["受理量"] == 0
    assert {overview[name] for name in ("响应率", "按时办结率", "解决率", "满意率", "参评率", "返工率")} == {"—"}


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "下个月"])
def test_a_bad_month_is_refused_in_chinese(month, tmp_path, monkeypatch, sqlite_url, capsys):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", sqlite_url)
    assert main(["report", "--month", month, "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "YYYY-MM" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()
