"""The unsure path on WeChat: the category buttons arrive as numbered choices; a digit is the tap."""

from tests.fake_wechat import Account, wechat_settings
from tests.running import running
from tests.test_wechat import REPORT, RESIDENT, engine_wx, register_resident, wx

__all__ = ["engine_wx", "wx"]  # fixtures shared with the WeChat core-loop tests


async def test_unsure_report_confirmed_by_typing_the_number(engine_wx, wx, database_url, tmp_path):
    config = tmp_path / "community.toml"
    config.write_text("confidence_threshold = 1.01  # above any confidence: every report is unsure\n")
    settings = wechat_settings(wx.root, database_url, config=config)
    async with running(settings):
        account = await Account(settings).ready()
        await register_resident(account)
        question = await account.text(RESIDENT, REPORT)
        assert "请点一下确认" in question and "回复数字：1 ✅ 是「环境卫生」" in question
        assert wx.robot_posts["G01"] == []  # not a guessed grid
        assert "已派给一网格" in await account.text(RESIDENT, "1")
        card = await wx.wait_for(lambda: next(p for p in wx.robot_posts["G01"] if "工单 #1" in p))
        assert "环境卫生" in card
        await account.aclose()
