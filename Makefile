# The README's two commands: `make run` (install everything, run the main job over samples/)
# and `make test` (install if needed, run the whole test suite). .ci/run calls `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run serve test lint samples eval bench clean

$(STAMP): pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) flows.py samples/
	@$(VENV)/bin/gongwen users demo

serve: run
	$(VENV)/bin/gongwen serve

test: install
	$(PY) -m pytest
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

samples: install
	$(PY) -m samples.generator
	$(PY) -m samples.scan

eval: install
	$(VENV)/bin/gongwen eval samples/born_digital

bench: install
	$(PY) bench/extract.py

clean:
	rm -rf $(VENV) data out
