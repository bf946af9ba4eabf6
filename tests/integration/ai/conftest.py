"""The AI gateway's fixtures: a scripted OpenAI-compatible provider, from
tests/support/scripted_model.py."""

from tests.support.scripted_model import scripted_model, scripted_model_server  # noqa: F401
