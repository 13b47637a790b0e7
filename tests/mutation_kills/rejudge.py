"""Re-judge the mutants mutmut left alive against chosen test files, without a new run.

Run inside mutmut's ``mutants/`` directory after ``mutmut run`` (docs/testing.md,
"Mutation testing")::

    cd mutants && python ../tests/mutation_kills/rejudge.py RESULT.json TEST_FILE...

For every mutant whose exit code in ``archcalc/**/*.meta`` is 0 (survived), fork, set
``MUTANT_UNDER_TEST`` (mutmut's trampolines read it at every call) and run pytest on the
given files; a non-zero exit kills the mutant. Results go to ``RESULT.json`` (name: exit
code) as they come, so an interrupted run resumes. Not collected by pytest (no ``test_``).
"""

from __future__ import annotations

import glob
import json
import os
import signal
import sys


def survivors() -> list[str]:
    names: list[str] = []
    for meta in sorted(glob.glob("archcalc/**/*.meta", recursive=True)):
        with open(meta) as f:
            names += [k for k, v in json.load(f)["exit_code_by_key"].items() if v == 0]
    return names


def judge(name: str, tests: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # the child: the mutant's tests, output discarded
        import pytest

        os.environ["MUTANT_UNDER_TEST"] = name
        signal.alarm(120)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        args = ["-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0"]
        os._exit(int(pytest.main([*args, *tests])))
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def main(result: str, tests: list[str]) -> None:
    sys.path.insert(0, os.getcwd())  # mutmut's copy of archcalc, not an installed one
    import archcalc  # noqa: F401  (imported once in the parent: forks start warm)

    done: dict[str, int] = {}
    if os.path.exists(result):
        with open(result) as f:
            done = json.load(f)
    for name in survivors():
        if name not in done:
            done[name] = judge(name, tests)
            with open(result, "w") as f:
                json.dump(done, f, indent=0)
    alive = sorted(k for k, v in done.items() if v == 0)
    print("\n".join(alive))
    print(f"{len(done)} re-judged, {len(done) - len(alive)} killed, {len(alive)} alive")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
