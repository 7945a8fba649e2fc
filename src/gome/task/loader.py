"""Turn a folder into a :class:`Task`: gome practice folders, plain public folders and MLE-bench.

Accepted layouts (the first that fits wins):

- ``DIR/gome-task.yaml`` with ``DIR/public`` and ``DIR/private`` (what ``gome tasks make`` writes);
- an MLE-bench prepared competition: ``<data-dir>/<id>``, ``<data-dir>/<id>/prepared`` or
  ``.../prepared/public`` (answers in ``prepared/private``), with MLE-bench's ``config.yaml`` and
  ``leaderboard.csv`` beside it or in an installed ``mlebench`` package;
- a plain public folder (description, data, sample submission; no answers: validate only).

The metric comes from, in order: the explicit ``metric`` argument, ``gome-task.yaml``, the
MLE-bench config's ``grader.name``, MLE-bench's known Lite graders. Its direction comes from the
metric registry (or ``higher_is_better`` in gome-task.yaml) and is checked against the
leaderboard's order. Nothing here is guessed by a model.
"""

from __future__ import annotations

from pathlib import Path

from gome.errors import TaskError
from gome.task.discovery import (
    find_answers,
    find_description,
    find_sample_submission,
    infer_columns,
    infer_kind,
    is_table,
    read_table,
    split_files,
    test_columns,
)
from gome.task.mlebench import (
    KNOWN_GRADERS,
    find_competition_file,
    read_config,
    resolve_data_path,
)
from gome.task.model import Task
from gome.task.taskfile import TASK_FILE, TaskFile, read_task_file


def _layout(path: Path) -> tuple[Path, Path, Path | None, Path]:
    """(competition root, public dir, private dir or None, root the user meant)."""
    if not path.exists():
        raise TaskError(f"{path} does not exist: point --task at a competition folder.")
    if not path.is_dir():
        raise TaskError(f"{path} is a file: point --task at the competition folder holding it.")
    if path.name == "public" and (
        (path.parent / "private").is_dir() or path.parent.name == "prepared"
    ):
        path = path.parent
    if (path / "prepared" / "public").is_dir():
        path = path / "prepared"
    if (path / "public").is_dir():
        public = path / "public"
        private = path / "private" if (path / "private").is_dir() else None
        root = path.parent if path.name == "prepared" else path
        return root, public, private, path
    return path, path, None, path


def _name_from_id(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").strip().title()


def load_task(path: str | Path, metric: str | None = None, *,
              metric_required: bool = True) -> Task:
    """Read the competition at ``path``; raises :class:`TaskError` naming the fix if unusable.

    ``metric_required=False`` is for looking at a folder (``gome tasks show``): with no metric
    known, the task comes back with ``metric=""`` instead of stopping before the rest is read.
    """
    from gome.task.medals import leaderboard_higher_is_better, read_leaderboard
    from gome.task.metrics import get_metric

    given = Path(path).expanduser().resolve()
    root, public, private, prepared = _layout(given)
    search_dirs = list(dict.fromkeys([root, prepared, public]))

    task_file_path = next((d / TASK_FILE for d in search_dirs if (d / TASK_FILE).is_file()), None)
    tf = read_task_file(task_file_path) if task_file_path else TaskFile()
    tf_dir = task_file_path.parent if task_file_path else root

    competition_id = tf.id or root.name
    config_path = find_competition_file("config.yaml", search_dirs, competition_id)
    config = read_config(config_path) if config_path else None
    if config and config.id and not tf.id:
        competition_id = config.id

    description_path = find_description([public, *search_dirs])
    if description_path is None:
        if not any(public.iterdir()):
            raise TaskError(
                f"{public} is empty: point --task at a competition folder (with public/ or "
                "description.md, data files and a sample submission)."
            )
        if not any(is_table(p) for p in public.iterdir()):
            raise TaskError(
                f"{public} is not a competition folder (no description.md, no data tables): "
                "point --task at a folder with public/ and private/ or description.md, data "
                "files and a sample submission."
            )
        raise TaskError(
            f"no description.md in {public}: add one describing the task, the files and the "
            "metric."
        )

    sample = _sample_submission(tf, tf_dir, config, root, public)
    try:
        sample_frame = read_table(sample)
    except Exception as err:  # noqa: BLE001 - any unreadable sample is the same user problem
        raise TaskError(f"cannot read the sample submission {sample} ({err}): fix it.") from err

    train, test = split_files(public, sample)
    if tf.id_columns and tf.target_columns:
        id_columns, target_columns = list(tf.id_columns), list(tf.target_columns)
    else:
        id_columns, target_columns = infer_columns(sample_frame, test_columns(test))
        if tf.id_columns:
            id_columns = list(tf.id_columns)
            target_columns = [c for c in sample_frame.columns if c not in id_columns]
        if tf.target_columns:
            target_columns = list(tf.target_columns)
            id_columns = [c for c in sample_frame.columns if c not in target_columns]
    missing = [c for c in [*id_columns, *target_columns] if c not in sample_frame.columns]
    if missing:
        raise TaskError(
            f"the sample submission {sample.name} lacks the columns {missing} named in "
            f"{TASK_FILE}: fix id_columns/target_columns."
        )

    metric_name = metric or tf.metric or (config.grader_name if config else None)
    metric_name = metric_name or KNOWN_GRADERS.get(competition_id)
    if not metric_name and metric_required:
        raise TaskError(
            f"no metric known for {competition_id}: pass --metric NAME (see `gome tasks "
            f"metrics`) or add `metric: NAME` to {root / TASK_FILE}."
        )
    metric_obj = get_metric(metric_name) if metric_name else None
    higher_is_better = metric_obj.higher_is_better if metric_obj else True
    if tf.higher_is_better is not None and not metric:
        higher_is_better = tf.higher_is_better

    answers = _answers(tf, tf_dir, config, root, private, len(sample_frame), id_columns)

    leaderboard = None
    if tf.leaderboard and (tf_dir / tf.leaderboard).is_file():
        leaderboard = tf_dir / tf.leaderboard
    else:
        leaderboard = find_competition_file("leaderboard.csv", search_dirs, competition_id)
    if leaderboard is not None and metric_obj is not None:
        implied = leaderboard_higher_is_better(read_leaderboard(leaderboard))
        if implied is not None and implied != higher_is_better:
            order = "higher" if implied else "lower"
            raise TaskError(
                f"{leaderboard} lists {order} scores first but metric {metric_obj.name} is "
                f"{metric_obj.direction}d: pass the right --metric or sort the leaderboard "
                "best first."
            )

    name = tf.name or (config.name if config and config.name else _name_from_id(competition_id))
    return Task(
        id=competition_id,
        name=name,
        root=given,
        public_dir=public,
        private_dir=private,
        description=description_path.read_text(encoding="utf-8", errors="replace"),
        sample_submission=sample,
        id_columns=id_columns,
        target_columns=target_columns,
        metric=metric_obj.name if metric_obj else "",
        higher_is_better=higher_is_better,
        answers=answers,
        leaderboard=leaderboard,
        train_files=train,
        test_files=test,
        kind=tf.kind or infer_kind(public, train, test),
    )


def _sample_submission(tf: TaskFile, tf_dir: Path, config, root: Path, public: Path) -> Path:
    if tf.sample_submission:
        candidate = tf_dir / tf.sample_submission
        if not candidate.is_file():
            raise TaskError(
                f"{TASK_FILE} names the sample submission {tf.sample_submission} but "
                f"{candidate} does not exist: fix the path."
            )
        return candidate
    if config and config.sample_submission:
        found = resolve_data_path(config.sample_submission, root, public)
        if found is not None:
            return found
    return find_sample_submission(public)


def _answers(tf: TaskFile, tf_dir: Path, config, root: Path, private: Path | None,
             sample_rows: int, id_columns: list[str]) -> Path | None:
    if tf.answers and (tf_dir / tf.answers).is_file():
        return tf_dir / tf.answers
    if private is None:
        return None
    if config and config.answers:
        found = resolve_data_path(config.answers, root, private)
        if found is not None:
            return found
    return find_answers(private, sample_rows, id_columns)
