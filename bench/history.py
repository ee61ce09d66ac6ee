"""history: the status-updates measurement with 100,000 finished tasks and 1,000 workers already stored.

python bench/history.py [--db sqlite|postgres] [--history 100000]
Runs status-updates on an empty store, then on a seeded one, and reports the ratio of the
empty-store rate to the seeded-store rate (1.0 = history costs nothing; target ≤ 1.2, issue 14).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402
from status_updates import rounded, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    empty = asyncio.run(run(args.db, args.tasks, 10, 32, 0))
    seeded = asyncio.run(run(args.db, args.tasks, 10, 32, args.history))
    emit("history", db=args.db, history=args.history, emptyStore=rounded(empty), seededStore=rounded(seeded),
         ratio=round(empty["updatesPerSecond"] / seeded["updatesPerSecond"], 3),
         p99Ratio=round(seeded["latencyP99Ms"] / empty["latencyP99Ms"], 3), target={"ratio": 1.2})


if __name__ == "__main__":
    main()
