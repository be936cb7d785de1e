"""Concurrent posts on one plan lose no update: threads on one server, and two server processes
on one database (fake planner; SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_support import FakePlanner, ServerProcess, check, create_body, minute_body

THREADS = 8


def _plan(url: str) -> str:
    return check(httpx.post(f"{url}/v1/plans", json=create_body(), timeout=30), 201)["id"]


def _together(calls):
    """Run the calls at once from threads (released by one barrier); their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _post(url: str, plan_id: str, *minutes) -> httpx.Response:
    return httpx.post(f"{url}/v1/plans/{plan_id}/actuals", json={"minutes": list(minutes)},
                      timeout=60)


def _assert_consistent(url: str, plan_id: str, minutes: int, spend_per_minute: float) -> None:
    """Every minute once, and each revision's spent = actuals before its first minute."""
    plan = check(httpx.get(f"{url}/v1/plans/{plan_id}", timeout=30))
    assert plan["minutes_posted"] == minutes
    stored = check(httpx.get(f"{url}/v1/plans/{plan_id}/actuals", timeout=30))["minutes"]
    assert [m["minute"] for m in stored] == list(range(minutes))
    revisions = check(httpx.get(f"{url}/v1/plans/{plan_id}/revisions", timeout=30))["revisions"]
    for revision in revisions:
        assert revision["totals"]["spent"] == pytest.approx(
            revision["from_minute"] * spend_per_minute)
    froms = [r["from_minute"] for r in revisions]
    assert froms == sorted(froms) and len(set(froms)) == len(froms)
    assert froms[-1] == minutes


def test_same_minute_from_many_threads_is_stored_once(server):
    plan_id = _plan(server.url)
    answers = _together([lambda: _post(server.url, plan_id, minute_body(0))] * THREADS)
    bodies = [check(a) for a in answers]
    assert sum(b["accepted"] == [0] for b in bodies) == 1
    assert sum(b["duplicates"] == [0] for b in bodies) == THREADS - 1
    assert {b["revision"]["number"] for b in bodies} == {1}
    _assert_consistent(server.url, plan_id, 1, 60.0)


def test_conflicting_posts_of_one_minute_one_wins_the_rest_409(server):
    plan_id = _plan(server.url)
    calls = [lambda i=i: _post(server.url, plan_id, minute_body(0, organic=100.0 + i))
             for i in range(THREADS)]
    answers = _together(calls)
    assert sorted(a.status_code for a in answers) == [200] + [409] * (THREADS - 1)
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    stored = check(httpx.get(f"{server.url}/v1/plans/{plan_id}/actuals"))["minutes"]
    assert stored[0]["organic_gmv"] == 100.0 + winner


def _post_until_stored(url: str, plan_id: str, minute: int, deadline: float) -> None:
    """Post one minute until it is stored (a 422 means an earlier minute is not there yet)."""
    while time.monotonic() < deadline:
        response = _post(url, plan_id, minute_body(minute))
        if response.status_code == 200:
            return
        assert response.status_code in (409, 422), response.text
        time.sleep(random.uniform(0.0, 0.02))
    raise AssertionError(f"minute {minute} was never stored")


def test_different_minutes_from_many_threads_lose_nothing(server, fake: FakePlanner):
    plan_id = _plan(server.url)
    deadline = time.monotonic() + 90

    def worker(k: int) -> None:  # thread k posts minutes k, k + 8, k + 16 (always progress)
        for minute in range(k, 24, THREADS):
            _post_until_stored(server.url, plan_id, minute, deadline)

    _together([lambda k=k: worker(k) for k in range(THREADS)])
    _assert_consistent(server.url, plan_id, 24, 60.0)


@pytest.mark.slow
def test_two_server_processes_on_one_database_lose_nothing(db_url, data_dir):
    with ServerProcess(db_url, data_dir, fake=True) as one, \
            ServerProcess(db_url, data_dir, fake=True) as two:
        plan_id = _plan(one.url)
        answers = _together([lambda u=u: _post(u, plan_id, minute_body(0))
                             for u in (one.url, two.url) * 3])
        assert sum(check(a)["accepted"] == [0] for a in answers) == 1
        deadline = time.monotonic() + 90

        def worker(k: int) -> None:  # both servers get every minute; threads interleave
            url = (one.url, two.url)[k % 2]
            for minute in range(1 + k // 2, 16, THREADS // 2):
                _post_until_stored(url, plan_id, minute, deadline)

        _together([lambda k=k: worker(k) for k in range(THREADS)])
        for url in (one.url, two.url):
            _assert_consistent(url, plan_id, 16, 60.0)
