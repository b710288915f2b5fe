"""Pages for programmes (issue 4). Filled in by the module's owner."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
