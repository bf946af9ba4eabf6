"""Personal-data detection: which columns of a table hold which kinds of Korean personal data.

`scan(con, relation, columns)` reads every value once in DuckDB and returns `Finding`s;
`KINDS` is the registry of kinds; `mask(kind, value)` hides a value for display.
"""

from dpghub.privacy.detect.kinds import KINDS, Kind
from dpghub.privacy.detect.mask import mask
from dpghub.privacy.detect.scan import Finding, scan
from dpghub.privacy.detect.score import REPORT_THRESHOLD

__all__ = ["KINDS", "REPORT_THRESHOLD", "Finding", "Kind", "mask", "scan"]
