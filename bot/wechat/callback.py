"""The Official Account callback `GET|POST /wechat`: verify, parse, hand to handlers, reply at once."""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.wechat import choices
from bot.wechat.normalise import to_inbound
from bot.wechat.render import render
from bot.workers import Handlers, handler_pool
from handlers.context import Services
from handlers.router import BUSY, handle
from storage import inbox, outbox
from storage.db import transaction

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a WeChat push is a few hundred bytes
NOTHING = "success"  # what WeChat expects when there is nothing to say
ANSWER_WITHIN = 3.0  # seconds; WeChat waits 5 for a passive reply, then retries the push; a busy
# event loop reaches the reply late, so the margin is wide
REPLAY_WINDOW = 300  # seconds: a signed request older (or newer) than this is refused


class BadRequest(Exception):
    pass


class WeChatCallback:
    def __init__(
        self,
        services: Services,
        token: str,
        appid: str,
        aes_key: str | None,
        wake: Callable[[], None] = lambda: None,  # the sender's next pass, soon (OutboxSender.wake_soon)
        wall: Callable[[], float] = time.time,
        workers: Handlers | None = None,
    ):
        self.services = services
        self.wall = wall  # WeChat's timestamps are wall-clock time, whatever the business clock says
        self._nonces: dict[str, tuple[float, str]] = {}  # nonce → (when seen, digest of its body)
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.wake = wake
        self.workers = workers or handler_pool(services, "wechat")

    async def receive(self, request: Request) -> Response:
        query = request.query_params
        if request.method == "GET":
            return self._echo(query)
        if not self._plain_signature_holds(query):
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        if not self._not_replayed(query, body):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            xml = self._opened(body, query)
            message = _message(xml)
        except InvalidSignatureException:
            logger.warning("wechat push with a forged msg_signature refused")
            return PlainTextResponse("forbidden", status_code=403)
        except BadRequest as error:
            logger.warning("wechat push refused: %s", error)
            return PlainTextResponse("bad request", status_code=400)
        inbound = to_inbound(message)
        if inbound is None:
            return PlainTextResponse(NOTHING)
        text = await self._answer_in_time(inbound)
        self.wake()
        if not text:
            return PlainTextResponse(NOTHING)
        reply = TextReply(message=message, content=text).render()
        if self.crypto is not None:
            reply = self.crypto.encrypt_message(reply, query.get("nonce", secrets.token_hex(8)))
        return Response(reply, media_type="application/xml")

    async def _answer_in_time(self, inbound) -> str:
        """The answer, once its transaction has committed: a process dying before that gives WeChat no
        answer, so it pushes again, and the inbox makes that harmless. An answer not ready within
        ANSWER_WITHIN goes as a customer-service message instead, queued in the same transaction, and
        the push is answered `success`, before WeChat's 5 s are up."""
        answer_by = time.monotonic() + ANSWER_WITHIN
        try:
            return await self.workers.run(answer, inbound, answer_by)
        except Exception:
            logger.exception("wechat push %s failed", inbound.message_key)
            return BUSY.text

    def _not_replayed(self, query, body: bytes) -> bool:
        """The signature covers token, timestamp and nonce, not the body (plain mode): a captured
        request could carry any body, forever. So: a timestamp within REPLAY_WINDOW of now, and a
        nonce not seen before with another body (WeChat's own retry repeats the body: the inbox
        answers it the same)."""
        now = self.wall()
        try:
            sent_at = int(query.get("timestamp", ""))
        except ValueError:
            return False
        if abs(now - sent_at) > REPLAY_WINDOW:
            logger.warning("wechat push with a timestamp %d s off refused", now - sent_at)
            return False
        for nonce in [n for n, (seen, _) in self._nonces.items() if seen < now - REPLAY_WINDOW]:
            del self._nonces[nonce]
        digest = hashlib.sha256(body).hexdigest()
        nonce = query.get("nonce", "")
        earlier = self._nonces.setdefault(nonce, (now, digest))
        if earlier[1] != digest:
            logger.warning("wechat push reusing nonce %s with another body refused", nonce)
            return False
        return True

    def _echo(self, query) -> Response:
        if not self._plain_signature_holds(query):
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(query.get("echostr", ""))

    def _plain_signature_holds(self, query) -> bool:
        """`signature` is on every push; in safe mode it may be absent, msg_signature then decides."""
        if "signature" not in query and self.crypto is not None and request_is_encrypted(query):
            return True
        try:
            check_signature(self.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
        except InvalidSignatureException:
            logger.warning("wechat request with a forged signature refused")
            return False
        return True

    def _opened(self, body: bytes, query) -> str:
        """The message XML: checked for hostile entities, decrypted and checked again in safe mode."""
        outer = _parsed(body)
        if self.crypto is None:
            return _text(body)
        encrypted = outer.findtext("Encrypt")
        if not encrypted:
            raise BadRequest("safe mode, but no Encrypt element")
        inner = self.crypto.decrypt_message(
            {"Encrypt": encrypted}, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        )
        _parsed(inner.encode() if isinstance(inner, str) else inner)
        return inner


def request_is_encrypted(query) -> bool:
    return query.get("encrypt_type") == "aes" and "msg_signature" in query


def _parsed(raw: bytes):
    """defusedxml first: entity expansion and external entities are refused before wechatpy sees them."""
    try:
        return fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise BadRequest(f"{type(error).__name__}: {error}") from None


def _text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError as error:
        raise BadRequest(f"not UTF-8: {error}") from None


def _message(xml: str):
    """wechatpy's reading of well-formed XML that is still no WeChat message (no root `xml`…)."""
    try:
        message = parse_message(xml)
        if not message.source or message.create_time is None:
            raise ValueError("no FromUserName or CreateTime")
        return message
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        raise BadRequest(f"not a WeChat message: {type(error).__name__}: {error}") from None


def answer(services: Services, inbound, answer_by: float = float("inf")) -> str:
    """Run the handlers; return the passive reply: held notices first, then the answer itself ('' when
    it went as a customer-service message, `answer_by` having passed). The numbered choices it shows
    are remembered, so a digit next time presses one."""
    picked = None
    if choices.may_be_choice(inbound.text):
        with transaction(services.engine) as session:
            picked = choices.take(session, inbound.user_id, inbound.text)
    if picked is not None:
        inbound = _pressed(inbound, picked)
    late: list[str] = []

    def settle(session, replies) -> None:
        shown = _shown(replies)
        if shown.choices:
            choices.remember(session, inbound.user_id, shown.choices)
        if shown.text and time.monotonic() > answer_by:
            logger.warning("answer to %s not ready in %.1f s; it follows as a message", inbound.message_key, ANSWER_WITHIN)
            queue_late_answer(session, services, inbound, shown.text)
            late.append(shown.text)

    replies = handle(services, inbound, deliver_held=True, before_commit=settle)
    return "" if late else _shown(replies).text


def _shown(replies):
    return render([reply.to_payload() | _extras(reply) for reply in replies])


def queue_late_answer(session, services: Services, inbound, text: str) -> None:
    """The answer as a message, and the push marked answered: WeChat's retry of it gets `success`."""
    now = services.clock()
    outbox.enqueue(session, f"late:{inbound.message_key}", "wechat", inbound.chat_id, {"text": text}, not_before=now)
    inbox.mark_replied(session, inbound.platform, [inbound.message_key], now)


def _pressed(inbound, data: str):
    return replace(inbound, text="", callback=data)


def _extras(reply) -> dict:
    """What `to_payload` leaves out but WeChat's text needs: a lone pop-up, the contact button."""
    extras = {"alert": reply.alert} if reply.alert and not reply.text else {}
    return extras | ({"ask_contact": True} if reply.ask_contact else {})
