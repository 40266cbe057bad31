"""In-process fakes of WeChat's side: the Official Account API, WeCom group robots, and the
WeChat servers' pushes to our callback (signed and, in safe mode, AES-encrypted with wechatpy).

    async with FakeWeChat() as wx:
        settings = wechat_settings(wx.root, db_url)
        async with running(settings):
            account = Account(settings)
            reply = await account.text("o_resident", "路灯坏了")
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Self
from xml.etree.ElementTree import fromstring

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.config import Settings
from tests.running import free_port, start_local_server

APPID, SECRET, TOKEN = "wx0123456789abcdef", "app-secret", "callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
ACCOUNT = "gh_gridbot"


def wechat_settings(api_root: str, database_url: str, *, safe_mode: bool = True, **extra) -> Settings:
    extra.setdefault("http_port", free_port())
    extra.setdefault("handler_process", False)  # as tests.running.bot_settings: threads unless asked
    return Settings(
        _env_file=None,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_token=TOKEN,
        wechat_aes_key=AES_KEY if safe_mode else None,
        wechat_api_url=api_root,
        database_url=database_url,
        **extra,
    )


def wechat_env(api_root: str) -> dict[str, str]:
    """The GRIDBOT_WECHAT_* variables an operator sets for safe mode against `api_root`."""
    return {
        "GRIDBOT_WECHAT_APPID": APPID,
        "GRIDBOT_WECHAT_SECRET": SECRET,
        "GRIDBOT_WECHAT_TOKEN": TOKEN,
        "GRIDBOT_WECHAT_AES_KEY": AES_KEY,
        "GRIDBOT_WECHAT_API_URL": api_root,
    }


class FakeWeChat:
    """The API at `root` (token, custom and template send) and group robots at `robot_url(key)`."""

    def __init__(self, token_lifetime: int = 7200):
        self.token_lifetime = token_lifetime
        self.token_fetches = 0
        self.stale_token_code = 40001  # what a refused token gets: 40001 (invalid) or 42001 (expired)
        self.valid_tokens: set[str] = set()
        self.sent: list[tuple[str, str]] = []  # customer-service texts: (openid, content)
        self.sent_at: list[float] = []  # time.monotonic() each of `sent` arrived, in the same order
        self.templates: list[tuple[str, str, dict]] = []
        self.refused: list[tuple[str, int]] = []  # (what, errcode) answered with an error
        self.out_of_window: set[str] = set()  # openids for whom custom send gives 45015
        self.robot_posts: dict[str, list[str]] = defaultdict(list)
        self.robot_errors: dict[str, list[int]] = defaultdict(list)  # errcodes to answer next, per robot
        self.robot_files: dict[str, list[tuple[str, bytes]]] = defaultdict(list)  # file messages: (name, content)
        self.robot_images: dict[str, list[bytes]] = defaultdict(list)
        self._media: dict[str, tuple[str, str, bytes]] = {}  # media_id -> (robot key, name, content)
        self._server: uvicorn.Server | None = None
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._custom_send, methods=["POST"]),
                Route("/cgi-bin/message/template/send", self._template_send, methods=["POST"]),
                Route("/cgi-bin/webhook/send", self._robot, methods=["POST"]),
                Route("/cgi-bin/webhook/upload_media", self._robot_upload, methods=["POST"]),
            ]
        )

    async def __aenter__(self) -> Self:
        self._server, self.root = await start_local_server(self.app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.should_exit = True
            await server.shutdown()

    def robot_url(self, key: str) -> str:
        return f"{self.root}/cgi-bin/webhook/send?key={key}"

    def expire_tokens(self) -> None:
        """As when a token expires or another server fetched a newer one: every token so far is refused."""
        self.valid_tokens.clear()

    def texts_to(self, openid: str) -> list[str]:
        return [text for to, text in self.sent if to == openid]

    # ---- endpoints -----------------------------------------------------------------------
    async def _token(self, request: Request) -> JSONResponse:
        query = request.query_params
        if query.get("appid") != APPID or query.get("secret") != SECRET:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        self.token_fetches += 1
        token = f"TOKEN-{self.token_fetches}"
        self.valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": self.token_lifetime})

    def _token_error(self, request: Request) -> JSONResponse | None:
        if request.query_params.get("access_token") not in self.valid_tokens:
            self.refused.append(("token", self.stale_token_code))
            return JSONResponse({"errcode": self.stale_token_code, "errmsg": "invalid credential"})
        return None

    async def _custom_send(self, request: Request) -> JSONResponse:
        if (error := self._token_error(request)) is not None:
            return error
        body = json.loads(await request.body())
        if body["touser"] in self.out_of_window:
            self.refused.append((body["touser"], 45015))
            return JSONResponse({"errcode": 45015, "errmsg": "response out of time limit"})
        self.sent.append((body["touser"], body["text"]["content"]))
        self.sent_at.append(time.monotonic())
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def _template_send(self, request: Request) -> JSONResponse:
        if (error := self._token_error(request)) is not None:
            return error
        body = json.loads(await request.body())
        self.templates.append((body["touser"], body["template_id"], body["data"]))
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates)})

    async def _robot(self, request: Request) -> JSONResponse:
        key = request.query_params.get("key", "")
        body = json.loads(await request.body())
        if self.robot_errors[key]:
            code = self.robot_errors[key].pop(0)
            self.refused.append((f"robot:{key}", code))
            return JSONResponse({"errcode": code, "errmsg": "api freq out of limit"})
        if body["msgtype"] == "file":  # as WeCom: a media_id uploaded with this robot's key
            media = self._media.get(body["file"]["media_id"])
            if media is None or media[0] != key:
                return JSONResponse({"errcode": 40007, "errmsg": "invalid media_id"})
            self.robot_files[key].append(media[1:])
        elif body["msgtype"] == "image":
            content = base64.b64decode(body["image"]["base64"])
            if hashlib.md5(content).hexdigest() != body["image"]["md5"]:
                return JSONResponse({"errcode": 301019, "errmsg": "media md5 not match"})
            self.robot_images[key].append(content)
        else:
            self.robot_posts[key].append(body["markdown"]["content"])
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def _robot_upload(self, request: Request) -> JSONResponse:
        """upload_media?key=…&type=file, multipart with a `media` part, as WeCom's robots take files."""
        key = request.query_params.get("key", "")
        if request.query_params.get("type") != "file":
            return JSONResponse({"errcode": 40004, "errmsg": "invalid media type"})
        ctype = request.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + await request.body())
        part = next((p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "media"), None)
        if part is None or not part.get_filename():
            return JSONResponse({"errcode": 44001, "errmsg": "empty media data"})
        media_id = f"media-{len(self._media) + 1}"
        self._media[media_id] = (key, part.get_filename(), part.get_payload(decode=True))
        return JSONResponse({"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id})

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except (LookupError, StopIteration, TypeError):
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.02)


_msg_ids = itertools.count(7_000_000_000_000_000_001)


def next_msg_id() -> int:
    return next(_msg_ids)


class Account:
    """WeChat's servers pushing to our callback, as they build requests (signature, safe mode)."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None):
        self.url = f"http://{settings.http_host}:{settings.http_port}/wechat"
        self.crypto = WeChatCrypto(TOKEN, settings.wechat_aes_key, APPID) if settings.wechat_aes_key else None
        self.client = client or httpx.AsyncClient(timeout=10)
        self.last_response: httpx.Response | None = None

    async def ready(self, timeout: float = 20) -> Self:
        """Wait until `gridbot run` answers /healthz (it migrates the database first)."""
        healthz = self.url.removesuffix("/wechat") + "/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (await self.client.get(healthz)).text == "ok":
                    return self
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError("gridbot never became healthy")

    async def text(self, openid: str, content: str, msg_id: int | None = None) -> str:
        """Push a text message; return the passive reply's text ('' for `success`)."""
        return await self.push(openid, "text", text_fields(content), msg_id=msg_id or next(_msg_ids))

    async def image(self, openid: str, media_id: str) -> str:
        return await self.push(
            openid,
            "image",
            f"<PicUrl><![CDATA[http://mmbiz.qpic.cn/{media_id}]]></PicUrl><MediaId><![CDATA[{media_id}]]></MediaId>",
            msg_id=next(_msg_ids),
        )

    async def voice(self, openid: str, media_id: str, recognition: str | None = None) -> str:
        """A voice message; `recognition` is what WeChat's speech recognition heard, when it is on."""
        heard = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
        return await self.push(
            openid, "voice", f"<MediaId><![CDATA[{media_id}]]></MediaId><Format>amr</Format>{heard}", msg_id=next(_msg_ids)
        )

    async def location(self, openid: str, latitude: float, longitude: float, label: str = "") -> str:
        return await self.push(
            openid,
            "location",
            f"<Location_X>{latitude}</Location_X><Location_Y>{longitude}"
            f"</Location_Y><Scale>15</Scale><Label><![CDATA[{label}]]></Label>",
            msg_id=next(_msg_ids),
        )

    async def event(self, openid: str, event: str, key: str = "", at: int | None = None) -> str:
        body = f"<Event><![CDATA[{event}]]></Event>" + (f"<EventKey><![CDATA[{key}]]></EventKey>" if key else "")
        return await self.push(openid, "event", body, created=at)

    async def push(self, openid: str, kind: str, fields: str, *, msg_id: int | None = None, created: int | None = None) -> str:
        response = await self.post_raw(message_xml(openid, kind, fields, msg_id=msg_id, created=created), openid=openid)
        assert response.status_code == 200, (response.status_code, response.text)
        return self.reply_text(response)

    async def post_raw(self, xml: str, **how) -> httpx.Response:
        """POST `xml` as WeChat would (encrypted in safe mode unless `encrypt=False`), optionally forged."""
        return await self.send(*self.sealed(xml, **how))

    async def send(self, query: dict, body: bytes) -> httpx.Response:
        self.last_response = await self.client.post(self.url, params=query, content=body, headers={"Content-Type": "text/xml"})
        return self.last_response

    def sealed(
        self,
        xml: str,
        *,
        openid: str = "o_x",
        forge_signature: bool = False,
        forge_msg_signature: bool = False,
        encrypt: bool = True,
    ) -> tuple[dict, bytes]:
        """The query and body WeChat's servers would send for `xml`: signed, and AES-sealed in safe mode."""
        timestamp, nonce = str(int(time.time())), f"n{next(_msg_ids)}"
        query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": openid}
        body = xml.encode()
        if self.crypto is not None and encrypt:
            sealed = fromstring(self.crypto.encrypt_message(xml, nonce, timestamp))
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{sealed.findtext('Encrypt')}]]></Encrypt></xml>"
            ).encode()
            query |= {"encrypt_type": "aes", "msg_signature": sealed.findtext("MsgSignature")}
        if forge_signature:
            query["signature"] = sign("guessed-token", timestamp, nonce)
        if forge_msg_signature:
            query["msg_signature"] = sign("guessed-token", timestamp, nonce, "x")
        return query, body

    def reply_text(self, response: httpx.Response) -> str:
        """Decrypt (safe mode) and read the Content of a passive reply."""
        if response.text in ("", "success"):
            return ""
        xml = response.text
        if self.crypto is not None:
            outer = fromstring(xml)
            xml = self.crypto.decrypt_message(
                xml, outer.findtext("MsgSignature"), outer.findtext("TimeStamp"), outer.findtext("Nonce")
            )
        return fromstring(xml).findtext("Content") or ""

    async def aclose(self) -> None:
        await self.client.aclose()


def message_xml(openid: str, kind: str, fields: str, *, msg_id: int | None = None, created: int | None = None) -> str:
    """A push as WeChat's servers write it, before any encryption."""
    created = created or int(time.time())
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
        f"{fields}" + (f"<MsgId>{msg_id}</MsgId>" if msg_id else "") + "</xml>"
    )


def text_fields(content: str) -> str:
    return f"<Content><![CDATA[{content}]]></Content>"


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature
