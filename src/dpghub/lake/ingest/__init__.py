"""The ingestion job: received files → one atomic Delta version, profiled and catalogued.

Its steps, one module each: `staging` (every file as text columns: format, encoding,
delimiter, by the readers), `reconcile` (types against the table's and the overrides; keys),
`write` (the typed rows streamed into a single Delta commit, every value checked), `faults`
(DuckDB's errors as the user's file and line), and `job`, which runs them in order. Every
refusal names the file, line, column and value; until the commit nothing is visible, and after
it the job records the version. A retried job finds its own commit (tagged with the job id) and
does not write twice.
"""
