"""How long a migration's statements may wait for their locks, and how a migration that timed out
waiting is retried (docs/safety.md, "Lock timeouts and retries").

An ``ALTER TABLE`` waiting for its lock behind one long transaction makes every later query on
that table queue behind it: the whole application stops on one table. With a lock timeout the
statement gives up after ``timeout`` seconds instead (PostgreSQL ``lock_timeout``, MySQL
``lock_wait_timeout``), the queries behind it go on, and the migration is tried again after a
pause that doubles each time, with jitter, ``retries`` times at most. Only a migration that left
nothing behind is retried: one in a transaction that rolled back, or, where DDL commits
implicitly, one that timed out on its first statement.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class LockWaits:
    """A run's lock waits: ``timeout`` seconds per statement (None: wait as long as the server
    lets it), up to ``retries`` more attempts after a timeout, the first ``backoff`` seconds
    later, doubling up to ``max_backoff``; ``statement_timeout`` seconds per statement, None for
    none. A migration's own ``Lock-timeout`` replaces ``timeout`` for it."""

    timeout: float | None = 2.0
    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    statement_timeout: float | None = None

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The pause before attempt ``attempt + 1`` (``attempt`` >= 1 timed out): the backoff
        doubled per attempt, capped, between half of it and all of it (so that two runs blocked
        by the same transaction do not come back together)."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + 0.5 * (rng or random).random()))

    def timeout_for(self, own: float | None) -> float | None:
        """The lock timeout of a migration that sets ``own`` (None: it sets none)."""
        return own if own is not None else self.timeout


#: No lock timeout, no retries, no statement timeout: how every statement waited before.
NO_LOCK_WAITS = LockWaits(timeout=None, retries=0)
