"""Staff seats (supervision.seats): regions in the store and the config, this terminal's own
vacancies (local record, own row, outbox report), POST_LEFT from them in office hours only, crash
recovery, and the footage a POST_LEFT holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select

from supervision import lifecycle
from supervision.config import ConfigError, load_config
from supervision.holds import evidence_holds
from supervision.seats import (
    REPORT_ACTION,
    Seat,
    close_interrupted,
    close_vacancy,
    effective_regions,
    note_judged,
    open_vacancies,
    open_vacancy,
    save_regions,
    snapshot_of,
    stored_regions,
)
from supervision.store import Store, open_store
from supervision.store.db import head_revision
from supervision.store.models import OutboxAction, OwnVacancy, SeatVacancyRow, WarningState

SH = ZoneInfo("Asia/Shanghai")
WED = datetime(2026, 11, 25, 10, 0, tzinfo=SH)  # a working Wednesday, office hours
SAT = datetime(2026, 11, 28, 9, 0, tzinfo=SH)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "hallwatch.db")
    yield s
    s.close()


def reports(store: Store) -> list[dict[str, object]]:
    with store.read() as s:
        return [r.payload for r in s.scalars(select(OutboxAction).order_by(OutboxAction.created_at, OutboxAction.id))]


def post_left(store: Store, at: datetime, window: str = "W-1") -> list[lifecycle.WarningView]:
    return [v for v in lifecycle.warnings_at(store, at, SH) if v.key == f"{window}/POST_LEFT"]


# -- the store ------------------------------------------------------------------------------------
def test_the_migration_adds_regions_own_vacancies_and_the_camera_of_a_vacancy(store: Store) -> None:
    assert store.revision() == head_revision() >= "0006"
    insp = inspect(store.engine)
    assert {"seat_regions", "own_vacancies"} <= set(insp.get_table_names())
    assert {"camera_id", "origin"} <= {c["name"] for c in insp.get_columns("seat_vacancies")}


def test_regions_drawn_are_kept_per_camera_and_the_config_wins(store: Store) -> None:
    at = WED
    save_regions(store, "cam-1", [Seat("W-1", 0.5, 0.2, 0.3, 0.4), Seat("W-2", 0.0, 0.0, 0.2, 0.2)], by="张三", at=at)
    save_regions(store, "cam-2", [Seat("W-3", 0.1, 0.1, 0.1, 0.1)], by="张三", at=at)
    save_regions(store, "cam-3", [Seat("W-4", 0.1, 0.1, 0.1, 0.1)], by="张三", at=at)
    assert stored_regions(store, "cam-1") == {"cam-1": (Seat("W-1", 0.5, 0.2, 0.3, 0.4),
                                                        Seat("W-2", 0.0, 0.0, 0.2, 0.2))}
    save_regions(store, "cam-1", [Seat("W-1", 0.6, 0.2, 0.3, 0.4)], by="张三", at=at)  # replaces the camera's
    configured = {"cam-2": [Seat("W-9", 0.0, 0.0, 0.5, 0.5)], "cam-3": [], "cam-4": None}
    assert effective_regions(store, configured) == {
        "cam-1": (Seat("W-1", 0.6, 0.2, 0.3, 0.4),),  # drawn
        "cam-2": (Seat("W-9", 0.0, 0.0, 0.5, 0.5),),  # the config's, not the drawn one
    }  # cam-3: the config says no seat; cam-4: nothing anywhere


@pytest.mark.parametrize(("seat", "words"), [
    (Seat("W-1", 0.7, 0.1, 0.5, 0.2), "x + w must be at most 1"),
    (Seat("W-1", 0.1, 0.9, 0.1, 0.2), "y + h must be at most 1"),
    (Seat("W-1", -0.1, 0.1, 0.1, 0.2), "x must lie in [0, 1)"),
    (Seat("W-1", 0.1, 0.1, 0.0, 0.2), "w must lie in (0, 1]"),
    (Seat("", 0.1, 0.1, 0.1, 0.2), "needs its window"),
])
def test_a_bad_region_is_refused_with_words_and_nothing_is_lost(store: Store, seat: Seat, words: str) -> None:
    save_regions(store, "cam-1", [Seat("W-1", 0.5, 0.2, 0.3, 0.4)], by="张三", at=WED)
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("+", r"\+")):
        save_regions(store, "cam-1", [seat], by="张三", at=WED)
    assert stored_regions(store) == {"cam-1": (Seat("W-1", 0.5, 0.2, 0.3, 0.4),)}


@pytest.mark.parametrize(("seats", "words"), [
    ('[{window_id = "W-1", x = 0.7, y = 0.1, w = 0.5, h = 0.2}]', "'cameras.0.seats.0': Value error, x + w must be"),
    ('[{window_id = "W-1", x = 0.1, y = 0.5, w = 0.5, h = 0.6}]', "'cameras.0.seats.0': Value error, y + h must be"),
    ('[{window_id = "W-1", x = 1.5, y = 0.1, w = 0.1, h = 0.2}]', "'cameras.0.seats.0.x': Input should be less than 1"),
    ('[{window_id = "W-1", x = 0.1, y = 0.1, w = 0.1}]', "'cameras.0.seats.0.h': Field required"),
    ('[{window_id = "W-1", x = 0.1, y = 0.1, w = 0.1, h = 0.1, z = 1}]', "unknown key 'cameras.0.seats.0.z'"),
    ('[{window_id = "W-1", x = 0.1, y = 0.1, w = 0.1, h = 0.1}, {window_id = "W-1", x = 0.5, y = 0.1, w = 0.1, '
     'h = 0.1}]', "'cameras.0.seats': Value error, window 'W-1' has two seats"),
])
def test_config_seats_are_checked_and_the_error_names_the_key(tmp_path: Path, seats: str, words: str) -> None:
    path = tmp_path / "hallwatch.toml"
    path.write_text(f'[[cameras]]\nid = "cam-1"\nurl = "rtsp://u:secret@10.0.0.1/1"\nseats = {seats}\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_config(path)
    assert words in str(ei.value) and "secret" not in str(ei.value)


def test_config_seats_are_read(tmp_path: Path) -> None:
    path = tmp_path / "hallwatch.toml"
    path.write_text('[[cameras]]\nid = "cam-1"\nurl = "rtsp://10.0.0.1/1"\n'
                    'seats = [{window_id = "W-1", x = 0.5, y = 0.25, w = 0.5, h = 0.75}]\n', encoding="utf-8")
    [cam] = load_config(path).cameras
    assert cam.seats is not None and [(s.window_id, s.x, s.y, s.w, s.h) for s in cam.seats] == [
        ("W-1", 0.5, 0.25, 0.5, 0.75)]


# -- vacancies ------------------------------------------------------------------------------------
def test_a_vacancy_writes_the_local_record_the_own_row_and_two_reports(store: Store) -> None:
    vid = open_vacancy(store, camera_id="cam-1", window_id="W-1", started_at=WED, now=WED + timedelta(seconds=61),
                       snapshot="snapshots/seats/x.jpg")
    assert open_vacancy(store, camera_id="cam-1", window_id="W-1", started_at=WED + timedelta(minutes=1),
                        now=WED) == vid  # an event heard twice: the same vacancy
    with store.read() as s:
        row = s.get(SeatVacancyRow, vid)
        assert row is not None and (row.origin, row.version, row.camera_id, row.ended_at) == ("local", 0, "cam-1", None)
    assert [o.id for o in open_vacancies(store, "cam-1")] == [vid]
    assert close_vacancy(store, vid, WED + timedelta(minutes=20), now=WED + timedelta(minutes=20))
    assert not close_vacancy(store, vid, WED + timedelta(minutes=21), now=WED)  # once
    first, second = reports(store)
    assert first["type"] == second["type"] == REPORT_ACTION and first["id"] != second["id"]
    assert first["vacancy_id"] == second["vacancy_id"] == vid
    assert (first["window_id"], first["camera_id"], first["ended_at"]) == ("W-1", "cam-1", None)
    assert second["ended_at"] == (WED + timedelta(minutes=20)).isoformat()
    assert open_vacancies(store) == []
    with store.read() as s:
        assert snapshot_of(s, "W-1", WED + timedelta(minutes=16), vid) == "snapshots/seats/x.jpg"
        assert snapshot_of(s, "W-1", WED + timedelta(minutes=16)) == "snapshots/seats/x.jpg"
        assert snapshot_of(s, "W-1", WED + timedelta(minutes=30)) is None


def test_post_left_from_a_long_vacancy_in_office_hours_and_not_outside_them(store: Store) -> None:
    vid = open_vacancy(store, camera_id="cam-1", window_id="W-1", started_at=WED, now=WED)
    assert post_left(store, WED + timedelta(minutes=15)) == []  # "more than 15 minutes"
    [w] = post_left(store, WED + timedelta(minutes=16))
    assert w.warning.since == WED + timedelta(minutes=15) and w.warning.detail["vacancy_id"] == vid
    close_vacancy(store, vid, WED + timedelta(minutes=40), now=WED + timedelta(minutes=40))
    assert post_left(store, WED + timedelta(minutes=41)) == []  # the seat is taken again: cleared
    # Lunch (12:00-13:30) and a Saturday are not office hours: 80 minutes empty, no warning.
    lunch = open_vacancy(store, camera_id="cam-1", window_id="W-2", started_at=WED.replace(hour=12, minute=5), now=WED)
    assert post_left(store, WED.replace(hour=13, minute=25), "W-2") == []
    assert post_left(store, WED.replace(hour=13, minute=46), "W-2")[0].warning.detail["vacancy_id"] == lunch
    open_vacancy(store, camera_id="cam-1", window_id="W-3", started_at=SAT, now=SAT)
    assert post_left(store, SAT + timedelta(hours=3), "W-3") == []
    # Evenings neither: empty from 17:25 through the night counts 5 minutes, then 10 on Thursday.
    open_vacancy(store, camera_id="cam-2", window_id="W-4", started_at=WED.replace(hour=17, minute=25), now=WED)
    thursday = WED.replace(day=26, hour=8, minute=30)
    assert post_left(store, thursday + timedelta(minutes=10), "W-4") == []
    assert post_left(store, thursday + timedelta(minutes=11), "W-4")[0].warning.since == thursday + timedelta(
        minutes=10)


def test_a_restart_closes_open_vacancies_at_the_last_judged_frame(store: Store) -> None:
    a = open_vacancy(store, camera_id="cam-1", window_id="W-1", started_at=WED, now=WED)
    b = open_vacancy(store, camera_id="cam-2", window_id="W-2", started_at=WED + timedelta(minutes=3), now=WED)
    assert note_judged(store, "cam-1", WED + timedelta(minutes=7)) == 1
    # The process dies here. On the next start:
    assert sorted(close_interrupted(store, now=WED + timedelta(hours=2))) == sorted([a, b])
    with store.read() as s:
        own = {v.id: v for v in s.scalars(select(OwnVacancy))}
        rows = {r.id: r for r in s.scalars(select(SeatVacancyRow))}
    assert own[a].ended_at == rows[a].ended_at == WED + timedelta(minutes=7) and own[a].closed_by == "restart"
    assert own[b].ended_at == rows[b].ended_at == WED + timedelta(minutes=3)  # never judged after it began
    ends = [p for p in reports(store) if p["ended_at"] is not None]  # each end reported to the server
    assert sorted((p["vacancy_id"], datetime.fromisoformat(str(p["ended_at"]))) for p in ends) == sorted(
        [(a, WED + timedelta(minutes=7)), (b, WED + timedelta(minutes=3))])
    assert close_interrupted(store, now=WED + timedelta(hours=3)) == []
    assert post_left(store, WED + timedelta(hours=2)) == []  # not "empty all morning"


def test_post_left_holds_the_footage_from_when_the_seat_became_empty(store: Store) -> None:
    open_vacancy(store, camera_id="cam-1", window_id="W-1", started_at=WED, now=WED)
    now = WED + timedelta(minutes=30)
    with store.write() as s:
        lifecycle.reconcile(s, lifecycle.evaluate_store(store, now, SH).views, now)
    with store.read() as s:
        ws = s.get(WarningState, "W-1/POST_LEFT")
        assert ws is not None and ws.level == "yellow"
        [hold] = [h for h in evidence_holds(s, now, timedelta(minutes=10)) if h.id == "warning:W-1/POST_LEFT"]
    assert (hold.window_id, hold.start, hold.end) == ("W-1", WED - timedelta(minutes=10), now + timedelta(minutes=10))


def test_a_store_of_the_previous_schema_keeps_its_vacancies_through_the_migration(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from supervision.store.db import alembic_config

    path = tmp_path / "old.db"
    old = open_store(path, migrate=False)
    cfg = alembic_config()
    with old.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    with old.engine.begin() as conn:
        conn.execute(text("INSERT INTO seat_vacancies (id, version, deleted, seq, window_id, started_at, ended_at) "
                          "VALUES ('SV-1', 3, 0, 7, 'W-1', '2026-11-25 02:00:00.000000', NULL)"))
    old.close()
    store = open_store(path)
    try:
        assert store.revision() == head_revision()
        with store.read() as s:
            row = s.get(SeatVacancyRow, "SV-1")
            assert row is not None and (row.version, row.camera_id, row.origin) == (3, None, "synced")
        assert [v.warning.detail["vacancy_id"] for v in post_left(store, WED + timedelta(minutes=30))] == ["SV-1"]
    finally:
        store.close()
