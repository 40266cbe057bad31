"""The pure parts of the WeChat adapter: numbered choices, robot cards, the robot rate limit."""

from bot.wechat.delivery import RobotLimiter
from bot.wechat.render import BIND_BY_CODE, MAX_TEXT_BYTES, render, robot_markdown
from storage.order_buttons import OrderCb, RateCb


def test_buttons_become_numbered_choices_across_replies():
    shown = render(
        [
            {"text": "通知", "buttons": [[["✅ 完成", "o:finish:3"], ["↩️ 退单", "o:give_back:3"]]]},
            {"text": "工单 #4", "buttons": [[["跳过", "o:skip:4"]]]},
        ]
    )
    assert "回复数字：1 ✅ 完成　2 ↩️ 退单" in shown.text and "回复数字：3 跳过" in shown.text
    assert shown.choices == ("o:finish:3", "o:give_back:3", "o:skip:4")


def test_a_rating_request_reads_as_one_to_five():
    stars = [[[f"{n}⭐", RateCb(7, n).pack()] for n in range(1, 6)]]
    shown = render([{"text": "您满意吗？", "buttons": stars}])
    assert shown.text.endswith("回复数字 1-5 打分（5 分最满意）")
    assert shown.choices[4] == "r:7:5"


def test_contact_buttons_are_replaced_by_words_that_work_on_wechat():
    shown = render(
        [
            {"text": "党员请分享手机号，或发送 /bind 邀请码。", "ask_contact": True},
            {"text": "方便的话点下面「📱 分享手机号」", "ask_contact": True},
        ]
    )
    assert shown.text == BIND_BY_CODE


def test_long_text_is_cut_within_wechat_limit():
    assert len(render([{"text": "好" * 2000}]).text.encode()) <= MAX_TEXT_BYTES


def test_robot_card_tells_members_what_to_reply():
    markdown = robot_markdown({"text": "🆕 工单 #9", "buttons": [[["🙋 领单", OrderCb("claim", 9).pack()]]]})
    assert markdown.startswith("🆕 工单 #9") and "领单 9" in markdown


def test_a_robot_posts_at_most_twenty_a_minute():
    now = [0.0]
    limiter = RobotLimiter(per_window=20, window=60.0, clock=lambda: now[0])
    assert [limiter.wait("G01") for _ in range(20)] == [0.0] * 20
    assert limiter.wait("G01") == 60.0 and limiter.wait("G02") == 0.0  # each robot has its own budget
    now[0] = 60.0
    assert limiter.wait("G01") == 0.0
    assert limiter.pause("G01") == 60.0 and limiter.wait("G01") == 60.0  # errcode 45009: wait a window
