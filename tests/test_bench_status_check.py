"""``bench/status_check.py`` measures only its own server (issue 18)."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "status_check.py"


def test_the_status_check_bench_refuses_a_port_another_server_answers_on(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("status_check_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with socket.socket() as other:  # another server, already listening
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} is already in use"):
            bench.start_server("sqlite://", port, tmp_path, unlimited=True, workers=1)
    assert not list(tmp_path.glob("bench_server*.py"))  # nothing was started
