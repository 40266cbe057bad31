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

    .venv/bin/python bench/conversation.py [--leave-out] [HOLDOUT.tsv]

--leave-out trains the act models (handlers/acts.py) without the set's lines and without the training
lines that nearly repeat one of them (bench/near_duplicates.py): the set is then one they never saw.

Set 1 (conversation_holdout.tsv, bc5a5d2) was run once, on the rules alone (handlers/intent.py as of
8d7eec8): small talk 98/151 not filed, reports 64/64 filed, follow-ups 41/68 routed right. The intent
model's examples were written after that run, so set 1 no longer measures it; then the small-talk
rules were widened on its misses (set 1 now: 0 small talk filed, 64/64 reports: tuned on, optimistic).

Set 2 (conversation_holdout_2.tsv, 33054bd: 106 small talk, 52 follow-ups, 98 reports) was written blind
by a helper that read no code, committed before anything ran on it, and run once on 33054bd's rules
and model: small talk filed 7/106 (goal 0), reports not filed 0/98, follow-ups routed right 34/52
(add 8/13, chase 8/15, not_fixed 8/12, resolved 10/12). Its misses were then studied (issue 11's second
round): it is SEEN and tuned on since.

bench/conversation_dev.tsv (312 lines: 175 small talk, 105 follow-ups, 31 reports) was written for that
round by the helper who changed the rules, not blind: its first 184 lines before any rule changed, 128 more
while tuning (each batch run, its misses fixed as general phrases). A development set, tuned on.

After that round (handlers/intent_words.py, the unclear-words question, follow-ups routed by the order's
state), on 2026-11-29, every set seen or tuned on, so optimistic — before → after, the before from main
(ce96ec2) the same day:

| set | small talk filed | reports not filed | follow-ups right (add, chase, not_fixed, resolved) |
|---|---|---|---|
| 1 (tuned) | 0/151 → 0/151 | 0/64 → 1/64 (楼到里的灯怀了: asked, filed on the next message) | 63/68 → 67/68 |
| 2 (seen) | 7/106 → 0/106 | 0/98 → 0/98 | 34/52 → 52/52 |
| dev (tuned) | 33/175 → 3/175 | 0/31 → 0/31 | 61/105 → 103/105 |

Dev's misses: 我想问个政策 (filed as 政策咨询; a fair reading), 我是退休教师 在这住了二十年了 and 昨天去公园转了一圈
人真多 (news at length the category model is sure of); 补充一下 (now asks what to add) and 还有个情况 晚上更严重
(chased). Known gap: a new problem named by no keyword while an order is open ("我家暖气不热 什么时候能修")
is taken as a chase of that order.

The shared samples and bench/holdout.tsv: every report not labelled `other` still filed at once (116/120 and
147/151; the rest are `other` lines that are small talk by any reading).

Set 3 (conversation_holdout_3.tsv, 5fd5f2e: 111 small talk, 64 follow-ups, 105 reports) was written blind by a
helper that read no project file, committed before the rules above saw it (their author never opened it), and
run once on 76d8c39 (the merge of that round): small talk filed 1/111 (你怎么回复这么快 是不是电脑在回: 政策咨询),
reports not filed 1/105 (人行道砖松了: greeted), follow-ups routed right 56/64 (add 13/16, chase 16/16,
not_fixed 12/16, resolved 15/16). The honest figure; not tuned on: the next change is measured on a set 4.

Issue 11's fourth round studied set 3's misses as classes (who answers, a person or a machine; a thing's
broken state in a few words; words that go on from the report, the job called done, the thing still as it
was, a complaint withdrawn; another thing named beside a chase's words: intent_words.THINGS) and grew the dev
set by 194 lines in its own words, in three batches each run once before any rule saw it (batch figures in
the commit messages), with a `newreport` label. Every set below is SEEN or tuned on, so optimistic; before
is 67955d4, after is this round (fffc8b6), 2026-11-29:

| set | small talk filed | reports not filed | follow-ups right (add, chase, not_fixed, resolved) | newreport |
|---|---|---|---|---|
| 1 (tuned) | 0/151 → 0/151 | 1/64 → 1/64 | 67/68 → 68/68 | |
| 2 (seen) | 0/106 → 0/106 | 0/98 → 0/98 | 52/52 → 52/52 | |
| 3 (seen) | 1/111 → 0/111 | 1/105 → 0/105 | 56/64 → 64/64 | |
| dev (tuned, 505 lines) | 12/252 → 1/252 | 7/54 → 0/54 | 160/187 → 185/187 | 9/12 → 12/12 |

The shared samples and bench/holdout.tsv: 116/120 and 147/151 still filed at once, before and after.

Set 4 (conversation_holdout_4.tsv, b2ac3be: 158 small talk, 72 follow-ups, 138 reports) was written blind by a
helper that read no project file, committed before that round's rules were merged (their author never opened
it), and run once on 09ea0a5 (that round merged, with issue 19's cheaper classification: the same verdicts on
every seen set): small talk filed 5/158 (chat about the day: 桂花开了 真香, 广场舞比赛好热闹, 猫今天特别乖,
新开了个面馆 味道巴适, 保安小伙儿挺精神), reports not filed 4/138 (暖气冰凉的 冻得睡不着, 楼顶私自搭房子,
工地扬尘太大: asked what the problem is; 开居住证明 找谁: taken as a question about the bot), follow-ups routed
right 60/72 (add 9/18, chase 18/19, not_fixed 16/18, resolved 17/17). The 补充 kind is the weak one: details
with no word of adding (还在漏 比昨天还大, 周六周日都在, 来之前给我打个电话) were chased or filed as second orders.
The honest figure; SEEN from now on: the next change is measured on a set 5.

Issue 11's fifth round added models of what a message does where the rules are silent (handlers/acts.py):
a chat model (small talk against everything else, at any length) and a follow-up model (add, chase,
not_fixed, resolved, or a new report, for a resident with an order), both learnt from every line of sets
1–4, dev and the shared samples' reports (act_training.tsv), lines written for thin classes
(act_written.tsv: chat naming things, neighbourly kindness, praise of staff, reports in no complaint word,
details for the visit, a job getting worse; some written after reading set 4's misses, so set 4's figure
below is a little optimistic), intent_training.tsv and training.tsv. Their thresholds (CHAT_SURE 0.8,
REPORT_SURE 0.9999 on 10+ letters, FOLLOW_UP_SURE 0.5, the follow-up model without training.tsv's reports)
were chosen on the leave-one-out figures. Leave-one-out: `--leave-out` trains the act models without the
set's lines and the training lines that nearly repeat one of them (461–580 of 2,746 examples); the rules
were tuned on sets 2, 3 and dev before, so only the models are measured honestly there. Before is main
(3d7a82e), after is this round, 2026-11-29:

| set (left out) | small talk filed | reports not filed | follow-ups right (add, chase, not_fixed, resolved) | newreport |
|---|---|---|---|---|
| 2 | 0/106 → 0/106 | 0/98 → 0/98 | 52/52 → 52/52 | |
| 3 | 0/111 → 0/111 | 0/105 → 0/105 | 64/64 → 64/64 | |
| 4 | 5/158 → 3/158 | 4/138 → 0/138 | 60/72 → 65/72 (add 9 → 14/18, chase 18/19, not_fixed 16/18, resolved 17/17) | |
| dev | 1/252 → 1/252 | 0/54 → 0/54 | 185/187 → 184/187 | 12/12 → 12/12 |

Set 4's small talk still filed: 广场舞比赛好热闹 (the model hears a noise complaint), 我家猫今天特别乖 and
面馆 味道巴适 (猫 and 味 are trouble words: never chat, the safety line); its adds missed: 还在漏 比昨天还大,
越来越严重了 and 今天又坏了一回 (the not_fixed phrase on an open order chases), 灯一闪一闪的 (filed anew). Dev
loses 另外门口的灯也有点暗 and 门口有个红色的牌子 (now filed, the chat model sure they are reports) and gains
还有个情况 晚上更严重. With everything trained (optimistic): set 1 0/151, 1/64, 68/68; set 2 0/106, 0/98,
52/52; set 3 0/111, 0/105, 64/64; set 4 2/158, 0/138, 69/72; dev 0/252, 0/54, 185/187, newreport 12/12.
The shared samples and bench/holdout.tsv: 116/120 and 147/151 still filed at once, before and after (the
samples' reports are now trained on; holdout.tsv's are not).

Set 5 (conversation_holdout_5.tsv, 3d7a82e: 168 small talk, 81 follow-ups, 153 reports) was written blind by a
helper that read no project file and committed before the fifth round began (its author never opened it; once,
a `wc -l` over bench/conversation_*.tsv printed its line count), and run once on 672f752 (the fifth round and
issue 19's third merged): small talk filed 11/168 (chat naming a thing or praising a change: 面馆 味道还不错,
狗狗打了疫苗 可乖了, 门卫张师傅人真好, 降温了 老年人要多穿点, 猫又胖了, 小狗好可爱, 路灯换了新的 亮堂多了, 电梯换了
新的 坐着稳多了, 超市鸡蛋特价, 保安小李帮我扛米; and 有问题直接在这里说就行吗), reports not filed 4/153 (地下室发现
好多白蚁: greeted; 楼顶被人加盖了一层, 儿童滑梯有个口子, 充电桩扫码没反应: asked what the problem is), follow-ups
routed right 58/81 (add 10/21, chase 20/20, not_fixed 14/20, resolved 14/20). Details about the same rubbish
(现在垃圾都堆到二楼了, 主要是装修剩下的木板和纸箱, 单元门密码…) were filed as second orders, three of them as
emergencies (堆的位置就在电表箱下面, 旧床垫靠在墙上, 挪到楼梯下面了 味道还在); the job praised as done (楼道干净了 👍,
全清掉了) filed or thanked instead of closing it. Worse than set 4's blind run (3.2%, 2.9%, 83%): 6.5%, 2.6%,
72%. The honest figure; SEEN from now on.

Issue 11's sixth round studied set 5's misses as classes and added set 5 to act_training.tsv. With the resident's
own order open (or just done), words no phrase or model placed that name its thing (intent_words.THINGS, the
rubbish kind widened: 一堆, 木板, 床垫, 袋子) or, naming no thing, its category, and no other building or unit, are
its detail (补充) — never a second order, so the urgency model's guess on them ("堆在电表箱下面")
raises no alarm; danger happening now (the emergency patterns: fire, gas, someone hurt) is still filed and alarmed.
The job praised as done (干净了, 干干净净, 清清爽爽, 全清掉了) resolves it; a half job (一半, 太马虎, 还…没拖) is
not_fixed. Pests, a build on a roof, a cut, a thing that does not respond are trouble. Praise of a thing or a person
and news of a sale (可乖了, 真好, 亮堂多了, 特价) are chat beside nothing that is trouble but the thing praised
(猫, 狗, 味) and no 但是. Leave-one-out (the rules were tuned on set 5, so its figure is optimistic for them and
honest for the models); before is main (a88abda), after is this round, 2026-11-29:

| set (left out) | small talk filed | reports not filed | follow-ups right (add, chase, not_fixed, resolved) | newreport |
|---|---|---|---|---|
| 2 | 0/106 → 0/106 | 0/98 → 0/98 | 52/52 → 52/52 | |
| 3 | 0/111 → 0/111 | 0/105 → 0/105 | 64/64 → 64/64 | |
| 4 | 3/158 → 0/158 | 0/138 → 0/138 | 65/72 → 65/72 | |
| 5 | 12/168 → 5/168 | 3/153 → 0/153 | 58/81 → 72/81 (add 10 → 15/21, chase 20/20, not_fixed 14 → 17/20, resolved 14 → 20/20) | |
| dev | 1/252 → 0/252 | 0/54 → 0/54 | 184/187 → 184/187 | 12/12 → 12/12 |

Set 5 still: small talk filed 有问题直接在这里说就行吗, 孙子考上大学了 高兴得睡不着 (the urgency model alarms), 降温了
老年人要多穿点, 猫又胖了, 保安…帮我把米扛上楼; adds missed 就在2单元一楼楼梯拐角那里, 今天又多了好几袋 (chased),
有股馊味 还招苍蝇了, 单元门密码…, 野猫去翻 撒了一地, 周末都在 周六来也行; not_fixed missed 大件的没搬, 整得稀里马哈的,
and 垃圾只是挪到楼梯下面了 味道还在 (after done: filed, and the urgency model still alarms — the same words naming
the done order's thing are not taken as 返工, since a full report of the thing come back must stay a new order;
the alarm on them is left open). The shared samples and bench/holdout.tsv:
116/120 and 147/151 still filed at once, before and after.

Set 6 (conversation_holdout_6.tsv, 480d0e5: 162 small talk (40 chitchat), 82 follow-ups, 152 reports) was written
blind by a helper that read no project file, with a wider cast (northern retirees, commuters, 粤 and 吴 speakers),
committed before the sixth round was merged (its author never opened it), and run once on f01f2fe: small talk filed
15/162 (13 of them chitchat about family, pets, neighbours' kindness, the weather, a hobby: 孙子考了一百分, 王大姐
帮我拎菜, 保洁阿姨把楼道拖得锃亮, 下雪了 孩子们堆雪人, 狗狗学会握手, 广场舞队去比赛, 学太极拳, 猫又胖了, 晚霞,
结婚五十周年…; one, 刚加完班 累成狗 跟你唠两句, raised as an emergency; and 我咋跟你说事儿 要按啥格式), reports not
filed 1/152 (公告栏的玻璃碎了: asked), follow-ups right 65/82 (add 14/21, chase 21/21, not_fixed 13/20, resolved
17/20; 我屋企喺2单元6楼 你哋上嚟搵我啦 raised as an emergency). Against set 5's blind run: small talk 6.5% → 9.3%,
reports 2.6% → 0.7%, follow-ups 72% → 79%. Chat naming people and things is the class the word lists and the act
models do not generalise to; the urgency model still alarms on unusual everyday text. SEEN from now on.
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
    arguments = [argument for argument in sys.argv[1:] if argument != "--leave-out"]
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
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
