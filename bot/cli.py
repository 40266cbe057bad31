"""The `gridbot` console script."""

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gridbot", description="党建引领基层治理 社区服务机器人")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="运行机器人（Telegram / 微信 / HTTP / 发送队列）")
    demo = commands.add_parser("demo", help="本地演示：控制台聊天，无需令牌和网络")
    demo.add_argument("--db", default=None, help="SQLite 文件（默认临时文件）")
    importer = commands.add_parser("import", help="导入花名册（.xlsx 或 CSV 文件夹）")
    importer.add_argument("path", type=Path)
    invite = commands.add_parser("invite", help="为花名册里的党员生成一次性绑定码")
    invite.add_argument("phone")
    report = commands.add_parser("report", help="月报：导出 Excel 工作簿和统计图")
    report.add_argument("--month", required=True, help="月份，例如 2025-05")
    report.add_argument("--out", type=Path, default=None, help="工作簿文件（默认 报表-YYYY-MM.xlsx），图表 .png 放在旁边")
    apikey = commands.add_parser("apikey", help="为 Open311 客户端生成 API 密钥（只显示一次）")
    apikey.add_argument("name", help="客户端名称，例如 街道App")
    robot = commands.add_parser("staffrobot", help="设置工作人员企业微信群机器人（接收月报）；留空则取消")
    robot.add_argument("webhook", nargs="?", default="", help="机器人的 Webhook 地址")
    commands.add_parser("migrate", help="升级数据库结构")
    commands.add_parser("classify", help="从标准输入逐行分类")
    commands.add_parser("doctor", help="检查配置、数据库、迁移和平台连通性")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return COMMANDS[args.command](Settings(), args)


def _event_loop_factory():
    """uvloop where it installs (Linux, macOS): the loop that parses every webhook and callback runs
    about twice as fast; asyncio's own elsewhere."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_command(settings: Settings, _args) -> int:
    from bot.runtime import NothingConfigured, serve

    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(serve(settings))
    except NothingConfigured as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def demo_command(settings: Settings, args) -> int:
    from bot.console import run_demo

    return run_demo(settings, args.db)


def import_command(settings: Settings, args) -> int:
    from storage.db import make_engine, migrate, transaction
    from storage.roster import RosterInvalid, apply_roster, read_roster

    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        roster = read_roster(args.path, settings.timezone)
    except RosterInvalid as invalid:
        print(f"花名册有误，未导入任何数据：\n{invalid}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"无法读取 {args.path}：{error}", file=sys.stderr)
        return 1
    with transaction(engine) as session:
        counts = apply_roster(session, roster, progress=_progress_bar)
    print(file=sys.stderr)
    for sheet, figures in counts.items():
        print(f"{sheet}: " + "，".join(f"{k} {v}" for k, v in figures.items()))
    return 0


def invite_command(settings: Settings, args) -> int:
    from storage.db import make_engine, migrate, transaction
    from storage.invites import create_invite

    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with transaction(engine) as session:
            code = create_invite(session, args.phone, datetime.now(UTC))
    except LookupError as error:
        print(error.args[0] if error.args else error, file=sys.stderr)
        return 1
    print(code)
    return 0


def report_command(settings: Settings, args) -> int:
    from zoneinfo import ZoneInfo

    from storage import figures
    from storage.db import make_engine, migrate, transaction
    from storage.policy import load_policy
    from storage.report import Month, build
    from storage.report_chart import chart_png
    from storage.report_workbook import workbook_bytes

    try:
        month = Month.parse(args.month, ZoneInfo(settings.timezone))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    migrate(engine)
    with transaction(engine) as session:
        made = build(session, load_policy(settings.config), month, datetime.now(UTC))
    book = args.out or Path(f"报表-{month.label}.xlsx")
    chart = book.with_suffix(".png")
    book.write_bytes(workbook_bytes(made))
    chart.write_bytes(chart_png(made))
    print(f"{made.community} {month.title}")
    print("\n".join(figures.summary_lines(made.overall)))
    print(f"工作簿：{book}\n图表：{chart}")
    return 0


def apikey_command(settings: Settings, args) -> int:
    from storage import api_keys
    from storage.db import make_engine, migrate, transaction

    name = args.name.strip()
    if not name or len(name) > 60:
        print("请给客户端起一个 1–60 字的名称。", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with transaction(engine) as session:
            key = api_keys.create(session, name, datetime.now(UTC))
    except api_keys.NameTaken:
        print(f"「{name}」已经有密钥了，请换一个名称。", file=sys.stderr)
        return 1
    print(key)
    return 0


def staffrobot_command(settings: Settings, args) -> int:
    from storage.db import make_engine, migrate, transaction
    from storage.report_delivery import set_staff_robot

    if args.webhook and not args.webhook.startswith(("https://", "http://")):
        print("Webhook 地址应以 https:// 开头。", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    migrate(engine)
    with transaction(engine) as session:
        set_staff_robot(session, args.webhook, datetime.now(UTC))
    print("已设置：每月1日的月报会同时发到这个企业微信群。" if args.webhook else "已取消工作人员群机器人。")
    return 0


def migrate_command(settings: Settings, _args) -> int:
    from storage.db import make_engine, migrate

    migrate(make_engine(settings.database_url))
    print("数据库已是最新结构。")
    return 0


def classify_command(settings: Settings, _args) -> int:
    from handlers.classifier import classify
    from storage.policy import load_policy

    policy = load_policy(settings.config)
    out = sys.stdout
    for line in sys.stdin:
        text = line.strip()
        if text:
            verdict = classify(text, policy)
            kind = (verdict.emergency or "") if verdict.urgency != "0" else ""
            out.write(f"{verdict.category}\t{verdict.tier}\t{verdict.confidence:.2f}\t{verdict.urgency}\t{kind}\n")
    return 0


def _doctor(settings: Settings, args) -> int:
    from bot.doctor import doctor_command

    return doctor_command(settings, args)


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\r导入 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)


COMMANDS = {
    "run": run_command,
    "demo": demo_command,
    "import": import_command,
    "invite": invite_command,
    "migrate": migrate_command,
    "report": report_command,
    "staffrobot": staffrobot_command,
    "apikey": apikey_command,
    "classify": classify_command,
    "doctor": lambda settings, args: _doctor(settings, args),
}

if __name__ == "__main__":
    sys.exit(main())
