"""`gridbot doctor` says in Chinese what is wrong: nothing configured, an old schema, a platform unreachable."""

import asyncio

from bot.cli import main
from storage.db import make_engine, migrate
from tests.fake_telegram import FakeTelegram


async def test_a_healthy_installation_gets_ticks_and_exit_0(sqlite_url, monkeypatch, capsys):
    migrate(make_engine(sqlite_url))
    async with FakeTelegram() as tg:
        for name, value in {"DATABASE_URL": sqlite_url, "TELEGRAM_TOKEN": "123456:TEST", "TELEGRAM_API_URL": tg.root}.items():
            monkeypatch.setenv(f"GRIDBOT_{name}", value)
        code = await asyncio.to_thread(main, ["doctor"])
    out = capsys.readouterr().out
    assert code == 0 and "❌" not in out and "数据库：可连接，结构最新" in out and "Telegram：@" in out


def test_nothing_configured_an_old_schema_and_an_unreachable_platform_are_each_said(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", sqlite_url)  # never migrated
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "都没有配置" in out and "请运行 gridbot migrate" in out
    monkeypatch.setenv("GRIDBOT_TELEGRAM_TOKEN", "123456:TEST")
    monkeypatch.setenv("GRIDBOT_TELEGRAM_API_URL", "http://127.0.0.1:9")  # nothing listens there
    assert main(["doctor"]) == 1
    assert "Telegram：连不上" in capsys.readouterr().out
