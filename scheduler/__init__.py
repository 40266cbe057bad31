"""Time: ticks read what is due from storage and enqueue it in the outbox; they never send.

Imports storage only (DESIGN.md: scheduler → storage).
"""
