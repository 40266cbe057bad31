"""Run one function in several OS processes that start their work together.

Threads of one process share its SQLite writer lock (storage/db.py), so a race between them tests
that lock, not the database. Processes meet only in the database: PostgreSQL's row locks and the
compare-and-set, or SQLite's file lock. `spawn`, not `fork`: a child starts clean, without the
parent's engines, pools or event loop.
"""

import multiprocessing
from collections.abc import Callable
from typing import Any

START_TOGETHER = 60  # seconds a child waits at the barrier before giving up


def _child(target: Callable[..., Any], barrier, results, index: int, args: tuple) -> None:
    try:
        results.put((index, "ok", target(barrier, *args)))
    except BaseException as error:  # reported to the parent, which fails the test with it
        results.put((index, "error", f"{type(error).__name__}: {error}"))


def in_processes(target: Callable[..., Any], arguments: list[tuple], timeout: float = 90) -> list[Any]:
    """`target(barrier, *args)` in one process per entry of `arguments`; their results in that order.

    `target` must be importable (module level) and call `barrier.wait()` where the race begins.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(arguments), timeout=START_TOGETHER)
    results = context.Queue()
    children = [
        context.Process(target=_child, args=(target, barrier, results, index, args)) for index, args in enumerate(arguments)
    ]
    for child in children:
        child.start()
    collected = dict(_collect(results, len(children), timeout))
    for child in children:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    failures = {index: detail for index, (outcome, detail) in collected.items() if outcome == "error"}
    assert not failures, f"a process failed: {failures}"
    return [collected[index][1] for index in range(len(children))]


def _collect(results, count: int, timeout: float):
    for _ in range(count):
        index, outcome, detail = results.get(timeout=timeout)
        yield index, (outcome, detail)
