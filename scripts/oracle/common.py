"""Shared pieces of the cross-check scripts: running the binary and reporting."""
import subprocess
import sys


def run(command):
    """Runs a solvent command; returns (exit status, stdout, stderr)."""
    out = subprocess.run(command, capture_output=True, text=True)
    return out.returncode, out.stdout, out.stderr


def record(label, problems, tally):
    """Counts one case in `tally` ([passed, failed]) and prints its problems, if any."""
    if problems:
        tally[1] += 1
        print(f"{label}: " + "; ".join(problems))
    else:
        tally[0] += 1


def finish(tally):
    """Prints the closing `N passed, M failed` line and exits non-zero on failures."""
    print(f"{tally[0]} passed, {tally[1]} failed")
    sys.exit(1 if tally[1] else 0)
