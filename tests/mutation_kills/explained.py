"""Check a mutation run against the explained survivors, and count it by module.

Run inside the copy where ``mutmut run`` ran (docs/testing.md, "Mutation testing")::

    python tests/mutation_kills/explained.py [--markdown]

Reads mutmut's verdicts (``mutants/archcalc/**/*.meta``: an exit code per mutant, as
``mutmut.stats.status_by_exit_code`` reads them: 1 or 3 killed, 0 survived, 5 or 33 no test
reaches it, None not run) for the mutants named by docs/mutation-scope.txt,
and tests/mutation_kills/equivalent.txt (``mutant<TAB>reason``). Prints the count per
module, the survivors per reason, every survivor that has no explanation and every
explanation whose mutant no longer survives; exits 1 if a survivor is unexplained. Not
collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import collections
import fnmatch
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def verdicts(root: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in sorted(glob.glob(os.path.join(root, "mutants/archcalc/**/*.meta"), recursive=True)):
        with open(meta) as f:
            out.update(json.load(f)["exit_code_by_key"])
    return out


def scope(root: str) -> list[str]:
    with open(os.path.join(root, "docs/mutation-scope.txt")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def explanations() -> dict[str, str]:
    out: dict[str, str] = {}
    with open(os.path.join(HERE, "equivalent.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, reason = line.rstrip("\n").split("\t", 1)
            out[name] = reason
    return out


def module(name: str) -> str:
    return name.split(".x")[0].removeprefix("archcalc.")


def main(markdown: bool) -> int:
    pats = scope(os.getcwd())
    judged = {
        n: c
        for n, c in verdicts(os.getcwd()).items()
        if any(fnmatch.fnmatchcase(n, p) for p in pats)
    }
    why = explanations()
    alive = {n for n, c in judged.items() if c in (0, 5, 33)}  # survived, or no test
    unrun = sorted(n for n, c in judged.items() if c is None)
    odd = sorted(n for n, c in judged.items() if c not in (0, 1, 3, 5, 33, None))
    judged = {n: c for n, c in judged.items() if c is not None}
    per = collections.defaultdict(lambda: [0, 0, 0])
    for n in judged:
        row = per[module(n)]
        row[0] += 1
        row[1 if n not in alive else 2] += 1
    total = [sum(r[i] for r in per.values()) for i in range(3)]
    if markdown:
        print("| module | mutants | killed | surviving, explained |")
        print("|---|---:|---:|---:|")
        for m in sorted(per):
            print(f"| `{m}` | {per[m][0]:,} | {per[m][1]:,} | {per[m][2]:,} |")
        print(f"| **all** | **{total[0]:,}** | **{total[1]:,}** | **{total[2]:,}** |")
    else:
        for m in sorted(per):
            print(f"{m:28} {per[m][0]:6} {per[m][1]:6} {per[m][2]:5}")
    share = 100 * total[1] / total[0] if total[0] else 0.0
    print(f"\n{total[0]:,} mutants, {total[1]:,} killed ({share:.1f} %), {total[2]:,} surviving")
    reasons = collections.Counter(why[n].split(":")[0] for n in alive if n in why)
    for r, k in reasons.most_common():
        print(f"  {k:4} {r}")
    missing = sorted(alive - set(why))
    stale = sorted(n for n in why if n in judged and n not in alive)
    for n in unrun:
        print(f"not run: {n}")
    for n in odd:
        print(f"not killed by a failing test (timeout, segfault...): {n} {judged[n]}")
    for n in missing:
        print(f"UNEXPLAINED {n}")
    for n in stale:
        print(f"killed now, explanation stale: {n}")
    return 1 if missing or unrun else 0


if __name__ == "__main__":
    sys.exit(main("--markdown" in sys.argv))
