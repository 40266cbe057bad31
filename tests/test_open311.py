"""Open311 GeoReport v2 through the real `gridbot run`: a client files a request as the spec says,
reads it back open, reads it closed once the member finished it; refusals answer in GeoReport's
error format and write nothing; no resident's name or phone in any GET."""

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.cli import main
from storage.db import make_engine
from storage.models import Order, OrderEvent
from tests.fake_telegram import FakeTelegram
from tests.running import bot_settings, free_port, running
from tests.test_e2e_telegram import (  # noqa: F401 (db_url is a fixture)
    G01,
    LIMING,
    RESIDENT,
    bind_members,
    button,
    db_url,
    last_text,
    register_resident,
)

PHONE = "13912345678"


def _count(url: str, table) -> int:
    with Session(make_engine(url)) as session:
        return session.exec(select(func.count()).select_from(table)).one()


async def _up(tg: FakeTelegram, http: httpx.AsyncClient, port: int) -> None:
    async def answers() -> bool:
        try:
            return (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        except httpx.ConnectError:
            return False

    await tg.wait_for(answers, timeout=20)


@pytest.fixture
def api_key(db_url, monkeypatch, capsys) -> str:  # noqa: F811
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    assert main(["apikey", "街道App"]) == 0
    key = capsys.readouterr().out.strip()
    assert main(["apikey", "街道App"]) == 1  # one key per name
    return key


async def test_a_client_files_a_request_and_follows_it_to_closed(db_url, api_key):  # noqa: F811
    port = free_port()
    root = f"http://127.0.0.1:{port}/open311/v2"
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, http_port=port)), httpx.AsyncClient() as http:
        await bind_members(tg, (LIMING, "13800000011"))
        await register_resident(tg)  # 张阿姨 reports by chat too: her name and phone must not show
        tg.push_text(RESIDENT, "1号楼门口垃圾桶满了没人倒，我电话13800000001")
        await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id), timeout=20)

        services = (await http.get(f"{root}/services.json")).json()
        assert {"service_code": "sanitation", "service_name": "环境卫生"}.items() <= services[0].items()

        filed = await http.post(
            f"{root}/requests.json",
            data={
                "api_key": api_key,
                "service_code": "sanitation",
                "description": f"2单元楼道里堆满了垃圾，好几天没人清理了，联系电话{PHONE}",
                "address_string": "幸福里社区2号楼2单元",
                "lat": "31.2304",
                "long": "121.4737",
                "media_url": "https://example.org/p/1.jpg",
            },
        )
        assert filed.status_code == 201, filed.text
        number = filed.json()[0]["service_request_id"]
        assert number == "2" and "一网格" in filed.json()[0]["service_notice"]
        card = await tg.wait_for(lambda: next(m for m in tg.chat(G01) if "#2" in (m.text or "") and "领单" in str(m.buttons)))
        assert "2号楼" in card.text and PHONE not in card.text  # the grid's card, as for a chat report

        seen = (await http.get(f"{root}/requests/{number}.json")).json()
        assert len(seen) == 1 and seen[0]["status"] == "open" and seen[0]["service_code"] == "sanitation"
        assert seen[0]["address"] == "2号楼" and seen[0]["lat"] == pytest.approx(31.2304)
        assert seen[0]["media_url"] == "https://example.org/p/1.jpg"
        assert PHONE not in seen[0]["description"] and "楼道里堆满了垃圾" in seen[0]["description"]

        tg.push_callback(LIMING, card, button(card, "领单"))
        await tg.wait_for(lambda: "已领单" in card.text)
        tg.push_text(LIMING, f"/done {number} 已清理")
        await tg.wait_for(lambda: "已办结" in card.text)
        assert (await http.get(f"{root}/requests/{number}.json")).json()[0]["status"] == "closed"

        listed = await http.get(f"{root}/requests.json")
        assert [r["service_request_id"] for r in listed.json()] == ["2", "1"]
        for word in ("张阿姨", "13800000001", PHONE, "街道App"):
            assert word not in listed.text  # no resident's name or phone in any GET
        assert [r["service_request_id"] for r in (await http.get(f"{root}/requests.json?status=open")).json()] == ["1"]
        closed = await http.get(f"{root}/requests.json", params={"status": "closed", "service_code": "sanitation"})
        assert [r["service_request_id"] for r in closed.json()] == ["2"]
        later = await http.get(f"{root}/requests.json", params={"start_date": "2099-01-01T00:00:00+08:00"})
        assert later.json() == []


@pytest.mark.parametrize(
    ("how", "status", "words"),
    [
        ({"data": {"api_key": "guessed", "service_code": "sanitation", "description": "垃圾没人清"}}, 403, "api_key"),
        ({"data": {"service_code": "sanitation", "description": "垃圾没人清"}}, 403, "api_key"),
        ({"data": {"api_key": "KEY", "service_code": "potholes", "description": "路上有坑"}}, 400, "service_code"),
        ({"data": {"api_key": "KEY", "service_code": "sanitation", "description": "  "}}, 400, "description"),
        (
            {"data": {"api_key": "KEY", "service_code": "sanitation", "description": "垃圾", "lat": "abc", "long": "1"}},
            400,
            "lat",
        ),
        ({"data": {"api_key": "KEY", "service_code": "sanitation", "description": "垃圾", "lat": "31"}}, 400, "together"),
        (
            {"data": {"api_key": "KEY", "service_code": "sanitation", "description": "垃圾", "media_url": "file:///etc"}},
            400,
            "media",
        ),
        ({"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, 400, "malformed"),
        ({"content": b"\xff\xfe", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 400, "malformed"),
    ],
)
async def test_refusals_answer_in_georeport_errors_and_write_nothing(db_url, api_key, how, status, words):  # noqa: F811
    port = free_port()
    root = f"http://127.0.0.1:{port}/open311/v2"
    if "data" in how:
        how = {"data": {k: (api_key if v == "KEY" else v) for k, v in how["data"].items()}}
    before = _count(db_url, Order), _count(db_url, OrderEvent)
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, http_port=port)), httpx.AsyncClient() as http:
        await _up(tg, http, port)
        answer = await http.post(f"{root}/requests.json", **how)
        assert answer.status_code == status
        (error,) = answer.json()
        assert error["code"] == status and words in error["description"]
        assert (await http.get(f"{root}/requests/99.json")).json()[0]["code"] == 404
        assert (await http.get(f"{root}/requests.json?status=half")).status_code == 400
        assert (await http.get(f"{root}/requests.json?start_date=yesterday")).status_code == 400
    assert (_count(db_url, Order), _count(db_url, OrderEvent)) == before
