"""The AI gateway's fixtures: a scripted OpenAI-compatible provider, from
tests/support/scripted_model.py; the Korean sample data (`kr`) for the hub's own AI features."""

from tests.support.lake import kr  # noqa: F401
from tests.support.scripted_model import scripted_model, scripted_model_server  # noqa: F401
