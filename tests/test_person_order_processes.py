"""A person's two updates landing on two different processes are handled in Telegram's order
(update_id), even when the later one reaches its process first (storage/arrivals.py)."""

import asyncio
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.fake_telegram import FakeTelegram
from tests.running import free_port
from tests.workers import RESIDENT_IDS, Balancer, resident, seed, start_worker, stop_workers, text_update, wait_healthy

pytestmark = pytest.mark.timeout(120)
PERSON = f"hashtextextended(current_schema() || ':telegram:{RESIDENT_IDS}', 0)"  # the resident's lock, as arrivals keys it


async def test_the_later_update_waits_for_the_earlier_one_on_another_process(postgres_url):
    seed(postgres_url, 1, 0)
    async with FakeTelegram() as tg, httpx.AsyncClient() as client:
        ports = [free_port(), free_port()]
        workers = {port: start_worker(postgres_url, tg.root, port) for port in ports}
        try:
            await wait_healthy(client, ports)
            balancer = Balancer(client, ports)
            report = text_update(tg, resident(0), "楼道里堆满了垃圾好几天没人清理")
            status = text_update(tg, resident(0), "/my")  # written after the report: the larger update_id
            with _person_held(postgres_url) as waiting:  # both updates reach their process and queue on the person
                later = asyncio.create_task(balancer.deliver(status, avoid=ports[0]))
                await tg.wait_for(lambda: waiting() == 1, timeout=30)  # /my first in the queue
                earlier = asyncio.create_task(balancer.deliver(report, avoid=ports[1]))
                await tg.wait_for(lambda: waiting() == 2, timeout=30)
            await asyncio.gather(later, earlier)
        finally:
            stop_workers(workers)
    texts = [m.text for m in tg.chat(RESIDENT_IDS)]
    assert len(texts) == 2 and texts[0].startswith("已受理 ✅ 工单 #1"), texts
    assert texts[1].startswith("您最近的工单") and "#1" in texts[1], texts  # /my saw the report


@contextmanager
def _person_held(url: str):
    """Hold the resident's lock from outside; yields a count of the updates waiting for it."""
    engine = create_engine(url)
    with engine.connect() as holder, engine.connect() as looker:
        holder.execute(text(f"SELECT pg_advisory_lock({PERSON})"))
        holder.commit()

        def waiting() -> int:
            count = looker.execute(
                text(
                    f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1"
                    f" AND classid::bigint = (({PERSON} >> 32) & 4294967295) AND objid::bigint = ({PERSON} & 4294967295)"
                )
            ).scalar()
            looker.commit()
            return count

        try:
            yield waiting
        finally:
            holder.execute(text(f"SELECT pg_advisory_unlock({PERSON})"))
            holder.commit()
    engine.dispose()
