"""`gridbot run` as an operator starts it with only GRIDBOT_WECHAT_* set: /wechat and /healthz serve."""

import asyncio
import signal

import httpx

from tests.conftest import ROSTER
from tests.fake_wechat import TOKEN, Account, FakeWeChat, sign, wechat_env, wechat_settings
from tests.running import free_port
from tests.test_run_process import GRIDBOT, _cli, _env, _healthy


async def test_wechat_alone_is_a_valid_configuration(tmp_path):
    async with FakeWeChat() as wx:
        port = free_port()
        env = _env(tmp_path, **wechat_env(wx.root), GRIDBOT_HTTP_PORT=str(port))
        code, _out, err = await _cli("import", str(ROSTER), env=env)
        assert code == 0, err
        process = await asyncio.create_subprocess_exec(
            GRIDBOT, "run", env=env, stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        try:
            await _healthy(port)
            async with httpx.AsyncClient() as client:
                check = {
                    "signature": sign(TOKEN, "1700000000", "n1"),
                    "timestamp": "1700000000",
                    "nonce": "n1",
                    "echostr": "hello-wechat",
                }
                assert (await client.get(f"http://127.0.0.1:{port}/wechat", params=check)).text == "hello-wechat"
                settings = wechat_settings(wx.root, env["GRIDBOT_DATABASE_URL"], http_port=port)
                account = Account(settings, client)
                assert "哪栋楼" in await account.event("o_resident", "subscribe")
                assert (await client.get(f"http://127.0.0.1:{port}/healthz")).text == "ok"
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()[-2000:]
