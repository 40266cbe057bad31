"""`gridbot invite PHONE` codes: made for a roster member, spent once, expire after 7 days."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from storage.db import transaction
from storage.invites import ALPHABET, InviteError, create_invite, redeem_invite

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _code(engine, phone="13800000013", now=NOW) -> str:
    with transaction(engine) as session:
        return create_invite(session, phone, now)


def _redeem(engine, code, now=NOW):
    with transaction(engine) as session:
        return redeem_invite(session, code, now).name


def test_a_code_is_short_and_unambiguous(engine, roster):
    code = _code(engine, "+86 138 0000 0013")
    assert len(code) == 8 and set(code) <= set(ALPHABET) and not set(code) & set("01OIL")


def test_a_code_binds_its_member_once_in_any_case(engine, roster):
    code = _code(engine)
    assert _redeem(engine, f"  {code.lower()} ") == "王芳"
    with pytest.raises(InviteError, match="已经用过"):
        _redeem(engine, code)


def test_unknown_and_expired_codes_are_refused(engine, roster):
    with pytest.raises(InviteError, match="不对"):
        _redeem(engine, "ZZZZZZZZ")
    code = _code(engine)
    with pytest.raises(InviteError, match="过期"):
        _redeem(engine, code, NOW + timedelta(days=7, seconds=1))
    assert _redeem(engine, code, NOW + timedelta(days=6)) == "王芳"  # the refusal spent nothing


def test_no_code_for_a_phone_not_on_the_roster(engine, roster):
    with pytest.raises(LookupError, match="花名册里没有"):
        _code(engine, "13900000000")


def test_two_people_racing_for_one_code_bind_one(engine, roster):
    code = _code(engine)
    outcomes, barrier = [], threading.Barrier(4)

    def attempt():
        barrier.wait()
        try:
            outcomes.append(_redeem(engine, code))
        except InviteError:
            outcomes.append("refused")
        except Exception as error:
            outcomes.append(repr(error))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 3 + ["王芳"]


def test_gridbot_invite_prints_a_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["import", str(roster_folder())]) == 0
    capsys.readouterr()
    assert main(["invite", "13800000011"]) == 0
    assert len(capsys.readouterr().out.strip()) == 8
    assert main(["invite", "13900000000"]) == 1
    assert "花名册里没有" in capsys.readouterr().err


def roster_folder():
    from tests.conftest import ROSTER

    return ROSTER
