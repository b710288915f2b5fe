"""The status check's minimum response time holds for every outcome (a lower bound: it cannot fail by slowness)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.portal import routes
from tests.factories import kk, make_family, member_values
from tests.test_portal_support import citizen_app, solve


@pytest.fixture
def client(db, tmp_path: Path):
    with TestClient(citizen_app(db, tmp_path)) as c:
        yield c


def test_found_unknown_wrong_date_and_refused_all_wait_the_minimum(client, db, admin) -> None:
    head = member_values("Alexander Zulkarnain", "L", date(1980, 5, 17))
    number = kk()
    make_family(db, admin, members=[head], kk_number=number)
    wrong = "3275011507209999"
    asks = [(head["nik"], number)] + [(head["nik"], wrong), ("3275011705809999", number)] * 5
    taken = {}
    for nik, birth in asks:  # 11 checks from one client: the eleventh is refused (429)
        soal = client.get("/cek/api/soal").json()
        started = time.perf_counter()
        r = client.post(
            "/cek/api",
            json={"nik": nik, "nomor_kk": birth, "token": soal["token"], "jawaban": solve(soal["soal"])},
        )
        taken.setdefault(r.status_code, []).append(time.perf_counter() - started)
    assert set(taken) == {200, 429}
    assert min(min(v) for v in taken.values()) >= routes.MIN_SECONDS
