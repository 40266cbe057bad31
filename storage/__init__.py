"""The truth: tables, the order lifecycle, roster, points, audit trail, inbox/outbox, migrations.

Imports nothing from bot/, handlers/ or scheduler/.
"""
