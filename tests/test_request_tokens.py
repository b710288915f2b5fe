"""Tokens tepat puts in its own forms and addresses pass its own input guard (a CI run failed on this).

The guard refuses a run of 19 or more digits anywhere in a request (an id above
2^63). A token written in hex has ten digits among sixteen characters, so about
one public-form challenge in 1,300 and one import preview in 2,500 carried such a
run: the resident's correct answer, or the operator's import, came back "angka
terlalu besar". Tokens are written in base64url (ten digits among 64), where such a
run would take about 10^15 tokens.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from tepat.files.uploads import new_token
from tepat.portal.challenge import new_challenge
from tepat.web.input_guard import has_huge_number

SECRET = "uji-" + "x" * 40


def test_a_challenge_token_is_never_taken_for_a_huge_number() -> None:
    at = time.time()
    bodies = [
        urlencode({"token": new_challenge(SECRET, at).token, "jawaban": "7"}).encode() for _ in range(20_000)
    ]
    refused = [b for b in bodies if has_huge_number(b)]
    assert refused == []  # hex tokens: about 15 in 20,000


def test_an_upload_token_is_never_taken_for_a_huge_number() -> None:
    paths = [f"/impor/pratinjau/{new_token()}".encode() for _ in range(20_000)]
    assert [p for p in paths if has_huge_number(p)] == []  # hex (token_hex(12)): about 8 in 20,000


def test_the_guard_still_refuses_a_huge_id() -> None:
    assert has_huge_number(b"/keluarga/92233720368547758070")
    assert has_huge_number(b"halaman=12345678901234567890&x=1")
    assert not has_huge_number(b"nik=3275015206902617&nomor_kk=3275011507209999")
