"""At most `max_cases` cases per operation, whatever the size of the contract: the service under
test is a developer's sandbox, and a run is a job with a bounded cost.

Half the budget (rounded up) goes to random cases (Schemathesis' fuzzing phase, bounded by
Hypothesis' max_examples); the other half to the deterministic cases, in order: the contract's
own examples, then Schemathesis' coverage cases — boundary values and missing required
parameters first, while wrong-type and out-of-range inputs may take at most half of it, so a
parameter listed late still has its boundaries tried.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

MAX_CASES = 200


class CaseBudget:
    def __init__(self, max_cases: int) -> None:
        self.random = max(1, (max_cases + 1) // 2)
        self.deterministic = max_cases - self.random
        self.used: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self, schema: Any) -> None:
        """Register the two hooks on this schema only (never globally: runs share a process)."""
        # Schemathesis sets attributes on a hook, which a bound method cannot take.
        def before_add_examples(context: Any, examples: list[Any]) -> None:
            self.before_add_examples(context, examples)

        def filter_case(context: Any, case: Any) -> bool:
            return self.filter_case(context, case)

        schema.hook("before_add_examples")(before_add_examples)
        schema.hook("filter_case")(filter_case)

    def before_add_examples(self, context: Any, examples: list[Any]) -> None:
        label = context.operation.label
        with self._lock:
            room = max(0, self.deterministic - self.used[label])
            del examples[room:]
            self.used[label] += len(examples)

    def filter_case(self, context: Any, case: Any) -> bool:
        meta = case.meta
        if meta is None or meta.phase.name.value != "coverage":
            return True           # random cases are bounded by max_examples
        label = case.operation.label
        with self._lock:
            used = self.used[label]
            if used >= self.deterministic:
                return False
            scenario = getattr(meta.phase.data, "scenario", None)
            preferred = meta.generation.mode.value == "positive" or \
                getattr(scenario, "value", None) == "missing_parameter"
            if not preferred and used >= (self.deterministic + 1) // 2:
                return False
            self.used[label] = used + 1
            return True
