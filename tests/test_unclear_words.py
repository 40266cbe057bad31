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


class _ChatModel:
    """A chat model as sure of small talk as told, whatever it reads: an unseen kind of line."""

    def __init__(self, sure: float):
        self.sure = sure

    def probabilities(self, _text: str) -> dict[str, float]:
        return {acts.SMALL_TALK: self.sure, acts.REPORT: 1 - self.sure}


def _chat_model_sure(chat, sure: float) -> None:  # noqa: F811
    chat.services = replace(chat.services, acts=acts.ActModels(chat=_ChatModel(sure), follow_up=acts.follow_up_model()))


def _leaning(chat) -> None:  # noqa: F811
    _chat_model_sure(chat, 0.5)  # leans to chat, short of the rules' 0.7


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


@pytest.mark.parametrize(
    "text",
    [
        "在这儿直接发就可以",
        "过年也有人值班吗",
        "你们都管哪些事",
        "节假日也有人回不",
        "请问这里都能反映哪些问题",
        "这是政府办的还是物业办的",
        "在这儿反映行吧",
        "夜里几点以后就没人回了",  # the chat model calls it a report: the hours are the bot's all the same
    ],
)
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


@pytest.mark.parametrize(("sure", "filed"), [(0.5, True), (0.99, False)])
def test_news_with_a_question_in_passing_is_chat_only_when_the_chat_model_is_all_but_certain(chat, sure, filed):  # noqa: F811
    _chat_model_sure(chat, sure)
    text = "你说现在的葱咋这么贵呢 我们年轻时候几分钱一把"
    assert ("工单 #1" in chat.say(RESIDENT, text)) if filed else ("谢谢您跟我们说这些" in _files_nothing(chat, text))


@pytest.mark.parametrize(("sure", "filed"), [(0.99, True), (0.9995, False)])
def test_something_broken_told_in_passing_is_chat_only_when_the_chat_model_is_certain(chat, sure, filed):  # noqa: F811
    _chat_model_sure(chat, sure)
    text = "家里电视坏了 儿子说直接换个新的 明天就送来"
    assert ("工单 #1" in chat.say(RESIDENT, text)) if filed else ("谢谢您跟我们说这些" in _files_nothing(chat, text))


@pytest.mark.parametrize("text", ["小区门口有人打架 吵了一晚上", "楼道里好多蚊子 咬得睡不着"])
def test_danger_or_pests_are_filed_however_certain_the_chat_model_is(chat, text):  # noqa: F811
    _chat_model_sure(chat, 0.9999)
    assert "工单 #1" in chat.say(RESIDENT, text)


def test_just_venting_is_answered_whatever_it_is_about(chat):  # noqa: F811
    _chat_model_sure(chat, 0.1)
    assert "谢谢您跟我们说这些" in _files_nothing(chat, "这几天回南天 地上墙上都在出水 衣服晾不干 就是吐槽一下")


def test_venting_about_danger_is_still_filed(chat):  # noqa: F811
    _chat_model_sure(chat, 0.1)
    assert "工单 #1" in chat.say(RESIDENT, "楼道里天天有人抽烟 烟味呛人 就是吐槽一下")


@pytest.mark.parametrize("text", ["发个消息看看灵不灵", "你们一般多久回复"])
def test_testing_whether_it_works_and_how_soon_it_answers_file_nothing(chat, text):  # noqa: F811
    _files_nothing(chat, text)


def test_the_job_praised_as_cleared_right_out_closes_the_open_order(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已为您撤销" in chat.say(RESIDENT, "下楼一看 全清空了 谢谢")
    assert _order(chat.services).status == S.CANCELLED


def test_news_of_a_cold_got_over_and_no_need_to_worry_is_chat(chat):  # noqa: F811
    _files_nothing(chat, "前几天感冒了 现在好了 你们不用担心")


def test_the_job_reported_finished_to_the_last_bit_closes_the_open_order(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已为您撤销" in chat.say(RESIDENT, "全部清理完毕 一点都没剩")
    assert _order(chat.services).status == S.CANCELLED


@pytest.mark.parametrize("text", ["我爷爷眼睛不好 能让我代他发吗", "上门的都是些什么人啊", "发一条 看看有没有反应"])
def test_writing_for_a_grandparent_who_comes_and_a_test_file_nothing(chat, text):  # noqa: F811
    _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["老人的养老金认证咋弄 我不会用手机", "how to 开在职证明？流程不太清楚"])
def test_a_matter_for_the_staff_beside_words_about_the_phone_or_english_is_filed(chat, text):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, text)


@pytest.mark.parametrize("text", ["从南门进来第三栋就是", "电梯装不下 得走楼梯往下搬", "门禁坏了 直接一推就进来了"])
def test_directions_for_whoever_comes_go_onto_the_open_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已补充到工单 #1" in chat.say(RESIDENT, text)
    assert _count(chat.services.engine, Order) == 1


@pytest.mark.parametrize("text", ["楼道的杂物都没了 谢谢", "清理完了 点赞"])
def test_the_rubbish_gone_closes_the_open_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已为您撤销" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.CANCELLED


@pytest.mark.parametrize("text", ["社保卡要什么材料", "老年卡多大年纪办得了", "医保卡多大可以办"])
def test_how_to_get_what_only_the_staff_see_to_is_filed_however_few_the_words(chat, text):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, text)


def test_good_news_of_a_staff_matter_is_chat(chat):  # noqa: F811
    _files_nothing(chat, "外孙女入学了 高兴得很")


@pytest.mark.parametrize("text", ["晚上给你们发信息有人回不", "深夜在这留言有人在吗"])
def test_the_hours_asked_at_more_words_are_about_the_bot(chat, text):  # noqa: F811
    assert "服务助手" in _files_nothing(chat, text)


@pytest.mark.parametrize(
    "text",
    ["电视剧里那栋楼着火了 看得我揪心", "梦里家里漏水了 一下吓醒了", "红烧肉火候没掌握好 有点柴", "炖汤最讲究火候 我婆婆教的"],
)
def test_a_story_a_dream_or_the_heat_of_cooking_is_no_trouble(chat, text):  # noqa: F811
    _chat_model_sure(chat, 0.9)
    _files_nothing(chat, text)


def test_danger_beside_a_story_is_still_filed(chat):  # noqa: F811
    _chat_model_sure(chat, 0.9)
    assert "工单 #1" in chat.say(RESIDENT, "正看电视剧呢 楼下着火了")


@pytest.mark.parametrize(("text", "filed"), [("老花镜腿断了 得去配一副", False), ("楼道灯坏了 我拿手机电筒照着走", True)])
def test_ones_own_things_broken_are_chat_when_the_chat_model_is_all_but_certain(chat, text, filed):  # noqa: F811
    _chat_model_sure(chat, 0.99)
    assert ("工单 #1" in chat.say(RESIDENT, text)) if filed else ("谢谢您跟我们说这些" in _files_nothing(chat, text))


def test_a_complaint_asked_for_help_in_english_is_filed(chat):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, "装修的灰尘太大了lah，桌上一层灰，can help or not?")


@pytest.mark.parametrize("text", ["Thanks for your help!", "门禁fixed了 thanks"])
def test_thanks_for_the_help_or_a_fix_in_english_is_chat(chat, text):  # noqa: F811
    _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["地铁上坐过了站 蚌埠住了", "我爸又在群里转养生谣言 蚌埠住了", "方案又被打回来了 破大防了"])
def test_internet_slang_raises_no_alarm(chat, text):  # noqa: F811
    answer = chat.say(RESIDENT, text)
    assert "⚠️" not in answer and "危险" not in answer


@pytest.mark.parametrize("text", ["警匪片里那场大火拍得好假", "电视上那俩人打起来了 看得我直乐"])
def test_a_film_or_the_tv_is_no_emergency(chat, text):  # noqa: F811
    _files_nothing(chat, text)
