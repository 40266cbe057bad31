"""Departments (部门接单): who they are, who signs for them, where their cards go.

A department's group is its Telegram chat (bound by `/binddept` or the roster), a console chat in
the demo, and its WeCom robot. Its contacts are roster members (DepartmentContact).
"""

from sqlmodel import Session, col, select

from storage import people, recipients
from storage.models import Department, DepartmentContact, Member

GROUP_CHAT = "dept_chat:{platform}:{code}"  # a Setting: a group bound on a platform other than Telegram (the demo)


def by_code(session: Session, code: str) -> Department | None:
    """`CG01`, `cg01`: codes are matched as written, then upper-cased."""
    code = code.strip()
    found = session.exec(select(Department).where(Department.code == code)).first()
    return found or session.exec(select(Department).where(Department.code == code.upper())).first()


def find(session: Session, word: str) -> Department | None:
    """By code, else by its full name (staff may type either)."""
    return by_code(session, word) or session.exec(select(Department).where(Department.name == word.strip())).first()


def listed(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.id)))


def of_member(session: Session, member_id: int) -> tuple[int, ...]:
    """The departments this member signs for."""
    return tuple(session.exec(select(DepartmentContact.department_id).where(DepartmentContact.member_id == member_id)))


def contacts(session: Session, department_id: int) -> list[Member]:
    contact_ids = select(DepartmentContact.member_id).where(DepartmentContact.department_id == department_id)
    return list(session.exec(select(Member).where(col(Member.id).in_(contact_ids)).order_by(Member.id)))


def set_contacts(session: Session, department: Department, member_ids: list[int]) -> bool:
    """The roster's list of contacts replaces the department's; True when it changed."""
    rows = list(session.exec(select(DepartmentContact).where(DepartmentContact.department_id == department.id)))
    if {row.member_id for row in rows} == set(member_ids):
        return False
    for row in rows:
        if row.member_id not in member_ids:
            session.delete(row)
    known = {row.member_id for row in rows}
    session.add_all(DepartmentContact(department_id=department.id, member_id=m) for m in member_ids if m not in known)
    return True


def group_chats(session: Session, department: Department) -> list[recipients.Chat]:
    """The department's group chats and its WeCom robot: where its cards are posted."""
    chats = []
    if department.telegram_chat_id:
        chats.append(recipients.Chat("telegram", department.telegram_chat_id, f"d{department.id}:telegram"))
    console = people.get_setting(session, GROUP_CHAT.format(platform="console", code=department.code))
    if console:
        chats.append(recipients.Chat("console", console, f"d{department.id}:console"))
    if department.wecom_webhook:
        chats.append(recipients.Chat("wecom", department.wecom_webhook, f"d{department.id}:wecom"))
    return chats


def contact_chats(session: Session, department_id: int) -> list[recipients.Chat]:
    """Each contact privately; the staff when the department has none who can be reached."""
    found = recipients.members(session, [m.id for m in contacts(session, department_id)])
    return found or recipients.staff(session)


def bind_group(session: Session, department: Department, platform: str, chat_id: str) -> None:
    """`/binddept` in a group: Telegram's chat is the department's column, another platform's a setting."""
    if platform == "telegram":
        department.telegram_chat_id = chat_id
        session.add(department)
    else:
        people.put_setting(session, GROUP_CHAT.format(platform=platform, code=department.code), chat_id)
