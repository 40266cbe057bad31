"""`gridbot demo`: a seeded community on SQLite and a console chat driving the same handlers.

Every reply and every group post is printed; buttons are numbered and pressed by typing the number.
"""

import asyncio
import itertools
import logging
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.demo_seed import GROUPS, seed
from bot.sender import Delivered, OutboxSender
from bot.services import build_services
from handlers.context import Services
from handlers.messages import Contact, Inbound, Reply
from handlers.router import handle
from scheduler.ticks import tick
from storage.policy import parse_duration

DEMO_TICK = timedelta(minutes=10)  # well inside the grace window: nothing is skipped as late

HELP = """命令：/as 名字 切换身份　/who 列出演示人物　/photo [说明] 发照片　/location 发位置
/contact 分享手机号　/clock +2h 拨快时钟　/quit 退出　数字 = 点对应按钮"""


RATING_LABELS = [f"{stars}⭐" for stars in range(1, 6)]


@dataclass
class Screen:
    """What the console has shown: numbered buttons, by number → (chat, is_group, data).

    A rating keyboard is not numbered: the person answers 1–5 for the stars, as the bot's text
    asks, so "5" never presses some other button that happens to be number 5.
    """

    buttons: dict[int, tuple[str, bool, str]] = field(default_factory=dict)
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))
    rating_asked: set[str] = field(default_factory=set)  # private chats whose newest keyboard is a rating

    def show(self, header: str, reply: Reply, chat_id: str, is_group: bool, out) -> None:
        print(f"{header}{reply.text}".replace("\n", "\n    "), file=out)
        labels = [button.label for row in reply.buttons for button in row]
        if labels == RATING_LABELS:
            self.rating_asked.add(chat_id)
            print("    " + "  ".join(f"[{label}]" for label in labels) + "  （回复数字 1-5 打分）", file=out)
            return
        if labels and not is_group:
            self.rating_asked.discard(chat_id)
        numbered = []
        for row in reply.buttons:
            for button in row:
                number = next(self.numbers)
                self.buttons[number] = (chat_id, is_group, button.data)
                numbered.append(f"[{number}] {button.label}")
        if numbered:
            print("    " + "  ".join(numbered), file=out)

    def pressed(self, typed: str, user_id: str) -> tuple[str, bool, str] | None:
        """The button a typed number presses for this person: one in their own chat or in a group."""
        if not typed.isdigit() or (user_id in self.rating_asked and typed in "12345"):
            return None
        button = self.buttons.get(int(typed))
        if button is None or not (button[1] or button[0] == user_id):
            return None
        return button


def run_demo(settings: Settings, db_path: str | None, lines=None, out=sys.stdout) -> int:
    # A new demo database has never ticked: yesterday's digest "skipped" is true but only noise here.
    scheduler_log = logging.getLogger("scheduler")
    level, scheduler_log.level = scheduler_log.level, logging.ERROR
    try:
        return _chat(settings, db_path, lines, out)
    finally:
        scheduler_log.setLevel(level)


def _chat(settings: Settings, db_path: str | None, lines, out) -> int:
    path = Path(db_path) if db_path else Path(tempfile.mkdtemp(prefix="gridbot-demo-")) / "demo.db"
    offset = [timedelta()]
    base = Settings(database_url=f"sqlite:///{path}", timezone=settings.timezone, config=settings.config)
    services = build_services(base)
    services = Services(
        services.engine, services.policy, services.timezone, clock=lambda: _real_now() + offset[0], public_url=services.public_url
    )
    people = seed(services)
    screen = Screen()
    names = {person.user_id: person.name for person in people}
    sender = OutboxSender(services.engine, {"console": _console_transport(screen, names, out)}, services.clock)
    current = people[0]
    interactive = lines is None and sys.stdin.isatty()
    print(f"—— {services.policy.community_name} 演示 ——  数据库：{path}\n{HELP}\n当前身份：{current.describe()}", file=out)
    counter = itertools.count(1)
    prompt = lambda: current.name
    for raw in lines if lines is not None else _read(current_name=prompt, interactive=interactive):
        line = raw.strip()
        if not line:
            continue
        if not interactive:
            print(f"{current.name}> {line}", file=out)
        if line in ("/quit", "/exit"):
            break
        if line.startswith("/as "):
            wanted = line[4:].strip()
            match = next((p for p in people if p.name == wanted), None)
            print(f"  当前身份：{match.describe()}" if match else f"  没有叫 {wanted} 的人，/who 查看", file=out)
            current = match or current
            continue
        if line == "/who":
            print("\n".join(f"  {p.describe()}" for p in people), file=out)
            continue
        if line.startswith("/clock"):
            try:
                jump = parse_duration(line.split()[1].lstrip("+"))
            except (IndexError, ValueError):
                print("  用法：/clock +2h（支持 m / h / d）", file=out)
                continue
            _fast_forward(services, offset, jump, sender)
            print(f"  ⏰ 现在是 {services.clock().astimezone(services.timezone):%m月%d日 %H:%M}", file=out)
        else:
            inbound = _inbound(line, current, screen, next(counter), out)
            if inbound is None:
                continue
            replies = handle(services, inbound)
            for reply in replies:
                shown = reply.alert if reply.alert and (inbound.is_group or reply.alert == reply.text) else reply.text
                screen.show(
                    f"  🤖 → {current.name}：",
                    Reply(shown, reply.buttons),
                    inbound.chat_id if not inbound.is_group else current.user_id,
                    False,
                    out,
                )
            tick(services.engine, services.policy, services.timezone, services.clock())
        asyncio.run(_drain(sender))
    services.engine.dispose()
    return 0


def _inbound(line: str, person, screen: Screen, number: int, out) -> Inbound | None:
    common = {
        "platform": "console",
        "message_key": f"demo-{number}",
        "user_id": person.user_id,
        "chat_id": person.user_id,
        "display_name": person.name,
    }
    button = screen.pressed(line, person.user_id)
    if button is not None:
        chat_id, is_group, data = button
        return Inbound(**{**common, "chat_id": chat_id, "is_group": is_group}, callback=data)
    if line.startswith("/photo"):
        return Inbound(**common, photo=f"photo-{number}.jpg", text=line[6:].strip())
    if line == "/location":
        return Inbound(**common, location=(31.2304, 121.4737))
    if line == "/contact":
        return Inbound(**common, contact=Contact(person.phone or "", person.user_id))
    if line.startswith("/group "):
        group = GROUPS.get(line.split()[1])
        if group is None:
            print(f"  没有这个群，可选：{'、'.join(GROUPS)}", file=out)
            return None
        return Inbound(**{**common, "chat_id": group, "is_group": True}, text=" ".join(line.split()[2:]))
    return Inbound(**common, text=line)


def _console_transport(screen: Screen, names: dict[str, str], out):
    ids = itertools.count(1)
    group_names = {chat: name for name, chat in GROUPS.items()}

    async def deliver(row, edit_target: str | None) -> Delivered:
        where = group_names.get(row.chat_id) or names.get(row.chat_id, row.chat_id)
        is_group = row.chat_id in group_names
        marker = "✏️ 卡片更新" if row.kind == "edit" else "📣" if is_group else "📩"
        attached = row.payload.get("document") or row.payload.get("image")
        photo = f"〔文件：{attached['name']}〕" if attached else "〔照片〕" if row.payload.get("photo") else ""
        screen.show(f"  {marker} [{where}] {photo}", Reply.from_payload(row.payload), row.chat_id, is_group, out)
        return Delivered(edit_target or str(next(ids)))

    return deliver


def _fast_forward(services: Services, offset: list[timedelta], jump: timedelta, sender: OutboxSender) -> None:
    """Move the clock in steps the size of the scheduler's tick, as a running bot would see them,
    delivering what each step queued."""
    end = offset[0] + jump
    while offset[0] < end:
        offset[0] = min(offset[0] + DEMO_TICK, end)
        if tick(services.engine, services.policy, services.timezone, services.clock()):
            asyncio.run(_drain(sender))


async def _drain(sender: OutboxSender) -> None:
    while await sender.deliver_due():
        pass


def _read(current_name, interactive: bool):
    while True:
        try:
            yield input(f"{current_name()}> ") if interactive else next(sys.stdin)
        except (EOFError, StopIteration, KeyboardInterrupt):
            return


def _real_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
