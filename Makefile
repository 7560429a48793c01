# The two commands of the README: `make demo` and `make test`. Each does its own set-up on a
# fresh machine: Debian packages, PostgreSQL and Redis running, the virtualenv, the Asterisk root.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# sip-tester (SIPp) and baresip are the real SIP user agents of the tests: callers arriving over
# the carrier trunk, the carrier answering outbound calls, desk phones. fail2ban: the tests run
# its fail2ban-regex with the shipped filter over the security log the real Asterisk writes.
APT_PACKAGES := postgresql redis-server mmdebstrap espeak-ng sox chromium fonts-noto-cjk \
	libespeak-ng1 ca-certificates wrk sip-tester baresip fail2ban prometheus

.PHONY: setup system-packages services venv asterisk-root desk-js lint typecheck audit audit-report test unit demo down clean

setup: system-packages services venv asterisk-root desk-js

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@# Node.js and npm bundle the browser softphone (JsSIP); an image may ship Node already.
	@command -v npm >/dev/null || { apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }

services:
	@bash docker/start-local-services.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# The setuptools a new virtualenv gets (65.5 with Python 3.11) has known vulnerabilities.
	$(BIN)/pip install -q --upgrade pip 'setuptools>=78.1.1'
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

asterisk-root: venv
	$(BIN)/callcenter asterisk build

# The browser softphone's SIP stack: JsSIP from the npm registry (versions pinned by
# js/package-lock.json), bundled into one file the desk serves itself (no CDN). Rebuilt when
# missing or older than the lock file.
JSSIP_BUNDLE := agent_desk/static/vendor/jssip.min.js

desk-js: $(JSSIP_BUNDLE)

$(JSSIP_BUNDLE): js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund
	cd js && npm run --silent bundle
	@touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

# Known vulnerabilities (docs/security.md): pip-audit checks every package of the virtualenv
# against PyPI's advisories, npm audit the softphone's locked npm packages against the npm
# registry's (.ci/audit_deps.py). A vulnerability found fails both targets. A package that
# could not be looked up fails `make audit`; `make test` runs `audit-report`, which prints
# such packages as NOT CHECKED and goes on: the machines this is developed on reach PyPI and
# npm through a mirror that serves no advisories. An accepted vulnerability is an
# --ignore-vuln flag in PIP_AUDIT_IGNORE, with its reason in a comment here and in
# docs/security.md; there is none.
PIP_AUDIT_IGNORE :=

audit: venv
	$(BIN)/python .ci/audit_deps.py --strict $(PIP_AUDIT_IGNORE)

audit-report: venv
	$(BIN)/python .ci/audit_deps.py $(PIP_AUDIT_IGNORE)

unit: venv
	$(BIN)/pytest -q tests/unit

test: setup lint typecheck audit-report
	$(BIN)/pytest tests

demo: setup
	$(BIN)/callcenter up --demo

down: venv
	$(BIN)/callcenter down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache js/node_modules agent_desk/static/vendor
