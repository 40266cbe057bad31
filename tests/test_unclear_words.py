"""Round 10's classes, through handlers.router as the platforms call it: news with nothing wrong in it that the chat
model only leans to (handlers/unclear.py), a question for the staff in a few words, questions about the bot's hours
and scope, and the job praised as done while it is still open."""

from dataclasses import replace

import pytest

from handlers import acts
from storage.models import Order
from storage.models import OrderStatus as S
from tests.test_conversation_rules import _claimed_half_an_hour_ago, _count, _files_nothing
from tests.test_move_consequences import (
    RESIDENT,
    _order,
    chat,  # noqa: F401 (a fixture)
)


class _Leaning:
    """A chat model of an unseen kind of line: it leans to chat, short of the rules' 0.7."""

    def probabilities(self, _text: str) -> dict[str, float]:
        return {acts.SMALL_TALK: 0.5, acts.REPORT: 0.5}


def _leaning(chat) -> None:  # noqa: F811
    chat.services = replace(chat.services, acts=acts.ActModels(chat=_Leaning(), follow_up=acts.follow_up_model()))


@pytest.mark.parametrize("text", ["忙到天黑才吃上饭 老头子炒了两个菜", "唉 老伴走了五年了 逢年过节还是想她"])
def test_news_the_chat_model_only_leans_to_is_answered_and_files_nothing(chat, text):  # noqa: F811
    _leaning(chat)
    assert "要是有需要社区帮忙的事，请说说是什么问题" in _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["楼道里的扶手松了 一摇就晃", "小区门口有人打架 吵了一晚上", "下水道口有好多老鼠进出"])
def test_something_broken_danger_or_pests_is_filed_however_the_chat_model_leans(chat, text):  # noqa: F811
    _leaning(chat)
    assert "工单 #1" in chat.say(RESIDENT, text)


def test_news_that_a_category_fits_surely_is_filed_however_the_chat_model_leans(chat):  # noqa: F811
    _leaning(chat)
    assert "工单 #1" in chat.say(RESIDENT, "小区东门外的共享单车摆满了人行道")


def test_a_question_for_the_staff_in_a_few_words_is_filed_not_asked_about(chat):  # noqa: F811
    """The category model calls it 政策咨询 more than not (0.54): a question, so a report."""
    assert "工单 #1" in chat.say(RESIDENT, "刚搬来 户口迁到这边要咋弄")


@pytest.mark.parametrize("text", ["在这儿直接发就可以", "过年也有人值班吗", "你们都管哪些事", "节假日也有人回不"])
def test_how_to_report_the_hours_and_what_is_handled_are_about_the_bot(chat, text):  # noqa: F811
    assert "服务助手" in _files_nothing(chat, text)


def test_someone_at_night_in_the_stairwell_is_no_question_about_the_hours(chat):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, "晚上总有人在楼道里抽烟")


@pytest.mark.parametrize(
    "text", ["清完了 谢谢你们 辛苦了", "楼道现在亮堂多了 👍", "那些纸箱被人收走了", "已清理完 楼道整洁多了 感谢"]
)
def test_the_job_praised_as_done_closes_the_open_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已为您撤销" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.CANCELLED and _count(chat.services.engine, Order) == 1


def test_a_repair_long_ago_praised_as_well_done_is_chat(chat):  # noqa: F811
    assert "谢谢" in _files_nothing(chat, "去年你们修的楼道扶手 修得真结实 到现在好好的")
