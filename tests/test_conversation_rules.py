"""How a resident's words are read, one class of rule at a time, through handlers.router: what the
resident is told, whether an order row appears, and which order a follow-up moved."""

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Order, OrderEvent, OutboxMessage
from storage.models import OrderStatus as S
from storage.order_buttons import OrderCb
from tests.driver import Driver
from tests.test_move_consequences import (
    G01_CHAT,
    LIMING,
    LITTER,
    RESIDENT,
    _order,
    chat,  # noqa: F401 (a fixture)
)


def _count(engine, table) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def _moves(engine, number: int = 1) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == number).order_by(OrderEvent.id)))


def _claimed_half_an_hour_ago(chat: Driver) -> None:  # noqa: F811
    """The resident's rubbish order, claimed by 李明, reported long enough ago that words are no 补充 by time."""
    assert "工单 #1" in chat.say(RESIDENT, LITTER)
    chat.say(LIMING, group=G01_CHAT, callback=OrderCb("claim", 1).pack())
    chat.services.clock.advance(minutes=30)


def _done_half_an_hour_ago(chat: Driver) -> None:  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    chat.say(LIMING, "/done 1 已清理")


def _files_nothing(chat: Driver, text: str) -> str:  # noqa: F811
    orders, outbox = _count(chat.services.engine, Order), _count(chat.services.engine, OutboxMessage)
    answer = chat.say(RESIDENT, text)
    assert "#" not in answer
    assert (_count(chat.services.engine, Order), _count(chat.services.engine, OutboxMessage)) == (orders, outbox)
    return answer


# ---- small talk ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["收到 我转告我老伴", "好的 那我明天再问", "我去做饭了 回头说", "谢谢你们上次修路灯"])
def test_thanks_an_acknowledgement_or_a_goodbye_beside_a_few_words_is_chat(chat, text):  # noqa: F811
    _files_nothing(chat, text)


def test_thanks_for_what_was_done_gets_you_are_welcome(chat):  # noqa: F811
    assert "不客气" in _files_nothing(chat, "谢谢上回帮我家老头子申请助餐")


@pytest.mark.parametrize(
    "text",
    [
        "前年你们给修的那段下水道 到现在一直通通的 谢谢啦",  # thanks for a repair long ago, naming the old trouble
        "我外婆帮我关注的这个号 我不太会用 要怎么弄",  # about the bot, at some length
        "夜里发消息也有人回吗",
    ],
)
def test_thanks_for_an_old_repair_and_questions_about_the_bot_at_length_file_nothing(chat, text):  # noqa: F811
    _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["上回修的水管到现在还是不行 谢谢啊", "琴晚停咗水 冇人通知", "半夜有人在楼下唱歌"])
def test_thanks_beside_a_job_still_wrong_a_cantonese_report_and_singing_at_night_are_filed(chat, text):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, text)


@pytest.mark.parametrize("text", ["小张在不在呀", "嗨 在不", "同志你好 在班上吗"])
def test_a_greeting_with_a_name_is_chat(chat, text):  # noqa: F811
    assert "服务助手" in _files_nothing(chat, text)


@pytest.mark.parametrize(
    "text",
    [
        "我是新搬来的 住在五号楼",
        "俺是老住户了 在这住了三十年",
        "多亏你们 不然真不知道咋办",
        "你好 我是5号楼刚搬来的 以后多多关照",
    ],
)
def test_saying_who_one_is_or_thanks_with_a_what_if_is_chat(chat, text):  # noqa: F811
    _files_nothing(chat, text)


def test_a_topic_with_nothing_about_it_is_a_bare_opener(chat):  # noqa: F811
    assert "请说说是什么问题" in _files_nothing(chat, "我想问个政策")


@pytest.mark.parametrize("text", ["testing 123", "test test", "OK"])
def test_latin_letters_alone_are_a_test(chat, text):  # noqa: F811
    _files_nothing(chat, text)


def test_traditional_characters_are_read_as_simplified(chat):  # noqa: F811
    assert "不客气" in _files_nothing(chat, "謝謝你們")
    _claimed_half_an_hour_ago(chat)
    assert "已替您催办" in chat.say(RESIDENT, "我報的那個怎麼樣了")
    assert _count(chat.services.engine, Order) == 1 and _order(chat.services).chases == 1


@pytest.mark.parametrize("text", ["我想问问怎么用", "我该怎么跟你说", "你是电脑回复的吗", "能发语音吗"])
def test_questions_about_the_bot_are_answered_with_what_it_does(chat, text):  # noqa: F811
    assert "服务助手" in _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["跟我聊天的是真人还是机器", "秒回啊 是自动的吧", "你这回得也太快了 是程序吧"])
def test_asking_who_answers_a_person_or_a_machine_is_about_the_bot(chat, text):  # noqa: F811
    assert "服务助手" in _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["地砖翘起来了", "门禁失灵了", "信报箱门歪了", "楼顶防水层鼓起来了"])
def test_a_thing_and_its_broken_state_in_a_few_words_is_filed(chat, text):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, text)


def test_a_message_with_trouble_beside_thanks_is_still_a_report(chat):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, "谢谢你们 另外5号楼的路灯也坏了")


# ---- unclear words: asked, and the next message is the report ------------------------------------


@pytest.mark.parametrize("text", ["我这边遇到点情况，能帮个忙吗", "家里出了点状况 等下慢慢说", "楼里出了点问题"])
def test_trouble_said_without_saying_what_is_a_bare_opener(chat, text):  # noqa: F811
    assert "请说说是什么问题" in _files_nothing(chat, text)


def test_a_few_unclear_words_are_asked_about_and_the_next_words_are_filed(chat):  # noqa: F811
    assert "请说说是什么问题" in _files_nothing(chat, "老师 我家那边有个")
    answer = chat.say(RESIDENT, "门口那个")  # still few words, but the answer to the question: filed
    assert "工单 #1" in answer
    assert _order(chat.services).text == "老师 我家那边有个\n门口那个"


def test_a_bare_opener_is_asked_about_and_even_a_short_answer_is_filed(chat):  # noqa: F811
    assert "请说说是什么问题" in _files_nothing(chat, "同志 我有个情况要说")
    assert "工单 #1" in chat.say(RESIDENT, "楼上那家")


def test_small_talk_after_the_question_files_nothing_and_the_question_stands(chat):  # noqa: F811
    _files_nothing(chat, "我想反映个情况")
    _files_nothing(chat, "好的")
    assert "工单 #1" in chat.say(RESIDENT, "院子里")


@pytest.mark.parametrize("text", ["好 我等着", "老师 我有个情况要说", "在没"])
def test_the_urgency_models_guess_on_a_few_chatty_words_raises_no_alarm(chat, text):  # noqa: F811
    _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["门口那个", "我下午三点以后在"])
def test_who_where_when_alone_are_asked_about(chat, text):  # noqa: F811
    assert "请说说是什么问题" in _files_nothing(chat, text)


@pytest.mark.parametrize("text", ["广场舞队今天表演得真好看", "我孙子考上大学了 高兴", "天气预报说明天下雨", "刚从外地旅游回来"])
def test_news_or_praise_with_nothing_wrong_in_it_is_answered_as_chat_not_filed(chat, text):  # noqa: F811
    assert "谢谢您跟我们分享" in _files_nothing(chat, text)


def test_a_suggestion_at_length_is_still_filed(chat):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, "建议社区过年的时候搞个写春联的活动，大家一起热闹热闹")


def test_short_words_with_trouble_in_them_are_filed_at_once(chat):  # noqa: F811
    assert "工单 #1" in chat.say(RESIDENT, "楼道好臭")


def test_unclear_words_while_an_order_is_open_go_onto_that_order(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已补充到工单 #1" in chat.say(RESIDENT, "我下午三点以后在")
    assert _count(chat.services.engine, Order) == 1
    assert any("下午三点以后在" in text for text in chat.texts(LIMING))


# ---- follow-ups ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "师傅啥时候来啊",
        "咋还莫得人来看",
        "说好今天来的 人呢",
        "上周报的事情有消息没有",
        "今天能来吗",
        "你们效率太低了",
        "再不来我就打12345了",
    ],
)
def test_a_chase_that_names_no_order_chases_the_residents_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已替您催办" in chat.say(RESIDENT, text)
    assert _count(chat.services.engine, Order) == 1 and _moves(chat.services.engine)[-1] == "chase"
    assert any("居民催办" in line for line in chat.texts(LIMING))


def test_still_broken_while_the_order_is_being_done_hurries_it(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已替您催办" in chat.say(RESIDENT, "还是不行啊")
    assert _order(chat.services).status == S.CLAIMED and _count(chat.services.engine, Order) == 1


@pytest.mark.parametrize(
    "text", ["师傅走了还在漏", "说修好了 其实根本没好", "上次报的电梯 修了两天又停了", "怎么还没人来", "修得不行啊"]
)
def test_not_fixed_in_any_words_after_done_reopens_the_order(chat, text):  # noqa: F811
    _done_half_an_hour_ago(chat)
    assert "返工" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.DISPATCHED and _count(chat.services.engine, Order) == 1


def test_asking_how_it_goes_after_done_is_told_and_asked_to_rate(chat):  # noqa: F811
    _done_half_an_hour_ago(chat)
    replies = chat.send(RESIDENT, "进度怎么样了")
    assert "已办结" in replies[0].text and len(replies[0].buttons[0]) == 5
    assert _order(chat.services).status == S.DONE


@pytest.mark.parametrize(
    "text",
    [
        "那个灯还是一闪一闪的",
        "你们写的已处理 其实水还在滴",
        "前天刚换的灯泡今天又不亮了",
        "说是弄好了 结果还是堵",
        "剩下的还堆在那儿",
        "说已经弄好了 我咋没看着",
        "这单不算完 得重新弄",
        "完成了？我刚下楼还差点绊一跤",
        "东西是搬走了 楼梯上还全是泥",  # done said of part of the job …
        "你们说清理好了 我下去一看一点没动",  # … or in someone else's words …
        "清走了 可墙角那堆砖头没人管",  # … and something left after it
    ],
)
def test_the_job_called_done_or_the_thing_still_as_it_was_reopens_whatever_it_names(chat, text):  # noqa: F811
    _done_half_an_hour_ago(chat)
    assert "返工" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.DISPATCHED and _count(chat.services.engine, Order) == 1


def test_done_by_halves_while_the_order_is_being_done_hurries_it_and_withdraws_nothing(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已替您催办" in chat.say(RESIDENT, "纸箱是拉走了 可地上的脏水没人拖")
    assert _order(chat.services).status == S.CLAIMED and _count(chat.services.engine, Order) == 1


def test_done_in_someone_elses_words_and_fine_asks_for_the_rating(chat):  # noqa: F811
    _done_half_an_hour_ago(chat)
    replies = chat.send(RESIDENT, "物业说已经清走了 确实清爽了")
    assert "打个分" in replies[0].text and _order(chat.services).status == S.DONE


@pytest.mark.parametrize("text", ["两家已经和解了 这个投诉我撤了", "对方赔了钱 不用你们管了", "事情说开了 不追究了"])
def test_a_complaint_withdrawn_or_settled_withdraws_the_residents_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已为您撤销" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.CANCELLED and _count(chat.services.engine, Order) == 1


@pytest.mark.parametrize("text", ["邻居家已经不吵了 撤销吧", "车已经挪走了 没事了", "不用来了 物业已经弄好了"])
def test_resolved_in_words_of_another_category_withdraws_the_residents_order(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已为您撤销" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.CANCELLED and _count(chat.services.engine, Order) == 1


@pytest.mark.parametrize(
    "text",
    [
        "补充 漏水的是厨房不是卫生间",
        "更正一下 是东门不是南门",
        "忘说了 我电话13800001234",
        "噢对 是二楼",
        "单元门的锁不好使 直接推门就开",
        "过道的灯不亮 上来的时候带个手电筒",
        "不用找我 楼道是公共的",
        "门口电动车得先挪开才能搬",
        "那边门口也有一点 顺便一起清了吧",
        "对了 我电话是13712345670",
    ],
)
def test_a_correction_or_a_detail_goes_onto_the_order_whatever_it_names(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已补充到工单 #1" in chat.say(RESIDENT, text)
    assert _count(chat.services.engine, Order) == 1 and _moves(chat.services.engine)[-1] == "amend"


@pytest.mark.parametrize("text", ["对了 主要是早上七八点最严重", "还有就是那边晚上没灯 很黑", "再补一句 最好下午来"])
def test_words_that_go_on_from_the_report_go_onto_the_order_whatever_they_name(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已补充到工单 #1" in chat.say(RESIDENT, text)
    assert _count(chat.services.engine, Order) == 1 and _moves(chat.services.engine)[-1] == "amend"


def test_a_detail_about_who_lives_there_added_to_the_order_raises_no_alarm(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    answer = chat.say(RESIDENT, "再补一句 家里就我和老伴 爬楼费劲")
    assert "已补充到工单 #1" in answer and "120" not in answer
    assert _count(chat.services.engine, Order) == 1 and not _order(chat.services).urgent


def test_danger_now_right_after_a_report_is_filed_as_an_emergency_not_added(chat):  # noqa: F811
    chat.say(RESIDENT, LITTER)
    chat.services.clock.advance(minutes=2)
    answer = chat.say(RESIDENT, "那堆垃圾着火了 烧起来了")
    assert "119" in answer and "工单 #2" in answer
    assert _order(chat.services, 2).urgent and "amend" not in _moves(chat.services.engine)


def test_a_bare_add_asks_for_what_to_add_and_tells_the_claimer_nothing_yet(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    told = len(chat.texts(LIMING))
    assert "请直接发要补充的内容" in chat.say(RESIDENT, "补充一下")
    assert len(chat.texts(LIMING)) == told and _moves(chat.services.engine)[-1] == "claim"
    assert "已补充到工单 #1" in chat.say(RESIDENT, "是晚上才有")
    assert any("是晚上才有" in text for text in chat.texts(LIMING))


# ---- new reports while an order is open ------------------------------------------------------------


@pytest.mark.parametrize("text", ["3号楼电梯又停了", "楼道灯好几天不亮了", "门口有个大坑 没人管"])
def test_a_new_problem_worded_like_a_follow_up_is_its_own_order(chat, text):  # noqa: F811
    _done_half_an_hour_ago(chat)
    assert "工单 #2" in chat.say(RESIDENT, text)
    assert _order(chat.services).status == S.DONE


def test_an_emergency_worded_like_a_chase_is_filed_as_an_emergency(chat):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    answer = chat.say(RESIDENT, "隔壁李奶奶摔倒了起不来 快来人")
    assert "120" in answer and "工单 #2" in answer
    assert _order(chat.services).chases == 0


@pytest.mark.parametrize(
    "text", ["我家暖气不热 什么时候能修", "单元门禁坏了 能快点修吗", "电梯又停了 什么时候能好", "我家停水了 多久来水"]
)
def test_another_thing_worded_like_a_chase_is_a_new_order_not_a_chase(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "工单 #2" in chat.say(RESIDENT, text)
    assert _order(chat.services).chases == 0 and _moves(chat.services.engine)[-1] == "claim"


@pytest.mark.parametrize("text", ["能不能快点 老人在家等着呢", "那个事有人跟进吗", "师傅今天能过来不"])
def test_a_chase_that_names_no_other_thing_is_still_a_chase(chat, text):  # noqa: F811
    _claimed_half_an_hour_ago(chat)
    assert "已替您催办" in chat.say(RESIDENT, text)
    assert _count(chat.services.engine, Order) == 1 and _order(chat.services).chases == 1
