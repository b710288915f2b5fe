"""DCI message signatures: verified for a client that registered an Ed25519 public key.

The spec gives the envelope's ``signature`` as ``Signature: namespace="spdci", kidId="{sender_id}|{key_id}|
ed25519", algorithm="ed25519", created="…", expires="…", headers="(created) (expires) digest",
signature="…"`` — a signature "of {header}+{message}". It leaves open how header and message become bytes, so
tepat fixes it (docs/dci.md) as the signing scheme this format comes from (Beckn's HTTP signature):

    (created): 1606970629
    (expires): 1607030629
    digest: BLAKE-512=<base64 of BLAKE2b-512 over the canonical JSON of {"header": …, "message": …}>

where canonical JSON has its keys sorted, no spaces (``","`` and ``":"``) and UTF-8 text unescaped. The
signature is Ed25519 over those three lines, base64. A client without a registered key is not asked to sign
(its bearer token and TLS authenticate it); a client with one must sign every message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tepat.domain.dci import ErrorCode, Refused

HEADERS = "(created) (expires) digest"
CLOCK_SKEW_SECONDS = 300
_PARAM = re.compile(r'(\w+)="([^"]*)"')


def canonical(header: Mapping[str, Any], message: Any) -> bytes:
    """The bytes a signature's digest covers."""
    return json.dumps(
        {"header": header, "message": message}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def signing_string(header: Mapping[str, Any], message: Any, created: int, expires: int) -> bytes:
    digest = base64.b64encode(hashlib.blake2b(canonical(header, message), digest_size=64).digest()).decode()
    return f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={digest}".encode()


def sign(
    private_key: bytes,
    header: Mapping[str, Any],
    message: Any,
    *,
    key_id: str = "k1",
    created: int | None = None,
    lifetime: int = 600,
) -> str:
    """The envelope's ``signature`` for a message (for clients, and for tests)."""
    created = int(time.time()) if created is None else created
    expires = created + lifetime
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    value = base64.b64encode(key.sign(signing_string(header, message, created, expires))).decode()
    return (
        f'Signature namespace="spdci", kidId="{header.get("sender_id", "")}|{key_id}|ed25519", '
        f'algorithm="ed25519", created="{created}", expires="{expires}", headers="{HEADERS}", '
        f'signature="{value}"'
    )


def verify(public_key: str, signature: object, header: Mapping[str, Any], message: Any, now: float) -> None:
    """Accept a valid signature of this message by this key; ``Refused`` with the spec's code otherwise."""
    if not isinstance(signature, str) or not signature.strip():
        raise Refused(ErrorCode.SIGNATURE_MISSING, "this client must sign its messages")
    params = dict(_PARAM.findall(signature))
    try:
        created, expires = int(params["created"]), int(params["expires"])
        value = base64.b64decode(params["signature"], validate=True)
    except (KeyError, ValueError, binascii.Error):
        raise Refused(ErrorCode.SIGNATURE_INVALID, "the signature is not in the spec's format") from None
    if params.get("algorithm", "").lower() != "ed25519" or params.get("headers") != HEADERS:
        raise Refused(ErrorCode.SIGNATURE_INVALID, f'algorithm must be ed25519 and headers "{HEADERS}"')
    if created > now + CLOCK_SKEW_SECONDS or expires < now - CLOCK_SKEW_SECONDS or expires < created:
        raise Refused(ErrorCode.SIGNATURE_INVALID, "the signature has expired or is not yet valid")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    try:
        key.verify(value, signing_string(header, message, created, expires))
    except InvalidSignature:
        raise Refused(ErrorCode.SIGNATURE_INVALID, "the signature does not match the message") from None
