"""Request services (issue 13), the procedures and their clock: the steps and
standard times of Lampiran III.E, counted in Indonesian working days, with
the clock stopped while the requester is asked for more information."""

from __future__ import annotations

import datetime

import pytest
from ckanext.umkm.release import workflow
from ckanext.umkm.requests import procedures, service_time

D = datetime.date


def test_the_procedures_are_the_lampirans():
    data, account, sharing = procedures.DATA, procedures.ACCOUNT, procedures.SHARING
    assert [s.days for s in data.steps] == [(3, 3), (1, 3), (3, 7), (1, 3), (3, 7), (3, 3)]
    assert data.standard_days() == 26
    assert [s.days for s in account.steps] == [(3, 3), (1, 3), (3, 7), (1, 3), (1, 3), (1, 3), (3, 3)]
    assert [s.deadline_days for s in sharing.steps] == [1, None, 2, 1, 1, 1, 14, 2, 1, None]
    assert sharing.step("menyiapkan").actor == procedures.IT_TEAM
    assert account.step("revisi").actor == procedures.REQUESTER
    assert set(procedures.PROCEDURES) == {"data", "akun", "berbagi_pakai"}
    with pytest.raises(KeyError):
        data.step("tidak-ada")


def test_deadlines_skip_weekends_and_indonesian_holidays():
    # Thursday 24 December 2026: Christmas (Fri) and the weekend do not count.
    assert service_time.due(D(2026, 12, 24), 1) == D(2026, 12, 28)
    assert service_time.due(D(2026, 12, 24), 3) == D(2026, 12, 30)
    # The same count as the release workflow's deadlines.
    for start in (D(2026, 3, 16), D(2026, 8, 14), D(2026, 12, 24)):
        for days in (1, 3, 7, 14):
            assert service_time.due(start, days) == workflow.due_date(start, days)


def test_the_clock_stops_while_the_requester_is_asked():
    start = D(2026, 11, 2)  # Monday
    assert service_time.due(start, 7) == D(2026, 11, 11)
    # Asked on Wednesday 4th, answered on Monday 9th: 3 working days (4, 5, 6) do not count.
    asked = [(D(2026, 11, 4), D(2026, 11, 9))]
    assert service_time.due(start, 7, asked) == D(2026, 11, 16)
    assert service_time.due(start, 7, [(D(2026, 11, 4), None)]) is None
    assert not service_time.is_overdue(start, 7, D(2027, 1, 1), [(D(2026, 11, 4), None)])
    assert service_time.is_overdue(start, 7, D(2026, 11, 12))
    assert not service_time.is_overdue(start, 7, D(2026, 11, 12), asked)


def test_elapsed_working_days_against_the_standard():
    assert service_time.elapsed(D(2026, 11, 2), D(2026, 11, 2)) == 0
    assert service_time.elapsed(D(2026, 11, 2), D(2026, 11, 9)) == 5
    assert service_time.elapsed(D(2026, 11, 2), D(2026, 11, 9), [(D(2026, 11, 4), D(2026, 11, 6))]) == 3
    assert service_time.elapsed(D(2026, 12, 23), D(2026, 12, 29)) == 3
