"""Long work runs off the event loop (issue 13 point 5): while an import or an export is running, the public status
check and other pages still answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.errors import ValidationError
from tepat.store.database import Database
from tests.registry_files import family, write_csv
from tests.test_web_support import add_user, login, make_app


def _blocking(started: threading.Event, released: threading.Event, outcome: list[bool]) -> Any:
    def slow(*_args: Any, **_kwargs: Any) -> Any:
        started.set()
        outcome.append(released.wait(10))  # False: nobody could answer the page below while this ran
        raise ValidationError("berhenti (uji)")

    return slow


@pytest.mark.parametrize("work", ["impor", "ekspor"])
def test_the_status_check_answers_while_an_import_or_export_runs(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, work: str
) -> None:
    from tepat.services import exports, imports

    add_user(db, "admin.dinsos", Role.ADMIN, "32.75")
    started, released, outcome = threading.Event(), threading.Event(), []
    target = (imports, "import_file") if work == "impor" else (exports, "export_registry")
    monkeypatch.setattr(*target, _blocking(started, released, outcome))
    with TestClient(make_app(db, tmp_path)) as client:  # one event loop for every request, as under uvicorn
        csrf = login(client, "admin.dinsos")
        if work == "impor":
            path = write_csv(tmp_path / "dtks.csv", family())
            send = lambda: client.post(
                "/impor",
                data={"csrf_token": csrf, "mode": "valid-only"},
                files={"file": ("dtks.csv", path.read_bytes(), "text/csv")},
            )
        else:
            send = lambda: client.post("/ekspor", data={"csrf_token": csrf, "fmt": "csv", "area": "32.75"})
        worker = threading.Thread(target=send)
        worker.start()
        assert started.wait(10)
        page = client.get("/cek")
        released.set()
        worker.join(20)
    assert page.status_code == 200
    assert outcome == [True]
