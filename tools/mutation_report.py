"""Summarise a `mutmut run` into results/mutation.txt: per module, mutants killed, survived and
otherwise; each survivor with its diff. Hand-written explanations of survivors, below the line
EXPLAINED, are kept when the file is rewritten.

Run: python tasks.py mutate   (mutmut run, then this script with mutmut's run time)
"""
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results/mutation.txt"
EXPLAINED = "## Survivors explained (by hand; kept when this file is rewritten)"


def mutmut(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, text=True,
                       capture_output=True)
    return r.stdout if r.returncode == 0 else f"(mutmut {' '.join(args)} failed: {r.stderr})"


def statuses() -> dict[str, str]:
    """Mutant name -> status (killed, survived, timeout, no tests, ...)."""
    rows = (line.strip().rsplit(": ", 1) for line in mutmut("results", "--all", "true")
            .splitlines() if "__mutmut_" in line)
    return {name: status for name, status in rows}


def report(found: dict[str, str], seconds: float | None) -> str:
    per = defaultdict(Counter)
    for name, status in found.items():
        per[name.split("__mutmut_")[0].rsplit(".", 1)[0]][status] += 1
    killed = sum(c["killed"] + c["timeout"] for c in per.values())
    total = sum(sum(c.values()) for c in per.values())
    lines = ["# Mutation testing of the modules that carry the guarantees",
             "", "Command: python tasks.py mutate (mutmut, config in pyproject.toml)",
             f"Took: {seconds / 60:.0f} minutes on this machine" if seconds else "",
             f"Kill rate: {killed} / {total} = {100 * killed / max(total, 1):.1f}% "
             "(timeouts count as killed)", "", "| module | killed | survived | other |",
             "|---|---|---|---|"]
    for mod, c in sorted(per.items()):
        other = sum(c.values()) - c["killed"] - c["timeout"] - c["survived"]
        lines.append(f"| {mod} | {c['killed'] + c['timeout']} | {c['survived']} | {other} |")
    survivors = [n for n, s in found.items() if s != "killed" and s != "timeout"]
    lines += ["", f"## Surviving mutants ({len(survivors)})", ""]
    for name in survivors:
        lines += [f"### {name} ({found[name]})", "```diff", mutmut("show", name).strip(), "```", ""]
    return "\n".join(lines)


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else None
    kept = OUT.read_text().split(EXPLAINED, 1)[1] if OUT.exists() and EXPLAINED in \
        OUT.read_text() else "\n"
    OUT.write_text(report(statuses(), seconds) + "\n" + EXPLAINED + kept)
    print(OUT.read_text().split("## Surviving")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
