"""One person's updates run one after another, however many wait (issue 10, defect 6; failed on 8dd4507)."""

import asyncio

from telegram import Chat, Message, Update, User

from bot.telegram.app import PerUserOrder

PERSON = User(501, "张阿姨", is_bot=False)


def _update(update_id: int) -> Update:
    chat = Chat(PERSON.id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, date=None, chat=chat, from_user=PERSON, text=str(update_id)))


async def test_a_third_update_never_runs_beside_the_second():
    processor = PerUserOrder()
    running: set[int] = set()
    overlaps: list[tuple[int, ...]] = []
    may_finish = {1: asyncio.Event(), 2: asyncio.Event(), 3: asyncio.Event()}

    async def handle(number: int) -> None:
        running.add(number)
        if len(running) > 1:
            overlaps.append(tuple(sorted(running)))
        await may_finish[number].wait()
        running.discard(number)

    first = asyncio.create_task(processor.do_process_update(_update(1), handle(1)))
    second = asyncio.create_task(processor.do_process_update(_update(2), handle(2)))
    await asyncio.sleep(0.01)
    may_finish[1].set()
    await first  # update 1 done; update 2 holds the lock (or is being woken to take it)
    third = asyncio.create_task(processor.do_process_update(_update(3), handle(3)))
    await asyncio.sleep(0.01)
    assert running == {2}  # the photo's text waits for the photo
    may_finish[2].set()
    may_finish[3].set()
    await asyncio.gather(second, third)
    assert overlaps == []
    assert processor._locks == {}  # nothing kept once everyone is done
