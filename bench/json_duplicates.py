"""What refusing a name given twice would cost the chatbox load's body: its parse as the chatbox
reads it (`web/body.py` parse_json, pydantic's JSON fast path) against a parse that could see a
repeated name (`web/strict_json.py` strict_json, `json.loads` with a hook per object, then the
model), interleaved, in CPU time: `python -m bench.json_duplicates [ROUNDS] [N]` prints the
median ratio of ROUNDS pairs of N parses each (docs/performance.md, "A name twice in a body")."""

from __future__ import annotations

import json
import statistics
import sys
import time

from causerie.web.body import parse_json
from causerie.web.schemas import SessionIn
from causerie.web.strict_json import strict_json

BODY = json.dumps(
    {
        "page": {
            "url": "https://shop.example/shoes/red?size=42",
            "title": "Red shoes",
            "referrer": "https://search.example/",
        },
        "locale": "fr-FR",
        "timezone": "Europe/Paris",
        "token": "t" * 43,
    }
).encode()


def _cpu(parse: object, n: int) -> float:
    assert callable(parse)
    start = time.process_time()
    for _ in range(n):
        parse()
    return time.process_time() - start


def main(rounds: int = 9, n: int = 20_000) -> None:
    ratios = []
    for _ in range(rounds):
        fast = _cpu(lambda: parse_json(BODY, SessionIn), n)
        strict = _cpu(lambda: SessionIn.model_validate(strict_json(BODY)), n)
        ratios.append(strict / fast)
    print(
        f"strict/fast CPU per body: median {statistics.median(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}, {rounds} pairs of {n})"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
