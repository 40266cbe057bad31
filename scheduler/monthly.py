"""The staff's monthly report: last month's figures, chart and workbook on the 1st at `digest_time`.

Due from that moment until the day ends (a bot that was down at 08:30 sends it when it is back
that day); queued once a month (storage/report_delivery.py keeps which month was queued last).
"""

import logging
from datetime import datetime

from sqlmodel import Session

from scheduler.timing import Due
from storage import report_delivery
from storage.policy import Policy
from storage.report import Month

logger = logging.getLogger(__name__)


def monthly_report_tick(session: Session, due: Due, policy: Policy) -> int:
    local = due.now.astimezone(due.tz)
    moment = datetime.combine(local.date(), due.timing.digest_at, tzinfo=due.tz)
    if local.day != 1 or local < moment:
        return 0
    month = Month.of(due.now, due.tz).previous
    queued = report_delivery.queue_monthly(session, policy, month, due.now)
    if queued:
        logger.info("monthly report of %s queued: %d notice(s)", month.label, queued)
    return queued
