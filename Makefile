# vswitch.odp developer entry points. Run `make help` for a summary.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV07 := .venv-pyroute2-0.7
APT_PACKAGES := user-mode-linux kmod iproute2 iputils-ping tcpdump openvswitch-switch
COLLECTION_LINK := $(VENV)/collections/ansible_collections/vswitch/odp
SANDBOX := tests/sandbox/run

.PHONY: help setup apt-packages test bench sandbox demo clean distclean

help:
	@echo "make setup      install system packages and the venvs (idempotent, fast when done)"
	@echo "make test       unit tests (both venvs) + kernel tests in the sandbox kernel"
	@echo "make demo       the vxlan_overlay role over three namespace hosts in the sandbox kernel"
	@echo "make sandbox    interactive root shell in the sandbox kernel"
	@echo "make bench      tests/bench/run.py and tests/bench/role.py in the sandbox kernel"
	@echo "make clean      remove .sandbox and build leftovers (keeps venvs)"
	@echo "make distclean  clean + remove the venvs"

setup: apt-packages $(VENV)/.setup-stamp $(VENV07)/.setup-stamp $(COLLECTION_LINK)

# dpkg-query is fast; apt-get only runs when something is missing.
apt-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "== installing system packages:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# Stamps live inside the venvs, so removing a venv re-triggers its setup.
$(VENV)/.setup-stamp: pyproject.toml requirements-dev.txt
	@echo "== setting up $(VENV)"
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements-dev.txt
	$(VENV)/bin/python -m pip install -q -e .
	touch $@

$(VENV07)/.setup-stamp: pyproject.toml requirements-pyroute2-0.7.txt
	@echo "== setting up $(VENV07)"
	test -x $(VENV07)/bin/python || $(PYTHON) -m venv $(VENV07)
	$(VENV07)/bin/python -m pip install -q --upgrade pip
	$(VENV07)/bin/python -m pip install -q -r requirements-pyroute2-0.7.txt
	$(VENV07)/bin/python -m pip install -q -e .
	touch $@

# ansible.cfg points collections_path at .venv/collections.
$(COLLECTION_LINK): | $(VENV)/.setup-stamp
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

test: setup
	tests/run-all

bench: setup
	@if [ -f tests/bench/run.py ]; then \
	  $(SANDBOX) -- $(VENV)/bin/python tests/bench/run.py; \
	else echo "tests/bench/run.py does not exist yet: nothing to run"; fi
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/role.py
	$(SANDBOX) -- $(VENV)/bin/python tests/bench/module.py

sandbox: setup
	$(SANDBOX) --interactive

demo: setup
	$(SANDBOX) -- tests/sandbox/demo.sh

clean:
	rm -rf .sandbox build dist *.egg-info plugins/module_utils/odp/*.egg-info \
	  .pytest_cache .hypothesis tests/output vswitch-odp-*.tar.gz
	find . -path ./.venv -prune -o -path './.venv-*' -prune -o \
	  -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VENV07)
