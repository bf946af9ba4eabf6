"""Every analysis rule, by subject: queries (who may read what, running them in the
sandbox's workers, history, saved queries, join suggestions) and derived datasets (made from
a query, as strict as their inputs, with lineage and refresh).

Other domains and the routes use them as `analysis.service.<function>`.
"""

from .derived import (  # noqa: F401
    DERIVE_JOB,
    create_derived,
    derivation_section,
    follow_access,
    hub_type,
    keep_at_least_inputs_access,
    lineage,
    lineage_of,
    on_lineage,
    refresh_derived,
    register_hooks,
    staleness,
)
from .queries import (  # noqa: F401
    CHECK_SECONDS,
    delete_saved,
    history,
    join_suggestions,
    open_stream,
    prepare,
    resolve,
    run_over,
    run_query,
    run_query_json,
    save_query,
    saved_queries,
)
