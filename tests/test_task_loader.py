"""The loader on every practice competition and on hand-made MLE-bench-style folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gome.errors import TaskError
from gome.task.loader import load_task
from gome.task.practice import PracticeSpec, list_practice, make_practice, write_competition

PRACTICE = [s.name for s in list_practice()]


@pytest.mark.parametrize("name", PRACTICE)
def test_loader_reads_each_practice_competition(name, tmp_path):
    out = make_practice(name, tmp_path / name, seed=0, max_rows=200)
    task = load_task(out)
    spec = next(s for s in list_practice() if s.name == name)
    assert task.id == name
    assert task.metric == spec.metric
    assert task.kind == "tabular"
    assert task.id_columns == ["id"]
    assert task.answers == out / "private" / "answers.csv"
    assert [p.name for p in task.train_files] == ["train.csv"]
    assert [p.name for p in task.test_files] == ["test.csv"]
    assert task.leaderboard is None

    train = pd.read_csv(out / "public" / "train.csv")
    test = pd.read_csv(out / "public" / "test.csv")
    sample = pd.read_csv(task.sample_submission)
    answers = pd.read_csv(task.answers)
    assert len(train) + len(test) == 200
    assert spec.target in train.columns and spec.target not in test.columns
    assert list(sample.columns) == ["id", *task.target_columns]
    assert list(answers.columns) == list(sample.columns)
    assert sorted(sample["id"]) == sorted(test["id"]) == sorted(answers["id"])
    assert set(train["id"]).isdisjoint(test["id"])
    assert sample[task.target_columns].nunique().max() == 1  # a constant or the prior
    description = task.description
    assert spec.metric in description
    assert ("Higher is better" if task.higher_is_better else "Lower is better") in description
    assert "sample_submission.csv" in description


def test_practice_split_is_fixed_by_seed(tmp_path):
    a = make_practice("penguins", tmp_path / "a", seed=3)
    b = make_practice("penguins", tmp_path / "b", seed=3)
    c = make_practice("penguins", tmp_path / "c", seed=4)
    read = lambda d: (d / "public" / "train.csv").read_text()  # noqa: E731
    assert read(a) == read(b)
    assert read(a) != read(c)


def test_practice_refuses_to_overwrite(tmp_path):
    make_practice("penguins", tmp_path / "p", max_rows=50)
    with pytest.raises(TaskError, match="already holds a competition"):
        make_practice("penguins", tmp_path / "p", max_rows=50)


def test_unknown_practice_name(tmp_path):
    with pytest.raises(TaskError, match="unknown practice competition 'nope'.*penguins"):
        make_practice("nope", tmp_path / "x")


def test_any_table_becomes_a_competition_the_loader_reads(tmp_path):
    """A data set outside the practice set (sklearn's bundled digits) written the same way."""
    from sklearn.datasets import load_digits

    frame = load_digits(as_frame=True).frame
    spec = PracticeSpec(
        name="digits", title="Handwritten digits", package="sklearn", item="load_digits",
        origin="scikit-learn", target="target", metric="multi-class-log-loss",
        shape="class-probabilities", summary="8x8 digit images as 64 pixel columns",
        background="Predict the digit.", predict_text="the probability of each digit")
    out = write_competition(spec, frame, tmp_path / "digits", seed=1)
    task = load_task(out)
    assert (task.metric, task.higher_is_better) == ("multi-class-log-loss", False)
    assert task.target_columns == [str(d) for d in range(10)]
    answers = pd.read_csv(task.answers)
    assert len(answers) == round(len(frame) * 0.2)
    assert (answers[task.target_columns].sum(axis=1) == 1).all()
    assert "scikit-learn sklearn::load_digits" in (out / "gome-task.yaml").read_text()
    with pytest.raises(TaskError, match="no column 'label' to predict"):
        write_competition(spec.model_copy(update={"target": "label"}), frame, tmp_path / "x")


def test_explicit_metric_overrides_the_task_file(tmp_path):
    out = make_practice("ames", tmp_path / "ames", max_rows=100)
    assert load_task(out, metric="rmse").metric == "rmse"
    assert load_task(out, metric="r2").higher_is_better is True


# ---------------------------------------------------------------- MLE-bench layouts


def _pizza(data_dir: Path, *, config: bool = True, leaderboard: list[float] | None = None
           ) -> Path:
    """random-acts-of-pizza as MLE-bench prepares it: JSON train/test, sampleSubmission.csv."""
    comp = data_dir / "random-acts-of-pizza"
    public = comp / "prepared" / "public"
    private = comp / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    text = "I am a student and I would be very grateful for a pizza tonight, thank you all"
    train = [{"request_id": f"t3_{i}", "request_text": f"{text} {i}", "upvotes": i,
              "requester_received_pizza": i % 2 == 0} for i in range(20)]
    test = [{"request_id": f"t3_x{i}", "request_text": f"{text} x{i}", "upvotes": i}
            for i in range(6)]
    (public / "train.json").write_text(json.dumps(train))
    (public / "test.json").write_text(json.dumps(test))
    pd.DataFrame({"request_id": [r["request_id"] for r in test],
                  "requester_received_pizza": 0}).to_csv(public / "sampleSubmission.csv",
                                                         index=False)
    pd.DataFrame({"request_id": [r["request_id"] for r in test],
                  "requester_received_pizza": [1, 0, 1, 0, 1, 0]}).to_csv(
        private / "test.csv", index=False)
    (public / "description.md").write_text("# Random Acts of Pizza\nPredict pizza. AUC.\n")
    if config:
        (comp / "config.yaml").write_text(
            "id: random-acts-of-pizza\nname: Random Acts of Pizza\ncompetition_type: simple\n"
            "awards_medals: false\nprizes: null\n"
            "description: mlebench/competitions/random-acts-of-pizza/description.md\n"
            "dataset:\n  answers: random-acts-of-pizza/prepared/private/test.csv\n"
            "  sample_submission: random-acts-of-pizza/prepared/public/sampleSubmission.csv\n"
            "grader:\n  name: auc-roc\n"
            "  grade_fn: mlebench.competitions.random-acts-of-pizza.grade:grade\n")
    if leaderboard is not None:
        pd.DataFrame({"teamName": [f"t{i}" for i in range(len(leaderboard))],
                      "score": leaderboard}).to_csv(comp / "leaderboard.csv", index=False)
    return comp


@pytest.mark.parametrize("entry", ["", "prepared", "prepared/public"])
def test_mlebench_prepared_competition_from_any_entry_point(entry, tmp_path):
    comp = _pizza(tmp_path / "data", leaderboard=[0.9, 0.8, 0.7, 0.6])
    task = load_task(comp / entry if entry else comp)
    assert task.id == "random-acts-of-pizza"
    assert task.name == "Random Acts of Pizza"
    assert task.metric == "auc-roc" and task.higher_is_better
    assert task.sample_submission.name == "sampleSubmission.csv"
    assert task.id_columns == ["request_id"]
    assert task.target_columns == ["requester_received_pizza"]
    assert task.answers == comp / "prepared" / "private" / "test.csv"
    assert task.leaderboard == comp / "leaderboard.csv"
    assert [p.name for p in task.train_files] == ["train.json"]
    assert [p.name for p in task.test_files] == ["test.json"]
    assert task.private_dir == comp / "prepared" / "private"
    assert task.kind == "text"


def test_leaderboard_order_contradicting_the_metric_is_refused(tmp_path):
    comp = _pizza(tmp_path / "data", leaderboard=[0.5, 0.6, 0.9])
    with pytest.raises(TaskError, match="lists lower scores first.*auc-roc"):
        load_task(comp)


def test_known_lite_competition_needs_no_config(tmp_path):
    comp = _pizza(tmp_path / "data", config=False)
    task = load_task(comp)
    assert task.metric == "auc-roc"
    assert task.answers == comp / "prepared" / "private" / "test.csv"


def test_taxi_like_labels_csv_is_the_training_file(tmp_path):
    comp = tmp_path / "new-york-city-taxi-fare-prediction" / "prepared"
    (comp / "public").mkdir(parents=True)
    (comp / "private").mkdir(parents=True)
    keys = [f"2015-01-0{i} 00:00:00.{i}" for i in range(1, 6)]
    pd.DataFrame({"key": ["k0", "k1"], "fare_amount": [5.0, 7.5], "passenger_count": [1, 2]}
                 ).to_csv(comp / "public" / "labels.csv", index=False)
    pd.DataFrame({"key": keys, "passenger_count": [1] * 5}).to_csv(comp / "public" / "test.csv",
                                                                  index=False)
    pd.DataFrame({"key": keys, "fare_amount": 11.35}).to_csv(
        comp / "public" / "sample_submission.csv", index=False)
    pd.DataFrame({"key": keys, "fare_amount": [4.0, 5, 6, 7, 8]}).to_csv(
        comp / "private" / "test.csv", index=False)
    (comp / "public" / "description.md").write_text("# Taxi fares\n")
    task = load_task(comp.parent)
    assert task.metric == "rmse" and not task.higher_is_better
    assert [p.name for p in task.train_files] == ["labels.csv"]
    assert task.id_columns == ["key"] and task.target_columns == ["fare_amount"]
    assert task.kind == "tabular"


def test_odd_sample_name_and_answers_found_by_shape(tmp_path):
    comp = tmp_path / "detecting-insults-in-social-commentary"
    (comp / "public").mkdir(parents=True)
    (comp / "private").mkdir(parents=True)
    ids = [1, 2, 3]
    pd.DataFrame({"Comment": ["a", "b", "c"], "Date": [1, 2, 3]}).to_csv(
        comp / "public" / "test.csv", index=False)
    pd.DataFrame({"Insult": [0, 1], "Comment": ["x", "y"]}).to_csv(
        comp / "public" / "train.csv", index=False)
    pd.DataFrame({"Id": ids, "Insult": 0.0}).to_csv(
        comp / "public" / "sample_submission_null.csv", index=False)
    pd.DataFrame({"Id": ids, "Insult": [0, 1, 1]}).to_csv(
        comp / "private" / "insults_with_labels.csv", index=False)
    (comp / "public" / "description.md").write_text("# Insults\n")
    task = load_task(comp / "public", metric="auc")
    assert task.sample_submission.name == "sample_submission_null.csv"
    assert task.id_columns == ["Id"] and task.target_columns == ["Insult"]
    assert task.answers is not None and task.answers.name == "insults_with_labels.csv"


def test_image_competition_kind(tmp_path):
    public = tmp_path / "aerial-cactus-identification" / "public"
    (public / "train").mkdir(parents=True)
    for i in range(3):
        (public / "train" / f"{i}.jpg").write_bytes(b"\xff\xd8\xff")
    pd.DataFrame({"id": ["0.jpg", "1.jpg"], "has_cactus": [1, 0]}).to_csv(
        public / "train.csv", index=False)
    pd.DataFrame({"id": ["9.jpg"], "has_cactus": 0.5}).to_csv(
        public / "sample_submission.csv", index=False)
    (public / "description.md").write_text("# Cactus\n")
    task = load_task(public.parent)
    assert task.kind == "image"
    assert task.metric == "auc-roc"
    assert task.private_dir is None and task.answers is None


# ---------------------------------------------------------------- plain folders and bad input


def _plain(folder: Path) -> Path:
    folder.mkdir(parents=True)
    pd.DataFrame({"row": [1, 2], "x": [0.1, 0.2], "y": [1.0, 2.0]}).to_csv(
        folder / "train.csv", index=False)
    pd.DataFrame({"row": [3, 4], "x": [0.3, 0.4]}).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"row": [3, 4], "y": 1.5}).to_csv(folder / "sample_submission.csv", index=False)
    (folder / "description.md").write_text("# Plain\nPredict y, MAE.\n")
    return folder


def test_plain_public_folder_needs_a_metric(tmp_path):
    folder = _plain(tmp_path / "plain")
    with pytest.raises(TaskError, match="no metric known for plain: pass --metric"):
        load_task(folder)
    task = load_task(folder, metric="mae")
    assert task.public_dir == folder and task.private_dir is None and task.answers is None
    assert task.id_columns == ["row"] and task.target_columns == ["y"]
    assert not task.higher_is_better


def test_task_file_in_a_plain_folder_sets_the_metric(tmp_path):
    folder = _plain(tmp_path / "plain")
    (folder / "gome-task.yaml").write_text("metric: mean-absolute-error\nname: My Plain Task\n")
    task = load_task(folder)
    assert task.metric == "mae" and task.name == "My Plain Task"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist: point --task at a competition folder"),
        ("file", "is a file"),
        ("empty", "is empty"),
        ("no_description", "no description.md"),
        ("not_a_competition", "is not a competition folder"),
        ("no_sample", "no sample submission"),
        ("one_column_sample", "fewer than two columns"),
        ("bad_metric", "unknown metric 'f2'"),
        ("bad_yaml", "cannot read .*gome-task.yaml"),
    ],
)
def test_bad_folders_raise_one_sentence_naming_the_fix(setup, message, tmp_path):
    folder = tmp_path / "comp"
    metric = "mae"
    if setup == "file":
        folder.write_text("x")
    elif setup == "empty":
        folder.mkdir()
    elif setup != "missing":
        _plain(folder)
        if setup == "no_description":
            (folder / "description.md").unlink()
        elif setup == "not_a_competition":
            for child in folder.iterdir():
                child.unlink()
            (folder / "notes.txt").write_text("my shopping list")
        elif setup == "no_sample":
            (folder / "sample_submission.csv").unlink()
        elif setup == "one_column_sample":
            pd.DataFrame({"row": [3, 4]}).to_csv(folder / "sample_submission.csv", index=False)
        elif setup == "bad_metric":
            metric = "f2"
        elif setup == "bad_yaml":
            (folder / "gome-task.yaml").write_text("metric: [unclosed\n")
    with pytest.raises(TaskError, match=message) as info:
        load_task(folder, metric=metric)
    text = str(info.value)
    assert "\n" not in text and text.endswith(".")


def test_zipped_images_count_as_an_image_competition(tmp_path):
    import zipfile

    comp = _plain(tmp_path / "dogs")
    with zipfile.ZipFile(comp / "train.zip", "w") as archive:
        for i in range(3):
            archive.writestr(f"train/cat.{i}.jpg", b"\xff\xd8\xff")
    (comp / "train.csv").unlink()
    assert load_task(comp, metric="log-loss").kind == "image"


def test_names_containing_test_inside_a_word_are_not_test_files(tmp_path):
    comp = _plain(tmp_path / "plain")
    pd.DataFrame({"a": [1]}).to_csv(comp / "latest_prices.csv", index=False)
    task = load_task(comp, metric="mae")
    assert [p.name for p in task.test_files] == ["test.csv"]
    assert "latest_prices.csv" not in [p.name for p in task.test_files]


def test_an_unrelated_config_yaml_is_ignored(tmp_path):
    comp = _plain(tmp_path / "plain")
    (comp / "config.yaml").write_text("- just\n- a list\n")
    assert load_task(comp, metric="mae").metric == "mae"


def test_parquet_tables_are_read(tmp_path):
    comp = _plain(tmp_path / "plain")
    pd.read_csv(comp / "train.csv").to_parquet(comp / "train.parquet")
    (comp / "train.csv").unlink()
    task = load_task(comp, metric="mae")
    assert [p.name for p in task.train_files] == ["train.parquet"]
    assert task.kind == "tabular"
