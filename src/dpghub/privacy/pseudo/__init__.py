"""Pseudonymisation (가명처리): a per-column plan applied to a DuckDB relation."""

from .apply import Result, pseudonymise
from .functions import RegionLookup
from .plan import ColumnPlan, validate_plan

__all__ = ["ColumnPlan", "RegionLookup", "Result", "pseudonymise", "validate_plan"]
