"""Report, small talk or follow-up: the blind conversation holdout through the real handlers.

Each line is sent by a registered resident of 1号楼 on a fresh copy of one migrated database
(nothing carries over between lines), through handlers.router.handle as the platforms call it:

- `smalltalk`: right if no order was created.
- `report`: right if an order was created (or, for a report, the bot asked nothing else first).
- `followup`: the resident first has an order of their own — claimed (chase, add, resolved) or done
  (not_fixed) — and the line is right if it moved that order the named way (chase, amend, cancel,
  reopen) and created no second order.
- `newreport` (the dev set's): the resident has a claimed order about rubbish, and the line names
  another problem; right if it became a new order and did not move the first one.

Also the labelled reports of the shared samples and bench/holdout.tsv: each should still become an
order (lines labelled `other` are counted apart: some are small talk by any reading).

`bench/conversation_holdout.tsv` was written by a helper who read no code and committed (bc5a5d2)
before this bench or any rule ran on it; handlers/intent.py was written before it was seen.

    .venv/bin/python bench/conversation.py [--leave-out] [--emergencies] [HOLDOUT.tsv]

--leave-out trains the act models (handlers/acts.py) without the set's lines and without the training
lines that nearly repeat one of them (bench/near_duplicates.py): the set is then one they never saw.

--emergencies also sends every emergency of the urgency sets as a resident would, and counts those answered as
anything but an order (alarmed at once, or asked about danger): chat must never swallow one.

How each set was written, when it was run and what it showed: docs/conversation_sets.md.
"""

import csv
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func
from sqlmodel import Session, select

from bench.near_duplicates import near_pairs
from handlers import acts
from handlers.context import Services
from storage.db import make_engine, migrate, transaction
from storage.models import Building, Order, OrderEvent
from storage.order_buttons import BuildingCb, OrderCb
from storage.policy import load_policy
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER, Clock
from tests.driver import Driver

HERE = Path(__file__).parent
SAMPLES = HERE.parents[1] / "shared" / "samples" / "resident_messages.tsv"
EXPECTED_MOVE = {"chase": "chase", "add": "amend", "resolved": "cancel", "not_fixed": "reopen"}
RESIDENT, MEMBER, GROUP = "9001", "9011", "-1001"
SETUP_REPORT = "2单元楼道里堆满了垃圾，好几天没人清理了"


def template_db(folder: Path) -> Path:
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
    engine.dispose()
    return path


def fresh_driver(template: Path, folder: Path, n: int, models: acts.ActModels | None) -> Driver:
    path = folder / f"line{n}.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    services = Services(engine, load_policy(None), ZoneInfo("Asia/Shanghai"), Clock(), acts=models)
    driver = Driver(services)
    driver.send(RESIDENT, "/start")
    with Session(services.engine) as session:
        building = session.exec(select(Building.id).where(Building.name == "1号楼")).one()
    driver.send(RESIDENT, callback=BuildingCb(building).pack())
    return driver


def prepare(driver: Driver, kind: str) -> None:
    """The order a follow-up is about: claimed by 李明; for not_fixed also done. Past the 补充 window."""
    driver.say(MEMBER, contact=("13800000011", MEMBER))
    driver.say(RESIDENT, SETUP_REPORT)
    driver.say(MEMBER, group=GROUP, callback=OrderCb("claim", 1).pack())
    if kind == "not_fixed":
        driver.say(MEMBER, "/done 1 已处理")
    driver.services.clock.advance(minutes=30)


def outcome(driver: Driver) -> tuple[int, list[str]]:
    with Session(driver.services.engine) as session:
        orders = session.exec(select(func.count()).select_from(Order)).one()
        moves = list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == 1).order_by(OrderEvent.id)))
    return orders, moves


def run_line(
    template: Path, folder: Path, n: int, text: str, label: str, kind: str, models: acts.ActModels | None
) -> tuple[bool, str]:
    driver = fresh_driver(template, folder, n, models)
    try:
        if label in ("followup", "newreport"):
            prepare(driver, kind)
        before_orders, before_moves = outcome(driver)
        answer = driver.say(RESIDENT, text)
        orders, moves = outcome(driver)
    finally:
        driver.services.engine.dispose()
    created = orders > before_orders
    if label == "smalltalk":
        return not created, answer
    if label == "report":
        return created, answer
    new_moves = moves[len(before_moves) :]
    if label == "newreport":
        return created and not set(new_moves) & set(EXPECTED_MOVE.values()), answer
    return (not created and EXPECTED_MOVE[kind] in new_moves), answer


def read_holdout(path: Path) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [(row["text"], row["label"], row["kind"]) for row in csv.DictReader(handle, delimiter="\t")]


def read_reports(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        category, text = line.split("\t")[:2]
        rows.append((text, category))
    return rows


def leave_out(lines: list[str]) -> tuple[acts.ActModels, int]:
    """The act models trained without these lines and their near-duplicates, and how many examples went."""
    trained = [text for _, text in acts.examples()]
    near = {text for _, text, _ in near_pairs(trained, lines)}
    gone = [*lines, *near]
    return acts.trained(left_out=gone), len(trained) - len(acts.examples(left_out=gone))


def main() -> None:
    started = time.perf_counter()
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    holdout = Path(arguments[0]) if arguments else HERE / "conversation_holdout.tsv"
    lines = read_holdout(holdout)
    models = None  # the shipped act models
    if "--leave-out" in sys.argv:
        models, gone = leave_out([text for text, _, _ in lines])
        print(f"act models trained without this set: {gone} examples left out (its lines and their near-duplicates)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = template_db(folder)
        right, total, misses = Counter(), Counter(), defaultdict(list)
        for n, (text, label, kind) in enumerate(lines):
            ok, answer = run_line(template, folder, n, text, label, kind, models)
            group = f"{label}/{kind}" if label == "followup" else label
            total[group] += 1
            right[group] += ok
            if not ok:
                misses[group].append((text, answer.replace("\n", " ")[:60]))
        print(f"Conversation set ({holdout.name}):")
        for group in sorted(total):
            print(f"  {group:<20} {right[group]:>3}/{total[group]:<3} right")
        small_talk_filed = total["smalltalk"] - right["smalltalk"]
        reports_missed = total["report"] - right["report"]
        print(f"  small talk that became an order: {small_talk_filed} (goal 0)")
        print(f"  reports that did not:            {reports_missed} (goal 0)")
        for group in sorted(misses):
            for text, answer in misses[group]:
                print(f"    miss {group}: {text}  →  {answer}")

        for name, path in (("shared samples", SAMPLES), ("bench/holdout.tsv", HERE / "holdout.tsv")):
            if not path.exists():
                print(f"{name}: not found at {path}")
                continue
            rows = read_reports(path)
            base = 10_000 if "holdout" in name else 20_000
            missed = [
                (text, cat)
                for i, (text, cat) in enumerate(rows)
                if not run_line(template, folder, base + i, text, "report", "", models)[0]
            ]
            others = sum(1 for _, cat in rows if cat == "other")
            missed_others = [text for text, cat in missed if cat == "other"]
            print(
                f"{name}: {len(rows) - len(missed)}/{len(rows)} still become orders "
                f"({len(missed_others)} of the {others} labelled `other` did not)"
            )
            for text, cat in missed:
                print(f"    not filed ({cat}): {text}")
        if "--emergencies" in sys.argv:
            report_emergencies(template, folder, models)
    print(f"({time.perf_counter() - started:.0f} s)")


def emergency_lines() -> list[str]:
    """Every emergency of the urgency sets (bench/urgency_holdout*.tsv, bench/emergencies.txt), once each."""
    lines = (HERE / "emergencies.txt").read_text(encoding="utf-8").splitlines()
    for path in sorted(HERE.glob("urgency_holdout*.tsv")):
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        lines += [row[-1] for row in rows if len(row) > 1 and row[0] == "1"]
    return list(dict.fromkeys(line.strip() for line in lines if line.strip() and not line.startswith("#")))


def report_emergencies(template: Path, folder: Path, models: acts.ActModels | None) -> None:
    """Emergencies said as residents say them must never be answered as chat: each still becomes an order, alarmed at
    once or asked about ("现在有人受伤或有危险吗？")."""
    outcomes = Counter()
    for i, text in enumerate(emergency_lines()):
        filed, answer = run_line(template, folder, 30_000 + i, text, "report", "", models)
        outcome = "alarmed" if "已同时通知" in answer else "asked" if "有危险吗" in answer else "filed" if filed else "missed"
        outcomes[outcome] += 1
        if outcome == "missed":
            print(f"    emergency not filed: {text}  →  {answer.replace(chr(10), ' ')[:60]}")
    total = sum(outcomes.values())
    print(
        f"emergencies: {total - outcomes['missed']}/{total} became orders ({outcomes['alarmed']} alarmed at once, "
        f"{outcomes['asked']} asked about danger, {outcomes['filed']} filed without either)"
    )


if __name__ == "__main__":
    main()
