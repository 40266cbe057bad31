"""The audit trail of who-is-who changes, written in the transaction of the change."""

from datetime import datetime

from sqlmodel import Session, select

from storage.models import AuditEvent


def record(session: Session, subject: str, ref: object, actor: str, action: str, now: datetime, note: str | None = None) -> None:
    session.add(AuditEvent(subject=subject, ref=str(ref), actor=actor, action=action, note=note, at=now))


def trail(session: Session, subject: str, ref: object) -> list[AuditEvent]:
    return list(
        session.exec(select(AuditEvent).where(AuditEvent.subject == subject, AuditEvent.ref == str(ref)).order_by(AuditEvent.id))
    )
