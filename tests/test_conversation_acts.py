"""What a message does, where the rules are silent: the chat model and the follow-up model (handlers/acts.py),
through handlers.router as the platforms call it, and the models' own pieces."""

from dataclasses import replace

import pytest
from sqlmodel import Session, select

from handlers import acts
from handlers.intent import Kind, kind_of
from storage.models import Order, OrderEvent, OutboxMessage
from storage.order_buttons import OrderCb
from tests.driver import Driver
from tests.test_conversation_rules import _count
from tests.test_move_consequences import (
    G01_CHAT,
    LIMING,
    LITTER,
    RESIDENT,
    _order,
    chat,  # noqa: F401 (a fixture)
)


def _claimed_half_an_hour_ago(chat: Driver) -> None:  # noqa: F811
    """The resident's rubbish order, claimed by 李明, past the minutes in which any words are added to it."""
    assert "工单 #1" in chat.say(RESIDENT, LITTER)
    chat.say(LIMING, group=G01_CHAT, callback=OrderCb("claim", 1).pack())
    chat.services.clock.advance(minutes=30)


# ---- the chat model --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["院子里的玉兰花开了 白白的一树 真好看", "社区义剪的师傅手艺真不错 剪得精神", "隔壁阿姨包了粽子分给大家"]
)
def test_chat_that_names_a_thing_is_answered_kindly_and_files_nothing(chat, text):  # noqa: F811
    before = (_count(chat.services.engine, Order), _count(chat.services.engine, OutboxMessage))
    assert "谢谢您跟我们分享" in chat.say(RESIDENT, text)
    assert (_count(chat.services.engine, Order), _count(chat.services.engine, OutboxMessage)) == before


@pytest.mark.parametrize(
    "text", ["院子里的玉兰树倒了 压在车上", "今天社区的理发活动怎么报名", "楼下那棵桂花树的枝子太长 挡着窗户"]
)
def test_trouble_a_question_or_a_request_beside_a_pleasant_thing_is_never_chat(text):
    assert kind_of(text) != Kind.CHITCHAT


def test_a_state_of_trouble_in_no_complaint_word_is_filed_not_asked_about(chat):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, "有人在小区绿地上私自盖了个鸡棚")


# ---- the follow-up model -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["礼拜天一整天都有人 平时要晚上七点以后", "上门之前先打个电话给我"])
def test_a_detail_for_the_visit_with_no_word_of_adding_goes_onto_the_open_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已补充到工单 #1" in chat.say(RESIDENT, text)
    assert _count(chat.services.engine, Order) == 1 and text in _order(chat.services).text
    assert any(text[:6] in line for line in chat.texts(LIMING))


@pytest.mark.parametrize("text", ["3号楼门口的路灯一到晚上就灭 黑乎乎的", "快递单号SF1234567890的包裹放错楼了，麻烦问一下"])
def test_another_problem_while_an_order_is_open_is_still_a_new_order(chat, text):  # noqa: F811
    """The follow-up model reads the parcel as a detail (it asks politely, as details do): the thing named decides."""
    _claimed_half_an_hour_ago(chat)
    assert "工单 #2" in chat.say(RESIDENT, text)
    with Session(chat.services.engine) as session:
        moves = list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == 1).order_by(OrderEvent.id)))
    assert moves == ["submit", "dispatch", "claim"]


# ---- the pieces ----------------------------------------------------------------------------------------


def test_the_models_read_a_message_as_the_rules_do():
    assert acts.chat_probability("今天天气真好") > 0.5 > acts.chat_probability("楼道的灯坏了好几天了")
    act, probability = acts.follow_up_act("我周末都在家")
    assert act == "add" and probability > 0.5


def test_leaving_lines_out_trains_the_models_without_them():
    everything = len(acts.examples())
    left_out = ["今天天气真好", "我周末都在家"]
    assert len(acts.examples(left_out=left_out)) < everything
    models = acts.trained(left_out=left_out)
    assert acts.chat_probability("今天天气真好", models) > 0.5  # other lines teach the same: it still reads it
    assert len(acts.examples()) == everything  # the shipped models' examples are untouched
    assert models.chat is not acts.chat_model() and models.follow_up is not acts.follow_up_model()


class _SureOf:
    """A stand-in act model, sure of one act whatever it reads."""

    def __init__(self, act: str, codes: tuple[str, ...]):
        self.act, self.codes = act, codes

    def probabilities(self, _text: str) -> dict[str, float]:
        return {code: float(code == self.act) for code in self.codes}


def test_the_handlers_ask_the_act_models_they_are_given(chat):  # noqa: F811
    """Services.acts (bench/conversation.py --leave-out's own pair) is what the handlers ask: a follow-up model
    sure of 催办 chases the open order with words the shipped one adds to it."""
    given = acts.ActModels(
        chat=_SureOf(acts.REPORT, (acts.SMALL_TALK, acts.REPORT)),
        follow_up=_SureOf("chase", (*acts.FOLLOW_UP_ACTS, acts.REPORT)),
    )
    _claimed_half_an_hour_ago(chat)
    chat.services = replace(chat.services, acts=given)
    assert "已替您催办" in chat.say(RESIDENT, "礼拜六礼拜天都方便 平时晚上七点以后")  # no rule's words: the model's
    assert _order(chat.services).chases == 1
    assert kind_of("隔壁阿姨包了粽子分给大家", given) != Kind.CHITCHAT
    assert kind_of("隔壁阿姨包了粽子分给大家") == Kind.CHITCHAT


@pytest.mark.parametrize("text", ["家里老人要办高龄补贴 该找谁", "新生儿上户口需要的证明 找谁开"])
def test_a_matter_for_the_staff_asked_as_who_to_see_is_a_report_not_about_the_bot(text):
    assert kind_of(text) == Kind.REPORT


@pytest.mark.parametrize("text", ["有事找谁", "你们几点上班", "你叫什么名字"])
def test_a_few_words_about_the_bot_stay_about_the_bot(text):
    assert kind_of(text) == Kind.ABOUT_BOT
