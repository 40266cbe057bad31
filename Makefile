# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test run bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gridbot demo

test: $(STAMP)
	$(VENV)/bin/pytest -q

run: $(STAMP)
	$(VENV)/bin/gridbot run

bench: $(STAMP)
	$(VENV)/bin/python bench/intake.py
