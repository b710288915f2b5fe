"""The public status check service: answers, identical shape, rate limits, the log without NIKs."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tepat.domain.throttle import Limit
from tepat.errors import ValidationError
from tepat.services import registry, registry_reads
from tepat.services.status_check import NOT_AVAILABLE, StatusChecker, TooManyAttempts
from tepat.store.schema import status_checks
from tests.factories import kk, make_family, member_values

SECRET = "uji-" + "k" * 40


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


WRONG_KK = "3275011507209999"  # a well-formed KK number that is nobody's


def _family(db, admin) -> tuple[int, dict]:
    head = member_values("Alexander Zulkarnain", "L", date(1980, 5, 17))
    number = kk()
    family_id = make_family(db, admin, members=[head], kk_number=number)
    return family_id, {**head, "kk": number}


def test_found_answer_is_masked_and_has_next_steps(db, admin) -> None:
    _, head = _family(db, admin)
    answer = StatusChecker(db, SECRET).check(head["nik"], head["kk"], client="10.0.0.1")
    assert answer.found
    assert answer.masked_name == "AL******R Z********N"
    assert answer.kelurahan == "Bekasijaya" and answer.kecamatan == "Bekasi Timur"
    assert answer.registry_status == "Terdaftar (aktif)"
    assert answer.desil == NOT_AVAILABLE and answer.programmes == []
    assert any("/layanan/sanggah" in s for s in answer.next_steps)


def test_not_found_and_a_wrong_kk_number_look_the_same(db, admin) -> None:
    _, head = _family(db, admin)
    checker = StatusChecker(db, SECRET)
    wrong = checker.check(head["nik"], WRONG_KK, client="a").as_public_dict()
    unknown = checker.check("3275011705809999", WRONG_KK, client="b").as_public_dict()
    found = checker.check(head["nik"], head["kk"], client="c").as_public_dict()
    assert wrong == unknown
    assert list(wrong) == list(found)
    assert wrong["ditemukan"] is False and wrong["nama"] is None and found["ditemukan"] is True


def test_a_deactivated_person_is_found_as_not_active(db, admin) -> None:
    family_id, head = _family(db, admin)
    view = registry_reads.get_family(db, admin, family_id)
    member = view.members[0]
    registry.deactivate_member(
        db, admin, member["id"], "pindah", expected_version=member["version"], note="pindah"
    )
    answer = StatusChecker(db, SECRET).check(head["nik"], head["kk"], client="x")
    assert answer.found and answer.registry_status == "Tidak aktif"
    assert any("/layanan/usul" in s for s in answer.next_steps)


def test_malformed_input_is_a_form_error(db) -> None:
    checker = StatusChecker(db, SECRET)
    with pytest.raises(ValidationError, match="16 angka"):
        checker.check("12345", WRONG_KK, client="x")
    with pytest.raises(ValidationError, match="Nomor KK"):
        checker.check("3275011705800001", "kemarin", client="x")


def test_rate_limit_per_client_then_per_nik(db) -> None:
    clock = Clock()
    checker = StatusChecker(
        db, SECRET, clock=clock, client_limit=Limit.per(3, 60), nik_limit=Limit.per(2, 3600)
    )
    for i in range(3):
        checker.check(f"32750117058{i:05d}", WRONG_KK, client="one")
    with pytest.raises(TooManyAttempts) as refused:
        checker.check("3275011705800099", WRONG_KK, client="one")
    assert refused.value.status_code == 429
    clock.t = 30.0  # the client has a token again; the NIK limit is separate
    checker.check("3275011705800050", WRONG_KK, client="two")
    checker.check("3275011705800050", WRONG_KK, client="three")
    with pytest.raises(TooManyAttempts):
        checker.check(
            "3275011705800050", WRONG_KK, client="four"
        )  # a third guess for one NIK within the hour
    clock.t = 30.0 + 1801
    checker.check("3275011705800050", WRONG_KK, client="four")


def test_every_check_is_logged_without_the_nik(db, admin) -> None:
    _, head = _family(db, admin)
    checker = StatusChecker(db, SECRET, client_limit=Limit.per(1, 60))
    checker.check(head["nik"], head["kk"], client="198.51.100.7", channel="json")
    checker.check("3275011705809999", WRONG_KK, client="198.51.100.8")
    with pytest.raises(TooManyAttempts):
        checker.check("3275011705809999", WRONG_KK, client="198.51.100.8")
    with db.read() as conn:
        rows = [
            dict(r) for r in conn.execute(sa.select(status_checks).order_by(status_checks.c.id)).mappings()
        ]
    assert [r["outcome"] for r in rows] == ["cocok", "tidak_cocok", "dibatasi"]
    assert (
        rows[0]["channel"] == "json"
        and rows[0]["nik_masked"] == head["nik"][:4] + "*" * 10 + head["nik"][-2:]
    )
    for r in rows:
        text = " ".join(str(v) for v in r.values())
        assert head["nik"] not in text and "3275011705809999" not in text and "198.51.100" not in text
    assert rows[1]["nik_hash"] == rows[2]["nik_hash"] != rows[0]["nik_hash"]


def test_log_rows_are_batched_under_load_and_flushed(db) -> None:
    checker = StatusChecker(db, SECRET, log_batch=3, log_max_delay=3600)

    def logged() -> int:
        with db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(status_checks)).scalar_one()

    checker.check("3275011705800001", WRONG_KK, client="a")
    checker.check("3275011705800002", WRONG_KK, client="a")
    assert logged() == 0
    checker.check("3275011705800003", WRONG_KK, client="a")
    assert logged() == 3
    checker.check("3275011705800004", WRONG_KK, client="a")
    checker.flush()
    assert logged() == 4


def test_the_answer_shows_the_desil_of_the_latest_ranking(db, admin, tmp_path) -> None:
    from tepat.services import registry_ranking
    from tests.targeting_data import saved_model, varied_registry

    _, head = _family(db, admin)
    varied_registry(db, admin, 9)
    registry_ranking.rank_registry(db, admin, saved_model(db, admin, tmp_path))
    answer = StatusChecker(db, SECRET).check(head["nik"], head["kk"], client="10.0.0.2")
    assert answer.desil.startswith("Desil ") and 1 <= int(answer.desil.split()[1]) <= 10


def test_programmes_of_frozen_cycles_appear_and_a_wrong_kk_number_reveals_none(db, admin) -> None:
    from tests.programme_data import approved_cycle, insert_programme

    family_id, head = _family(db, admin)
    blt = insert_programme(db, "BLT-APBD", name="BLT-APBD Kota Bekasi")
    approved_cycle(db, blt, [family_id], name="BLT-APBD Juli 2025")
    draft = insert_programme(db, "UMKM", name="Modal UMKM")
    approved_cycle(db, draft, [family_id], state="draf")  # a draft list must not show
    checker = StatusChecker(db, SECRET)
    answer = checker.check(head["nik"], head["kk"], client="p")
    assert [p.programme for p in answer.programmes] == ["BLT-APBD Kota Bekasi", "Modal UMKM"]
    assert answer.programmes[0].status == "Terdaftar, menunggu penyaluran"
    assert (
        answer.programmes[1].status == "Memenuhi syarat, belum masuk daftar penerima yang disetujui"
    )  # draft: no
    assert "Juli 2025" in answer.programmes[0].period
    assert checker.check(head["nik"], WRONG_KK, client="q").programmes == []


# ----------------------------------------------------------------- issue 13 point 4: a real second factor, a global limit


def test_the_birth_date_written_in_the_nik_is_no_second_factor(db, admin) -> None:
    _, head = _family(db, admin)
    with pytest.raises(ValidationError, match="Nomor KK"):
        StatusChecker(db, SECRET).check(head["nik"], "17-05-1980", client="x")


def test_the_office_may_choose_the_name_on_the_kk_instead(db, admin) -> None:
    _, head = _family(db, admin)
    checker = StatusChecker(db, SECRET, factor="nama")
    assert checker.check(head["nik"], "  alexander   ZULKARNAIN. ", client="a").found
    wrong = checker.check(head["nik"], "Alexander Zulkarnaen", client="b").as_public_dict()
    unknown = checker.check("3275011705809999", "Alexander Zulkarnain", client="c").as_public_dict()
    assert wrong == unknown and wrong["ditemukan"] is False
    with pytest.raises(ValidationError, match="Nama"):
        checker.check(head["nik"], "", client="d")


def test_a_global_limit_answers_busy_whatever_the_client_or_nik(db) -> None:
    from tepat.services.status_check import ServiceBusy

    clock = Clock()
    checker = StatusChecker(db, SECRET, clock=clock, per_minute=5)
    for i in range(5):
        checker.check(f"32750117058{i:05d}", WRONG_KK, client=f"10.0.0.{i}")
    with pytest.raises(ServiceBusy) as busy:
        checker.check("3275011705800099", WRONG_KK, client="10.0.0.99")
    assert busy.value.status_code == 503 and "sedang ramai" in busy.value.message
    clock.t = 12.5  # one check a 12 s comes back
    checker.check("3275011705800099", WRONG_KK, client="10.0.0.99")


def test_a_malformed_answer_spends_the_question(db, admin) -> None:
    from tepat.services.status_check import ChallengeReused

    _, head = _family(db, admin)
    checker = StatusChecker(db, SECRET)
    with pytest.raises(ValidationError):
        checker.check("123", head["kk"], client="x", once=("soal-1", 10**10))
    with pytest.raises(ChallengeReused):
        checker.check(head["nik"], head["kk"], client="x", once=("soal-1", 10**10))


def test_one_client_refused_by_its_own_limit_does_not_use_up_the_service(db) -> None:
    checker = StatusChecker(db, SECRET, clock=Clock(), client_limit=Limit.per(3, 60), per_minute=12)
    refused = 0
    for i in range(20):
        try:
            checker.check(f"32750117058{i:05d}", WRONG_KK, client="one-abuser")
        except TooManyAttempts:
            refused += 1
    assert refused == 17
    for i in range(9):  # the other residents still have 12 - 3 checks this minute
        checker.check(f"32750117059{i:05d}", WRONG_KK, client=f"resident-{i}")


def test_the_payment_date_shown_is_the_banks_settlement_date(db, admin) -> None:
    from tests.document_data import pay
    from tests.programme_data import approved_cycle, insert_programme

    family_id, head = _family(db, admin)
    cycle_id = approved_cycle(
        db, insert_programme(db, "BLT-APBD", name="BLT-APBD Kota Bekasi"), [family_id], state="pembayaran"
    )
    pay(
        db, cycle_id, [family_id], settled_on=date(2025, 7, 20)
    )  # imported today, settled by the bank in July 2025
    [programme] = StatusChecker(db, SECRET).check(head["nik"], head["kk"], client="s").programmes
    assert programme.status == "Sudah disalurkan 20 Juli 2025"


def test_residents_see_why_they_are_not_in_an_open_programme(db, admin) -> None:
    """Issue 18 point 6: for each open programme, enrolled, eligible, not eligible with the unmet conditions in
    words (never anyone else's data), or not yet assessed."""
    from tests.programme_data import insert_programme

    head = member_values("Alexander Zulkarnain", "L", date(1980, 5, 17))
    wife = member_values(
        "Siti Rahmawati", "P", date(1950, 2, 3), "istri_suami"
    )  # 76: the one who meets "umur >= 60"
    number = kk()
    make_family(db, admin, members=[head, wife], kk_number=number)
    head = {**head, "kk": number}
    insert_programme(
        db, "BESAR", name="Bantuan Keluarga Besar", rule='jumlah_anggota >= 5 and status == "aktif"'
    )
    insert_programme(db, "DESIL", name="Bantuan Desil", rule="desil <= 2")
    insert_programme(
        db, "LANSIA", name="Bantuan Lansia", unit="orang", rule='status == "aktif"', member_rule="umur >= 60"
    )
    insert_programme(db, "TUTUP", name="Program Lama", active=False)
    answer = StatusChecker(db, SECRET).check(head["nik"], head["kk"], client="p")
    by_name = {p.programme: p for p in answer.programmes}
    assert "Program Lama" not in by_name  # only the programmes the office runs now
    big = by_name["Bantuan Keluarga Besar"]
    assert big.status == "Tidak memenuhi syarat" and big.reasons == ("Jumlah anggota hidup dan aktif ≥ 5",)
    assert by_name["Bantuan Desil"].status.startswith("Belum dinilai")  # no ranking yet
    old = by_name[
        "Bantuan Lansia"
    ]  # per person: the head (44) does not meet it, whoever else in the family does
    assert old.status == "Tidak memenuhi syarat" and old.reasons == (
        "ada anggota keluarga yang Umur (tahun genap) ≥ 60",
    )
    public = str(answer.as_public_dict())
    assert "Siti" not in public and wife["nik"] not in public and "76" not in public
    assert StatusChecker(db, SECRET).check(head["nik"], WRONG_KK, client="q").programmes == []
