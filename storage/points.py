"""先锋积分 ledger: append-only entries, at most one per (member, reason, ref)."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Member, PointsEntry


def award(session: Session, member_id: int, delta: int, reason: str, ref: str, now: datetime) -> bool:
    """Post points once; False if this (reason, ref) was already posted for the member."""
    exists = session.exec(
        select(PointsEntry.id).where(PointsEntry.member_id == member_id, PointsEntry.reason == reason, PointsEntry.ref == ref)
    ).first()
    if exists is not None or delta == 0:
        return False
    session.add(PointsEntry(member_id=member_id, delta=delta, reason=reason, ref=ref, at=now))
    session.flush()
    return True


def total(session: Session, member_id: int, since: datetime | None = None) -> int:
    query = select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.member_id == member_id)
    if since is not None:
        query = query.where(PointsEntry.at >= since)
    return int(session.exec(query).one())


def ranking(session: Session, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
    score = func.sum(PointsEntry.delta).label("score")
    rows = session.exec(
        select(Member.name, score)
        .join(Member, Member.id == PointsEntry.member_id)
        .where(PointsEntry.at >= since)
        .group_by(Member.id, Member.name)
        .order_by(score.desc(), Member.name)
        .limit(limit)
    )
    return [(name, int(points)) for name, points in rows]
