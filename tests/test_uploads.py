"""Evidence uploads: type by content, size limit, random names outside the web root."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tepat.errors import ConfigError, ValidationError
from tepat.files import uploads

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50
PDF = b"%PDF-1.7\n" + b"x" * 50
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20


@pytest.mark.parametrize(
    ("data", "kind"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (PDF, "application/pdf"), (WEBP, "image/webp")],
)
def test_accepted_types_are_recognised_by_their_bytes(tmp_path: Path, data: bytes, kind: str) -> None:
    stored = uploads.store(tmp_path, io.BytesIO(data))
    assert stored.content_type == kind and stored.size_bytes == len(data)
    path = uploads.path_for(tmp_path, stored.token)
    assert path.read_bytes() == data
    assert path.parent.parent == tmp_path and "." not in path.name  # random name, no extension from the user


@pytest.mark.parametrize(
    "data",
    [b"<html><script>alert(1)</script>", b"MZ\x90\x00 windows exe", b"GIF89a....", b"PK\x03\x04 a zip"],
)
def test_other_content_is_refused_whatever_its_name(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ValidationError, match="Jenis berkas"):
        uploads.store(tmp_path, io.BytesIO(data))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_empty_and_oversized_files_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kosong"):
        uploads.store(tmp_path, io.BytesIO(b""))
    with pytest.raises(ValidationError, match="terlalu besar"):
        uploads.store(tmp_path, io.BytesIO(JPEG + b"\x00" * 300_000), max_bytes=200_000)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_tokens_are_random_and_paths_cannot_escape(tmp_path: Path) -> None:
    a, b = uploads.store(tmp_path, io.BytesIO(PNG)), uploads.store(tmp_path, io.BytesIO(PNG))
    assert a.token != b.token and len(a.token) >= 32
    for bad in ("../../etc/passwd", "abc", "a" * 31 + "/", "..%2f" * 10):
        with pytest.raises(ValidationError):
            uploads.path_for(tmp_path, bad)


def test_upload_dir_must_be_outside_the_web_root(tmp_path: Path) -> None:
    web = tmp_path / "static"
    with pytest.raises(ConfigError):
        uploads.check_outside(web / "unggahan", web)
    uploads.check_outside(tmp_path / "data" / "unggahan", web)
