"""The classifier behind one function, and `gridbot classify` printing what the bot would decide."""

import io
import re
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bench.classify import (
    EMERGENCIES,
    EMERGENCY_SAMPLES,
    SAMPLES,
    is_emergency_sample,
    read_lines,
    read_tsv,
)
from bot.cli import main
from handlers.classifier import ORDINARY, UNSURE, classify
from handlers.classifier.model import NGRAMS, TRAINING, char_ngrams, shipped_examples
from handlers.classifier.screen import needed_characters
from handlers.classifier.urgency import URGENCY_TRAINING
from storage.policy import load_policy

POLICY = load_policy(None)
HELD_OUT = read_tsv(SAMPLES)
PETS_TOML = """
[categories.pets]
name = "宠物管理"
tier = "小事"
keywords = ["流浪狗", "流浪猫", "狗绳", "犬证", "宠物"]
"""


@pytest.mark.parametrize(
    "text, category, tier",
    [
        ("3号楼楼下垃圾没人收", "sanitation", "小事"),
        ("路灯坏了好几天", "facilities", "大事"),
        ("电梯又坏了", "property", "小事"),
        ("楼上天天往下滴水也不开门", "dispute", "小事"),  # the elderly example: a neighbour, not plumbing
        ("俺妈的养老金咋还没到账 是不是要去认证", "consult", "私事"),
    ],
)
def test_plain_reports_get_their_category_and_tier(text, category, tier):
    verdict = classify(text, POLICY)
    assert (verdict.category, verdict.tier) == (category, tier)
    assert 0 < verdict.confidence <= 1 and not verdict.urgent


def test_chit_chat_is_other():
    assert classify("发错了，不好意思", POLICY).category == "other"


def test_the_shared_samples_were_never_trained_on():
    trained = {text for _, text in shipped_examples()}
    assert not trained & {text for _, text in HELD_OUT}


def test_accuracy_on_unseen_shared_samples_is_at_least_85_percent():
    right = sum(classify(text, POLICY).category == code for code, text in HELD_OUT)
    assert len(HELD_OUT) == 120 and right / len(HELD_OUT) >= 0.85


def test_every_emergency_is_flagged_and_ordinary_messages_rarely_are():
    emergency_samples = [text for _, text in HELD_OUT if is_emergency_sample(text)]
    assert len(emergency_samples) == len(EMERGENCY_SAMPLES)
    missed = [text for text in read_lines(EMERGENCIES) + emergency_samples if not classify(text, POLICY).urgent]
    assert missed == []
    ordinary = [text for _, text in HELD_OUT if not is_emergency_sample(text)]
    false_alarms = [text for text in ordinary if classify(text, POLICY).urgent]
    assert len(false_alarms) <= len(ordinary) / 10


@pytest.mark.parametrize(
    "text",
    [
        "消防通道堵死了，万一着火了往哪跑",
        "上次电梯卡住以后修好了吗",
        "差点被电动车撞倒",
        "去年冬天隔壁楼煤气中毒过一个老人，今年提醒大家开窗",
        "这栋楼电梯困过人",
    ],
)
def test_what_ifs_and_past_scares_are_not_emergencies(text):
    assert not classify(text, POLICY).urgent


@pytest.mark.parametrize("text", ["我好怕，电梯卡住了出不来", "真是吓死人了，楼道里全是烟"])
def test_a_cue_in_an_earlier_clause_or_on_something_else_does_not_hide_an_emergency(text):
    assert classify(text, POLICY).urgent


@pytest.mark.parametrize("text", ["老爷子突然眼一翻，身子一软就出溜到地上了", "孩子吃果冻卡住了，小脸都紫了"])
def test_the_urgency_model_flags_what_no_pattern_foresaw_unless_the_config_turns_it_off(text, tmp_path):
    assert classify(text, POLICY).urgent
    patterns_only = tmp_path / "patterns_only.toml"
    patterns_only.write_text("[urgency]\nmodel_threshold = false\n", encoding="utf-8")
    assert not classify(text, load_policy(patterns_only)).urgent


def test_how_the_whole_message_is_read_comes_from_the_config(tmp_path):
    over, asked = "楼下车棚着火了 已经扑灭了", "油锅着火了该怎么处理"
    assert classify(over, POLICY).urgency == ORDINARY and classify(asked, POLICY).urgency == UNSURE
    words_alone = tmp_path / "words_alone.toml"
    words_alone.write_text("[urgency]\nover = []\nasks_about = []\n", encoding="utf-8")
    assert classify(over, load_policy(words_alone)).urgent and classify(asked, load_policy(words_alone)).urgent


def test_urgency_is_whatever_the_category():
    trapped, gas = classify("救命 电梯卡在半空了 里面有人", POLICY), classify("厨房一股煤气味", POLICY)
    assert trapped.urgent and gas.urgent and trapped.category == "property"


def test_tier_rules_from_the_config_override_the_category_default():
    assert classify("楼下垃圾没人收", POLICY).tier == "小事"
    assert classify("整栋楼的垃圾都没人收，臭了一个礼拜", POLICY).tier == "大事"
    assert classify("我和我哥为了爸妈留下的房产继承吵翻了", POLICY).tier == "私事"


def test_a_category_added_in_the_config_file_is_recognised(tmp_path):
    config = tmp_path / "community.toml"
    config.write_text(PETS_TOML, encoding="utf-8")
    policy = load_policy(config)
    verdict = classify("小区里流浪狗越来越多，见人就追", policy)
    assert (verdict.category, verdict.tier) == ("pets", "小事")
    assert classify("路灯坏了好几天", policy).category == "facilities"  # the built-in ones still work


def test_gridbot_classify_uses_the_config_file(tmp_path, monkeypatch, capsys):
    config = tmp_path / "community.toml"
    config.write_text(PETS_TOML, encoding="utf-8")
    monkeypatch.setenv("GRIDBOT_CONFIG", str(config))
    monkeypatch.setattr("sys.stdin", io.StringIO("遛狗不拴狗绳，吓到小孩了\n"))
    assert main(["classify"]) == 0
    assert capsys.readouterr().out.split("\t")[:2] == ["pets", "小事"]


def test_gridbot_classify_prints_one_line_per_message(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("电梯又坏了\n\n发错了，不好意思\n楼道里好大的煤气味\n"))
    assert main(["classify"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["property", "小事"], ["other", "小事"], ["safety", "大事"]]
    assert [line.split("\t")[3:] for line in lines] == [["0", ""], ["0", ""], ["1", "gas"]]
    assert all(0 <= float(line.split("\t")[2]) <= 1 for line in lines)
    assert captured.err == ""  # no library start-up chatter


def test_gridbot_classify_prints_a_question_mark_where_the_bot_would_ask(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("隔壁家一直有人尖叫\n楼上有人拿着菜刀追着砍人\n"))
    assert main(["classify"]) == 0
    assert [line.split("\t")[3:] for line in capsys.readouterr().out.splitlines()] == [["?", ""], ["1", "weapon_fight"]]


def test_fast_scoring_sees_the_same_ngrams_as_scikit_learn():
    text = "3栋楼下  垃圾桶又满了，以经好几天没人清，臭死了ABC"
    analyzer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS).build_analyzer()
    assert sorted(char_ngrams(text).elements()) == sorted(analyzer(text))


def test_the_training_data_ships_with_the_package():
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"classifier/*.tsv"' in pyproject
    assert {code for code, _ in shipped_examples()} == set(POLICY.categories)


def test_the_urgency_screen_passes_over_a_pattern_only_where_it_cannot_match():
    """A text without any of the characters a pattern needs is not searched: on every shipped and bench
    text, no pattern the screen passed over would have matched."""
    rules = POLICY.urgency
    texts = [text for path in (TRAINING, URGENCY_TRAINING) for _, text in shipped_examples(path)] + read_lines(EMERGENCIES)
    for pattern in rules.patterns + rules.ask:
        needs, compiled = needed_characters(pattern), re.compile(pattern)
        assert needs is not None, pattern  # every shipped pattern is screened
        assert not [text for text in texts if needs.isdisjoint(text) and compiled.search(text)], pattern
    assert needed_characters("(往外|一直|直)冒烟") == {"冒"}  # the element with the fewest characters
    assert needed_characters("[^。！？]{0,3}(炸了|爆了)") == {"炸", "爆"}
    assert needed_characters("(?i)fire") is None and needed_characters("a?.{0,3}") is None  # nothing told: searched
