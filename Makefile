# Two commands: `make run` (set up everything and start the portal) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint sysdeps sysdeps-test install install-dev messages compilemessages \
        migrate seed bench screenshots clean

run: sysdeps install compilemessages migrate seed
	@echo "Starting web (http://$(HOST):$(PORT)), Celery worker and Celery beat. Ctrl-C stops all."
	HOST=$(HOST) PORT=$(PORT) SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} \
		$(BIN)/honcho -f Procfile.dev start

# The suite runs in parallel, one pytest-xdist worker per CPU up to 4 (each worker has its own
# test database and, under CI=true, its own Redis database); TEST_JOBS=0 runs it in one process.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

# `--dist worksteal`: each worker starts on a contiguous half of the (slow-first) list and takes
# work from the other's end when idle, so a module's tests mostly stay on one worker and its
# shared demo is seeded once there (`load` hands out the first quarter one test a worker in
# turn, seeding most modules on every worker); about 40 s less on two CPUs.
test: sysdeps-test install-dev compilemessages lint
	$(BIN)/pytest -n $(TEST_JOBS) $(if $(filter-out 0,$(TEST_JOBS)),--dist worksteal)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/djlint templates --lint
	$(BIN)/pre-commit validate-config .pre-commit-config.yaml

sysdeps:
	@PYTHON=$(PYTHON) bash scripts/sysdeps.sh run

sysdeps-test:
	@PYTHON=$(PYTHON) bash scripts/sysdeps.sh test

# ensurepip (Debian's python3.X-venv) first, whatever target or -j order got us here; a venv
# left half-made by a failed run is removed so the next run starts it again.
$(BIN)/python:
	@PYTHON=$(PYTHON) bash scripts/sysdeps.sh venv
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

messages: install-dev
	$(MANAGE) makemessages -l zh_Hans -l en --ignore=.venv --ignore=static --ignore=tests --ignore=bench
	$(BIN)/python scripts/fill_en_po.py

compilemessages: install
	@$(MANAGE) compilemessages --ignore=.venv -v0

migrate: install
	$(MANAGE) migrate --noinput -v0

seed: install
	$(MANAGE) seed_demo

bench: sysdeps install-dev compilemessages
	$(BIN)/python bench/run_all.py

# The browser tests' pictures of the three journeys, linked from the README.
screenshots: install-dev
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/portal/test_screenshots.py -p no:cacheprovider

# A fresh clone, `make run` and the README's commands, in a temporary directory.
.PHONY: readme-check
readme-check:
	bash scripts/readme_check.sh

clean:
	rm -rf $(VENV) db.sqlite3 celery-broker.sqlite3 staticfiles .test-media
