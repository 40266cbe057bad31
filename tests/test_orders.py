"""The order lifecycle on SQLite and PostgreSQL: transitions, refusals, audit, atomic claim."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from storage import orders
from storage.db import make_engine, transaction
from storage.models import Building, Grid, Member, Order, OrderEvent, Resident, Role
from storage.models import OrderStatus as S
from storage.orders import FOLLOWER, SYSTEM, Actor, IllegalTransition, NotPermitted
from tests.processes import in_processes

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(engine):
    """Two grids, a resident in G01, members of G01 and G02, a staff member, one dispatched order."""
    with transaction(engine) as session:
        g1, g2 = Grid(code="G01", name="一网格"), Grid(code="G02", name="二网格")
        session.add_all([g1, g2])
        session.flush()
        building = Building(name="1号楼", grid_id=g1.id)
        session.add(building)
        session.flush()
        resident = Resident(name="张阿姨", building_id=building.id)
        people = [Member(name=f"党员{i}", phone=f"1380000010{i}", role=Role.MEMBER, grid_id=g1.id) for i in range(8)]
        outsider = Member(name="陈刚", phone="13800000021", role=Role.MEMBER, grid_id=g2.id)
        staff = Member(name="刘洋", phone="13800000031", role=Role.STAFF)
        session.add_all([resident, *people, outsider, staff])
        session.flush()
        order = orders.submit(
            session,
            Order(resident_id=resident.id, building_id=building.id, grid_id=g1.id, text="楼道堆满垃圾"),
            Actor("resident", resident.id),
            NOW,
        )
        orders.apply(session, order, "dispatch", SYSTEM, NOW, dispatched_at=NOW)
        return {
            "order": order.id,
            "resident": Actor("resident", resident.id),
            "members": [Actor("member", m.id, Role.MEMBER, g1.id) for m in people],
            "outsider": Actor("member", outsider.id, Role.MEMBER, g2.id),
            "staff": Actor("member", staff.id, Role.STAFF),
        }


def _move(engine, order_id, trigger, actor, **changes):
    with transaction(engine) as session:
        order = session.get(Order, order_id)
        return orders.apply(session, order, trigger, actor, NOW, **changes)


def _status(engine, order_id):
    with transaction(engine) as session:
        return session.get(Order, order_id).status


def _events(engine, order_id):
    with transaction(engine) as session:
        return [
            (e.trigger, e.from_status, e.to_status, e.actor)
            for e in session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        ]


def test_full_lifecycle_is_audited_step_by_step(engine, world):
    order_id, member = world["order"], world["members"][0]
    _move(engine, order_id, "claim", member, claimer_id=member.id)
    _move(engine, order_id, "finish", member)
    _move(engine, order_id, "rate", world["resident"], rating=5)
    assert _status(engine, order_id) == S.CLOSED
    assert _events(engine, order_id) == [
        ("submit", "", "submitted", world["resident"].label),
        ("dispatch", "submitted", "dispatched", "system"),
        ("claim", "dispatched", "claimed", member.label),
        ("finish", "claimed", "done", member.label),
        ("rate", "done", "closed", world["resident"].label),
    ]


@pytest.mark.parametrize("trigger", ["finish", "rate", "give_back"])
def test_moves_not_in_the_table_are_refused_and_write_nothing(engine, world, trigger):
    actor = world["resident"] if trigger == "rate" else world["staff"]
    with pytest.raises(IllegalTransition):
        _move(engine, world["order"], trigger, actor)
    assert _status(engine, world["order"]) == S.DISPATCHED
    assert len(_events(engine, world["order"])) == 2


def test_roles_are_checked_before_anything_is_written(engine, world):
    order_id = world["order"]
    with pytest.raises(NotPermitted):
        _move(engine, order_id, "claim", world["outsider"])  # another grid's member
    with pytest.raises(NotPermitted):
        _move(engine, order_id, "dispatch", world["members"][0])  # members do not dispatch
    with pytest.raises(NotPermitted):
        _move(engine, order_id, "cancel", Actor("resident", 9999))  # not the resident's order
    claimer, other = world["members"][0], world["members"][1]
    _move(engine, order_id, "claim", claimer, claimer_id=claimer.id)
    with pytest.raises(NotPermitted):
        _move(engine, order_id, "finish", other)  # only the claimer finishes
    assert _status(engine, order_id) == S.CLAIMED


def test_give_back_puts_the_order_up_again(engine, world):
    member = world["members"][0]
    _move(engine, world["order"], "claim", member, claimer_id=member.id)
    _move(engine, world["order"], "give_back", member, claimer_id=None)
    assert _status(engine, world["order"]) == S.DISPATCHED
    _move(engine, world["order"], "claim", world["members"][1], claimer_id=world["members"][1].id)


def test_a_stale_read_loses_the_compare_and_set(engine, world):
    with transaction(engine) as session:
        stale = session.get(Order, world["order"])
        session.expunge(stale)
    first = world["members"][0]
    _move(engine, world["order"], "claim", first, claimer_id=first.id)
    with transaction(engine) as session, pytest.raises(IllegalTransition):
        orders.apply(session, stale, "claim", world["members"][1], NOW, claimer_id=world["members"][1].id)


def test_a_move_decided_before_a_give_back_and_reclaim_loses(engine, world):
    """Same status as read, but the order moved meanwhile (claimed, given back): the version tells."""
    with transaction(engine) as session:
        stale = session.get(Order, world["order"])
        session.expunge(stale)
    first, second = world["members"][0], world["members"][1]
    _move(engine, world["order"], "claim", first, claimer_id=first.id)
    _move(engine, world["order"], "give_back", first, claimer_id=None)
    assert _status(engine, world["order"]) == S.DISPATCHED  # as the stale read saw it
    with transaction(engine) as session, pytest.raises(IllegalTransition):
        orders.apply(session, stale, "claim", second, NOW, claimer_id=second.id)
    with transaction(engine) as session:
        assert session.get(Order, world["order"]).claimer_id is None


def claim_as_read(barrier, url: str, order_id: int, actor: Actor, one_transaction: bool) -> str:
    """One member's claim in its own process, decided on what it read before the others moved.

    In one transaction (PostgreSQL): read, wait for all, UPDATE; the losers wait on the row lock and
    then find the status and version changed. SQLite holds its one write lock from BEGIN, so there the
    read is its own transaction and the claim a second one, as when a card is tapped some time after
    it was read: the UPDATE's compare-and-set alone tells who was first."""
    engine = make_engine(url)
    try:
        if one_transaction:
            with transaction(engine) as session:
                order = session.get(Order, order_id)
                barrier.wait()
                orders.apply(session, order, "claim", actor, NOW, claimer_id=actor.id)
        else:
            with transaction(engine) as session:
                order = session.get(Order, order_id)
            barrier.wait()
            with transaction(engine) as session:
                orders.apply(session, order, "claim", actor, NOW, claimer_id=actor.id)
        return f"won:{actor.id}"
    except IllegalTransition:
        return "lost"
    finally:
        engine.dispose()


def test_members_claiming_at_once_from_separate_processes_exactly_one_wins(engine, world, database_url):
    """Each racer has read the order as dispatched before any claims: only the database's
    compare-and-set (and on PostgreSQL its row lock) decides, not a lock of this process."""
    racers = world["members"][:4]  # four processes: enough to race, light on two shared cores
    one_transaction = engine.dialect.name == "postgresql"
    outcomes = in_processes(claim_as_read, [(database_url, world["order"], actor, one_transaction) for actor in racers])
    winners = [outcome.split(":")[1] for outcome in outcomes if outcome != "lost"]
    assert len(winners) == 1 and outcomes.count("lost") == 3, outcomes
    claims = [e for e in _events(engine, world["order"]) if e[0] == "claim"]
    assert [actor for *_, actor in claims] == [f"member:{winners[0]}"]  # the losers wrote no audit row
    with transaction(engine) as session:
        order = session.get(Order, world["order"])
        assert (order.status, order.claimer_id, order.version) == (S.CLAIMED, int(winners[0]), 3)


def _done(engine, world) -> Actor:
    member = world["members"][0]
    _move(engine, world["order"], "claim", member, claimer_id=member.id)
    _move(engine, world["order"], "finish", member)
    return member


def _neighbour(engine, world, role: str | None = None) -> Actor:
    """Another resident of the same building (`role` FOLLOWER: one who said 同一件事)."""
    with transaction(engine) as session:
        order = session.get(Order, world["order"])
        neighbour = Resident(name="李大爷", building_id=order.building_id)
        session.add(neighbour)
        session.flush()
        return Actor("resident", neighbour.id, role)


def _refused(engine, world, trigger: str, actor: Actor) -> None:
    """Refused for the actor's role, and nothing written: status and audit as before."""
    before = (_status(engine, world["order"]), _events(engine, world["order"]))
    with pytest.raises(NotPermitted):
        _move(engine, world["order"], trigger, actor)
    assert (_status(engine, world["order"]), _events(engine, world["order"])) == before


@pytest.mark.parametrize("trigger", ["cancel", "chase", "amend", "follow"])
def test_a_member_cannot_use_a_residents_moves(engine, world, trigger):
    _refused(engine, world, trigger, world["members"][0])
    _refused(engine, world, trigger, world["staff"])  # not even staff: these are the resident's words


@pytest.mark.parametrize("trigger", ["close", "escalate", "dispatch", "reopen"])
def test_a_plain_member_cannot_use_the_staffs_moves(engine, world, trigger):
    _refused(engine, world, trigger, world["members"][0])


def test_only_a_neighbour_follows_and_only_the_resident_or_a_follower_chases(engine, world):
    _refused(engine, world, "follow", world["resident"])  # one's own order: nothing to follow
    _refused(engine, world, "chase", _neighbour(engine, world))
    _refused(engine, world, "amend", _neighbour(engine, world))
    _move(engine, world["order"], "follow", _neighbour(engine, world))
    follower = _neighbour(engine, world, FOLLOWER)
    _move(engine, world["order"], "chase", follower)
    _move(engine, world["order"], "amend", follower, note="是3单元")
    assert [e[0] for e in _events(engine, world["order"])][-3:] == ["follow", "chase", "amend"]


@pytest.mark.parametrize("trigger", ["rate", "reopen"])
def test_a_follower_may_rate_or_reopen_a_done_order_a_stranger_may_not(engine, world, trigger):
    _done(engine, world)
    _refused(engine, world, trigger, _neighbour(engine, world))
    changes = {"rating": 4} if trigger == "rate" else {}
    _move(engine, world["order"], trigger, _neighbour(engine, world, FOLLOWER), **changes)
    assert _status(engine, world["order"]) == (S.CLOSED if trigger == "rate" else S.DISPATCHED)


def test_the_resident_picks_the_category_of_a_submitted_order(engine, world):
    with transaction(engine) as session:
        order = orders.submit(
            session, Order(resident_id=world["resident"].id, building_id=1, grid_id=None, text="想问问"), world["resident"], NOW
        )
    _move(engine, order.id, "retag", world["resident"], category="other")
    assert [e[0] for e in _events(engine, order.id)] == ["submit", "retag"]


def test_each_audit_row_has_its_version_time_and_note(engine, world):
    member, later = world["members"][0], NOW + timedelta(hours=1)
    with transaction(engine) as session:
        orders.apply(session, session.get(Order, world["order"]), "claim", member, later, claimer_id=member.id)
    with transaction(engine) as session:
        orders.apply(session, session.get(Order, world["order"]), "give_back", member, later, note="家里有事", claimer_id=None)
    with transaction(engine) as session:
        rows = [(e.trigger, e.version, e.at.replace(tzinfo=UTC), e.note) for e in orders.history(session, world["order"])]
    assert rows == [
        ("submit", 1, NOW, None),
        ("dispatch", 2, NOW, None),
        ("claim", 3, later, None),
        ("give_back", 4, later, "家里有事"),
    ]


def test_two_moves_in_one_unit_of_work_see_each_other(engine, world):
    """A use case may move an order twice in one transaction (claimed, then finished at once)."""
    member = world["members"][0]
    with transaction(engine) as session:
        order = session.get(Order, world["order"])
        orders.apply(session, order, "claim", member, NOW, claimer_id=member.id)
        orders.apply(session, order, "finish", member, NOW)
    with transaction(engine) as session:
        stored = session.get(Order, world["order"])
        assert (stored.status, stored.version, stored.claimer_id) == (S.DONE, 4, member.id)


def test_an_orders_history_is_its_own_oldest_first(engine, world):
    with transaction(engine) as session:
        other = orders.submit(
            session, Order(resident_id=world["resident"].id, building_id=1, grid_id=1, text="路灯不亮"), world["resident"], NOW
        )
    _done(engine, world)
    with transaction(engine) as session:
        assert [e.trigger for e in orders.history(session, world["order"])] == ["submit", "dispatch", "claim", "finish"]
        assert [e.trigger for e in orders.history(session, other.id)] == ["submit"]
