"""Every testbed rule, by subject: projects (members, keys, stage, the validation proxy), what
sandbox calls read and leave (calls), synthetic copies, validations and the support desk.
Routes use them as `service.projects.create(…)`, and so on."""

from . import calls, figures, projects, support, synthetic, validations  # noqa: F401
