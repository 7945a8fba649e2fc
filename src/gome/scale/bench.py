"""Run a suite of (competition, seed) jobs on a local process pool or a Ray cluster, resumably.

The database in the bench folder is the only state: a start queues the jobs that are not done
(new, failed, interrupted), runs them with at most one retry for a job that died (killed, out
of memory, node lost), and records each outcome the moment it is known. Stopping the command
(Ctrl-C) ends the running jobs and puts them back in the queue for the next start.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from gome.errors import ConfigError
from gome.scale.job import JobResult, JobSpec, run_job_process
from gome.scale.jobdb import BenchSettings, Job, JobDB, JobStatus
from gome.scale.resources import GpuPool, local_job_slots, visible_gpus
from gome.scale.suite import resolve_suite


class BenchOptions(BaseModel):
    """The options of ``gome bench`` (the CLI only parses them into this)."""

    suite: list[str]
    out: Path
    data_dir: Path | None = None
    seeds: int = Field(default=3, ge=1)
    first_seed: int = 0
    run: dict[str, Any] = Field(default_factory=dict, description="RunConfig fields for each job")
    jobs: int | None = Field(default=None, description="jobs at once; default: what fits")
    ray_address: str | None = Field(default=None, description="auto, an address, or 'local'")
    cpus_per_job: float = 1.0
    gpus_per_job: float = 0.0
    retries: int = Field(default=1, ge=0, description="extra attempts for a job that died")
    practice_rows: int | None = Field(
        default=None, ge=20, description="subsample practice competitions (train and test "
        "must not be empty)")
    hard_limit_factor: float = Field(
        default=1.5, description="kill a job after factor x its time limit + 10 minutes"
    )


    @field_validator("out", "data_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Jobs run in other processes and on other nodes (whose working folder is where
        `ray start` ran): a relative bench or data folder would point somewhere else there."""
        return Path(os.path.abspath(value.expanduser())) if value is not None else None


Event = Callable[[str, Job | None], None]
"""Progress callback: (one line for people, the job it is about or None)."""


def prepare_bench(options: BenchOptions) -> JobDB:
    """Open or create the bench folder, check its settings, queue the jobs not yet done."""
    out = options.out
    entries = resolve_suite(
        options.suite, bench_dir=out, data_dir=options.data_dir, practice_rows=options.practice_rows
    )
    db = JobDB(out)
    seeds = list(range(options.first_seed, options.first_seed + options.seeds))
    db.save_settings(
        BenchSettings(
            suite=list(options.suite),
            competitions=[e.competition for e in entries],
            seeds=seeds,
            data_dir=str(options.data_dir) if options.data_dir else None,
            run=options.run,
        )
    )
    for entry in entries:
        for seed in seeds:
            db.add_job(entry.competition, seed, str(entry.task_dir.resolve()))
    db.requeue_unfinished()
    return db


def _run_dir(out: Path, job: Job) -> Path:
    return out / "runs" / job.competition / f"seed-{job.seed}" / f"attempt-{job.attempts + 1}"


def _hard_limit(options: BenchOptions) -> float | None:
    limit = options.run.get("time_limit_s")
    if not limit or options.hard_limit_factor <= 0:
        return None
    return float(limit) * options.hard_limit_factor + 600.0


def _resumable(job: Job) -> bool:
    """An interrupted attempt whose run folder holds a journal is continued, not restarted."""
    return bool(
        job.run_dir
        and job.history
        and job.history[-1].endswith("interrupted")
        and (Path(job.run_dir) / "journal.sqlite").is_file()
    )


Backend = Callable[[JobSpec, Job, threading.Event], JobResult]


def _local_backend(db: JobDB, options: BenchOptions) -> Backend:
    gpus = GpuPool(visible_gpus(), options.gpus_per_job) if options.gpus_per_job > 0 else None

    def run(spec: JobSpec, job: Job, stop: threading.Event) -> JobResult:
        taken = gpus.take() if gpus is not None else []
        env = {"CUDA_VISIBLE_DEVICES": ",".join(taken)} if gpus is not None else {}
        try:
            return run_job_process(
                spec,
                env=env,
                on_start=lambda pid: db.set_worker(job.id, pid=pid),
                should_stop=stop.is_set,
                work_dir=options.out / "jobs",
            )
        finally:
            if gpus is not None:
                gpus.give_back(taken)

    return run


def _ray_backend(db: JobDB, options: BenchOptions) -> Backend:
    from gome.scale.ray_jobs import run_on_ray

    def run(spec: JobSpec, job: Job, stop: threading.Event) -> JobResult:
        return run_on_ray(
            spec,
            env=_forwarded_env(options),
            num_cpus=options.cpus_per_job,
            num_gpus=options.gpus_per_job,
            work_dir=options.out / "jobs",
            stop=stop,
            on_node=lambda node: db.set_worker(job.id, node=node),
        )

    return run


def _forwarded_env(options: BenchOptions) -> dict[str, str]:
    """Variables Ray workers need from the driver: the LLM's API key (if set here)."""
    import os

    llm = options.run.get("llm") or {}
    name = llm.get("api_key_env") or "OPENAI_API_KEY"
    return {name: os.environ[name]} if os.environ.get(name) else {}


def connect_ray(address: str | None) -> None:
    """Connect to a Ray cluster (``auto``, ``ray://host:10001``, ``host:6379``) or start one.

    ``local`` starts Ray on this machine. An existing connection (``ray.init`` already called in
    this process) is reused.
    """
    try:
        import ray
    except ImportError as err:
        raise ConfigError(
            "Ray is not installed; run `pip install 'gome[ray]'` or drop --ray-address."
        ) from err
    if ray.is_initialized():
        return
    import logging

    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": logging.WARNING}
    try:
        if address in (None, "", "local"):
            ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ConfigError(
            f"cannot connect to the Ray cluster at '{address}' ({err}); start it with "
            "`ray start --head` or pass its address, e.g. --ray-address auto."
        ) from err


def run_bench(
    options: BenchOptions,
    *,
    on_event: Event | None = None,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Run every queued job of the bench; return the job counts by status at the end.

    ``stop`` (or Ctrl-C in the calling thread) ends the running jobs and leaves them queued.
    """
    say = on_event or (lambda text, job: None)
    db = prepare_bench(options)
    stop = stop or threading.Event()
    try:
        if options.ray_address is not None:
            connect_ray(options.ray_address)
            backend = _ray_backend(db, options)
            slots = options.jobs or max(1, len(db.jobs(JobStatus.PENDING)))
            where = f"Ray ({options.ray_address})"
        else:
            slots = local_job_slots(options.cpus_per_job, options.gpus_per_job, options.jobs)
            backend = _local_backend(db, options)
            where = f"{slots} local worker(s)"
        pending = db.jobs(JobStatus.PENDING)
        counts = db.counts()
        say(
            f"{len(pending)} job(s) to run on {where}; {counts['done']} already done.",
            None,
        )
        if pending:
            _schedule(db, options, backend, pending, slots, stop, say)
        return db.counts()
    finally:
        db.close()


def _schedule(
    db: JobDB,
    options: BenchOptions,
    backend: Backend,
    pending: list[Job],
    slots: int,
    stop: threading.Event,
    say: Event,
) -> None:
    hard_limit = _hard_limit(options)

    def one(job: Job) -> None:
        for attempt in range(options.retries + 1):
            if stop.is_set():
                return
            job = db.job(job.id)
            resume = _resumable(job)
            run_dir = Path(job.run_dir) if resume and job.run_dir else _run_dir(options.out, job)
            db.mark_running(job.id, str(run_dir))
            say(f"start  {job.competition} seed {job.seed} (attempt {job.attempts + 1})",
                db.job(job.id))
            spec = JobSpec(
                job_id=job.id,
                competition=job.competition,
                seed=job.seed,
                task_dir=job.task_dir,
                run_dir=str(run_dir),
                run=options.run,
                resume=resume,
                hard_limit_s=hard_limit,
            )
            try:
                result = backend(spec, job, stop)
            except Exception as err:  # a bug or an infrastructure error: record it, go on
                result = JobResult(ok=False, retryable=True,
                                   reason=f"{type(err).__name__}: {err}")
            if stop.is_set() and not result.ok:
                db.mark_interrupted(job.id)
                say(f"stop   {job.competition} seed {job.seed}: interrupted", db.job(job.id))
                return
            if result.ok:
                db.mark_done(
                    job.id, run_dir=result.run_dir, run_status=result.run_status,
                    score=result.score, grade=result.grade, reason=result.reason,
                    wall_s=result.wall_s, node=result.node,
                )
                done = db.job(job.id)
                say(f"done   {job.competition} seed {job.seed}: {_grade_text(done)}", done)
                return
            final = not result.retryable or attempt >= options.retries
            db.record_attempt_failure(job.id, result.reason, final=final)
            verb = "failed" if final else "died, retrying"
            say(f"{verb} {job.competition} seed {job.seed}: {result.reason}", db.job(job.id))
            if final:
                return

    pool = ThreadPoolExecutor(max_workers=max(1, min(slots, len(pending))),
                              thread_name_prefix="gome-bench")
    futures: list[Future[None]] = [pool.submit(one, job) for job in pending]
    try:
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in finished:
                fut.result()
    except BaseException:
        stop.set()
        for fut in futures:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _grade_text(job: Job) -> str:
    grade = job.grade or {}
    if not grade.get("submission_exists", True) or not (
        grade.get("valid") or grade.get("valid_submission")
    ):
        return f"no valid submission ({grade.get('reason') or grade.get('message') or '-'})"
    score = grade.get("score")
    medal = grade.get("medal") or "no medal"
    score_text = f"{score:.5g}" if isinstance(score, int | float) and math.isfinite(score) else "-"
    return f"score {score_text}, {medal}"

