"""Telegram adapter: python-telegram-bot Application, normalisation, outbox transport."""

import os

# Opt in to PTB's future behaviour: RetryAfter.retry_after as a timedelta (delivery handles both).
os.environ.setdefault("PTB_TIMEDELTA", "1")
