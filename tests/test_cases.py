"""Usul, sanggah and pengaduan workflows: state machines, deadlines, the same-kelurahan rule."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tepat.domain.access import Role
from tepat.domain.cases import (
    TRANSITIONS,
    CaseKind,
    CaseState,
    SlaState,
    check_transition,
    deadline_for,
    new_tracking_number,
    parse_tracking_number,
    sla_state,
)
from tepat.errors import NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import case_submissions, cases, registry_reads
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, family_values, kk, make_family, member_values

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PDF = b"%PDF-1.4\n" + b"x" * 100
SECRET = "uji-" + "k" * 40
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "unggahan"


def photo(purpose: str = "foto_rumah") -> case_submissions.Evidence:
    return case_submissions.Evidence(io.BytesIO(JPEG), purpose)


def _usul(db, upload_dir: Path, clock: Clock, **extra) -> str:
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    wife = member_values("Rina Wati", "P", date(1978, 4, 21), "istri_suami")
    return case_submissions.submit_usul(
        db,
        upload_dir,
        family={**family_values(), **extra},
        members=[head, wife, {"nik": "", "name": ""}],
        proposer_name="Joko Susilo",
        proposer_contact="0812 1111 2222",
        reason="Kehilangan pekerjaan",
        evidence=[photo()],
        clock=clock,
    )


def _case_id(db, admin, number: str) -> int:
    return next(c.id for c in cases.list_cases(db, admin) if c.tracking_number == number)


# ----------------------------------------------------------------- domain


def test_tracking_numbers_have_a_working_check_character() -> None:
    for kind in CaseKind:
        number = new_tracking_number(kind)
        assert parse_tracking_number(number) == number
        assert parse_tracking_number(number.lower().replace("-", " ")) == number
        body = number.replace("-", "")
        for i in range(1, len(body)):
            for other in "23456789ABCDEFGHJKLMNPQRSTUVWXYZ":
                if other != body[i]:
                    typo = body[:i] + other + body[i + 1 :]
                    assert parse_tracking_number(typo) is None, typo


def test_every_final_state_is_reachable_and_terminal() -> None:
    for kind, graph in TRANSITIONS.items():
        for state, targets in graph.items():
            for to in CaseState:
                if to in targets and not (kind is CaseKind.SANGGAH and to is CaseState.SELESAI):
                    check_transition(kind, state, to)
                elif to not in targets:
                    with pytest.raises(StateError):
                        check_transition(kind, state, to)
    with pytest.raises(StateError, match="hasil"):
        check_transition(CaseKind.SANGGAH, CaseState.DITERIMA, CaseState.SELESAI)
    check_transition(CaseKind.SANGGAH, CaseState.DITERIMA, CaseState.SELESAI, outcome="tetap")


def test_sla_states_over_time() -> None:
    deadline = deadline_for(CaseKind.PENGADUAN, START, "bantuan_belum_diterima")
    assert deadline == START + timedelta(days=7)
    assert deadline_for(CaseKind.SANGGAH, START) == START + timedelta(days=14)
    assert deadline_for(CaseKind.USUL, START) is None
    assert sla_state(START, deadline, START + timedelta(days=5)) is SlaState.ON_TRACK
    assert sla_state(START, deadline, START + timedelta(days=5, hours=6)) is SlaState.AT_RISK
    assert sla_state(START, deadline, START + timedelta(days=7, seconds=1)) is SlaState.BREACHED
    closed_in_time = START + timedelta(days=6)
    assert sla_state(START, deadline, START + timedelta(days=30), closed_in_time) is SlaState.ON_TRACK


# ----------------------------------------------------------------- usul


def test_usul_goes_all_the_way_into_the_registry(db, admin, upload_dir: Path) -> None:
    clock = Clock()
    number = _usul(db, upload_dir, clock)
    tracked = case_submissions.track(db, number, clock=clock)
    assert tracked is not None and tracked.state == "Diajukan" and tracked.kind == "Usul"
    case_id = _case_id(db, admin, number)
    operator = actor(Role.OPERATOR, KELURAHAN, "ani")
    verifier = actor(Role.VERIFIER, "32.75.01", "vera")

    cases.advance(db, operator, case_id, "daftar_kelurahan", clock=clock)
    clock.advance(days=3)
    cases.advance(db, operator, case_id, "musyawarah", clock=clock)
    with pytest.raises(ValidationError, match="Berita Acara"):
        cases.advance(db, operator, case_id, "verifikasi", clock=clock)
    cases.advance(
        db,
        operator,
        case_id,
        "verifikasi",
        note="BA muskel 5 Maret",
        evidence=[case_submissions.Evidence(io.BytesIO(PDF), "berita_acara")],
        upload_dir=upload_dir,
        clock=clock,
    )
    with pytest.raises(StateError):
        cases.advance(db, admin, case_id, "masuk_registri", clock=clock)  # no skipping Dinsos approval
    cases.advance(db, verifier, case_id, "persetujuan", note="Layak", clock=clock)
    with pytest.raises(PermissionDenied):
        cases.advance(db, operator, case_id, "masuk_registri", clock=clock)  # only Dinsos approves
    clock.advance(days=1)
    cases.advance(db, admin, case_id, "masuk_registri", clock=clock)

    detail = cases.get_case(db, admin, case_id, clock=clock)
    assert detail.case.state == "masuk_registri" and detail.case.closed_at is not None
    family = registry_reads.get_family(db, admin, detail.case.created_family_id)
    assert sorted(m["name"] for m in family.members) == ["Joko Susilo", "Rina Wati"]
    assert [e["to_state"] for e in detail.events] == [
        "diajukan",
        "daftar_kelurahan",
        "musyawarah",
        "verifikasi",
        "persetujuan",
        "masuk_registri",
    ]
    assert {u["purpose"] for u in detail.uploads} == {"foto_rumah", "berita_acara"}
    tracked = case_submissions.track(db, number, clock=clock)
    assert tracked.closed and tracked.state == "Masuk registri" and len(tracked.steps) == 6
    assert tracked.steps[1][1] == START and tracked.steps[-1][1] == START + timedelta(days=4)
    with pytest.raises(StateError):
        cases.advance(db, admin, case_id, "ditolak", note="terlambat", clock=clock)


def test_usul_needs_valid_data_and_a_photo(db, upload_dir: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        case_submissions.submit_usul(
            db,
            upload_dir,
            family={"kelurahan_code": KELURAHAN, "rw": 1, "rt": 1, "kk_number": "123"},
            members=[
                {
                    "nik": "3.27501E+15",
                    "name": "X",
                    "sex": "L",
                    "birth_date": "1980-01-01",
                    "relationship": "anak",
                }
            ],
            proposer_name="X",
            proposer_contact="",
            reason="r",
            evidence=[],
        )
    fields = {e.field for e in refused.value.errors}
    assert {"kk_number", "members.0.nik", "members", "bukti"} <= fields
    assert not any(p.is_file() for p in upload_dir.rglob("*"))


def test_rejected_usul_and_operator_area(db, admin, upload_dir: Path) -> None:
    clock = Clock()
    number = _usul(db, upload_dir, clock)
    case_id = _case_id(db, admin, number)
    outsider = actor(Role.OPERATOR, OTHER_KELURAHAN, "budi")
    with pytest.raises(NotFound):
        cases.get_case(db, outsider, case_id)
    assert cases.list_cases(db, outsider) == []
    with pytest.raises(ValidationError, match="Catatan"):
        cases.advance(db, admin, case_id, "ditolak", clock=clock)
    cases.advance(db, admin, case_id, "ditolak", note="Sudah terdaftar di kelurahan lain", clock=clock)
    tracked = case_submissions.track(db, number)
    assert tracked.state == "Ditolak" and tracked.resolution is None  # the note is not public for usul


def test_an_analyst_sees_no_cases(db, upload_dir: Path) -> None:
    with pytest.raises(PermissionDenied):
        cases.list_cases(db, actor(Role.ANALYST, "32.75"))


# ----------------------------------------------------------------- sanggah


def _neighbours(db, admin):
    disputer = member_values("Dewi Lestari", "P", date(1990, 6, 12))
    make_family(db, admin, KELURAHAN, members=[disputer])
    recipient = member_values("Hendra Gunawan", "L", date(1970, 2, 2))
    recipient_family = make_family(db, admin, KELURAHAN, members=[recipient])
    far = member_values("Yusuf Maulana", "L", date(1972, 3, 3))
    far_family = make_family(db, admin, OTHER_KELURAHAN, members=[far])
    return disputer, recipient, recipient_family, far, far_family


def test_sanggah_same_kelurahan_deadline_and_outcome(db, admin, upload_dir: Path) -> None:
    disputer, recipient, recipient_family, _, _ = _neighbours(db, admin)
    clock = Clock()
    number = case_submissions.submit_sanggah(
        db,
        upload_dir,
        SECRET,
        disputer_nik=disputer["nik"],
        disputer_proof="Dewi Lestari",
        factor="nama",
        target_nik=recipient["nik"],
        target_description="Pak Hendra, RT 5 RW 3",
        reason="Punya mobil dan toko",
        evidence=[photo("bukti")],
        clock=clock,
    )
    case_id = _case_id(db, admin, number)
    detail = cases.get_case(db, admin, case_id, clock=clock)
    assert detail.case.subject_family_id == recipient_family
    assert detail.case.deadline.replace(tzinfo=UTC) == START + timedelta(days=14)
    assert disputer["nik"] not in str(detail.case)  # only a keyed hash of the disputer's NIK is kept

    tracked = case_submissions.track(db, number, clock=clock)
    public = str(tracked)
    assert "Hendra" not in public and recipient["nik"] not in public and "mobil" not in public

    clock.advance(days=11)
    assert case_submissions.track(db, number, clock=clock).sla == "Mendekati batas waktu"
    assert cases.overdue_sanggah(db, admin, clock=clock) == []
    clock.advance(days=3, seconds=1)
    overdue = cases.overdue_sanggah(db, admin, clock=clock)
    assert [c.tracking_number for c in overdue] == [number] and overdue[0].overdue

    operator = actor(Role.OPERATOR, KELURAHAN, "ani")
    cases.advance(db, operator, case_id, "verifikasi", clock=clock)
    with pytest.raises(StateError, match="hasil"):
        cases.advance(db, operator, case_id, "selesai", note="sudah dicek", clock=clock)
    cases.advance(db, operator, case_id, "selesai", note="Mobil milik kantor", outcome="tetap", clock=clock)
    assert cases.overdue_sanggah(db, admin, clock=clock) == []
    tracked = case_submissions.track(db, number, clock=clock)
    assert tracked.outcome == "Tetap (data tidak berubah)" and tracked.sla == "Melewati batas waktu"


def test_a_sanggah_needs_evidence_checked_before_anyone_is_looked_up(db, admin, upload_dir: Path) -> None:
    """Issue 18 point 7: a photo or a document is required."""
    disputer, recipient, _, _, _ = _neighbours(db, admin)
    for who in (
        disputer["nik"],
        "3275015206900999",
    ):  # a resident or not: the same answer, about the evidence
        with pytest.raises(ValidationError) as exc:
            case_submissions.submit_sanggah(
                db,
                upload_dir,
                SECRET,
                disputer_nik=who,
                disputer_proof="Dewi Lestari",
                factor="nama",
                target_nik=recipient["nik"],
                target_description="Pak Hendra",
                reason="Punya mobil",
            )
        assert [e.field for e in exc.value.errors] == ["bukti"]
    assert cases.list_cases(db, admin, kind="sanggah") == []


def test_sanggah_is_only_for_registered_residents_of_the_same_kelurahan(db, admin, upload_dir: Path) -> None:
    disputer, recipient, _, far, _ = _neighbours(db, admin)
    with pytest.raises(ValidationError, match="warga terdaftar"):
        case_submissions.submit_sanggah(
            db,
            upload_dir,
            SECRET,
            disputer_nik=disputer["nik"],
            disputer_proof="Dewi Lestara",
            factor="nama",
            target_nik=recipient["nik"],
            target_description="x",
            reason="y",
            evidence=[photo("bukti")],
        )
    with pytest.raises(ValidationError, match="warga terdaftar"):
        case_submissions.submit_sanggah(
            db,
            upload_dir,
            SECRET,
            disputer_nik="3275015206900999",
            disputer_proof="Dewi Lestari",
            factor="nama",
            target_nik=recipient["nik"],
            target_description="x",
            reason="y",
            evidence=[photo("bukti")],
        )
    # A recipient in another kelurahan is never linked: the disputer learns nothing either way.
    number = case_submissions.submit_sanggah(
        db,
        upload_dir,
        SECRET,
        disputer_nik=disputer["nik"],
        disputer_proof="Dewi Lestari",
        factor="nama",
        target_nik=far["nik"],
        target_description="Pak Yusuf",
        reason="mampu",
        evidence=[photo("bukti")],
    )
    case = cases.get_case(db, admin, _case_id(db, admin, number)).case
    assert case.subject_family_id is None and case.kelurahan_code == KELURAHAN
    # The other kelurahan's operator does not see it; the disputer's kelurahan does.
    assert cases.list_cases(db, actor(Role.OPERATOR, OTHER_KELURAHAN)) == []
    assert len(cases.list_cases(db, actor(Role.OPERATOR, KELURAHAN))) == 1


# ----------------------------------------------------------------- pengaduan


def test_pengaduan_team_sla_and_resolution(db, admin, upload_dir: Path) -> None:
    clock = Clock()
    number = case_submissions.submit_pengaduan(
        db,
        upload_dir,
        category="pungutan",
        kelurahan_code=KELURAHAN,
        description="Bantuan dipotong Rp50.000 oleh oknum",
        contact="0813",
        clock=clock,
    )
    other = case_submissions.submit_pengaduan(
        db,
        upload_dir,
        category="data_salah",
        kelurahan_code=KELURAHAN,
        description="Alamat salah",
        clock=clock,
    )
    rows = {c.tracking_number: c for c in cases.list_cases(db, admin, kind="pengaduan", clock=clock)}
    assert rows[number].assigned_team == "keuangan" and rows[other].assigned_team == "kec-32.75.01"
    assert number.startswith("P-")
    clock.advance(days=2, hours=6)
    assert case_submissions.track(db, number, clock=clock).sla == "Mendekati batas waktu"
    assert case_submissions.track(db, other, clock=clock).sla == "Sesuai jadwal"
    finance = actor(Role.FINANCE, "32.75", "keu")
    case_id = rows[number].id
    cases.advance(db, finance, case_id, "ditangani", clock=clock)
    clock.advance(days=1)
    cases.advance(
        db, finance, case_id, "selesai", note="Dana dikembalikan penuh; oknum dilaporkan", clock=clock
    )
    tracked = case_submissions.track(db, number, clock=clock)
    assert tracked.closed and tracked.sla == "Melewati batas waktu"
    assert tracked.resolution == "Dana dikembalikan penuh; oknum dilaporkan"
    with pytest.raises(ValidationError):
        case_submissions.submit_pengaduan(
            db, upload_dir, category="apa", kelurahan_code=KELURAHAN, description="x"
        )
    with pytest.raises(ValidationError):
        case_submissions.submit_pengaduan(
            db, upload_dir, category="lainnya", kelurahan_code="32.73.01.1001", description="x"
        )


def test_tracking_unknown_or_mistyped_numbers(db) -> None:
    assert case_submissions.track(db, "bukan nomor") is None
    assert case_submissions.track(db, new_tracking_number(CaseKind.USUL)) is None


def test_duplicate_kk_is_flagged_to_staff_not_to_the_public(db, admin, upload_dir: Path) -> None:
    number_kk = kk()
    make_family(db, admin, kk_number=number_kk)
    number = _usul(db, upload_dir, Clock(), kk_number=number_kk)
    detail = cases.get_case(db, admin, _case_id(db, admin, number))
    assert any("sudah terdaftar" in w for w in detail.warnings)
