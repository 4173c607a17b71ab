# vswitch.odp developer entry points. Run `make help` for a summary.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV07 := .venv-pyroute2-0.7
# The oldest ansible-core of the supported range (meta/runtime.yml); .venv
# has the newest.
VENV_OLDEST := .venv-ansible-2.18
APT_PACKAGES := user-mode-linux kmod iproute2 iputils-ping tcpdump openvswitch-switch pandoc zsh patchelf
COLLECTION_LINK := $(VENV)/collections/ansible_collections/vswitch/odp
SANDBOX := tests/sandbox/run
# The tools find ansible-doc and ansible-playbook on PATH.
TOOLS := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
.PHONY: help setup apt-packages test bench sandbox demo clean distclean \
	lint lint-yaml lint-ansible lint-ruff lint-mypy lint-changelog lint-docs \
	changelog docsite wheel collection test-kernel-6.12

help:
	@echo "make setup       install system packages and the venvs (idempotent, fast when done)"
	@echo "make test        lint, unit tests (three venvs), packaging, kernel tests and ansible tests"
	@echo "make lint        yamllint, ansible-lint, ruff check and format --check, mypy, the changelog and the docsite lint"
	@echo "make changelog   CHANGELOG.md from changelogs/ (docs/releasing.md)"
	@echo "make wheel       the Python package, in dist/"
	@echo "make collection  the collection tarball, in dist/ (with the docsite's guides)"
	@echo "make demo        the vxlan_overlay role over three namespace hosts in the sandbox kernel"
	@echo "make sandbox     interactive root shell in the sandbox kernel"
	@echo "make test-kernel-6.12  the psample, selftest and upcall tests in Debian trixie's 6.12 UML (downloads it)"
	@echo "make bench       the figures of tests/bench/ (run, cli, role, module, reliability, listing, overlay_plan...) in the sandbox kernel"
	@echo "make clean       remove .sandbox and build leftovers (keeps venvs)"
	@echo "make distclean   clean + remove the venvs"

setup: apt-packages $(VENV)/.setup-stamp $(VENV07)/.setup-stamp $(VENV_OLDEST)/.setup-stamp \
	$(COLLECTION_LINK)

# dpkg-query is fast; apt-get only runs when something is missing.
apt-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "== installing system packages:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# $(call make-venv,DIR,REQUIREMENTS): the venv, its requirements, the project
# editable. The stamp lives inside the venv, so removing a venv re-triggers
# its setup.
define make-venv
	@echo "== setting up $(1)"
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -r $(2)
	$(1)/bin/python -m pip install -q -e .
	touch $(1)/.setup-stamp
endef

$(VENV)/.setup-stamp: pyproject.toml requirements-dev.txt
	$(call make-venv,$(VENV),requirements-dev.txt)

$(VENV07)/.setup-stamp: pyproject.toml requirements-pyroute2-0.7.txt
	$(call make-venv,$(VENV07),requirements-pyroute2-0.7.txt)

$(VENV_OLDEST)/.setup-stamp: pyproject.toml requirements-ansible-2.18.txt
	$(call make-venv,$(VENV_OLDEST),requirements-ansible-2.18.txt)

# ansible.cfg points collections_path at .venv/collections.
$(COLLECTION_LINK): | $(VENV)/.setup-stamp
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

test: setup
	tests/run-all

# Every lint runs (make -k lint) and each failure is reported.
lint: lint-yaml lint-ansible lint-ruff lint-mypy lint-changelog lint-docs

lint-yaml: setup
	$(VENV)/bin/yamllint --strict .

lint-ansible: setup
	$(TOOLS) $(VENV)/bin/ansible-lint

lint-ruff: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The library package (pyproject.toml's [tool.mypy]).
lint-mypy: setup
	$(VENV)/bin/mypy

# The fragments are valid and CHANGELOG.md is what they make.
lint-changelog: setup
	$(TOOLS) $(VENV)/bin/antsibull-changelog lint
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(TOOLS) $(VENV)/bin/antsibull-changelog generate --output "$$tmp/CHANGELOG.md" --output-format md && \
	if ! diff -u CHANGELOG.md "$$tmp/CHANGELOG.md"; then \
	  echo "CHANGELOG.md is not what changelogs/ makes: run make changelog" >&2; exit 1; fi

lint-docs: setup docsite
	$(TOOLS) $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)

changelog: setup
	$(TOOLS) $(VENV)/bin/antsibull-changelog lint
	$(TOOLS) $(VENV)/bin/antsibull-changelog generate

docsite: apt-packages
	docs/docsite/render

# Build isolation, as a user's `pip wheel .` does (setuptools from PyPI).
wheel: setup
	$(VENV)/bin/python -m pip wheel -q --no-deps -w dist .

collection: setup docsite
	$(VENV)/bin/ansible-galaxy collection build --force --output-path dist .

bench: setup
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/run.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/cli.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/role.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/module.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/reliability.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/churn_dump.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/state.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/listing.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/overlay_plan.py

sandbox: setup
	$(SANDBOX) --interactive

# Opt-in (docs/sandbox.md): a newer kernel, fetched from Debian trixie.
test-kernel-6.12: setup
	tests/sandbox/fetch-kernel
	ODP_SANDBOX_KERNEL=$(CURDIR)/.sandbox/kernels/trixie $(SANDBOX) -- $(VENV)/bin/python -m pytest \
	  -q tests/integration/library/test_psample.py tests/integration/library/test_selftest_port.py \
	  tests/integration/library/test_upcalls.py

demo: setup
	$(SANDBOX) -- tests/sandbox/demo.sh

clean:
	rm -rf .sandbox build dist *.egg-info plugins/module_utils/odp/*.egg-info \
	  .pytest_cache .hypothesis .ruff_cache .mypy_cache tests/output vswitch-odp-*.tar.gz \
	  docs/docsite/rst changelogs/.plugin-cache.yaml
	find . -path ./.venv -prune -o -path './.venv-*' -prune -o \
	  -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VENV07) $(VENV_OLDEST)
