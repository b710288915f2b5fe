"""tepat's families and members as DCI Social Registry records (``Group`` and ``Member`` of the SPDCI social
extension), for search answers and event notifications.

Only what a programme elsewhere needs to identify and reach a family is sent: identifiers (NIK, nomor KK),
name, sex, birth date, relationship to the head, marital status, disability, the address down to RT/RW, the
family size and its welfare decile. Health and the socio-economic indicators stay in tepat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

CONTEXT = {
    "spdci": "https://schema.spdci.org/extensions/social/v1/",
    "common": "https://schema.spdci.org/common/v1/",
}

_SEX = {"L": "male", "P": "female"}
_MARITAL = {
    "belum_kawin": "single",
    "kawin": "married",
    "cerai_hidup": "divorced",
    "cerai_mati": "widowed",
}
_RELATIONSHIP = {
    "kepala_keluarga": "head",
    "istri_suami": "spouse",
    "anak": "child",
    "menantu": "child_in_law",
    "cucu": "grandchild",
    "orang_tua": "parent",
    "mertua": "parent_in_law",
    "famili_lain": "other_relative",
}


def timestamp(value: datetime | date | None) -> str | None:
    """ISO 8601 with its time zone, as the spec asks of every date and timestamp (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"{value.isoformat()}T00:00:00Z"


def identifier(kind: str, value: str) -> dict[str, str]:
    return {"@type": "Identifier", "identifier_type": kind, "identifier_value": value}


def address_line(family: Mapping[str, Any], kelurahan: str, kecamatan: str, city: str) -> str:
    street = (family.get("address") or "").strip()
    rt_rw = f"RT {int(family['rt']):03d}/RW {int(family['rw']):03d}"
    parts = [p for p in (street, rt_rw, f"Kel. {kelurahan}", f"Kec. {kecamatan}", city) if p]
    return ", ".join(parts)


def member_record(office_code: str, member: Mapping[str, Any], address: Mapping[str, Any]) -> dict[str, Any]:
    """One person as a DCI ``Member``: identifiers, demographic information, relationship to the head."""
    nik = identifier("NIK", str(member["nik"]))
    disability = member.get("disability")
    return {
        "@type": "Member",
        "@id": f"urn:tepat:{office_code}:member:{member['id']}",
        "member_identifier": [nik],
        "demographic_info": {
            "@type": "SRPerson",
            "identifier": [nik],
            "name": {"@type": "Name", "given_name": member["name"]},
            "sex": _SEX.get(member.get("sex") or "", "unknown"),
            "birth_date": timestamp(member.get("birth_date")),
            "address": dict(address),
        },
        "relationship_head": _RELATIONSHIP.get(member.get("relationship") or "", "other"),
        "is_disabled": bool(disability) and disability != "tidak_ada",
        "marital_status": _MARITAL.get(member.get("marital_status") or "", "unknown"),
        "additional_attributes": [{"status": member.get("status"), "life_status": member.get("life_status")}],
    }


def group_record(
    office_code: str,
    family: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    *,
    desil: int | None,
    kelurahan: str,
    kecamatan: str,
    city: str,
) -> dict[str, Any]:
    """One family as a DCI ``Group``: the KK, place down to RT/RW, decile, head and members."""
    line = address_line(family, kelurahan, kecamatan, city)
    address = {
        "@type": "Address",
        "street_address": line,
        "city": city,
        "region": f"{family['kelurahan_code']}",
    }
    listed = [member_record(office_code, m, address) for m in members]
    head = next(
        (r for r, m in zip(listed, members, strict=True) if m.get("relationship") == "kepala_keluarga"), None
    )
    record: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"urn:tepat:{office_code}:group:{family['id']}",
        "@type": "spdci:Group",
        "group_identifier": [identifier("HOUSEHOLD_ID", str(family["kk_number"]))],
        "group_type": "family",
        "place": {"@type": "Place", "address": line},
        "poverty_score": desil,
        "poverty_score_type": "desil",
        "group_size": len(members),
        "member_list": listed,
        "last_updated": timestamp(family.get("valid_from")),
        "additional_attributes": [
            {
                "kelurahan_code": family["kelurahan_code"],
                "kelurahan": kelurahan,
                "kecamatan": kecamatan,
                "rw": family["rw"],
                "rt": family["rt"],
                "registry_status": family.get("registry_status"),
            }
        ],
    }
    if head is not None:
        record["group_head_info"] = head
    return record
