# Every target installs what it needs: a fresh clone needs nothing but python3.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# checkov pins old libraries: it gets a virtualenv of its own, made on first use.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := .venv-checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: install test unit lint format run bench package manifest check-infra clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint check-infra
	$(PY) -m pytest

unit: $(STAMP)
	$(PY) -m pytest tests/unit

# The whole pipeline on this machine: make run [PORT=3001] [ARGS="--visibility-timeout 10"]
# (not echoed: a configuration error is one line of the sandbox's own, then make's "Error").
run: $(STAMP)
	@$(PY) -m sandbox $(ARGS)

bench: $(VENV)/.installed-bench-stamp
	$(PY) -m bench

$(VENV)/.installed-bench-stamp: pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $@

package: $(STAMP)
	$(PY) -m infra.package

# The Slack app manifest with the stack's request URL: make manifest STACK=<stack name>
manifest: $(STAMP)
	@test -n "$(STACK)" || { echo "usage: make manifest STACK=<stack name>" >&2; exit 2; }
	@$(PY) -m infra.manifest --stack "$(STACK)"

# The template's static checks: cfn-lint on the SAM template, then checkov on its offline translation.
# (Its deployment into moto and the safety settings are pytest tests: tests/*/test_infra_*.py.)
check-infra: $(STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(PY) -m infra.template --out build/template.json
	$(CHECKOV_VENV)/bin/checkov --file build/template.json --framework cloudformation \
		--skip-download --compact --quiet

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	touch $(CHECKOV_STAMP)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) dist build .pytest_cache .mypy_cache .ruff_cache
