# Stakeholder Mailer. `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Reinstall when the package description changes. `make run` needs only the product;
# `make test` adds the test tools (playwright, ruff, mypy, axe-core) on top.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# The email checkers the tests run (Nu HTML Checker, caniemail data), from npm.
EMAIL_CHECKS := tools/email-checks/node_modules/.installed
# The OpenID Connect provider the single sign-on tests sign in through (oidc-provider).
OIDC_PROVIDER := tools/oidc-provider/node_modules/.installed

.PHONY: run test test-fast lint bench install clean

run: $(STAMP)
	$(BIN)/mailer run

# Three rounds: the tests that only talk to the databases and the SMTP test server, spread
# over the CPUs; the browser tests; then those marked slow (real processes, races,
# timing, external checkers) one at a time, as they were written to run. Each browser
# test has its own server, browser and database, so BROWSER_JOBS=2 runs them two at a
# time (4-7 minutes here instead of 9); on a 2-CPU machine a few (a TOTP code's window,
# a real scheduler on SQLite, a clipboard) then run out of time, so one at a time is the
# default. Exit code 5 is "no test selected" (a PYTEST_ARGS that picks from one round).
TEST_JOBS ?= auto
BROWSER_JOBS ?= 1
test: $(TEST_STAMP) $(EMAIL_CHECKS) $(OIDC_PROVIDER)
	@scripts/ensure-test-services
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python scripts/check_architecture.py
	$(BIN)/python -m pytest -m "not browser and not slow" -n $(TEST_JOBS) $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m "browser" -n $(BROWSER_JOBS) $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m "slow and not browser" $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The inner loop: ruff, then all but the browser tests and those marked slow (real
# processes, races, external checkers), on both databases, spread over the CPUs.
# `make test` still runs everything.
TEST_FAST_JOBS ?= auto
test-fast: $(TEST_STAMP)
	@scripts/ensure-test-services --no-browser
	$(BIN)/ruff check .
	$(BIN)/python scripts/check_architecture.py
	$(BIN)/python -m pytest -m "not browser and not slow" -n $(TEST_FAST_JOBS) -q $(PYTEST_ARGS)

# mypy reads what to check, and how strictly, from pyproject.toml; the layers of the
# code and the module size limit are written down in scripts/check_architecture.py.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python scripts/check_architecture.py

bench: $(TEST_STAMP)
	@found=0; for b in bench/bench_*.py; do [ -e "$$b" ] || continue; found=1; \
	  echo "== $$b"; $(BIN)/python "$$b" || exit 1; done; \
	  [ $$found = 1 ] || echo "no benchmarks yet (bench/bench_*.py)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed" or 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

$(EMAIL_CHECKS): tools/email-checks/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the email checks (apt-get install nodejs npm)"; exit 1; }
	cd tools/email-checks && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(EMAIL_CHECKS)

$(OIDC_PROVIDER): tools/oidc-provider/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the single sign-on tests (apt-get install nodejs npm)"; exit 1; }
	cd tools/oidc-provider && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(OIDC_PROVIDER)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache test-artifacts tools/email-checks/node_modules tools/oidc-provider/node_modules
