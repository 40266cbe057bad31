"""`gridbot demo`: the console drives the same handlers; a scripted session shows a whole loop."""

import io
import re
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from bot.console import run_demo


def _number(output: str, label: str) -> str:
    """The number the console printed before the newest button with this label."""
    return re.findall(rf"\[(\d+)\] {label}", output)[-1]


def turns(screen: str) -> list[tuple[str, list[str]]]:
    """The transcript as (what was typed, the messages shown after it), in order. A message is its
    first line (two spaces in) with its indented continuation lines; the bot's answer comes first,
    then what the sender delivered to other chats, whose order between chats is not fixed."""
    result: list[tuple[str, list[str]]] = []
    for line in screen.splitlines():
        if re.match(r"^\S+> ", line):
            result.append((line, []))
        elif result and line.startswith("    ") and result[-1][1]:
            result[-1][1][-1] += "\n" + line.strip()
        elif result and line.startswith("  "):
            result[-1][1].append(line.strip())
    return result


def only(messages: list[str], start: str) -> str:
    """The one message that begins with `start`."""
    found = [m for m in messages if m.startswith(start)]
    assert len(found) == 1, (start, messages)
    return found[0]


def test_a_whole_loop_in_the_console(tmp_path):
    out = io.StringIO()

    def script():
        """Typed lines; button numbers are read off the screen as a person would."""
        yield "2单元楼道里堆满了垃圾，好几天没人清理了"
        yield "/as 李明"
        yield _number(out.getvalue(), "🙋 领单")
        yield _number(out.getvalue(), "✅ 完成")
        yield "已清理干净"
        yield "/as 张阿姨"
        yield "5"  # the stars, as the rating request asks: not whatever button number 5 was
        yield "/status 3"  # #1 and #2 are 王大爷's, seeded open

    assert run_demo(Settings(_env_file=None), str(tmp_path / "demo.db"), lines=script(), out=out) == 0
    typed = turns(out.getvalue())
    assert [line.split("> ", 1)[0] for line, _ in typed] == [
        "张阿姨",
        "张阿姨",
        "李明",
        "李明",
        "李明",
        "李明",
        "张阿姨",
        "张阿姨",
    ]
    report, _as_liming, claim, finish, proof, _as_zhang, rating, status = (shown for _, shown in typed)

    assert report[0].startswith("🤖 → 张阿姨：已受理 ✅ 工单 #3（环境卫生）")
    card = only(report, "📣 [一网格群] 🆕 工单 #3 · 环境卫生")
    assert "🙋 领单" in card and "13800000001" not in card and "2单元302" not in card  # no resident details in the group

    assert claim[0].startswith("🤖 → 李明：领单成功！工单 #3")
    assert "仅领单人可见" in only(claim, "📩 [李明] 您已领取工单 #3") and "13800000001" in only(claim, "📩 [李明]")
    assert only(claim, "📩 [张阿姨]") == "📩 [张阿姨] 工单 #3 已由党员 李明 领取，正在处理。"
    assert "李明 已领单" in only(claim, "✏️ 卡片更新 [一网格群]")
    assert not any("13800000001" in m for m in claim if not m.startswith("📩 [李明]"))

    assert finish == [finish[0]] and finish[0].startswith("🤖 → 李明：工单 #3：请发一张处理后的照片")
    assert proof[0].startswith("🤖 → 李明：工单 #3 已办结")
    asked = only(proof, "📩 [张阿姨] 工单 #3 · 环境卫生 已处理完毕：已清理干净")
    assert "满意吗" in asked and "回复数字 1-5 打分" in asked
    assert "李明 已办结" in only(proof, "✏️ 卡片更新 [一网格群]")

    assert rating[0] == "🤖 → 张阿姨：谢谢您的评价！有事随时找我们。"
    assert only(rating, "📩 [李明]").startswith("📩 [李明] 居民给工单 #3 打了 5⭐")
    assert status[0].startswith("🤖 → 张阿姨：#3 环境卫生：已完成（李明） 5⭐")
    assert len(status) == 1


def test_a_number_presses_only_a_button_that_person_was_shown(tmp_path):
    out = io.StringIO()
    lines = ["2单元楼道里堆满了垃圾，好几天没人清理了", "/as 李明", "2", "3", "/as 张阿姨", "4", "/status 3"]
    run_demo(Settings(_env_file=None), str(tmp_path / "demo.db"), lines=iter(lines), out=out)
    answer = out.getvalue().split("张阿姨> 4")[-1].split("张阿姨> /status 3")[0]
    assert "没看懂" in answer and "党员身份" not in answer  # 李明's [3] 退单 is not hers to press
    assert "办理中" in out.getvalue().split("张阿姨> /status 3")[-1]


def test_the_console_script_runs_from_a_pipe(tmp_path):
    gridbot = Path(sys.executable).with_name("gridbot")
    result = subprocess.run(
        [str(gridbot), "demo", "--db", str(tmp_path / "d.db")],
        input="/who\n楼下垃圾没人收\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "李明（党员）" in result.stdout and "工单 #1" in result.stdout


def test_the_demo_department_signs_finishes_and_the_resident_rates(tmp_path):
    out = io.StringIO()

    def script():
        yield "/who"
        yield "/as 孙伟"
        yield "/help"  # the seeded cards show once the first message is handled
        yield _number(out.getvalue(), "✍️ 签收")
        yield _number(out.getvalue(), "✅ 办结")
        yield "井盖已补上"
        yield "/as 王大爷"
        yield "5"
        yield "/status 2"

    assert run_demo(Settings(_env_file=None), str(tmp_path / "demo.db"), lines=script(), out=out) == 0
    screen = out.getvalue()
    assert "📣 [城管中队群]" in screen and "请城管执法中队办理" in screen
    assert "城管执法中队 孙伟 已签收" in screen and "仅签收人可见" in screen
    assert "城管执法中队的孙伟签收办理" in screen and "井盖已补上" in screen
    assert "5⭐" in screen.split("/status 2")[-1] and "已完成" in screen.split("/status 2")[-1]
