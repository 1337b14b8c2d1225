"""Which tests a run selects (tests/conftest.py): everyday runs leave out the tests marked slow;
CI (CI=true), `--slow` and `-m` run what they ask for; a slow test named on the command line runs.

Each case runs pytest on a made-up suite of two fast and two slow tests (one slow file, one slow
test in a fast file), so the expected counts are read off the suite below.
"""

import pytest

SUITE = {
    "test_fast.py": """
        import pytest

        def test_fast_one():
            pass

        def test_fast_two():
            pass

        @pytest.mark.slow
        def test_slow_in_a_fast_file():
            pass
    """,
    "test_slow_file.py": """
        import pytest

        pytestmark = pytest.mark.slow

        def test_slow_module():
            pass
    """,
}


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(
        "from tests.conftest import pytest_addoption, pytest_collection_modifyitems, pytest_report_header, pytest_terminal_summary"
    )
    pytester.makeini('[pytest]\nmarkers =\n    slow: slow\n')
    pytester.makepyfile(**SUITE)
    return pytester


def run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest("-p", "no:cacheprovider", *args)


def test_everyday_run_leaves_out_the_slow_tests_and_says_how_to_run_them(suite):
    result = run(suite)
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(["toxwatch selection: everyday*`uv run pytest --slow` or CI=true runs all"])
    result.stdout.fnmatch_lines(["2 slow tests left out (everyday run); `uv run pytest --slow` or CI=true runs them"])


def test_quiet_everyday_run_still_says_what_it_left_out(suite):
    result = run(suite, "-q")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.no_fnmatch_line("toxwatch selection:*")  # -q hides the header
    result.stdout.fnmatch_lines(["2 slow tests left out*--slow*"])


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_ci_runs_every_test(suite, monkeypatch, value):
    """CI sets CI=true: all four tests run, none is deselected, so CI never runs an empty selection."""
    monkeypatch.setenv("CI", value)
    result = run(suite)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["toxwatch selection: all tests, slow ones included (CI=true)*"])
    result.stdout.no_fnmatch_line("*slow tests left out*")


def test_ci_false_is_an_everyday_run(suite, monkeypatch):
    monkeypatch.setenv("CI", "false")
    run(suite).assert_outcomes(passed=2, deselected=2)


def test_slow_option_runs_every_test(suite):
    result = run(suite, "--slow")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["toxwatch selection: all tests, slow ones included (--slow)*"])


@pytest.mark.parametrize(("expression", "passed"), [("slow", 2), ("not slow", 2), ("slow or not slow", 4)])
def test_a_mark_expression_decides_alone(suite, expression, passed):
    result = run(suite, "-m", expression)
    result.assert_outcomes(passed=passed, deselected=4 - passed)
    result.stdout.fnmatch_lines([f"toxwatch selection: -m '{expression}' decides*"])


def test_a_named_slow_file_or_test_runs(suite):
    run(suite, "test_slow_file.py").assert_outcomes(passed=1)
    run(suite, "test_fast.py::test_slow_in_a_fast_file").assert_outcomes(passed=1)
    # naming a fast file keeps its own slow test: the file was asked for
    run(suite, "test_fast.py").assert_outcomes(passed=3)


def test_a_named_folder_is_an_everyday_run(suite):
    run(suite, ".").assert_outcomes(passed=2, deselected=2)
