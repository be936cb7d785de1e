"""Selecting sessions of a panel for back-tests."""

from optimizer.data import load_tables


def test_sessions_keeps_chosen_rows_and_renumbers(tables):
    history, _ = load_tables(*tables())
    panel = history.panel()
    later = panel.sessions([1])
    assert later.session.tolist() == [0, 0, 0]
    assert later.minute.tolist() == [0, 1, 2]
    assert later.organic_gmv.tolist() == [200, 210, 220]
    assert later.spend[:, 0].tolist() == [0, 20, 0]
    assert later.n_sessions == 1 and panel.n_sessions == 2


def test_sessions_of_nothing_is_empty(tables):
    history, _ = load_tables(*tables())
    empty = history.panel().sessions([])
    assert len(empty.session) == 0 and empty.n_sessions == 0
