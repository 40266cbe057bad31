"""`make mutation`: mutmut on the modules where a silent bug costs most, each against its own tests.

One group at a time in its own copy (`.mutation/<group>/`): mutmut reads one test selection per
project, and a mutant of `orders.apply` would otherwise run every end-to-end test that claims an
order. SQLite only (`-k "not postgres"`): the mutants are in Python, not in the database. Prints
per group killed / survived / no tests / timeout and the score; `--survivors` lists the survivors.
Results are cached per group: a second run re-tests only what changed. See docs/MUTATION.md.

    python tests/mutation.py [GROUP ...] [--survivors]
"""

import fnmatch
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
SOURCES = ("bot", "handlers", "storage", "scheduler", "tests")
MUTMUT = Path(sys.executable).with_name("mutmut")
CHILDREN = "2"  # the machine's cores are shared

# group: (files mutated, mutant names run, test files, pytest -k)
GROUPS: dict[str, tuple[list[str], list[str], list[str], str]] = {
    "orders": (
        ["storage/orders.py"],
        ["storage.orders.*"],
        ["tests/test_orders.py", "tests/test_move_consequences.py", "tests/test_escalation.py", "tests/test_followups.py"],
        "",
    ),
    "inbox": (["storage/inbox.py"], ["storage.inbox.*"], ["tests/test_handlers.py"], ""),
    "outbox": (
        ["storage/outbox.py", "bot/sender.py"],
        ["storage.outbox.*", "bot.sender.*"],
        ["tests/test_outbox_due.py", "tests/test_sender.py", "tests/test_chat_moved.py", "tests/test_outbox_rules.py"],
        "",
    ),
    "reminders": (
        ["scheduler/timing.py", "scheduler/calendar_ticks.py"],
        ["scheduler.timing.*", "scheduler.calendar_ticks.*"],
        ["tests/test_reminders.py", "tests/test_reminder_settings.py", "tests/test_escalation.py"],
        "",
    ),
    "signatures": (
        ["bot/wechat/callback.py"],
        [
            f"bot.wechat.callback.{name}__mutmut_*"
            for name in (
                "xǁWeChatCallbackǁreceive",
                "xǁWeChatCallbackǁ_not_replayed",
                "xǁWeChatCallbackǁ_echo",
                "xǁWeChatCallbackǁ_plain_signature_holds",
                "xǁWeChatCallbackǁ_opened",
                "x_request_is_encrypted",
                "x__parsed",
                "x__text",
                "x__message",
            )
        ],
        ["tests/test_wechat.py", "tests/test_wechat_defects.py", "tests/test_wechat_signatures.py"],
        "echostr or bad_input or retried or replayed or refuse or safe_mode",
    ),
}


def project_file(files: list[str], tests: list[str], keyword: str) -> str:
    """The project's pyproject.toml with this group's [tool.mutmut]."""
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"\n\[tool\.mutmut\].*?(?=\n\[|\Z)", "", text, flags=re.S)
    selection = "not postgres" + (f" and ({keyword})" if keyword else "")
    return text + (
        "\n[tool.mutmut]\n"
        f"source_paths = {list(SOURCES[:-1])!r}\n"
        f"only_mutate = {files!r}\n"
        f'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-k", "{selection}"]\n'
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
    ).replace("'", '"')


def prepare(group: str) -> Path:
    """A fresh copy of the sources beside mutmut's cache (`mutants/`), which is kept."""
    files, _, tests, keyword = GROUPS[group]
    place = WORK / group
    place.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        shutil.rmtree(place / name, ignore_errors=True)
        shutil.copytree(ROOT / name, place / name, ignore=shutil.ignore_patterns("__pycache__", "*.db*"))
    (place / "pyproject.toml").write_text(project_file(files, tests, keyword))
    return place


def outcomes(place: Path, names: list[str]) -> dict[str, str]:
    listed = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=place, capture_output=True, text=True, check=True)
    found = {}
    for line in listed.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in names):
            found[name] = status
    return found


def run(group: str, survivors: bool) -> dict[str, int]:
    _, names, _, _ = GROUPS[group]
    place = prepare(group)
    started = time.monotonic()
    subprocess.run([MUTMUT, "run", "--max-children", CHILDREN, *names], cwd=place, capture_output=True, check=False)
    seconds = time.monotonic() - started
    found = outcomes(place, names)
    tally = {status: list(found.values()).count(status) for status in sorted(set(found.values()))}
    killed = tally.get("killed", 0) + tally.get("timeout", 0)
    score = 100 * killed / len(found) if found else 0.0
    print(f"{group:<11} {len(found):>4} mutants  {tally}  score {score:.1f}%  ({seconds:.0f} s)", flush=True)
    if survivors:
        for name, status in sorted(found.items()):
            if status not in ("killed", "timeout"):
                print(f"    {name}: {status}")
    return tally


def main(argv: list[str]) -> None:
    survivors = "--survivors" in argv
    groups = [arg for arg in argv if not arg.startswith("--")] or list(GROUPS)
    unknown = [group for group in groups if group not in GROUPS]
    if unknown:
        sys.exit(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    for group in groups:
        run(group, survivors)


if __name__ == "__main__":
    main(sys.argv[1:])
