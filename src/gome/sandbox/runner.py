"""Run ``python main.py`` of one workspace in isolation, under limits, and say what happened.

The run's life: clear the previous run's results, build the command (bubblewrap or the rlimit
fallback, optionally inside a fresh cgroup), start it in its own session, stream its output to
the log, wait for it, the time limit or a cancel, kill everything it started, then read its
``scores.json`` and classify the outcome. Nothing the solution starts outlives ``run()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from gome.errors import ConfigError
from gome.sandbox import isolation as iso
from gome.sandbox.cgroups import RunCgroup, cgroups_available, create_run_cgroup
from gome.sandbox.classify import RunFacts, classify
from gome.sandbox.outcome import DEBUG_ENV, SEED_ENV, Limits, Outcome, RunStatus
from gome.sandbox.output import OutputCollector
from gome.sandbox.processes import (
    RUN_ID_ENV,
    count_user_processes,
    descendants,
    kill_group,
    kill_run_processes,
)

log = logging.getLogger("gome.sandbox")

ISOLATIONS = ("auto", "bwrap", "none")
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS",
)
TIME_LIMIT_ENV = "GOME_TIME_LIMIT_S"
"""Seconds the run may take, so that a solution can budget its own training."""
PASSTHROUGH_ENV = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "TZ")
_warned_fallback = False
_warn_lock = threading.Lock()


def _warn_fallback_once(reason: str) -> None:
    global _warned_fallback
    with _warn_lock:
        if _warned_fallback:
            return
        _warned_fallback = True
    line = (f"gome: warning: {reason}; solutions run with resource limits only, without "
            "file isolation. Install bubblewrap to isolate them.")
    # Printed, not only logged: a run's log handlers would otherwise keep it off the terminal.
    print(line, file=sys.stderr, flush=True)
    log.info(line)


class Sandbox:
    """Runs solutions the same way every time: same isolation, limits and environment.

    ``isolation``: "bwrap" (require bubblewrap), "none" (rlimits only), or "auto" (bubblewrap
    when it works here, else a one-line warning and the fallback). ``cgroups``: use a per-run
    cgroup for memory and process limits when the host allows it (None = when available).
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        python: str | None = None,
        isolation: str = "auto",
        cgroups: bool | None = None,
    ) -> None:
        if isolation not in ISOLATIONS:
            raise ConfigError(
                f"Unknown sandbox isolation '{isolation}'; use one of: {', '.join(ISOLATIONS)}."
            )
        self.limits = limits or Limits()
        self.python = iso.resolve_python(python)
        self.interpreter = iso.describe_interpreter(self.python)
        self.requested_isolation = isolation
        if isolation == "bwrap":
            problem = iso.bwrap_problem()
            if problem:
                raise ConfigError(
                    f"{problem}; install bubblewrap or choose isolation 'auto' or 'none'."
                )
        self.use_cgroups = cgroups_available() if cgroups is None else (
            cgroups and cgroups_available()
        )

    @property
    def isolation(self) -> str:
        """The isolation runs actually get: "bwrap" or "none"."""
        if self.requested_isolation == "none":
            return "none"
        problem = iso.bwrap_problem()
        if problem is None:
            return "bwrap"
        _warn_fallback_once(problem)
        return "none"

    # ------------------------------------------------------------------ run
    def run(
        self,
        workspace: Path,
        input_dir: Path,
        *,
        debug: bool = False,
        seed: int = 0,
        limits: Limits | None = None,
        cancel: threading.Event | None = None,
    ) -> Outcome:
        """Run ``python main.py`` in ``workspace`` with ``input_dir`` at ./input (read-only)."""
        limits = limits or self.limits
        workspace = Path(workspace).absolute()
        input_dir = Path(input_dir).absolute()
        log_name = "debug.log" if debug else "run.log"
        base = {"debug": debug, "time_limit_s": limits.wall_time_s,
                "log_path": str(workspace / log_name)}
        problem = _check_inputs(workspace, input_dir)
        if problem:
            status, message = problem
            return Outcome(status=status, message=message, **base)
        mode = self.isolation
        try:
            _clear_previous_results(workspace)
            _prepare_input_mount(workspace, input_dir, mode)
        except OSError as err:
            return Outcome(status=RunStatus.SANDBOX_FAILURE, message=(
                f"could not prepare the workspace: {err}"), **base)
        if cancel is not None and cancel.is_set():
            return Outcome(status=RunStatus.KILLED, message="cancelled before it started",
                           **base)
        return _Run(self, workspace, input_dir, mode, limits, debug, seed, cancel,
                    workspace / log_name).execute()


def _check_inputs(workspace: Path, input_dir: Path) -> tuple[RunStatus, str] | None:
    if not workspace.is_dir():
        return RunStatus.SANDBOX_FAILURE, f"the workspace {workspace} does not exist"
    if not (workspace / "main.py").is_file():
        return RunStatus.ERROR, f"there is no main.py in {workspace}"
    if not input_dir.is_dir():
        return RunStatus.SANDBOX_FAILURE, f"the input folder {input_dir} does not exist"
    return None


def _clear_previous_results(workspace: Path) -> None:
    """A failed run must not show the previous run's scores or submission."""
    scores = workspace / "scores.json"
    if scores.is_symlink() or scores.exists():
        scores.unlink()
    sub = workspace / "submission"
    if sub.is_symlink() or sub.is_file():
        sub.unlink()
    elif sub.is_dir():
        shutil.rmtree(sub)


def _prepare_input_mount(workspace: Path, input_dir: Path, mode: str) -> None:
    """./input is a mount point (bubblewrap) or a symlink to the public files (fallback)."""
    target = workspace / "input"
    if mode == "bwrap":
        if target.is_symlink() or target.is_file():
            target.unlink()
        target.mkdir(exist_ok=True)
        return
    if target.is_symlink():
        if Path(os.readlink(target)) == input_dir:
            return
        target.unlink()
    elif target.is_dir():
        if any(target.iterdir()):
            raise OSError(f"{target} is a folder with files; remove it so that ./input can "
                          "point at the task's public files")
        target.rmdir()
    elif target.exists():
        target.unlink()
    target.symlink_to(input_dir, target_is_directory=True)


def _remove_input_mount(workspace: Path) -> None:
    """Leave no ./input behind: a symlink to the data would make copies of the workspace
    copy the whole data set, and an empty mount point only confuses."""
    target = workspace / "input"
    with contextlib.suppress(OSError):
        if target.is_symlink():
            target.unlink()
        elif target.is_dir():
            target.rmdir()  # only if empty (the bubblewrap mount point)


def _solution_env(limits: Limits, debug: bool, seed: int, run_id: str, workspace: Path,
                  python: Path, tmpdir: str | None) -> dict[str, str]:
    env = {
        "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workspace),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": str(seed % 2**32),  # Python accepts only [0, 2**32 - 1]
        "MPLBACKEND": "Agg",
        DEBUG_ENV: "1" if debug else "0",
        SEED_ENV: str(seed),
        TIME_LIMIT_ENV: f"{limits.wall_time_s:g}",
        RUN_ID_ENV: run_id,
    }
    for var in THREAD_ENV_VARS:
        env[var] = str(limits.threads)
    for var in PASSTHROUGH_ENV:
        if var in os.environ:
            env[var] = os.environ[var]
    if tmpdir:
        env["TMPDIR"] = tmpdir
    return env


def _prlimit_args(limits: Limits, *, memory_rlimit: bool, nproc: int | None,
                  cpu_hard_is_soft: bool = False) -> list[str]:
    """`prlimit` options for the limits a single process tree can carry."""
    args: list[str] = ["--core=0"]
    if memory_rlimit and limits.memory_mb:
        args.append(f"--as={limits.memory_mb * 2**20}")
    if limits.file_size_mb:
        args.append(f"--fsize={limits.file_size_mb * 2**20}")
    if limits.max_open_files:
        args.append(f"--nofile={limits.max_open_files}")
    if nproc:
        args.append(f"--nproc={nproc}")
    if limits.cpu_time_s:
        soft = max(1, int(limits.cpu_time_s))
        # SIGXCPU first, SIGKILL 5 s later; PID 1 of a namespace ignores SIGXCPU, so under
        # bubblewrap the kernel's SIGKILL comes at the limit itself.
        hard = soft if cpu_hard_is_soft else soft + 5
        args.append(f"--cpu={soft}:{hard}")
    return args


def _rlimit_preexec(limits: Limits, memory_rlimit: bool, nproc: int | None) -> Any:
    """Fallback when `prlimit` is missing: set the same limits between fork and exec."""
    pairs: list[tuple[int, int]] = [(resource.RLIMIT_CORE, 0)]
    if memory_rlimit and limits.memory_mb:
        pairs.append((resource.RLIMIT_AS, limits.memory_mb * 2**20))
    if limits.file_size_mb:
        pairs.append((resource.RLIMIT_FSIZE, limits.file_size_mb * 2**20))
    if limits.max_open_files:
        pairs.append((resource.RLIMIT_NOFILE, limits.max_open_files))
    if nproc:
        pairs.append((resource.RLIMIT_NPROC, nproc))
    if limits.cpu_time_s:
        pairs.append((resource.RLIMIT_CPU, max(1, int(limits.cpu_time_s))))

    def apply() -> None:
        for res, value in pairs:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(res, (value, value))

    return apply


class _Run:
    """One execution: owns the child, its pipes, its cgroup and its temporary files."""

    def __init__(self, sandbox: Sandbox, workspace: Path, input_dir: Path, mode: str,
                 limits: Limits, debug: bool, seed: int, cancel: threading.Event | None,
                 log_path: Path) -> None:
        self.sb, self.workspace, self.input_dir, self.mode = sandbox, workspace, input_dir, mode
        self.limits, self.debug, self.seed, self.cancel = limits, debug, seed, cancel
        self.log_path = log_path
        self.run_id = uuid.uuid4().hex
        self.cgroup: RunCgroup | None = None
        self.tmpdir: str | None = None

    def _command(self, status_fd: int | None) -> tuple[list[str], Any]:
        limits = self.limits
        python = str(self.sb.python)
        memory_rlimit = self.cgroup is None or "memory" not in self.cgroup.dirs
        if limits.max_processes is None:
            nproc = None
        elif self.mode == "bwrap" or os.geteuid() == 0:
            nproc = limits.max_processes  # counted inside the new user namespace
        else:  # RLIMIT_NPROC counts all of this user's processes
            nproc = count_user_processes(os.geteuid()) + limits.max_processes
        env = _solution_env(limits, self.debug, self.seed, self.run_id, self.workspace,
                            self.sb.python, self.tmpdir)
        prlimit = shutil.which("prlimit")
        inner: list[str] = [python, "main.py"]
        preexec = None
        if prlimit:
            inner = [prlimit, *_prlimit_args(limits, memory_rlimit=memory_rlimit, nproc=nproc,
                                             cpu_hard_is_soft=self.mode == "bwrap"),
                     "--", *inner]
        else:
            preexec = _rlimit_preexec(limits, memory_rlimit, nproc)
        if self.mode == "bwrap":
            argv = iso.bwrap_command(
                workspace=self.workspace, input_dir=self.input_dir,
                interpreter=self.sb.interpreter, env=env, status_fd=status_fd,
            ) + inner
        else:
            argv = [*(iso.unshare_net_prefix() or ()), *inner]
        if self.cgroup is not None:
            joins = " && ".join(f'echo $$ > "${i + 1}"'
                                for i in range(len(self.cgroup.procs_files)))
            n = len(self.cgroup.procs_files)
            argv = ["/bin/sh", "-c", f'{joins} && shift {n} && exec "$@"', "gome-sandbox",
                    *[str(p) for p in self.cgroup.procs_files], *argv]
        return argv, (env, preexec)

    def execute(self) -> Outcome:
        limits = self.limits
        if self.sb.use_cgroups:
            self.cgroup = create_run_cgroup(limits.memory_mb, limits.max_processes)
        if self.mode == "none":
            self.tmpdir = tempfile.mkdtemp(prefix="gome-run-")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        status_r, status_w = os.pipe() if self.mode == "bwrap" else (None, None)
        log_file = None
        collector: OutputCollector | None = None
        facts = RunFacts(exit_code=None)
        rusage = None
        proc: subprocess.Popen[bytes] | None = None
        sampler: _PeakSampler | None = None
        start = time.monotonic()
        try:
            try:
                argv, (env, preexec) = self._command(status_w)
                log_file = _open_log(self.log_path)
            except OSError as err:
                facts.setup_error = f"could not prepare the run: {err}"
                for fd in (out_r, out_w, err_r, err_w, status_w):
                    if fd is not None:
                        os.close(fd)
                raise _SetupFailed from err
            outer_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")} if (
                self.mode == "bwrap") else env
            start = time.monotonic()
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
                    cwd=self.workspace, env=outer_env, start_new_session=True,
                    close_fds=True, pass_fds=(status_w,) if status_w is not None else (),
                    preexec_fn=preexec,
                )
            except OSError as err:
                facts.setup_error = f"{argv[0]}: {err}"
                os.close(out_r)
                os.close(err_r)
                raise _SetupFailed from err
            finally:
                for fd in (out_w, err_w, status_w):
                    if fd is not None:
                        os.close(fd)
            collector = OutputCollector(out_r, err_r, log_file)
            collector.start()
            sampler = _PeakSampler(proc.pid, status_r)
            facts, rusage = self._supervise(proc, facts, sampler)
        except _SetupFailed:
            pass
        finally:
            wall = time.monotonic() - start
            self._cleanup_processes(proc)
            if collector is not None:
                collector.stop()
            if log_file is not None:
                log_file.close()
            stats = self.cgroup.stats() if self.cgroup is not None else None
            if self.cgroup is not None:
                self.cgroup.remove()
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            _remove_input_mount(self.workspace)
        bwrap_status = _read_status(status_r, sampler.status_text if sampler else "")
        peak = sampler.peak_mb if sampler else None
        return self._outcome(facts, peak, rusage, stats, collector, bwrap_status, wall)

    def _supervise(self, proc: subprocess.Popen[bytes], facts: RunFacts,
                   sampler: _PeakSampler) -> tuple[RunFacts, Any]:
        """Wait for the child, the time limit or a cancel; kill the run if it must stop."""
        done = threading.Event()
        result: dict[str, Any] = {}

        def wait() -> None:
            try:
                _, status, usage = os.wait4(proc.pid, 0)
                result["status"], result["rusage"] = status, usage
            except ChildProcessError:
                result["status"] = None
            done.set()

        waiter = threading.Thread(target=wait, name="gome-sandbox-wait", daemon=True)
        waiter.start()
        deadline = time.monotonic() + self.limits.wall_time_s
        ticks = 0
        while not done.wait(timeout=min(_tick(ticks), max(0.0, deadline - time.monotonic()))):
            ticks += 1
            sampler.sample()
            if self.cancel is not None and self.cancel.is_set():
                facts.cancelled = True
            elif time.monotonic() >= deadline:
                facts.timed_out = True
            elif (ticks > 5 or ticks % 5 == 0) and self._too_many_processes(proc.pid, sampler.pid):
                facts.process_limit_kill = True
            else:
                continue
            self._kill_all(proc.pid, sampler.pid, done)
            break
        waiter.join(timeout=10)
        status = result.get("status")
        if status is not None:
            facts.exit_code = os.waitstatus_to_exitcode(status)
            proc.returncode = facts.exit_code  # reaped here; keep Popen from waiting again
        return facts, result.get("rusage")

    def _too_many_processes(self, pid: int, solution_pid: int | None) -> bool:
        """Process-count watchdog for root without cgroups, where RLIMIT_NPROC does not apply.

        Counts the solution's process tree (under bubblewrap the solution is PID 1 of its
        namespace, so orphans stay in its tree). Checked every 0.1 s, so a fork bomb gets
        that long before the run is killed.
        """
        if self.limits.max_processes is None or self.cgroup is not None or os.geteuid() != 0:
            return False
        root = solution_pid if self.mode == "bwrap" else pid
        if root is None:
            return False
        return 1 + len(descendants(root)) > self.limits.max_processes

    def _kill_all(self, pid: int, solution_pid: int | None, done: threading.Event) -> None:
        """Stop the run now. With bubblewrap, kill the solution (PID 1 of its namespace, so
        the kernel kills the rest) and let bwrap exit by itself: waiting for bwrap then still
        yields the solution's CPU time. Then kill whatever remains."""
        if self.mode == "bwrap" and solution_pid is not None and solution_pid != pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(solution_pid, signal.SIGKILL)
            done.wait(timeout=2)
        if self.cgroup is not None:
            self.cgroup.kill_all()
        kill_group(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        done.wait(timeout=10)

    def _cleanup_processes(self, proc: subprocess.Popen[bytes] | None) -> None:
        """After the child ended: nothing it started may survive (daemons included)."""
        if proc is not None:
            if self.cgroup is not None:
                self.cgroup.kill_all()
            kill_group(proc.pid)
        if self.cgroup is None:
            # Without bubblewrap this catches daemons that left the group. With it, the kernel
            # tears the PID namespace down after its init died, but asynchronously: waiting
            # here until none of the run's processes is alive keeps "nothing outlives the run"
            # true at the moment the outcome is returned (a fork bomb took a few ms longer).
            kill_run_processes(self.run_id, proc.pid if proc is not None else None)

    def _outcome(self, facts: RunFacts, sampled_peak: float | None, rusage: Any, stats: Any,
                 collector: OutputCollector | None, bwrap_status: dict[str, Any],
                 wall: float) -> Outcome:
        limits = self.limits
        stdout_tail = collector.stdout.text() if collector else ""
        stderr_tail = collector.stderr.text() if collector else ""
        traceback = collector.traceback() if collector else None
        if (self.mode == "bwrap" and facts.setup_error is None and facts.exit_code == 1
                and not facts.cancelled and not facts.timed_out
                and stderr_tail.lstrip().startswith("bwrap: ")):
            # bwrap reports a failed setup (a mount, a namespace) on stderr and exits 1
            # before the solution starts; the solution's own output never begins so.
            facts.setup_error = _last_bwrap_line(stderr_tail) or "bubblewrap failed to start"
        code = facts.exit_code
        if self.mode == "bwrap" and code is not None and 128 < code < 160:
            code = -(code - 128)  # bubblewrap reports "killed by signal N" as 128 + N
        facts.exit_code = code
        cpu = (rusage.ru_utime + rusage.ru_stime) if rusage is not None else 0.0
        facts.cpu_time_s = cpu
        facts.traceback, facts.stderr_tail = traceback, stderr_tail
        if stats is not None:
            facts.oom_kills, facts.pids_limit_hits = stats.oom_kills, stats.pids_limit_hits
            facts.memory_limited_by_cgroup = limits.memory_mb is not None
        status, message = classify(facts, limits)
        # The cgroup's peak covers the whole process tree (pages charged to the run); the
        # sampled high-water mark of the solution process counts its shared libraries too.
        # (wait4's ru_maxrss is useless here: it includes gome's own RSS at fork time.)
        peaks = [stats.peak_memory_mb] if stats is not None and stats.peak_memory_mb else []
        if sampled_peak:
            peaks.append(sampled_peak)
        peak = max(peaks) if peaks else None
        scores, scores_note = _read_scores(self.workspace / "scores.json", self.workspace)
        has_submission = _own_file(self.workspace / "submission" / "submission.csv",
                                   self.workspace)
        if status == RunStatus.OK and scores_note:
            message = f"{message}; {scores_note}"
        return Outcome(
            status=status,
            exit_code=code,
            wall_time_s=round(wall, 4),
            cpu_time_s=round(cpu, 4),
            peak_memory_mb=round(peak, 1) if peak is not None else None,
            stdout_tail=stdout_tail,
            stderr_tail=stderr_tail,
            traceback=traceback,
            scores=scores,
            has_submission=has_submission,
            log_path=str(self.log_path),
            debug=self.debug,
            time_limit_s=limits.wall_time_s,
            message=message,
        )


class _SetupFailed(Exception):
    pass


def _tick(n: int) -> float:
    """Supervision interval: sample memory often at first (short runs), then every 0.1 s."""
    return 0.02 if n < 5 else 0.1


def _read_available(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except (BlockingIOError, OSError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


class _PeakSampler:
    """High-water RSS (VmHWM) of the solution process, sampled while it runs.

    With bubblewrap the solution's host pid comes from bwrap's JSON status pipe.
    """

    def __init__(self, pid: int, status_fd: int | None) -> None:
        self.status_fd = status_fd
        self.status_text = ""
        self.pid: int | None = pid if status_fd is None else None
        self.peak_mb: float | None = None
        if status_fd is not None:
            os.set_blocking(status_fd, False)

    def sample(self) -> None:
        if self.pid is None and self.status_fd is not None:
            self.status_text += _read_available(self.status_fd)
            m = re.search(r'"child-pid":\s*(\d+)', self.status_text)
            if m:
                self.pid = int(m.group(1))
        if self.pid is None:
            return
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if m:
            mb = int(m.group(1)) / 1024
            self.peak_mb = max(self.peak_mb or 0.0, mb)


def _read_status(fd: int | None, already: str = "") -> dict[str, Any]:
    """bubblewrap's --json-status-fd messages merged (child-pid once the command started)."""
    if fd is None:
        return {}
    merged: dict[str, Any] = {}
    try:
        os.set_blocking(fd, False)
        text = already + _read_available(fd)
    finally:
        os.close(fd)
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            obj = json.loads(line)
            if isinstance(obj, dict):
                merged.update(obj)
    return merged


def _last_bwrap_line(text: str) -> str | None:
    for line in reversed(text.splitlines()):
        if line.startswith("bwrap:"):
            return line
    return None


def _own_file(path: Path, workspace: Path) -> bool:
    """True if ``path`` is a regular file of the workspace itself.

    gome reads these files on the host: a solution must not make them links to host files
    (``scores.json -> ~/.config/credentials.json``) to smuggle those into its outcome.
    """
    try:
        if path.is_symlink() or not path.is_file():
            return False
        return path.resolve().is_relative_to(workspace.resolve())
    except OSError:
        return False


def _open_log(path: Path) -> Any:
    """Open the run's log for writing without following a link a solution may have put there."""
    if path.is_symlink() or path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o644)
    return os.fdopen(fd, "wb", buffering=0)


def _read_scores(path: Path, workspace: Path) -> tuple[dict[str, Any] | None, str]:
    """Parsed scores.json, or None and a note on why not."""
    if path.is_symlink() or (path.exists() and not _own_file(path, workspace)):
        return None, "scores.json is a link or not a regular file of the workspace; ignored"
    if not path.is_file():
        return None, "no scores.json was written"
    try:
        if path.stat().st_size > 5 * 2**20:
            return None, "scores.json is larger than 5 MB and was not read"
        data = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError) as err:
        return None, f"scores.json is not valid JSON ({err})"
    if not isinstance(data, dict):
        return None, "scores.json is not a JSON object"
    return data, ""
