"""Support for hyperscale AI services: an OpenAI-compatible AI gateway (`/ai/v1/…`) over the
providers operators register, with credits and a usage ledger."""
