"""A grid's group upgraded to a supergroup keeps getting its cards (issue 10, defect 9; failed on 8dd4507)."""

from sqlmodel import Session, select

from bot.sender import OutboxSender
from bot.telegram.delivery import transport
from storage.models import AuditEvent, Grid
from tests.driver import Driver
from tests.test_sender import fake_and_bot  # noqa: F401 (a fixture)

OLD, NEW = -1001, -1009876543210


async def test_cards_follow_a_group_upgraded_to_a_supergroup(services, roster, fake_and_bot):  # noqa: F811
    tg, bot = fake_and_bot
    tg.upgrade_to_supergroup(OLD, NEW)
    chat = Driver(services)
    chat.send("501", "/start")
    chat.send("501", "1号楼")
    assert "工单 #1" in chat.say("501", "2单元楼道里堆满了垃圾，好几天没人清理了")
    sender = OutboxSender(services.engine, {"telegram": transport(bot)}, services.clock)
    for _ in range(5):
        await sender.deliver_due()
    assert [m.text.splitlines()[0] for m in tg.chat(NEW)] == ["🆕 工单 #1 · 环境卫生 · 小事"]
    with Session(services.engine) as session:
        assert session.exec(select(Grid.telegram_chat_id).where(Grid.code == "G01")).one() == str(NEW)
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "group_moved")).first() is not None
    assert "工单 #2" in chat.say("501", "楼上天天半夜装修，吵得睡不着觉")  # later cards go straight there
    for _ in range(5):
        await sender.deliver_due()
    assert any("装修" in m.text for m in tg.chat(NEW) if m.text)
