"""What the bot's answers say a resident's message became, so a bench can print what it measured."""

from collections import Counter


def outcome(answer: str) -> str:
    if answer.startswith("已受理"):
        return "became new orders"
    if answer.startswith("是不是和"):
        return "were asked 是不是和 #n 同一件事 (no order yet)"
    if answer.startswith("已补充"):
        return "were added to the resident's earlier order"
    return "got another answer"


def tally(answers: list[str]) -> str:
    """'12 became new orders, 3 were …', most frequent first."""
    return ", ".join(f"{count} {what}" for what, count in Counter(map(outcome, answers)).most_common())
