# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test lint run bench mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gridbot demo

test: $(STAMP)
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

run: $(STAMP)
	$(VENV)/bin/gridbot run

bench: $(STAMP)
	$(VENV)/bin/python bench/intake.py

# Mutation testing of the core (docs/MUTATION.md): about 35 minutes on two cores; not in CI.
# `make mutation GROUPS="orders inbox"` runs some groups; SURVIVORS=1 lists what survived.
mutation: $(STAMP)
	$(VENV)/bin/pip install -q -e '.[test,mutation]'
	$(VENV)/bin/python tests/mutation.py $(GROUPS) $(if $(SURVIVORS),--survivors)
