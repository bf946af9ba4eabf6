"""Programme pages (placeholder until the pages are written)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..web import csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
