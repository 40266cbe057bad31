"""The classifier behind one function, and `gridbot classify` printing what the bot would decide."""

import pytest

from bot.cli import main
from handlers.classifier import classify
from storage.policy import load_policy

POLICY = load_policy(None)


@pytest.mark.parametrize("text, category, tier", [
    ("3号楼楼下垃圾没人收", "sanitation", "小事"),
    ("路灯坏了好几天", "facilities", "大事"),
    ("电梯又坏了", "property", "小事"),
])
def test_plain_reports_get_their_category_and_tier(text, category, tier):
    verdict = classify(text, POLICY)
    assert (verdict.category, verdict.tier) == (category, tier)
    assert 0 < verdict.confidence <= 1 and not verdict.urgent


def test_nothing_recognisable_is_other_with_no_confidence():
    verdict = classify("发错了，不好意思", POLICY)
    assert (verdict.category, verdict.confidence) == ("other", 0.0)


def test_emergency_words_mark_it_urgent():
    assert classify("楼道里有煤气味，快来人", POLICY).urgent


def test_gridbot_classify_prints_one_line_per_message(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("电梯又坏了\n\n发错了，不好意思\n"))
    assert main(["classify"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["property", "小事"], ["other", "小事"]]
    assert all(len(line.split("\t")) == 4 for line in lines)
