"""The few WeChat Official Account API calls gridbot makes, async, against a configurable root.

wechatpy's own client is synchronous and hard-codes the token URL, so these go through httpx.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable

import httpx

logger = logging.getLogger(__name__)

TOKEN_STALE = {40001, 40014, 42001}  # invalid / expired access token: fetch a new one, try once more
EARLY_REFRESH = 300.0  # seconds before WeChat's expiry that the cached token is renewed


class WeChatApiError(Exception):
    """The token could not be had: a configuration or network problem, retried by the sender."""


class WeChatApi:
    def __init__(
        self, root: str, appid: str, secret: str, client: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic
    ):
        self.root = root.rstrip("/")
        self.appid, self.secret = appid, secret
        self.client = client
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        """Fetched once, cached until shortly before it expires; one fetch at a time."""
        async with self._lock:
            if self._token is None or self.clock() >= self._expires_at:
                self._token, lifetime = await self._fetch_token()
                self._expires_at = self.clock() + max(lifetime - EARLY_REFRESH, lifetime / 2)
            return self._token

    async def _fetch_token(self) -> tuple[str, float]:
        response = await self.client.get(
            f"{self.root}/cgi-bin/token", params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        )
        response.raise_for_status()
        body = response.json()
        if "access_token" not in body:
            raise WeChatApiError(f"token refused: {body.get('errcode')} {body.get('errmsg')}")
        logger.info("wechat access token fetched")
        return body["access_token"], float(body.get("expires_in", 7200))

    def _forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def post(self, path: str, payload: dict) -> dict:
        """POST with the access token; a stale token is replaced and the call repeated once."""
        for _ in range(2):
            token = await self.access_token()
            response = await self.client.post(
                f"{self.root}{path}",
                params={"access_token": token},
                content=_json(payload),
                headers={"Content-Type": "application/json"},
            )
            response.raise_for_status()
            body = response.json()
            if body.get("errcode") not in TOKEN_STALE:
                return body
            logger.info("wechat access token rejected (%s); fetching a new one", body.get("errcode"))
            self._forget(token)
        return body

    async def send_text(self, openid: str, text: str) -> dict:
        return await self.post("/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_template(self, openid: str, template_id: str, text: str) -> dict:
        """A template message whose one field `content` carries the notice."""
        return await self.post(
            "/cgi-bin/message/template/send", {"touser": openid, "template_id": template_id, "data": {"content": {"value": text}}}
        )


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()  # WeChat shows \u escapes literally
