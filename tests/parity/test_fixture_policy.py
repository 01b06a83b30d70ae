"""The fixture policy: a missing shared fixture skips a test on a developer's machine and
fails it in CI (CI=true or SNN_REQUIRE_FIXTURES=1), so that CI cannot pass by skipping."""
import subprocess
import sys
import textwrap

import pytest

HERE = __import__("pathlib").Path(__file__).resolve().parent


@pytest.mark.parametrize("env,outcome", [({}, "skipped"), ({"CI": "true"}, "failed"),
                                         ({"SNN_REQUIRE_FIXTURES": "1"}, "failed")])
def test_missing_fixture_skips_or_fails(env, outcome, tmp_path):
    test = tmp_path / "test_missing.py"
    test.write_text(textwrap.dedent("""
        from conftest import missing_fixture
        def test_needs_a_fixture():
            missing_fixture("no such fixture")
    """))
    clean = {k: v for k, v in __import__("os").environ.items()
             if k not in ("CI", "SNN_REQUIRE_FIXTURES")}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(test), "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path)],
                          capture_output=True, text=True, env={**clean, **env,
                                                               "PYTHONPATH": str(HERE)})
    assert f"1 {outcome}" in proc.stdout, proc.stdout + proc.stderr
