"""One SQLite database per run (WAL), the only state shared between parts and traces.

Each write commits at once, so a run killed with ``kill -9`` loses at most the step in flight,
and ``gome resume`` can continue from exactly what is here. A single connection guarded by a
lock serves all trace threads; SQLite's own locking covers readers in other processes (report).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gome.errors import GomeError
from gome.journal.models import RunRecord, StepRecord
from gome.llm.records import LLMCall
from gome.reasoning.types import MemoryEntry

DB_NAME = "journal.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trace INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    decision TEXT,
    score REAL,
    started_at REAL,
    finished_at REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_trace ON steps(trace, idx);
CREATE TABLE IF NOT EXISTS memory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trace INTEGER NOT NULL,
    step_id INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS llm_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    step_id INTEGER,
    trace INTEGER,
    operator TEXT,
    model TEXT,
    cost_usd REAL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    data TEXT NOT NULL
);
"""


class Journal:
    """Read and write one run's journal. Thread-safe; every write is committed immediately."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), check_same_thread=False, timeout=30.0, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, run_dir: Path, run: RunRecord) -> Journal:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if (run_dir / DB_NAME).exists():
            raise GomeError(
                f"{run_dir} already holds a gome run; use `gome resume {run_dir}` to continue it "
                "or pass another --out folder."
            )
        journal = cls(run_dir / DB_NAME)
        with journal._tx() as c:
            c.execute("INSERT INTO run (id, data) VALUES (?, ?)", (run.id, run.model_dump_json()))
        return journal

    @classmethod
    def open(cls, run_dir: Path) -> Journal:
        path = Path(run_dir) / DB_NAME
        if not path.is_file():
            raise GomeError(
                f"{run_dir} is not a gome run folder (no {DB_NAME}); pass the folder that "
                "`gome run` printed at its start."
            )
        return cls(path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # -- run -------------------------------------------------------------------------------
    def run(self) -> RunRecord:
        rows = self._query("SELECT data FROM run LIMIT 1")
        if not rows:
            raise GomeError(f"the journal {self.path} holds no run; it may be damaged.")
        return RunRecord.model_validate_json(rows[0][0])

    def save_run(self, run: RunRecord) -> None:
        with self._tx() as c:
            c.execute("UPDATE run SET data = ? WHERE id = ?", (run.model_dump_json(), run.id))

    def update_run(self, **fields: object) -> RunRecord:
        with self._lock:
            run = self.run().model_copy(update=fields)
            self.save_run(run)
            return run

    # -- steps -----------------------------------------------------------------------------
    def add_step(self, step: StepRecord) -> StepRecord:
        """Insert a step (usually status 'running') and return it with its id."""
        if not step.started_at:
            step.started_at = time.time()
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO steps (trace, idx, kind, status, decision, score, started_at, "
                "finished_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}')",
                (step.trace, step.index, step.kind.value, step.status,
                 step.decision.value if step.decision else None, step.score,
                 step.started_at, step.finished_at),
            )
            step.id = int(cur.lastrowid)
            c.execute("UPDATE steps SET data = ? WHERE id = ?", (step.model_dump_json(), step.id))
        return step

    def save_step(self, step: StepRecord) -> None:
        if step.id is None:
            raise ValueError("save_step needs a step that add_step returned")
        with self._tx() as c:
            c.execute(
                "UPDATE steps SET trace=?, idx=?, kind=?, status=?, decision=?, score=?, "
                "started_at=?, finished_at=?, data=? WHERE id=?",
                (step.trace, step.index, step.kind.value, step.status,
                 step.decision.value if step.decision else None, step.score, step.started_at,
                 step.finished_at, step.model_dump_json(), step.id),
            )

    def step(self, step_id: int) -> StepRecord:
        rows = self._query("SELECT data FROM steps WHERE id = ?", (step_id,))
        if not rows:
            raise KeyError(step_id)
        return StepRecord.model_validate_json(rows[0][0])

    def steps(self, trace: int | None = None, status: str | None = None) -> list[StepRecord]:
        sql, args = "SELECT data FROM steps", []
        where = []
        if trace is not None:
            where.append("trace = ?")
            args.append(trace)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        return [StepRecord.model_validate_json(r[0]) for r in self._query(sql, tuple(args))]

    @staticmethod
    def _delete_step(c: sqlite3.Connection, step_id: int | None) -> None:
        """Delete a step row; its LLM calls are kept (the money was spent) but detached."""
        c.execute("UPDATE llm_calls SET step_id = NULL WHERE step_id = ?", (step_id,))
        c.execute("DELETE FROM steps WHERE id = ?", (step_id,))

    def discard_step(self, step_id: int) -> None:
        """Remove a step that ended before anything ran (its trace converged while reasoning)."""
        with self._tx() as c:
            self._delete_step(c, step_id)

    def drop_unfinished_steps(self) -> list[StepRecord]:
        """Remove steps that were in flight when the run died, so that resume redoes them.

        Their LLM calls are kept (the money was spent) but detached from the step.
        """
        with self._tx() as c:
            rows = c.execute("SELECT data FROM steps WHERE status != 'done'").fetchall()
            dropped = [StepRecord.model_validate_json(r[0]) for r in rows]
            for s in dropped:
                self._delete_step(c, s.id)
        return dropped

    # -- success memory --------------------------------------------------------------------
    def add_memory(self, entry: MemoryEntry) -> MemoryEntry:
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO memory (trace, step_id, data) VALUES (?, ?, '{}')",
                (entry.trace, entry.step_id),
            )
            entry = entry.model_copy(update={"id": int(cur.lastrowid)})
            c.execute(
                "UPDATE memory SET data = ? WHERE id = ?", (entry.model_dump_json(), entry.id)
            )
        return entry

    def memory(self) -> list[MemoryEntry]:
        rows = self._query("SELECT data FROM memory ORDER BY id")
        return [MemoryEntry.model_validate_json(r[0]) for r in rows]

    # -- LLM calls -------------------------------------------------------------------------
    def add_llm_calls(self, step_id: int | None, trace: int | None, calls: list[LLMCall]) -> None:
        if not calls:
            return
        with self._tx() as c:
            c.executemany(
                "INSERT INTO llm_calls (step_id, trace, operator, model, cost_usd, tokens_in, "
                "tokens_out, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(step_id, trace, k.operator, k.model, k.cost_usd, k.tokens_in, k.tokens_out,
                  k.model_dump_json()) for k in calls],
            )

    def llm_calls(self, step_id: int | None = None) -> list[LLMCall]:
        if step_id is None:
            rows = self._query("SELECT data FROM llm_calls ORDER BY id")
        else:
            rows = self._query(
                "SELECT data FROM llm_calls WHERE step_id = ? ORDER BY id", (step_id,)
            )
        return [LLMCall.model_validate_json(r[0]) for r in rows]

    def llm_call_rows(self) -> list[dict[str, object]]:
        """Calls with the step and trace they belong to (for export and the report)."""
        rows = self._query("SELECT id, step_id, trace, data FROM llm_calls ORDER BY id")
        out = []
        for rid, step_id, trace, data in rows:
            d = json.loads(data)
            d.update({"id": rid, "step_id": step_id, "trace": trace})
            out.append(d)
        return out

    def llm_call_summaries(self) -> list[dict[str, object]]:
        """Calls without their prompt and reply: cheap to read for thousands of calls (report)."""
        rows = self._query(
            "SELECT id, step_id, trace, operator, model, cost_usd, tokens_in, tokens_out, "
            "json_extract(data, '$.latency_s'), json_extract(data, '$.ok'), "
            "json_extract(data, '$.error'), json_extract(data, '$.attempts') "
            "FROM llm_calls ORDER BY id"
        )
        keys = ("id", "step_id", "trace", "operator", "model", "cost_usd", "tokens_in",
                "tokens_out", "latency_s", "ok", "error", "attempts")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for d in out:
            d["ok"] = bool(d["ok"]) if d["ok"] is not None else True
        return out

    def llm_totals(self) -> dict[str, float]:
        rows = self._query(
            "SELECT COUNT(*), COALESCE(SUM(cost_usd),0), COALESCE(SUM(tokens_in),0), "
            "COALESCE(SUM(tokens_out),0) FROM llm_calls"
        )
        n, cost, tin, tout = rows[0]
        return {"calls": n, "cost_usd": cost, "tokens_in": tin, "tokens_out": tout}
