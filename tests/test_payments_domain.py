"""Pure rules of payments: state machines, status words, control totals, how a result row is judged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tepat.domain import entitlements as ent
from tepat.domain import payments as pay
from tepat.domain.entitlements import EntitlementState as E
from tepat.domain.payments import OurLine, Outcome, ResultRow
from tepat.domain.payments import PaymentState as P
from tepat.errors import StateError, ValidationError


@pytest.mark.parametrize(
    "current,target",
    [
        (E.TERJADWAL, E.DIBAYAR),
        (E.DIBATALKAN, E.DIPROSES),
        (E.DIBLOKIR, E.DIPROSES),
        (E.DIBAYAR, E.DIPROSES),
        (E.DIPROSES, E.DIBATALKAN),
        (E.DIPROSES, E.TERJADWAL),
        (E.GAGAL, E.DIBAYAR),
    ],
)
def test_illegal_entitlement_transitions_are_refused_in_indonesian(current, target) -> None:
    with pytest.raises(StateError, match="tidak dapat diubah menjadi"):
        ent.check_transition(current, target)


def test_entitlement_paths_of_the_shared_vocabulary() -> None:
    for current, target in [
        (E.TERJADWAL, E.DIPROSES),
        (E.DIPROSES, E.DIBAYAR),
        (E.DIPROSES, E.GAGAL),
        (E.GAGAL, E.DIPROSES),
        (E.DIBAYAR, E.GAGAL),
        (E.TERJADWAL, E.DIBLOKIR),
        (E.GAGAL, E.DIBATALKAN),
    ]:
        ent.check_transition(current, target)
    assert ent.sources_of(E.DIPROSES) == {E.TERJADWAL, E.GAGAL}
    assert ent.sources_of(E.DIBATALKAN) == {E.TERJADWAL, E.GAGAL}
    assert ent.sources_of(E.DIBAYAR) == {E.DIPROSES}


def test_payment_line_transitions() -> None:
    pay.check_payment_transition(P.DIKIRIM, P.DIBAYAR)
    pay.check_payment_transition(P.DIBAYAR, P.DIKEMBALIKAN)
    for current, target in [
        (P.GAGAL, P.DIBAYAR),
        (P.DIBATALKAN, P.DIBAYAR),
        (P.DIBAYAR, P.GAGAL),
        (P.DIKEMBALIKAN, P.DIBAYAR),
    ]:
        with pytest.raises(StateError):
            pay.check_payment_transition(current, target)
    assert pay.payment_sources_of(P.DIKEMBALIKAN) == {P.DIKIRIM, P.DIBAYAR}


def test_cancel_reason_is_required() -> None:
    with pytest.raises(ValidationError, match="Alasan pembatalan wajib"):
        ent.check_cancel_reason("  ")
    assert ent.check_cancel_reason("  KPM   pindah domisili ") == "KPM pindah domisili"


@pytest.mark.parametrize(
    "word,state",
    [
        ("SUKSES", P.DIBAYAR),
        ("berhasil", P.DIBAYAR),
        ("Paid", P.DIBAYAR),
        ("GAGAL", P.GAGAL),
        ("failed", P.GAGAL),
        ("RETUR", P.DIKEMBALIKAN),
        ("Dikembalikan", P.DIKEMBALIKAN),
        ("RETURNED", P.DIKEMBALIKAN),
    ],
)
def test_bank_status_words(word, state) -> None:
    assert pay.parse_status(f" {word} ") is state


def test_unknown_status_and_amounts() -> None:
    assert pay.parse_status("PENDING") is None
    assert pay.parse_amount("250000") == 250_000 and pay.parse_amount("250000.00") == 250_000
    assert (
        pay.parse_amount("250.000,50") is None
        and pay.parse_amount("-5") is None
        and pay.parse_amount("") is None
    )


def test_trailer_round_trip_and_mismatch_messages() -> None:
    totals = pay.ControlTotals(rows=3, total=750_000, sha256="a" * 64, batch="BYR-00001-001", channel="bank")
    line = pay.format_trailer(totals)
    assert line.startswith("#KONTROL;batch=BYR-00001-001;kanal=bank;baris=3;total=750000;sha256=")
    assert pay.parse_trailer(line) == totals
    with pytest.raises(ValidationError) as caught:
        pay.check_totals(totals, rows=2, total=750_000, body_sha256="b" * 64)
    assert {e.field for e in caught.value.errors} == {"baris", "sha256"}
    with pytest.raises(ValidationError, match="tidak terbaca"):
        pay.parse_trailer("#KONTROL;baris=tiga")


def _line(state: P = P.DIKIRIM, amount: int = 250_000, nik: str | None = "3275011705800001") -> OurLine:
    return OurLine(state, amount, nik)


def _row(status: P = P.DIBAYAR, amount: int = 250_000, nik: str | None = "3275011705800001") -> ResultRow:
    return ResultRow("P1-1", nik, amount, status)


def test_classify_each_outcome() -> None:
    assert pay.classify(_line(), _row()) is Outcome.DITERAPKAN
    assert pay.classify(_line(P.DIBAYAR), _row()) is Outcome.SUDAH
    assert pay.classify(_line(), _row(amount=200_000)) is Outcome.TIDAK_COCOK
    assert pay.classify(_line(), _row(nik="3275011705800002")) is Outcome.TIDAK_COCOK
    assert pay.classify(_line(), _row(nik=None)) is Outcome.DITERAPKAN
    assert pay.classify(None, _row()) is Outcome.TIDAK_DIKENAL
    assert pay.classify(_line(), _row(), duplicate=True) is Outcome.GANDA
    assert pay.classify(_line(P.DIBATALKAN), _row()) is Outcome.KONFLIK
    assert pay.classify(_line(P.GAGAL), _row()) is Outcome.KONFLIK
    assert pay.classify(_line(P.DIBAYAR), _row(P.DIKEMBALIKAN)) is Outcome.DITERAPKAN


@given(st.sampled_from(list(P)), st.sampled_from(pay.RESULT_STATES), st.booleans(), st.booleans())
def test_applied_means_an_allowed_transition_and_nothing_else(state, status, same_amount, duplicate) -> None:
    outcome = pay.classify(_line(state), _row(status, 250_000 if same_amount else 1), duplicate=duplicate)
    assert (outcome is Outcome.DITERAPKAN) == (
        not duplicate and same_amount and status in pay.TRANSITIONS[state]
    )
    if outcome is Outcome.DITERAPKAN:
        pay.check_payment_transition(state, status)


_ROW = st.tuples(
    st.one_of(st.none(), st.sampled_from(list(P))),
    st.booleans(),
    st.sampled_from(["same", "other", "none"]),
    st.sampled_from(pay.RESULT_STATES),
    st.booleans(),
    st.sampled_from(["TRX1", "TRX2", None]),
)


@given(st.lists(_ROW, min_size=1, max_size=30))
def test_vectorised_judge_agrees_with_classify(rows) -> None:
    """The import judges rows with Polars; it must give exactly what the domain's rules give."""
    import polars as pl

    from tepat.store.payment_results import judge

    nik = "3275011705800001"

    def ours_ref(state):  # a paid line of ours carries the bank's transaction id
        return "TRX1" if state is P.DIBAYAR else None

    result = pl.DataFrame(
        {
            "row_number": list(range(2, len(rows) + 2)),
            "reference": [f"P1-{i}" for i in range(len(rows))],
            "recipient_nik": [
                None if n == "none" else (nik if n == "same" else "3275011705800002")
                for _, _, n, _, _, _ in rows
            ],
            "amount": [250_000 if same else 1 for _, same, _, _, _, _ in rows],
            "status": [s.value for _, _, _, s, _, _ in rows],
            "duplicate": [r[4] for r in rows],
            "bank_reference": [r[5] for r in rows],
        },
        schema_overrides={"bank_reference": pl.String},
    )
    ours = pl.DataFrame(
        {
            "reference": [f"P1-{i}" for i, r in enumerate(rows) if r[0] is not None],
            "our_state": [r[0].value for r in rows if r[0] is not None],
            "our_amount": [250_000 for r in rows if r[0] is not None],
            "our_nik": [nik for r in rows if r[0] is not None],
            "our_bank_reference": [ours_ref(r[0]) for r in rows if r[0] is not None],
        },
        schema={
            "reference": pl.String,
            "our_state": pl.String,
            "our_amount": pl.Int64,
            "our_nik": pl.String,
            "our_bank_reference": pl.String,
        },
    )
    judged = judge(result, ours)["outcome"].to_list()
    expected = [
        pay.classify(
            None if state is None else OurLine(state, 250_000, nik, ours_ref(state)),
            ResultRow(
                f"P1-{i}",
                None if n == "none" else (nik if n == "same" else "3275011705800002"),
                250_000 if same else 1,
                status,
                ref,
            ),
            duplicate=dup,
        ).value
        for i, (state, same, n, status, dup, ref) in enumerate(rows)
    ]
    assert judged == expected


def test_a_second_bank_reference_for_a_paid_line_is_a_mismatch() -> None:
    ours = pay.OurLine(P.DIBAYAR, 250_000, None, bank_reference="TRX1")
    assert (
        pay.classify(ours, pay.ResultRow("R1", None, 250_000, P.DIBAYAR, bank_reference="TRX2"))
        is Outcome.TIDAK_COCOK
    )
    assert (
        pay.classify(ours, pay.ResultRow("R1", None, 250_000, P.DIBAYAR, bank_reference="TRX1"))
        is Outcome.SUDAH
    )
    assert pay.classify(ours, pay.ResultRow("R1", None, 250_000, P.DIBAYAR)) is Outcome.SUDAH
