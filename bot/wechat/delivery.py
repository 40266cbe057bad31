"""Outbox transports: "wechat" (customer-service message to an openid) and "wecom" (group robot)."""

import asyncio
import base64
import hashlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from bot.sender import Delivered, GiveUp, Held, Outcome, Retry
from bot.wechat import choices
from bot.wechat.api import WeChatApi
from bot.wechat.render import render, robot_markdown
from storage.attachments import content_of
from storage.db import transaction
from storage.models import Identity, OutboxMessage

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=48)  # customer-service messages only this long after the person's last message
OUT_OF_WINDOW = {45015, 45047}  # 45015: window closed; 45047: too many messages in the window
NO_SUCH_USER = {40003, 43004}  # bad openid; the person unfollowed the account
ROBOT_RATE_LIMITED = 45009
ROBOT_GONE = {93000}  # the webhook key is invalid: fix the roster, not a retry


def wechat_transport(api: WeChatApi, engine: Engine, clock: Callable[[], datetime], template_id: str | None = None):
    async def deliver(row: OutboxMessage, _edit_target: str | None) -> Outcome:
        shown = render([row.payload])
        # Remembered before sending, as the person may answer "1" the moment the message shows; taken
        # back unless it arrived, so a number never presses a button the person was not shown.
        earlier = await asyncio.to_thread(_remember, engine, row.chat_id, shown.choices)
        try:
            outcome = await _send(row.chat_id, shown)
        except BaseException:
            await asyncio.to_thread(_take_back, engine, row.chat_id, shown.choices, earlier)
            raise
        if not isinstance(outcome, Delivered):
            await asyncio.to_thread(_take_back, engine, row.chat_id, shown.choices, earlier)
        return outcome

    async def _send(openid: str, shown) -> Outcome:
        last_seen = await asyncio.to_thread(_last_seen, engine, openid)
        if last_seen is None or clock() - last_seen > SERVICE_WINDOW:
            return await _outside_window(openid, shown, "last message over 48 h ago")
        body = await api.send_text(openid, shown.text)
        code = body.get("errcode", 0)
        if code == 0:
            return Delivered(str(body.get("msgid", "")) or None)
        if code in OUT_OF_WINDOW:
            return await _outside_window(openid, shown, f"{code}: {body.get('errmsg', '')}")
        if code in NO_SUCH_USER:
            return GiveUp(f"{code}: {body.get('errmsg', '')}")
        return Retry(f"{code}: {body.get('errmsg', '')}")

    async def _outside_window(openid: str, shown, why: str) -> Outcome:
        """A template message where one is configured; otherwise held for the next passive reply
        (whose choices are remembered when that reply shows them: bot/wechat/callback.py)."""
        if template_id:
            body = await api.send_template(openid, template_id, shown.text)
            if body.get("errcode", 0) == 0:
                return Delivered(str(body.get("msgid", "")) or None)
            logger.warning("template message to %s refused: %s", openid, body)
        return Held(why)

    return deliver


def _last_seen(engine: Engine, openid: str) -> datetime | None:
    with transaction(engine) as session:
        return session.exec(
            select(Identity.last_seen_at).where(Identity.platform == "wechat", Identity.user_id == openid)
        ).first()


def _remember(engine: Engine, openid: str, shown_choices: tuple[str, ...]) -> str | None:
    with transaction(engine) as session:
        return choices.remember(session, openid, shown_choices)


def _take_back(engine: Engine, openid: str, shown_choices: tuple[str, ...], earlier: str | None) -> None:
    with transaction(engine) as session:
        choices.take_back(session, openid, shown_choices, earlier)


class RobotLimiter:
    """WeCom allows a group robot 20 messages a minute: count per webhook, say how long to wait."""

    def __init__(self, per_window: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.per_window, self.window, self.clock = per_window, window, clock
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._paused_until: dict[str, float] = {}

    def wait(self, webhook: str) -> float:
        """Seconds until this robot may post again; 0 means now (and counts the post)."""
        now = self.clock()
        sent = self._sent[webhook]
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        paused = self._paused_until.get(webhook, 0.0) - now
        if paused > 0:
            return paused
        if len(sent) >= self.per_window:
            return sent[0] + self.window - now
        sent.append(now)
        return 0.0

    def pause(self, webhook: str) -> float:
        """The robot said it is over its limit: wait a whole window."""
        self._paused_until[webhook] = self.clock() + self.window
        return self.window


class UploadFailed(Exception):
    """The robot did not take the file: try the row again later."""


async def _robot_message(client: httpx.AsyncClient, row: OutboxMessage) -> dict:
    """Markdown for a notice; a file message for a workbook (uploaded first); an image inline."""
    payload = row.payload
    if payload.get("image"):
        content = content_of(payload["image"])
        image = {"base64": base64.b64encode(content).decode("ascii"), "md5": hashlib.md5(content).hexdigest()}
        return {"msgtype": "image", "image": image}
    if payload.get("document"):
        return {"msgtype": "file", "file": {"media_id": await _upload(client, row.chat_id, payload["document"])}}
    return {"msgtype": "markdown", "markdown": {"content": robot_markdown(payload)}}


async def _upload(client: httpx.AsyncClient, webhook: str, document: dict) -> str:
    """WeCom's upload_media beside the robot's send URL (same key): the file's media_id, valid 3 days."""
    url = httpx.URL(webhook.replace("/webhook/send", "/webhook/upload_media"))
    response = await client.post(
        url.copy_merge_params({"type": "file"}), files={"media": (document["name"], content_of(document))}
    )
    body = response.json() if response.status_code < 500 else {}
    if body.get("errcode", 0) != 0 or not body.get("media_id"):
        raise UploadFailed(f"robot upload {response.status_code}: {body.get('errmsg', '')}")
    return body["media_id"]


def wecom_transport(client: httpx.AsyncClient, limiter: RobotLimiter):
    async def deliver(row: OutboxMessage, _edit_target: str | None) -> Outcome:
        wait = limiter.wait(row.chat_id)
        if wait > 0:
            return Retry("robot limit: 20 messages a minute", retry_after=wait)
        try:
            response = await client.post(row.chat_id, json=await _robot_message(client, row))
        except UploadFailed as failed:
            return Retry(str(failed))
        if response.status_code >= 500:
            return Retry(f"robot http {response.status_code}")
        body = response.json()
        code = body.get("errcode", 0)
        if code == 0:
            return Delivered()
        if code == ROBOT_RATE_LIMITED:
            return Retry(f"{code}: {body.get('errmsg', '')}", retry_after=limiter.pause(row.chat_id))
        if code in ROBOT_GONE:
            return GiveUp(f"{code}: {body.get('errmsg', '')}")
        return Retry(f"{code}: {body.get('errmsg', '')}")

    return deliver
