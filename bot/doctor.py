"""`gridbot doctor`: what is wrong with this installation, said in Chinese — configuration, database,
migrations, and whether Telegram and WeChat answer. Exit 0 when nothing is wrong."""

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bot.config import Settings
from storage.db import make_engine, ping, schema_revisions

TIMEOUT = 5.0


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str


def examine(settings: Settings, client: httpx.Client) -> list[Finding]:
    checks: list[Callable[[], Finding]] = [lambda: _configuration(settings), lambda: _database(settings)]
    if settings.telegram_enabled:
        checks.append(lambda: _telegram(settings, client))
    if settings.wechat_enabled:
        checks.append(lambda: _wechat(settings, client))
    return [check() for check in checks]


def _configuration(settings: Settings) -> Finding:
    if not (settings.telegram_enabled or settings.wechat_enabled):
        return Finding(
            False, "配置：Telegram 和微信都没有配置（GRIDBOT_TELEGRAM_TOKEN 或 GRIDBOT_WECHAT_*），机器人收不到任何消息。"
        )
    if settings.telegram_webhook_url and not settings.telegram_webhook_url.startswith("https://"):
        return Finding(False, f"配置：Telegram webhook 地址必须是 https：{settings.telegram_webhook_url}")
    if settings.public_url and not settings.public_url.startswith("https://"):
        return Finding(
            False, f"配置：GRIDBOT_PUBLIC_URL 不是 https，网页工作台的登录 Cookie 不能加 Secure：{settings.public_url}"
        )
    return Finding(
        True,
        "配置：已配置 "
        + "、".join(n for n, on in (("Telegram", settings.telegram_enabled), ("微信", settings.wechat_enabled)) if on),
    )


def _database(settings: Settings) -> Finding:
    engine = make_engine(settings.database_url)
    try:
        if not ping(engine):
            return Finding(False, f"数据库：连不上 {engine.url.render_as_string(hide_password=True)}")
        current, newest = schema_revisions(engine)
    finally:
        engine.dispose()
    if current != newest:
        return Finding(False, f"数据库：结构不是最新（当前 {current or '空库'}，应为 {newest}），请运行 gridbot migrate")
    return Finding(True, f"数据库：可连接，结构最新（{newest}）")


def _telegram(settings: Settings, client: httpx.Client) -> Finding:
    try:
        body = client.get(f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_token}/getMe").json()
    except (httpx.HTTPError, ValueError) as error:
        return Finding(False, f"Telegram：连不上 {settings.telegram_api_url}（{type(error).__name__}）")
    if not body.get("ok"):
        return Finding(False, f"Telegram：令牌无效（{body.get('description', '')}）")
    return Finding(True, f"Telegram：@{body['result'].get('username', '')} 可用")


def _wechat(settings: Settings, client: httpx.Client) -> Finding:
    try:
        body = client.get(
            f"{settings.wechat_api_url.rstrip('/')}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": settings.wechat_appid, "secret": settings.wechat_secret},
        ).json()
    except (httpx.HTTPError, ValueError) as error:
        return Finding(False, f"微信：连不上 {settings.wechat_api_url}（{type(error).__name__}）")
    if "access_token" not in body:
        return Finding(
            False,
            f"微信：取不到 access_token（{body.get('errcode')} {body.get('errmsg', '')}），请核对 AppID、AppSecret 和 IP 白名单",
        )
    return Finding(True, "微信：公众号接口可用")


def doctor_command(settings: Settings, _args) -> int:
    with httpx.Client(timeout=TIMEOUT) as client:
        findings = examine(settings, client)
    for finding in findings:
        print(("✅ " if finding.ok else "❌ ") + finding.text)
    return 0 if all(finding.ok for finding in findings) else 1
