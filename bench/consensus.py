"""consensus: trust 5 tasks on 10 workers: tasks/s and chain transactions per task.

python bench/consensus.py [--tasks 20] [--workers 10]
LocalChain writes one block per transaction, so blocks written during the batch = transactions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, percentile  # noqa: E402
from throughput import run_devnet_batch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--trust", type=int, default=5)
    args = parser.parse_args()
    batch = run_devnet_batch(args.tasks, args.workers, 1, trust=args.trust)
    emit("consensus", tasks=args.tasks, workers=args.workers, trust=args.trust, completed=batch["completed"],
         seconds=round(batch["seconds"], 2), tasksPerSecond=round(batch["completed"] / batch["seconds"], 2),
         latencyP50=round(percentile(batch["latencies"], 0.5), 3), latencyP99=round(percentile(batch["latencies"], 0.99), 3),
         chainTransactionsPerTask=round(batch["chainTransactions"] / args.tasks, 2))


if __name__ == "__main__":
    main()
