"""A command whose reader has gone away (``tepat … | head``) ends quietly."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def _run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(
        read_end
    )  # the reader is gone before the command writes a byte, as after `head` has had its lines
    try:
        return subprocess.run(
            [shutil.which("tepat") or "tepat", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [("synth", "--help"), ("nik", "check", "3275014101900001", "--json")])
def test_a_closed_pipe_is_not_an_unexpected_error(args: tuple[str, ...]) -> None:
    result = _run_into_closed_pipe(*args)
    assert "Galat" not in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert result.returncode != 2
