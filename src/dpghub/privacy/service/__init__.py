"""Every privacy rule, by subject: findings (personal data in each version, the refusal to
publish it, minimum cell sizes), pseudonyms (가명처리), risk (k-anonymity of a version),
combinations (결합), zones and zone_queries (데이터안심구역), exports (반출심사), text
(identifiers in free text masked: the AI gateway's prompts).
Routes use them as `service.zones.create(…)`, and so on."""

from ...analysis import service as analysis
from ...lake import service as lake
from . import (  # noqa: F401
    combinations,
    exports,
    findings,
    pseudonyms,
    risk,
    text,
    zone_queries,
    zones,
)


def register_hooks() -> None:
    """Called once at start-up (`app.register_hooks`): every new version is scanned, open
    publishing of direct identifiers is refused, dataset pages show what was found."""
    lake.on_new_version(findings.scanner)
    lake.on_access_change(findings.refuse_open)
    lake.on_describe(findings.section)
    lake.on_describe(pseudonyms.section)
    analysis.on_lineage(pseudonyms.lineage_edges)
