"""Every table of the hub, imported in one place for migrations and tests."""

from .agile import models as _agile  # noqa: F401
from .ai import models as _ai  # noqa: F401
from .analysis import models as _analysis  # noqa: F401
from .catalog import models as _catalog  # noqa: F401
from .core import audit as _audit  # noqa: F401
from .core import jobs as _jobs  # noqa: F401
from .core import usage as _usage  # noqa: F401
from .core.db import Base
from .gateway import models as _gateway  # noqa: F401
from .identity import models as _identity  # noqa: F401
from .lake import models as _lake  # noqa: F401
from .privacy import models as _privacy  # noqa: F401
from .programmes import models as _programmes  # noqa: F401
from .testbed import models as _testbed  # noqa: F401

metadata = Base.metadata
