"""In-process fake of the Telegram Bot API HTTP server.

The real ``telegram.ext.Application`` runs against it unchanged::

    async with FakeTelegram() as tg:
        app = Application.builder().token("1:x").base_url(f"{tg.root}/bot").build()

It keeps what the chats would show (``tg.chat(id)``), every call made (``tg.calls``),
long-polls ``getUpdates`` like Telegram, and can inject 429/403/5xx answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import inspect
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.running import start_local_server

BOT_USER = {"id": 999, "is_bot": True, "first_name": "GridBot", "username": "gridbot_test"}

# PTB sends str parameters verbatim and JSON-encodes everything else (ints, bools,
# reply_markup, ...). These fields are always text, so never JSON-decode them
# (a message text "123" must stay a string).
_TEXT_FIELDS = {
    "text",
    "caption",
    "callback_query_id",
    "url",
    "parse_mode",
    "file_id",
    "photo",
    "inline_message_id",
    "business_connection_id",
    "message_effect_id",
    "secret_token",
    "language_code",
    "ip_address",
    "emoji",
    "title",
    "description",
    "name",
    "action",
}
_FAILURE_TEXT = {403: "Forbidden: bot was blocked by the user", 500: "Internal Server Error", 502: "Bad Gateway"}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None

    def to_dict(self) -> dict:
        d = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            d["username"] = self.username
        return d


@dataclass
class SentMessage:
    """A bot message as the chat shows it now (edits mutate it in place)."""

    message_id: int
    text: str | None
    buttons: list[list[tuple[str, str | None]]]  # inline keyboard: (label, callback_data)
    photo: str | None = None  # file_id of the photo, caption is in ``text``
    document: str | None = None  # file_id of a document (its bytes in FakeTelegram.files), caption in ``text``
    edited_times: int = 0
    chat_id: int = 0
    keyboard: list[list[str]] = field(default_factory=list)  # reply keyboard labels
    raw: dict = field(default_factory=dict, repr=False)  # the Message object, current state
    sent_by: str = ""  # the bot token it came with: which process sent it, when each has a token of its own
    sent_text: str | None = None  # the text as first sent, before any edit
    arrived_at: float = 0.0  # time.monotonic() when the fake took it


class ApiError(Exception):
    """Raised by method handlers; turned into Telegram's error JSON."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _inline_buttons(markup: dict | None) -> list[list[tuple[str, str | None]]]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]


def _keyboard_labels(markup: dict | None) -> list[list[str]]:
    rows = (markup or {}).get("keyboard") or []
    return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id "@channel"


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    # python-multipart is not installed (starlette needs it for form()), the stdlib does it.
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        fields[name] = payload if part.get_filename() is not None else payload.decode()
        if part.get_filename() is not None:
            fields["_filename"] = part.get_filename()
    return fields


async def _read_params(request: Request) -> dict[str, Any]:
    fields: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if body:
        if ctype.startswith("application/json"):
            fields.update(json.loads(body))
        elif ctype.startswith("multipart/form-data"):
            fields.update(_parse_multipart(ctype, body))
        else:  # application/x-www-form-urlencoded, what PTB sends without files
            fields.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {k: _decode(k, v) for k, v in fields.items()}


_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")  # the token of the call being served


class FakeTelegram:
    def __init__(self) -> None:
        self.root = ""
        self.calls: list[tuple[str, dict]] = []
        self.callback_answers: list[tuple[str, str | None, bool]] = []
        self.files: dict[str, bytes] = {}  # file_id -> content, served by getFile + /file/
        self.commands: list[dict] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_answers: list[int] = []  # HTTP status of each webhook delivery
        self.on_webhook_answer: Callable[[dict, int], None] | None = None  # called the moment each answer arrives
        self._webhook_deliveries: set[asyncio.Task] = set()
        # rate meter: time.monotonic() of each successful send / edit, per chat
        self.sent_at: dict[int, list[float]] = defaultdict(list)
        self.edited_at: dict[int, list[float]] = defaultdict(list)
        self._chats: dict[int, list[SentMessage]] = defaultdict(list)
        self._users: dict[int, User] = {}
        self._last_message_id: dict[int, int] = defaultdict(int)
        self._queue: list[dict] = []  # updates not yet confirmed via offset
        self._redeliver: list[dict] = []  # repeat()ed updates, delivered once regardless of offset
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._upload_ids = itertools.count(1)
        self.file_names: dict[str, str] = {}  # file_id -> the name an upload came with
        self._failures: dict[int, list[ApiError]] = defaultdict(list)
        self.migrated: dict[int, int] = {}  # group → the supergroup it was upgraded to
        self._wakeup = asyncio.Event()
        self._closing = False
        self._server: uvicorn.Server | None = None
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # ---- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._server, self.root = await start_local_server(self.app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        self._wake()  # release long polls so their connections can finish
        server, self._server = self._server, None
        if server is None:
            return
        for s in server.servers:
            s.close()
        for conn in list(server.server_state.connections):
            conn.shutdown()  # closes idle keep-alive connections, ends busy ones after reply
        deadline = time.monotonic() + 2
        while server.server_state.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        for conn in list(server.server_state.connections):
            conn.transport.close()
        for s in server.servers:
            await s.wait_closed()

    # ---- HTTP ------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        _CALLER.set(request.path_params["token"])
        params = await _read_params(request)
        self.calls.append((method, params))
        handler = getattr(self, f"_api_{method.lower()}", None)  # names ignore case
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404)
        try:
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as err:
            body = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return JSONResponse(body, status_code=err.status)
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        file_id = request.path_params["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="application/octet-stream")

    # ---- updates ---------------------------------------------------------------------
    def _wake(self) -> None:
        # Waiters hold the old event; swapping avoids needing a lock from sync push_*().
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def _api_getupdates(self, p: dict) -> list[dict]:
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        if offset > 0:  # confirm: everything below offset is forgotten
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:  # Telegram: -N keeps only the last N updates
            self._queue = self._queue[offset:]
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while True:
            batch = self._take_batch(limit)
            remaining = deadline - time.monotonic()
            if batch or self._closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _take_batch(self, limit: int) -> list[dict]:
        candidates = [(u, True) for u in self._redeliver] + [(u, False) for u in self._queue]
        batch = sorted(candidates, key=lambda c: c[0]["update_id"])[:limit]
        delivered_again = {id(u) for u, again in batch if again}
        self._redeliver = [u for u in self._redeliver if id(u) not in delivered_again]
        return [u for u, _ in batch]

    def _api_deletewebhook(self, p: dict) -> bool:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            self._queue.clear()
            self._redeliver.clear()
        return True

    def _api_setwebhook(self, p: dict) -> bool:
        self.webhook_url = p.get("url", "")
        self.webhook_secret = p.get("secret_token")
        return True

    async def _post_to_webhook(self, update: dict) -> None:
        """Deliver as Telegram does in webhook mode: POST the update, with the secret token header."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        async with httpx.AsyncClient() as client:
            response = await client.post(self.webhook_url, json=update, headers=headers)
        if self.on_webhook_answer is not None:
            self.on_webhook_answer(update, response.status_code)
        self.webhook_answers.append(response.status_code)

    def _api_getwebhookinfo(self, p: dict) -> dict:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": self.pending_updates()}

    def _api_setmycommands(self, p: dict) -> bool:
        self.commands = list(p.get("commands") or [])
        return True

    _api_deletemycommands = _api_setmycommands  # no "commands" parameter: clears them

    def _api_getme(self, p: dict) -> dict:
        return BOT_USER

    def _api_close(self, p: dict) -> bool:
        return True

    _api_logout = _api_sendchataction = _api_close

    # ---- messages --------------------------------------------------------------------
    def _chat_dict(self, chat_id: int) -> dict:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        chat = {"id": chat_id, "type": "private"}
        if user := self._users.get(chat_id):
            chat["first_name"] = user.first_name
            if user.username:
                chat["username"] = user.username
        return chat

    def _message(self, chat_id: int, sender: dict, **content: Any) -> dict:
        # User and bot messages share the chat's message_id sequence, as in Telegram.
        self._last_message_id[chat_id] += 1
        return {
            "message_id": self._last_message_id[chat_id],
            "date": int(time.time()),
            "chat": self._chat_dict(chat_id),
            "from": sender,
            **content,
        }

    def _target_chat(self, p: dict) -> int:
        try:
            chat_id = int(p["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if self._failures.get(chat_id):
            raise self._failures[chat_id].pop(0)
        if chat_id in self.migrated:
            raise ApiError(
                400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self.migrated[chat_id]}
            )
        return chat_id

    def _store(self, chat_id: int, msg: dict, photo: str | None = None, document: str | None = None) -> dict:
        markup = msg.get("reply_markup")
        if markup and "inline_keyboard" not in markup:
            # Telegram echoes only inline keyboards in Message.reply_markup; a reply keyboard
            # (e.g. "share my phone") shows in the chat but is not part of the returned Message.
            msg = {k: v for k, v in msg.items() if k != "reply_markup"}
        self._chats[chat_id].append(
            SentMessage(
                message_id=msg["message_id"],
                text=msg.get("text", msg.get("caption")),
                buttons=_inline_buttons(markup),
                photo=photo,
                document=document,
                chat_id=chat_id,
                keyboard=_keyboard_labels(markup),
                raw=msg,
                sent_by=_CALLER.get(),
                sent_text=msg.get("text", msg.get("caption")),
                arrived_at=time.monotonic(),
            )
        )  # labels kept: what the person sees
        self.sent_at[chat_id].append(time.monotonic())
        return msg

    def _api_sendmessage(self, p: dict) -> dict:
        chat_id = self._target_chat(p)
        if not p.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        extra = {"reply_markup": p["reply_markup"]} if p.get("reply_markup") else {}
        return self._store(chat_id, self._message(chat_id, BOT_USER, text=p["text"], **extra))

    def _api_sendphoto(self, p: dict) -> dict:
        chat_id = self._target_chat(p)
        photo = p.get("photo")
        if isinstance(photo, bytes):  # an upload: give it a file_id like Telegram would
            file_id = f"uploaded-{next(self._upload_ids)}"
            self.files[file_id] = photo
        elif isinstance(photo, str) and photo:
            file_id = photo
        else:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        size = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "width": 320,
            "height": 240,
            "file_size": len(self.files.get(file_id, b"")),
        }
        extra: dict[str, Any] = {"photo": [size]}
        if p.get("caption"):
            extra["caption"] = p["caption"]
        if p.get("reply_markup"):
            extra["reply_markup"] = p["reply_markup"]
        return self._store(chat_id, self._message(chat_id, BOT_USER, **extra), photo=file_id)

    def _api_senddocument(self, p: dict) -> dict:
        chat_id = self._target_chat(p)
        content = p.get("document")
        if not isinstance(content, bytes) or not content:
            raise ApiError(400, "Bad Request: there is no document in the request")
        file_id = f"uploaded-{next(self._upload_ids)}"
        self.files[file_id] = content
        self.file_names[file_id] = p.get("_filename", "")
        extra: dict[str, Any] = {"document": {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content)}}
        extra["document"]["file_name"] = self.file_names[file_id]
        if p.get("caption"):
            extra["caption"] = p["caption"]
        return self._store(chat_id, self._message(chat_id, BOT_USER, **extra), document=file_id)

    def _find(self, chat_id: int, message_id: Any) -> SentMessage | None:
        return next((m for m in self._chats.get(chat_id, ()) if m.message_id == int(message_id or 0)), None)

    def _edit(self, p: dict, text: str | None) -> dict:
        chat_id = self._target_chat(p)
        msg = self._find(chat_id, p.get("message_id"))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = p.get("reply_markup") or None  # Telegram drops the keyboard when omitted
        if text is not None and msg.photo is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        new_text = msg.text if text is None else text
        if new_text == msg.text and markup == msg.raw.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        if text is not None:
            msg.raw["text"] = msg.text = text
        msg.raw.pop("reply_markup", None)
        if markup:
            msg.raw["reply_markup"] = markup
        msg.buttons, msg.keyboard = _inline_buttons(markup), _keyboard_labels(markup)
        msg.raw["edit_date"] = int(time.time())
        msg.edited_times += 1
        self.edited_at[chat_id].append(time.monotonic())
        return msg.raw

    def _api_editmessagetext(self, p: dict) -> dict:
        if not p.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        return self._edit(p, p["text"])

    def _api_editmessagereplymarkup(self, p: dict) -> dict:
        return self._edit(p, None)

    def _api_deletemessage(self, p: dict) -> bool:
        chat_id = int(p.get("chat_id") or 0)
        msg = self._find(chat_id, p.get("message_id"))
        if msg is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self._chats[chat_id].remove(msg)
        return True

    def _api_answercallbackquery(self, p: dict) -> bool:
        self.callback_answers.append((str(p.get("callback_query_id")), p.get("text"), bool(p.get("show_alert", False))))
        return True

    def _api_getfile(self, p: dict) -> dict:
        file_id = p.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"files/{file_id}",
        }

    # ---- test API: pushing updates ---------------------------------------------------
    def push_raw(self, update: dict) -> dict:
        if "update_id" in update:  # keep the caller's id, never hand it out again
            self._update_ids = itertools.count(max(update["update_id"] + 1, next(self._update_ids)))
        else:
            update["update_id"] = next(self._update_ids)
        if self.webhook_url:
            delivery = asyncio.get_running_loop().create_task(self._post_to_webhook(update))
            self._webhook_deliveries.add(delivery)
            delivery.add_done_callback(self._webhook_deliveries.discard)
            return update
        self._queue.append(update)
        self._wake()
        return update

    def repeat(self, update: dict) -> dict:
        """Deliver ``update`` again with the same update_id, even if already confirmed."""
        self._redeliver.append(update)
        self._wake()
        return update

    def _user_message(self, user: User, chat_id: int | None, **content: Any) -> dict:
        self._users[user.id] = user
        return self._message(user.id if chat_id is None else chat_id, user.to_dict(), **content)

    def push_text(self, user: User, text: str, chat_id: int | None = None) -> dict:
        msg = self._user_message(user, chat_id, text=text)
        if text.startswith("/"):  # so CommandHandler sees a command; length in UTF-16 units
            command = text.split(maxsplit=1)[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
        return self.push_raw({"message": msg})

    def push_photo(self, user: User, file_id: str, caption: str | None = None, chat_id: int | None = None) -> dict:
        self.files.setdefault(file_id, b"\xff\xd8\xff\xe0fake-jpeg:" + file_id.encode())
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "width": w,
                "height": w * 3 // 4,
                "file_size": len(self.files[file_id]),
            }
            for w in (90, 800)
        ]
        extra = {"caption": caption} if caption is not None else {}
        return self.push_raw({"message": self._user_message(user, chat_id, photo=sizes, **extra)})

    def push_location(self, user: User, lat: float, lon: float) -> dict:
        location = {"latitude": lat, "longitude": lon}
        return self.push_raw({"message": self._user_message(user, None, location=location)})

    def push_contact(self, user: User, phone: str, contact_user_id: int | None = None) -> dict:
        contact = {"phone_number": phone, "first_name": user.first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self.push_raw({"message": self._user_message(user, None, contact=contact)})

    def push_callback(self, user: User, message: SentMessage | tuple[int, int], data: str) -> dict:
        chat_id, message_id = (message.chat_id, message.message_id) if isinstance(message, SentMessage) else message
        stored = self._find(chat_id, message_id)
        if stored is None:
            raise KeyError(f"no bot message {message_id} in chat {chat_id}\n{self.dump()}")
        self._users[user.id] = user
        query = {
            "id": str(next(self._callback_ids)),
            "from": user.to_dict(),
            "chat_instance": str(chat_id),
            "data": data,
            "message": copy.deepcopy(stored.raw),
        }  # frozen at the moment of the tap
        return self.push_raw({"callback_query": query})

    # ---- test API: failures, state, waiting ------------------------------------------
    def fail_next(
        self, chat_id: int, status: int, count: int = 1, retry_after: int | None = None, description: str | None = None
    ) -> None:
        """The next ``count`` send/edit calls to ``chat_id`` answer with ``status``."""
        params = None
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            params = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or _FAILURE_TEXT.get(status) or HTTPStatus(status).phrase
        self._failures[chat_id].extend(ApiError(status, description, params) for _ in range(count))

    def upgrade_to_supergroup(self, chat_id: int, new_chat_id: int) -> None:
        """As when a group's admin upgrades it: every later call to the old id answers 400 with
        ``migrate_to_chat_id``."""
        self.migrated[chat_id] = new_chat_id

    def chat(self, chat_id: int) -> list[SentMessage]:
        """Bot messages in ``chat_id``, oldest first (live objects, edits show up)."""
        return list(self._chats.get(chat_id, ()))

    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by a getUpdates offset."""
        return len(self._queue) + len(self._redeliver)

    def calls_to(self, method: str) -> list[dict]:
        return [p for m, p in self.calls if m.lower() == method.lower()]

    def max_rate(self, chat_id: int, window: float = 1.0) -> int:
        """Most successful sends to ``chat_id`` within any ``window`` seconds."""
        times, best, start = self.sent_at.get(chat_id, []), 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def dump(self) -> str:
        lines = [f"pending updates: {self.pending_updates()}"]
        for chat_id, messages in self._chats.items():
            lines.append(f"chat {chat_id}:")
            for m in messages:
                edited = f" (edited {m.edited_times}x)" if m.edited_times else ""
                photo = f" [photo {m.photo}]" if m.photo else ""
                lines.append(f"  #{m.message_id}{photo} {m.text!r} {m.buttons or ''}{edited}")
        lines.append("last calls: " + ", ".join(m for m, _ in self.calls[-10:]))
        return "\n".join(lines)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5, interval: float = 0.01) -> Any:
        """Poll until ``predicate()`` is truthy and return its value.

        Lookup-style errors (``tg.chat(x)[-1]`` on an empty chat, ``next(...)`` finding
        nothing, ``"x" in None``) count as "not yet"; the last one is shown on timeout.
        """
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            try:
                result = predicate()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return result
            except (LookupError, StopIteration, AttributeError, TypeError) as err:
                last_error = err
            if time.monotonic() >= deadline:
                hint = f"\nlast error: {last_error!r}" if last_error else ""
                raise AssertionError(f"condition not met within {timeout}s{hint}\n{self.dump()}")
            await asyncio.sleep(interval)
