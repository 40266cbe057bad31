"""Last month's report to the staff, on the 1st at `digest_time`: a summary, the chart and the
workbook, as outbox rows under keys of the month (`report:{YYYY-MM}:{part}:{chat}`), so it is
queued once per month whatever restarts or processes come between.

A file travels in its row's payload (`document` / `image`, storage/attachments.py), so any process
may send it; it is built only when the month's rows are not queued yet.
"""

from datetime import datetime

from sqlmodel import Session

from storage import audit, figures, people, recipients
from storage.attachments import attach
from storage.policy import Policy
from storage.recipients import Chat
from storage.report import Month, build

STAFF_ROBOT = "staff_robot:wecom"  # the staff's WeCom group robot (webhook URL), set by `gridbot staffrobot`
LAST_QUEUED = "report:last_queued"  # the month whose report was queued last
FILE_PLATFORMS = ("telegram", "wecom", "console")  # where a chat can take a file; others get the summary


def key(month: Month, part: str) -> str:
    return f"report:{month.label}:{part}"


def queued(session: Session, month: Month) -> bool:
    """Looked up by one setting, not by scanning the outbox's keys: the tick asks every 30 seconds."""
    return people.get_setting(session, LAST_QUEUED) == month.label


def chats(session: Session) -> list[Chat]:
    """The staff group (else each staff member) and the staff's WeCom robot, where one is set."""
    robot = people.get_setting(session, STAFF_ROBOT)
    return recipients.staff(session) + ([Chat("wecom", robot, "staff:wecom")] if robot else [])


def set_staff_robot(session: Session, webhook: str, now: datetime) -> None:
    """The staff's WeCom robot for the monthly report; an empty `webhook` removes it."""
    audit.record(
        session, "setting", STAFF_ROBOT, "cli", "staff_robot_set", now, note=f"was {people.get_setting(session, STAFF_ROBOT)}"
    )
    if webhook:
        people.put_setting(session, STAFF_ROBOT, webhook)
    else:
        people.delete_setting(session, STAFF_ROBOT)


def queue_monthly(session: Session, policy: Policy, month: Month, now: datetime) -> int:
    """Queue `month`'s report to the staff unless it was queued before. Returns the rows queued."""
    to = chats(session)
    if not to or queued(session, month):
        return 0
    from storage.report_chart import chart_png  # matplotlib takes a second to import: only when a report is made
    from storage.report_workbook import workbook_bytes

    made = build(session, policy, month, now)
    title = f"{made.community} {month.title} 工单月报"
    summary = recipients.payload("\n".join([f"📊 {title}", *figures.summary_lines(made.overall)]))
    chart = {"text": f"{title} · 统计图", "image": attach(f"{month.label}-统计图.png", chart_png(made))}
    book = {"text": f"{title} · 工作簿", "document": attach(f"{made.community}{month.label}工单月报.xlsx", workbook_bytes(made))}
    with_files = [chat for chat in to if chat.platform in FILE_PLATFORMS]
    people.put_setting(session, LAST_QUEUED, month.label)
    return (
        recipients.queue(session, key(month, "summary"), to, summary, now)
        + recipients.queue(session, key(month, "chart"), with_files, chart, now)
        + recipients.queue(session, key(month, "book"), with_files, book, now)
    )
