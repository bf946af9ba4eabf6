"""Builders the tests share: a test module imports these, never another test module.

`identity` signs a browser in, `lake` drives the lake as a provider, `upstream` is a real
upstream on loopback, `gateway` a provider's service and a developer's app around it,
`server` a real `dpghub serve` process, `scripted_model` a scripted OpenAI-compatible
provider process (the AI gateway's upstream), `loopback` free ports, `commands` the CLI's
commands.
The hub itself (`Hub`, `build_hub`) and its database fixtures are in tests/conftest.py.
"""
