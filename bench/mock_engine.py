"""Mock engine benchmark, in process: what one sandbox request costs the mock (no HTTP).

On the real 국세청 document (two POSTs with JSON bodies) each request is matched, its body
validated and an answer built for a seed made from the request — distinct bodies (every
answer built) and one body repeated (answers from the cache) — and each part alone. For
comparison, openapi-core's validation of the same request (what the hub's benchmark uses
to judge the mock's answers). Best of `--repeat` runs, in µs per request.
    .venv/bin/python bench/mock.py --in-process [--spec PATH] [--number 4000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from random import Random

from mock_servers import nts_spec_path

from dpghub.catalog.openapi import normalize
from dpghub.testbed.mock import MockSpec, Prefer
from dpghub.testbed.mock.korean import business_number

QUERY = [("serviceKey", "a-sandbox-key"), ("returnType", "JSON")]
HEADERS = {"content-type": "application/json"}


def bodies(path: str, count: int) -> list[bytes]:
    rng = Random(7)
    if path == "/status":
        return [json.dumps({"b_no": [business_number(rng) for _ in range(rng.randint(1, 3))]})
                .encode() for _ in range(count)]
    return [json.dumps({"businesses": [{"b_no": business_number(rng), "start_dt": "20200101",
                                        "p_nm": "홍길동"}]}, ensure_ascii=False).encode()
            for _ in range(count)]


def measure(spec: MockSpec, path: str, best: Callable[[Callable[[], object]], float]) -> None:
    sent = bodies(path, 20000)
    counter = iter(range(10 ** 9))
    match = spec.match("POST", path)

    def request(vary: bool) -> object:
        body = sent[next(counter) % len(sent)] if vary else sent[0]
        found = spec.match("POST", path)
        assert not spec.validate_request(found, QUERY, HEADERS, body, "application/json")
        seed = hashlib.blake2b(b"POST" + path.encode() + body, digest_size=16).digest()
        return spec.respond(found, Prefer.parse(None), seed)

    def check() -> object:
        return spec.validate_request(match, QUERY, HEADERS, sent[0], "application/json")
    print(path)
    print(f"  match                       {best(lambda: spec.match('POST', path)):9.1f} µs")
    print(f"  validate_request            {best(check):9.1f} µs")
    print(f"  whole, distinct bodies      {best(lambda: request(True)):9.1f} µs")
    print(f"  whole, one body repeated    {best(lambda: request(False)):9.1f} µs")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=None)
    parser.add_argument("--number", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    args.spec = args.spec or nts_spec_path()
    document = normalize(json.loads(args.spec.read_text(encoding="utf-8")))

    def best(work: Callable[[], object], number: int = args.number) -> float:
        return min(timeit.repeat(work, number=number, repeat=args.repeat)) / number * 1e6

    print(f"build                         {best(lambda: MockSpec.build(document), 20):9.1f} µs")
    spec = MockSpec.build(document)
    for path in ("/status", "/validate"):
        measure(spec, path, best)

    from openapi_core import OpenAPI
    from openapi_core.testing import MockRequest
    api = OpenAPI.from_dict(document)
    call = MockRequest("https://api.odcloud.kr", "post", "/api/nts-businessman/v1/status",
                       args={"serviceKey": "k"}, data=bodies("/status", 1)[0])
    print(f"openapi-core validate_request {best(lambda: api.validate_request(call), 500):9.1f} µs")


if __name__ == "__main__":
    main()
