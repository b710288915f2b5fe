"""The states of a background job (an import, an export, a document, a linkage run): one vocabulary for the
store, the services and the pages."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    MENUNGGU = "menunggu"  # queued
    BERJALAN = "berjalan"  # a worker is on it
    SELESAI = "selesai"  # done: its result is ready
    GAGAL = "gagal"  # refused or crashed: its message says why
    TERHENTI = "terhenti"  # its worker process went away before it finished

    @property
    def unfinished(self) -> bool:
        return self in (JobState.MENUNGGU, JobState.BERJALAN)

    @property
    def failed(self) -> bool:
        return self in (JobState.GAGAL, JobState.TERHENTI)


UNFINISHED = tuple(s.value for s in JobState if s.unfinished)
"""The states of a job that has not finished yet (for SQL ``IN``)."""
