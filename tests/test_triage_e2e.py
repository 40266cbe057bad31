"""三事分流 end to end: the real PTB Application against the fake Bot API — urgent, unsure, staff triage."""

from datetime import UTC, datetime, timedelta

from storage import outbox
from storage.db import make_engine, transaction
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running
from tests.test_e2e_telegram import (
    G01,
    RESIDENT,
    STAFF,
    bind_members,
    button,
    db_url,
    last_text,
    register_resident,
)

LEADER = User(513, "王芳")
__all__ = ["db_url"]  # the fixture, shared with the core-loop tests


def _texts(tg: FakeTelegram, user: User) -> list[str]:
    return [m.text or "" for m in tg.chat(user.id)]


async def test_urgent_report_reaches_staff_and_leader_ahead_of_their_queue(db_url):
    async with FakeTelegram() as tg:
        async with running(bot_settings(tg.root, db_url)):
            await bind_members(tg, (STAFF, "13800000031"), (LEADER, "13800000013"))
            await register_resident(tg)
        # Meanwhile a queue of ordinary notices has built up for both, due in a few seconds.
        soon = datetime.now(UTC) + timedelta(seconds=3)
        engine = make_engine(db_url)
        with transaction(engine) as session:
            for n in range(5):
                for person in (STAFF, LEADER):
                    outbox.enqueue(
                        session, f"notice:{person.id}:{n}", "telegram", str(person.id), {"text": f"日常通知 {n}"}, not_before=soon
                    )
        engine.dispose()
        async with running(bot_settings(tg.root, db_url)):
            tg.push_text(RESIDENT, "救命！1号楼2单元电梯卡在6楼和7楼中间了，我妈关在里面出不来")
            await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id))
            first_line = last_text(tg, RESIDENT.id).splitlines()[0]
            assert "119" in first_line and "120" not in first_line  # people trapped: fire and rescue
            await tg.wait_for(lambda: all(sum("日常通知" in t for t in _texts(tg, p)) == 5 for p in (STAFF, LEADER)), timeout=15)
        for person in (STAFF, LEADER):
            texts = _texts(tg, person)
            alert = next(i for i, t in enumerate(texts) if "🚨 紧急" in t and "工单 #1" in t)
            assert alert < next(i for i, t in enumerate(texts) if "日常通知" in t)
        assert not any("工单 #1" in (m.text or "") for m in tg.chat(G01))


async def test_unsure_report_confirmed_by_the_residents_tap(db_url, tmp_path):
    config = tmp_path / "community.toml"
    config.write_text("confidence_threshold = 1.01  # above any confidence: every report is unsure\n")
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, config=config)):
        await bind_members(tg, (STAFF, "13800000031"))
        await register_resident(tg)
        tg.push_text(RESIDENT, "2单元楼道里堆满了垃圾，好几天没人清理了")
        question = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "请点一下确认" in (m.text or "")))
        await tg.wait_for(lambda: any("按小事处理" in str(m.buttons) for m in tg.chat(STAFF.id)))
        assert tg.chat(G01) == []  # not a guessed grid
        tg.push_callback(RESIDENT, question, button(question, "是「环境卫生」"))
        await tg.wait_for(lambda: "已派给一网格" in last_text(tg, RESIDENT.id))
        card = await tg.wait_for(lambda: next(m for m in tg.chat(G01) if "领单" in str(m.buttons)))
        assert "工单 #1 · 环境卫生" in card.text


async def test_staff_retier_to_私事_sends_the_advice_and_closes(db_url, tmp_path):
    config = tmp_path / "community.toml"
    config.write_text("confidence_threshold = 1.01\n")
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, config=config)):
        await bind_members(tg, (STAFF, "13800000031"))
        await register_resident(tg)
        tg.push_text(RESIDENT, "我家老人的高龄补贴怎么一直没发")
        card = await tg.wait_for(lambda: next(m for m in tg.chat(STAFF.id) if "改分级" in str(m.buttons)))
        tg.push_callback(STAFF, card, button(card, "改分级"))
        tiers = await tg.wait_for(lambda: next(m for m in tg.chat(STAFF.id) if "按哪类处理" in (m.text or "")))
        tg.push_callback(STAFF, tiers, button(tiers, "私事"))
        await tg.wait_for(lambda: "党群服务中心" in last_text(tg, RESIDENT.id))
        tg.push_text(RESIDENT, "/status 1")
        await tg.wait_for(lambda: "已完成" in last_text(tg, RESIDENT.id))
