# Two commands on a fresh clone: `make run` (set up, load the sample registry files, serve) and `make test`.
# The virtualenv is made from the system's Python 3.11 where it can make one: Debian's build, like the python:3.11 image
# of the Dockerfile, is compiled with profile-guided and link-time optimisation; pyenv's default build is not, and runs
# ingest's Python code about 15% slower (README, Benchmarks). Anywhere else, python3 from PATH.
SYSTEM_PYTHON := $(shell /usr/bin/python3.11 -c "import ensurepip" 2>/dev/null && echo /usr/bin/python3.11)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run test install migrate load lint check clean bench-search bench-ingest

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	mkdir -p var
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

load: migrate
	$(DEV_ENV) $(BIN)/python manage.py ingest samples/seeds samples/registry/records
	$(DEV_ENV) $(BIN)/python manage.py mesh_synonyms

run: load
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(DEV_ENV) $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmarks: PostgreSQL at registry scale by default (the database is created when missing).
N ?= 500000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/trials_bench
bench-search: install
	mkdir -p var
	case "$(BENCH_DATABASE_URL)" in postgres*) psql "$(dir $(BENCH_DATABASE_URL))postgres" -qtAc \
	  "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_DATABASE_URL))'" | grep -q 1 || \
	  createdb -h 127.0.0.1 -U postgres $(notdir $(BENCH_DATABASE_URL));; esac
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.search --trials $(N)

# Ingest: N varied ClinicalTrials.gov JSON Lines studies through `manage.py ingest`, into a database emptied first.
INGEST_N ?= 100000
INGEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/trials_bench_ingest
bench-ingest: install
	DATABASE_URL=$(INGEST_DATABASE_URL) $(BIN)/python -m bench.ingest --trials $(INGEST_N)

clean:
	rm -rf $(VENV) var/db.sqlite3*
