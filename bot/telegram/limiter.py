"""The bot's send limit: one message every 1/rate s for the whole bot, `group_rate` a minute per
group, and a reply to someone writing now ahead of every queued notice."""

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import BaseRateLimiter

NOTICE = "notice"  # rate_limit_args of the outbox's sends: they wait while replies are queued
MAX_GROUP_LIMITERS = 512  # beyond this, the limiters of groups with nothing recent are dropped


class Slots:
    """One send every `interval` seconds. When a slot frees, the longest-waiting reply takes it;
    a notice only when no reply waits. A burst of notices then delays a reply by one slot at most.

    Slots keep to their grid: a send the busy event loop let go late does not push every later one
    back (the rate would sag below the limit and replies queue up). Half a slot at most is made up,
    so no second holds more than the rate and one; a bucket of `rate` would let twice the limit
    through in the second after a lull."""

    def __init__(self, interval: float):
        self.interval = interval
        self._free_at = 0.0  # event-loop time when the next send may go
        self._replies: deque[asyncio.Future] = deque()
        self._notices: deque[asyncio.Future] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def take(self, notice: bool = False) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() >= self._free_at and not (self._replies or self._notices):
            self._took(loop.time())
            return
        turn = loop.create_future()
        (self._notices if notice else self._replies).append(turn)
        self._arm(loop)
        await turn  # cancelled while waiting: the grant skips it

    def _took(self, now: float) -> None:
        self._free_at = max(self._free_at, now - self.interval / 2) + self.interval

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None:
            self._timer = loop.call_at(self._free_at, self._grant, loop)

    def _grant(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        for queue in (self._replies, self._notices):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    self._took(loop.time())
                    if self._replies or self._notices:
                        self._arm(loop)
                    return


class SendLimiter(BaseRateLimiter[str]):
    """For PTB's ExtBot. Methods without a chat (answerCallbackQuery) are not limited; a 429 is
    raised to the caller, whose retry rules decide (the reply path's, the outbox's)."""

    def __init__(self, rate: float, group_rate: int):
        self.slots = Slots(1 / rate)
        self.group_rate = group_rate
        self._groups: dict[int | str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Any:
        chat = data.get("chat_id")
        if chat is None:
            return await callback(*args, **kwargs)
        group = _group_of(chat)
        async with self._group_limiter(group) if group is not None else contextlib.nullcontext():
            await self.slots.take(notice=rate_limit_args == NOTICE)
            return await callback(*args, **kwargs)

    def _group_limiter(self, group: int | str) -> AsyncLimiter:
        if group not in self._groups and len(self._groups) >= MAX_GROUP_LIMITERS:
            idle = [key for key, limiter in self._groups.items() if limiter.has_capacity(limiter.max_rate)]
            for key in idle:
                del self._groups[key]
        return self._groups.setdefault(group, AsyncLimiter(self.group_rate, 60))


def _group_of(chat: int | str) -> int | str | None:
    """Groups and channels have negative ids (or an @username); people's chats are positive."""
    try:
        return int(chat) if int(chat) < 0 else None
    except (TypeError, ValueError):
        return chat
