"""LocalChain: the PoCo ledger in Python over one SQLite file.

`ledger` owns the file, connections, blocks and reads; `assets` and `tasks` hold the rules
(money, registries, deals; initialize, contribute, reveal, finalize, claim); `state` is the view
and the writes of one transaction; `rows` and `schema` are the SQLite encoding.
"""

from .ledger import LocalChain

__all__ = ["LocalChain"]
