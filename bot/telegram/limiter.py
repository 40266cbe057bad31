"""The bot's send limit: `rate` messages a second for the whole bot, `group_rate` a minute per
group, and a reply to someone writing now ahead of every queued notice."""

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import BaseRateLimiter

NOTICE = "notice"  # rate_limit_args of the outbox's sends: they wait while replies are queued
REPLY_RESERVE = 6  # slots only replies may take: the last 0.2 s's at 30/s, for a backlog to drain
MAX_GROUP_LIMITERS = 512  # beyond this, the limiters of groups with nothing recent are dropped


class Slots:
    """`rate` sends a second, a reply to a person before every notice: a notice takes a slot only
    while no reply waits and REPLY_RESERVE slots stay unused for replies. A backlog of replies
    (after the loop stalled, or a first report compiled its statements) then goes out at once; at a
    steady 30 a second a backlog would otherwise never drain and delay every later reply. No second
    holds more than the rate and REPLY_RESERVE + 1; a bucket of `rate` would let twice the limit
    through in the second after a lull."""

    def __init__(self, rate: float, reserve: int):
        self.rate, self.capacity = rate, 1 + reserve
        self._tokens, self._counted_at = float(self.capacity), 0.0
        self._replies: deque[asyncio.Future] = deque()
        self._notices: deque[asyncio.Future] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def take(self, notice: bool = False) -> None:
        loop = asyncio.get_running_loop()
        ahead = self._replies or (notice and self._notices)
        if not ahead and self._tokens_at(loop.time()) >= self._needs(notice):
            self._tokens -= 1
            return
        turn = loop.create_future()
        (self._notices if notice else self._replies).append(turn)
        self._arm(loop)
        await turn  # cancelled while waiting: the grant skips it

    def _needs(self, notice: bool) -> float:
        return (self.capacity if notice else 1) - 1e-9  # rounding must not hold a due send back

    def _tokens_at(self, now: float) -> float:
        self._tokens = min(self.capacity, self._tokens + (now - self._counted_at) * self.rate)
        self._counted_at = now
        return self._tokens

    def _grant(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        for queue, notice in ((self._replies, False), (self._notices, True)):
            while _waiting(queue) and self._tokens_at(loop.time()) >= self._needs(notice):
                queue.popleft().set_result(None)
                self._tokens -= 1
            if _waiting(queue):
                break  # not enough yet; a notice never goes before a waiting reply
        self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """The timer for the first waiter: a reply now if it may go now (a notice's timer is later)."""
        notice = not _waiting(self._replies)
        if notice and not _waiting(self._notices):
            return
        wait = max(0.0, (self._needs(notice) - self._tokens_at(loop.time())) / self.rate)
        if self._timer is not None:
            if self._timer.when() <= loop.time() + wait:
                return
            self._timer.cancel()
        self._timer = loop.call_later(wait, self._grant, loop)


def _waiting(queue: deque[asyncio.Future]) -> bool:
    """Someone waits at the head of `queue` (turns given up while waiting are dropped)."""
    while queue and queue[0].done():
        queue.popleft()
    return bool(queue)


class SendLimiter(BaseRateLimiter[str]):
    """For PTB's ExtBot. Methods without a chat (answerCallbackQuery) are not limited; a 429 is
    raised to the caller, whose retry rules decide (the reply path's, the outbox's)."""

    def __init__(self, rate: float, group_rate: int):
        self.slots = Slots(rate, REPLY_RESERVE)
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
