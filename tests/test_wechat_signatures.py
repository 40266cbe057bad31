"""What the WeChat callback lets in: signatures in both modes, timestamps, sizes, hostile or broken XML,
and a passive reply WeChat will take (addressed back to the person).

Written against mutants of bot/wechat/callback.py that survived the suite (docs/MUTATION.md).
"""

import time
from xml.etree.ElementTree import fromstring

import httpx

from tests.fake_wechat import ACCOUNT, TOKEN, Account, message_xml, sign, text_fields, wechat_settings
from tests.running import running
from tests.test_wechat import RESIDENT, counts, engine_wx, register_resident, wx  # noqa: F401 (engine_wx, wx: fixtures)

REPORT = "2单元楼道里堆满了垃圾，好几天没人清理了"


def _plain(xml: str, timestamp: str, nonce: str = "n-plain") -> tuple[dict, bytes]:
    """A plain-mode push signed over whatever timestamp it carries."""
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}, xml.encode()


async def test_plain_mode_refuses_unsigned_odd_or_oversized_pushes(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url, safe_mode=False)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        before = counts(engine_wx)
        message = message_xml(RESIDENT, "text", text_fields(REPORT), msg_id=555001)
        # No signature, dressed as a safe-mode push: in plain mode nothing but `signature` vouches for a push.
        unsigned = {"timestamp": str(int(time.time())), "nonce": "n1", "encrypt_type": "aes", "msg_signature": "x"}
        assert (await account.send(unsigned, message.encode())).status_code == 403
        assert (await account.send(*_plain(message, "soon"))).status_code == 403  # signed, but no time
        assert (await account.send(*_plain(message, ""))).status_code == 403
        assert (await account.send(*_plain(message, str(int(time.time()) - 3600)))).status_code == 403  # an old capture
        huge = message_xml(RESIDENT, "text", text_fields("垃圾" * 40_000), msg_id=555002)
        assert (await account.send(*_plain(huge, str(int(time.time())), "n-huge"))).status_code == 413
        assert counts(engine_wx) == before
        assert "已受理" in await account.text(RESIDENT, REPORT)  # a proper push still gets through


async def test_broken_or_doctype_xml_and_a_push_without_a_time_are_refused(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url, safe_mode=False)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        before = counts(engine_wx)
        now = str(int(time.time()))
        doctype = '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://evil.example/x.dtd">' + message_xml(
            RESIDENT, "text", text_fields(REPORT), msg_id=555003
        )
        assert (await account.send(*_plain(doctype, now, "n-dtd"))).status_code == 400
        timeless = (
            f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{RESIDENT}</FromUserName>"
            f"<MsgType>text</MsgType>{text_fields(REPORT)}<MsgId>555004</MsgId></xml>"
        )
        assert (await account.send(*_plain(timeless, now, "n-timeless"))).status_code == 400
        assert counts(engine_wx) == before


async def test_safe_mode_takes_msg_signature_alone_and_answers_the_person(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        query, body = account.sealed(message_xml(RESIDENT, "text", text_fields(REPORT), msg_id=555005))
        del query["signature"]  # WeChat may leave it out in safe mode: msg_signature vouches for the body
        answered = await account.send(query, body)
        assert answered.status_code == 200 and "已受理" in account.reply_text(answered)
        outer = fromstring(answered.text)
        inner = fromstring(
            account.crypto.decrypt_message(
                answered.text, outer.findtext("MsgSignature"), outer.findtext("TimeStamp"), outer.findtext("Nonce")
            )
        )
        assert (inner.findtext("ToUserName"), inner.findtext("FromUserName")) == (RESIDENT, ACCOUNT)

        query, body = account.sealed(message_xml(RESIDENT, "text", text_fields("楼道灯坏了"), msg_id=555006))
        del query["msg_signature"]
        assert (await account.send(query, body)).status_code == 403
