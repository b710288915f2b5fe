"""Evidence uploads (photos, minutes): type from the bytes, a size limit, random names outside the web root.

The type is decided by the file's first bytes (its magic number), never by the
name or the browser's Content-Type. Files are stored under
``Settings.upload_dir`` with a random token as their name; the original name
is dropped. Serving them is the web layer's job, after it checks who asks.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tepat.errors import ConfigError, FieldError, ValidationError

MAX_BYTES = 5 * 1024 * 1024  # a phone photo; larger files are refused, not shrunk
CHUNK = 64 * 1024
TYPES = {  # content type -> extension
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class StoredFile:
    """A file accepted and written under the upload directory."""

    token: str
    content_type: str
    size_bytes: int
    sha256: str


def detect_type(head: bytes) -> str | None:
    """The content type named by a file's first bytes, or ``None`` when it is not an accepted type."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError(message, [FieldError(field, message)])


def check_outside(upload_dir: Path, web_root: Path) -> None:
    """Refuse an upload directory inside the directory served as static files (a setting error)."""
    up, root = upload_dir.resolve(), web_root.resolve()
    if up == root or root in up.parents:
        raise ConfigError(f"TEPAT_UPLOAD_DIR ({upload_dir}) must not be inside the web root ({web_root})")


def path_for(upload_dir: Path, token: str) -> Path:
    """Where a token's file lives; refuses anything that is not a token we made (no ``..``)."""
    if not _TOKEN.match(token):
        raise _refuse("berkas", "Berkas tidak ditemukan")
    return upload_dir / token[:2] / token


_EMPTY = "Berkas kosong"
_WRONG_TYPE = "Jenis berkas tidak diterima: unggah foto JPG, PNG, WEBP atau dokumen PDF"


def _too_big(max_bytes: int) -> str:
    return f"Berkas terlalu besar: paling besar {max_bytes // (1024 * 1024)} MB"


def check(source: BinaryIO, *, field: str = "berkas", max_bytes: int = MAX_BYTES) -> None:
    """Refuse, before anything else of a form is looked at, an upload ``store`` would refuse (empty, of an unknown
    type, too large); the stream is left at its start."""
    start = source.tell()
    try:
        head = source.read(CHUNK)
        if not head:
            raise _refuse(field, _EMPTY)
        if detect_type(head) is None:
            raise _refuse(field, _WRONG_TYPE)
        source.seek(0, os.SEEK_END)
        if source.tell() - start > max_bytes:
            raise _refuse(field, _too_big(max_bytes))
    finally:
        source.seek(start)


def new_token() -> str:
    """A random name for a stored file, safe in a path or an address: base64url, never hex (a hex token now and
    then holds 19 digits in a row, which the input guard refuses as a number too big for any column)."""
    return secrets.token_urlsafe(32)


def store(
    upload_dir: Path, source: BinaryIO, *, field: str = "berkas", max_bytes: int = MAX_BYTES
) -> StoredFile:
    """Check and write one upload; refuses an unknown type, an empty file or one over ``max_bytes``."""
    head = source.read(CHUNK)
    if not head:
        raise _refuse(field, _EMPTY)
    content_type = detect_type(head)
    if content_type is None:
        raise _refuse(field, _WRONG_TYPE)
    token = new_token()
    target = path_for(upload_dir, token)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    partial = target.with_suffix(".part")
    try:
        with open(partial, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise _refuse(field, _too_big(max_bytes))
                digest.update(chunk)
                out.write(chunk)
                chunk = source.read(CHUNK)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return StoredFile(token=token, content_type=content_type, size_bytes=size, sha256=digest.hexdigest())


def remove(upload_dir: Path, token: str) -> None:
    """Delete a stored file (e.g. when the record that needed it was refused)."""
    path_for(upload_dir, token).unlink(missing_ok=True)
