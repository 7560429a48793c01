#!/usr/bin/env python3
"""Known-vulnerability audit of the dependencies: pip-audit over the virtualenv, npm audit
over the softphone's locked packages (docs/security.md).

A vulnerability found fails, always. An advisory service that cannot be reached is a
different outcome: the packages were NOT checked. With --strict (``make audit``) that fails
too; without it (the step ``make test`` runs) the unchecked packages and the reason are
printed loudly and the run goes on, because the development machines reach the package
indexes through a mirror that serves no advisories, and ``make test`` must pass there.
Never "No known vulnerabilities found" for a check that did not happen.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pip_audit(python_bin: Path, ignore: list[str]) -> tuple[list[str], list[str]]:
    """(vulnerabilities found, packages not checked) of the virtualenv."""
    command = [str(python_bin.parent / "pip-audit"), "-f", "json", "--skip-editable"]
    command += ["--progress-spinner", "off"]
    for vuln in ignore:
        command += ["--ignore-vuln", vuln]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return [], [f"pip-audit gave no report (exit {done.returncode}): {done.stderr.strip()}"]
    found, unchecked = [], []
    for dep in report.get("dependencies", []):
        for vuln in dep.get("vulns", []):
            found.append(
                f"{dep['name']} {dep.get('version', '')}: {vuln['id']} (fix: "
                f"{', '.join(vuln.get('fix_versions', [])) or 'none'})"
            )
        if "skip_reason" in dep:
            unchecked.append(dep["skip_reason"])
    return found, unchecked


def npm_audit() -> tuple[list[str], list[str]]:
    """(vulnerabilities found, reason the lock was not checked) of js/package-lock.json."""
    done = subprocess.run(
        ["npm", "audit", "--package-lock-only", "--json"],
        cwd=ROOT / "js",
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return [], [f"npm audit gave no report (exit {done.returncode}): {done.stderr.strip()}"]
    if "error" in report or "statusCode" in report:
        return [], [f"npm audit could not reach its advisory service: {report.get('message', '')}"]
    found = [
        f"{name}: {entry.get('severity', '')} ({entry.get('range', '')})"
        for name, entry in report.get("vulnerabilities", {}).items()
    ]
    return found, []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--strict", action="store_true", help="fail when a package could not be checked"
    )
    parser.add_argument(
        "--ignore-vuln",
        action="append",
        default=[],
        metavar="ID",
        help="an accepted advisory (its reason in docs/security.md)",
    )
    args = parser.parse_args()

    pip_found, pip_unchecked = pip_audit(Path(sys.executable), args.ignore_vuln)
    npm_found, npm_unchecked = npm_audit()
    for line in pip_found + npm_found:
        print(f"VULNERABLE {line}")
    unchecked = pip_unchecked + npm_unchecked
    if unchecked:
        print(f"NOT CHECKED: {len(unchecked)} look-up(s) failed, for example:")
        for line in unchecked[:3]:
            print(f"  {line}")
        print(
            "  (docs/security.md: the mirror here serves no advisories; run `make audit` "
            "where pypi.org and registry.npmjs.org are the real services)"
        )
    if pip_found or npm_found:
        return 1
    if unchecked:
        return 1 if args.strict else 0
    print("audit: no known vulnerability in the Python or npm dependencies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
