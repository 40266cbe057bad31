"""The demo community: two grids, four buildings, a department (城管执法中队), members of every role, two residents."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import select

from handlers.context import Services
from storage import calendar, consequences, departments, orders
from storage import people as directory
from storage.db import transaction
from storage.models import Building, Department, DepartmentContact, Grid, Identity, Member, Order, Resident, Role

GROUPS = {"一网格群": "group-G01", "二网格群": "group-G02", "工作人员群": "group-staff", "城管中队群": "group-CG"}
ROLE_NAMES = {Role.MEMBER: "党员", Role.GRID_LEADER: "网格长", Role.STAFF: "社区工作人员", Role.ADMIN: "管理员"}


@dataclass(frozen=True)
class DemoPerson:
    name: str
    user_id: str
    role: str
    phone: str | None = None
    note: str = ""

    def describe(self) -> str:
        who = ROLE_NAMES.get(self.role, "居民" if self.role == "resident" else "未登记")
        return f"{self.name}（{who}{'，' + self.note if self.note else ''}）"


MEMBERS = [
    ("李明", "13800000011", Role.MEMBER, "G01"),
    ("赵强", "13800000012", Role.MEMBER, "G01"),
    ("王芳", "13800000013", Role.GRID_LEADER, "G01"),
    ("陈刚", "13800000021", Role.MEMBER, "G02"),
    ("刘洋", "13800000031", Role.STAFF, None),
    ("周敏", "13800000041", Role.ADMIN, None),
    ("孙伟", "13800000051", Role.MEMBER, None),  # 城管执法中队's contact: signs for its orders
]
DEPARTMENT_CONTACT = "孙伟"
RESIDENTS = [("张阿姨", "13800000001", "1号楼", "2单元302"), ("王大爷", "13800000002", "3号楼", "1单元501")]
OPEN_ORDER_OWNER = "王大爷"


def seed(services: Services) -> list[DemoPerson]:
    """Idempotent: an existing demo database is reused as it is."""
    now = services.clock()
    with transaction(services.engine) as session:
        if session.exec(select(Grid)).first() is None:
            grids = {code: Grid(code=code, name=name) for code, name in (("G01", "一网格"), ("G02", "二网格"))}
            session.add_all(grids.values())
            session.flush()
            for number in range(1, 5):
                session.add(Building(name=f"{number}号楼", grid_id=grids["G01" if number <= 2 else "G02"].id))
            for code in grids:
                directory.put_setting(session, directory.GRID_CHAT.format(platform="console", code=code), f"group-{code}")
            directory.put_setting(session, "staff_chat:console", GROUPS["工作人员群"])
            session.flush()
            for name, phone, role, grid in MEMBERS:
                member = Member(name=name, phone=phone, role=role, grid_id=grids[grid].id if grid else None, branch="第一支部")
                session.add(member)
                session.flush()
                session.add(_console_identity(name, now, member_id=member.id))
            for name, phone, building_name, room in RESIDENTS:
                building = session.exec(select(Building).where(Building.name == building_name)).one()
                resident = Resident(name=name, phone=phone, building_id=building.id, room=room)
                session.add(resident)
                session.flush()
                session.add(_console_identity(name, now, resident_id=resident.id))
            _seed_calendar(session, services, now)
            _seed_open_order(session, services, now)
            _seed_department_order(session, services, now)
    notes = {
        OPEN_ORDER_OWNER: "工单 #1 待领：试试「补充一下…」，或办结后说「没修好」；#2 已转城管执法中队",
        DEPARTMENT_CONTACT: "城管执法中队联系人：按城管中队群里 #2 的「签收」，再办结、退单或「延期 2 3d 原因」",
    }
    residents = [DemoPerson(name, f"u-{name}", "resident", phone, notes.get(name, "")) for name, phone, _, _ in RESIDENTS]
    members = [DemoPerson(name, f"u-{name}", role, phone, notes.get(name, "")) for name, phone, role, _ in MEMBERS]
    return [*residents, *members, DemoPerson("新邻居", "u-新邻居", "guest")]


def _reported_by_owner(session, category: str, tier: str, text: str, reported: datetime) -> tuple[Order, Building]:
    """An order 王大爷 reported at `reported`, as the chat would have filed it."""
    resident = session.exec(select(Resident).where(Resident.name == OPEN_ORDER_OWNER)).one()
    building = session.get(Building, resident.building_id)
    order = Order(
        resident_id=resident.id,
        building_id=building.id,
        grid_id=building.grid_id,
        category=category,
        tier=tier,
        confidence=0.9,
        text=text,
        origin_platform="console",
    )
    return orders.submit(session, order, orders.Actor("resident", resident.id), reported), building


def _seed_open_order(session, services: Services, now: datetime) -> None:
    """王大爷 reported a broken street lamp an hour ago: an open order to chase, add to, reopen."""
    reported = now - timedelta(hours=1)
    order, building = _reported_by_owner(session, "property", "小事", "3号楼门口的路灯不亮了，晚上看不见路", reported)
    orders.apply(session, order, "dispatch", orders.SYSTEM, reported, dispatched_at=reported, grid_id=building.grid_id)
    consequences.publish(session, services.policy, services.timezone)  # its card in 二网格群


def _seed_department_order(session, services: Services, now: datetime) -> None:
    """王大爷's missing manhole cover (大事), handed by 刘洋 to 城管执法中队 half an hour ago: its card with
    签收 waits in 城管中队群 for 孙伟."""
    department = Department(code="CG", name="城管执法中队")
    session.add(department)
    session.flush()
    contact = session.exec(select(Member).where(Member.name == DEPARTMENT_CONTACT)).one()
    session.add(DepartmentContact(department_id=department.id, member_id=contact.id))
    departments.bind_group(session, department, "console", GROUPS["城管中队群"])
    reported, staff = now - timedelta(minutes=40), session.exec(select(Member).where(Member.role == Role.STAFF)).first()
    manhole = "3号楼东边人行道上的井盖缺了一块，晚上走路很危险"
    order, _building = _reported_by_owner(session, "facilities", "大事", manhole, reported)
    escalated = now - timedelta(minutes=30)
    changes = {"department": department.name, "department_id": department.id, "escalated_at": escalated}
    orders.apply(session, order, "escalate", orders.Actor("member", staff.id, Role.STAFF), escalated, **changes)
    consequences.publish(session, services.policy, services.timezone)  # its card in 城管中队群


def _console_identity(name: str, now: datetime, **who) -> Identity:
    """The demo person's console chat (`u-张阿姨`), as a member or a resident."""
    return Identity(platform="console", user_id=f"u-{name}", chat_id=f"u-{name}", display_name=name, last_seen_at=now, **who)


def _seed_calendar(session, services: Services, now: datetime) -> None:
    """Tomorrow morning's duty and a 主题党日 the day after, so `/clock +1d` shows reminders."""
    today = now.astimezone(services.timezone).date()
    at = lambda days, hour, minute=0: datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=services.timezone)
    on_duty = session.exec(select(Member.id).where(Member.name.in_(("李明", "赵强")))).all()
    calendar.upsert_shift(session, at(1, 8, 30), at(1, 12), "党群服务中心", on_duty, now)
    calendar.upsert_session(
        session, "学习党的二十大精神", "主题党日", "第一支部", at(2, 14, 30), at(2, 16, 30), "党群服务中心三楼会议室", now
    )
