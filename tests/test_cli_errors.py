"""Bad input: one line naming the field and what is allowed, exit code 2, no traceback, nothing written."""

import pytest

from conftest import cli


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_unknown_experiment_did_you_mean(store):
    one_line_error(cli("run", "tictactoo", store=store), "unknown experiment 'tictactoo'", "did you mean 'tictactoe'")
    assert not store.exists()


def test_unknown_field_did_you_mean(store):
    one_line_error(cli("run", "tictactoe", "--set", "q_episode=10", store=store), "q_episode", "did you mean 'q_episodes'")


@pytest.mark.parametrize("assignment, needles", [
    ("q_episodes=-3", ["q_episodes", "greater than or equal to 10"]),
    ("mixture_epsilon=1.5", ["mixture_epsilon", "less than or equal to 1"]),
    ("train_opponent=genius", ["train_opponent", "'random', 'perfect' or 'mixture'"]),
    ("seeds=many", ["seeds", "valid integer"]),
    ("gammas=[1.5]", ["gammas", "(0, 1)"]),
    ("discoverabilities=[sometimes]", ["discoverabilities.0", "'always', 'sequence' or 'deployment'"]),
])
def test_bad_values(store, assignment, needles):
    one_line_error(cli("run", "tictactoe", "--set", assignment, store=store), *needles)
    assert not store.exists()


def test_unknown_preset(store):
    one_line_error(cli("run", "tictactoe", "--preset", "quik", store=store), "unknown preset 'quik'", "did you mean 'quick'")


def test_bad_set_syntax(store):
    one_line_error(cli("run", "tictactoe", "--set", "seeds", store=store), "--set expects field=value")


def test_missing_and_malformed_config(store, tmp_path):
    one_line_error(cli("run", "tictactoe", "--config", str(tmp_path / "nope.yaml"), store=store), "no such file")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: [1, 2\n")
    one_line_error(cli("run", "tictactoe", "--config", str(bad), store=store), "not valid YAML")
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    one_line_error(cli("run", "tictactoe", "--config", str(listy), store=store), "must hold a mapping")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("horizon: 40\n")
    one_line_error(cli("run", "tictactoe", "--config", str(wrong), store=store), "horizon", "less than or equal to 12")


def test_unknown_command_and_option(store):
    one_line_error(cli("rn", "tictactoe"), "unknown command 'rn'", "did you mean 'run'")
    one_line_error(cli("run", "tictactoe", "--sed", "3", store=store), "unrecognized arguments")


def test_show_unknown_run(store):
    one_line_error(cli("show", "nope", store=store), "no runs")


def test_list_names_experiments():
    proc = cli("list")
    assert proc.returncode == 0 and "tictactoe" in proc.stdout
