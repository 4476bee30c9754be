# The two commands a newcomer needs:
#   make run    set up everything, start a local cluster, install the CRDs, apply examples/,
#               and run the operator in the foreground (Ctrl-C stops the operator; the
#               cluster keeps running until `make cluster-down`)
#   make test   lint, types, unit tests and cluster tests (brings up its own local cluster
#               unless KUBECONFIG names one)
#
# Set KUBECONFIG to use an existing cluster (kind, or any other) instead of the local one.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install the virtualenv only when the project's dependencies change.
VENV_STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-12)
# A second virtualenv with every direct dependency at its declared floor (floors.txt).
FLOORS := .venv-floors
FLOORS_STAMP := $(FLOORS)/.stamp-$(shell cat pyproject.toml floors.txt 2>/dev/null | sha256sum | cut -c1-12)
LOCAL_KUBECONFIG := $(CURDIR)/.cluster/kubeconfig
# The cached kubectl and friends (cluster/build.sh builds them once per pinned version).
WITH_BINARIES := eval "$$(cluster/build.sh)" && export PATH="$$FWOP_BIN_KUBERNETES/bin:$$PATH"
# kubectl for another cluster: the one on PATH (a kind user's), else the local build's.
KUBECTL_SETUP = $(if $(shell command -v kubectl 2>/dev/null),true,$(WITH_BINARIES))
# kubectl for the target cluster: version-matched for the local one; no Go needed otherwise.
USE_KUBECTL = $(if $(KUBECONFIG),$(KUBECTL_SETUP),$(WITH_BINARIES))
# The cluster to talk to: KUBECONFIG when set, else the local control plane.
TARGET_KUBECONFIG = $(if $(KUBECONFIG),$(KUBECONFIG),$(LOCAL_KUBECONFIG))

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,operator]'
	rm -f $(VENV)/.stamp-* && touch $@

$(FLOORS_STAMP): pyproject.toml floors.txt
	$(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/pip install --quiet --upgrade pip
	$(FLOORS)/bin/pip install --quiet -c floors.txt -e '.[dev,operator]'
	rm -f $(FLOORS)/.stamp-* && touch $@

.PHONY: chart-schema
chart-schema: venv ## Regenerate the policy's part of charts/fwop/values.schema.json from its CRD
	$(BIN)/python tools/chart_schema.py

.PHONY: chart
chart: ## helm lint --strict both charts, and render them (the tests compare them with manifests/)
	@helm="$$(cluster/build.sh | sed -n 's/^export FWOP_BIN_HELM=//p')/bin/helm"; \
	  for c in charts/fwop-crds charts/fwop; do \
	    out="$$("$$helm" lint --strict "$$c" 2>&1)"; ok=$$?; echo "$$out" | grep -v 'symbolic link'; \
	    [ $$ok = 0 ] && "$$helm" template "$${c#charts/}" "$$c" >/dev/null 2>&1 || exit 1; \
	  done

.PHONY: image-lock
image-lock: venv ## Regenerate requirements-build.txt and requirements-image.txt (hashes for the image)
	$(BIN)/python tools/lock_image.py

.PHONY: floors
floors: $(FLOORS_STAMP) ## Unit tests with every direct dependency at its declared minimum
	$(FLOORS)/bin/pytest tests/unit -q -p no:cacheprovider

.PHONY: venv
venv: $(VENV_STAMP) ## Create or update the virtualenv (.venv)

.PHONY: binaries
binaries: ## Build or reuse the local cluster's binaries (cached under ~/.cache/fwop-cluster)
	cluster/build.sh >/dev/null

.PHONY: cluster-up
cluster-up: ## Start the local control plane (idempotent); kubeconfig in .cluster/kubeconfig
	$(PYTHON) cluster/localcluster.py up

.PHONY: cluster-down
cluster-down: ## Stop the local control plane's processes and remove its state
	$(PYTHON) cluster/localcluster.py down

.PHONY: install-crds
install-crds: ## Install crds/ into the target cluster (PolicyReport CRDs only where absent)
	$(USE_KUBECTL) && kubectl --kubeconfig "$(TARGET_KUBECONFIG)" apply --server-side -f crds/
	@# The files, not the folder: `wait -f crds/` would also wait for crds/wgpolicyk8s/, created below
	$(USE_KUBECTL) && kubectl --kubeconfig "$(TARGET_KUBECONFIG)" wait --for=condition=Established --timeout=60s $(addprefix -f ,$(wildcard crds/*.yaml))
	@# PolicyReport CRDs: created only where absent (Kyverno or another tool may own them)
	$(USE_KUBECTL) && for f in crds/wgpolicyk8s/*.yaml; do kubectl --kubeconfig "$(TARGET_KUBECONFIG)" get -f "$$f" >/dev/null 2>&1 || kubectl --kubeconfig "$(TARGET_KUBECONFIG)" create -f "$$f"; done
	$(USE_KUBECTL) && kubectl --kubeconfig "$(TARGET_KUBECONFIG)" wait --for=condition=Established --timeout=60s -f crds/wgpolicyk8s/

.PHONY: run
run: venv ## Everything: cluster (unless KUBECONFIG is set), CRDs, operator + webhook, examples
	$(if $(KUBECONFIG),@echo "using KUBECONFIG=$(KUBECONFIG)",$(PYTHON) cluster/localcluster.py up)
	@# KUBECONFIG only when set: the local cluster gets its own version-matched kubectl
	$(MAKE) --no-print-directory install-crds $(if $(KUBECONFIG),KUBECONFIG="$(KUBECONFIG)",)
	$(USE_KUBECTL) && $(BIN)/python cluster/devrun.py --kubeconfig "$(TARGET_KUBECONFIG)" $(if $(KUBECONFIG),,--local)

.PHONY: operator
operator: venv ## Run just the operator in the foreground against the current kubeconfig
	KUBECONFIG="$(TARGET_KUBECONFIG)" $(BIN)/fwop-operator

.PHONY: lint
lint: venv ## ruff (lint + format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: typecheck
typecheck: venv ## mypy --strict
	$(BIN)/mypy

.PHONY: unit
unit: venv ## Unit tests (no cluster)
	$(BIN)/pytest tests/unit

.PHONY: docs-controls
docs-controls: venv ## Regenerate docs/controls.md from the controls catalog (fwop/controls.py)
	$(BIN)/python -c 'from fwop import controls; print(controls.markdown(), end="")' > docs/controls.md

.PHONY: fuzz
fuzz: venv ## 100,000 fuzzed specs through admission and rendering
	FWOP_FUZZ_EXAMPLES=100000 $(BIN)/pytest tests/unit/test_fuzz.py -q -s -p no:cacheprovider

.PHONY: cluster-test
cluster-test: venv browser ## Tests against a real API server (local control plane, or KUBECONFIG)
	$(if $(KUBECONFIG),,cluster/build.sh >/dev/null)
	$(BIN)/pytest tests/cluster

# Debian's Chromium opens fwctl report's HTML page in tests/cluster/test_report.py.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: browser
browser: ## Install Debian's Chromium once (headless, for the HTML report's test)
	@command -v chromium >/dev/null || $(APT) install -y --no-install-recommends chromium \
	  || { $(APT) update && $(APT) install -y --no-install-recommends chromium; }

.PHONY: docs-screenshot
docs-screenshot: venv browser ## Regenerate docs/images/report.png (the README's report screenshot)
	mkdir -p docs/images
	FWOP_REPORT_SCREENSHOT=$(CURDIR)/docs/images/report.png $(BIN)/pytest tests/cluster/test_report.py -k html -q

.PHONY: test
test: lint typecheck unit floors cluster-test ## Everything CI runs

.PHONY: bench
bench: venv ## Benchmarks that print figures (drift heal, webhook latency) and write them into the README
	$(if $(KUBECONFIG),,cluster/build.sh >/dev/null)
	$(BIN)/python bench/drift_heal.py --edits 200
	env -u KUBECONFIG $(BIN)/python bench/webhook_latency.py --reviews 500 --concurrency 8
	$(BIN)/python bench/readme.py

# Workload counts of bench-scale, e.g. make bench-scale N="100 1000 10000".
N ?= 100 1000
# Runs per N (medians printed when above 1), e.g. make bench-scale N=1000 REPEAT=3.
REPEAT ?= 1

.PHONY: bench-scale
bench-scale: venv ## Scale benchmark: N workloads (N="100 1000") vs plain applies; build/bench-scale.json
	cluster/build.sh >/dev/null
	env -u KUBECONFIG $(BIN)/python bench/scale.py --repeat $(REPEAT) $(N)

# ---- In-cluster install (manifests/, docs/install.md) ---------------------------------------
# IMAGE=<name>@sha256:<digest> (or <name>:<tag>) replaces the image pinned in manifests/.
IMAGE ?=
KIND ?= kind
DOCKER ?= docker
KIND_CLUSTER ?= fwop-e2e
KIND_KUBECONFIG := $(CURDIR)/build/kind/kubeconfig
E2E_IMAGE ?= fwop-operator:e2e

.PHONY: install
install: ## Install the operator (manifests/) into the target cluster, with the webhook's TLS
	$(KUBECTL_SETUP) && KUBECONFIG="$(TARGET_KUBECONFIG)" IMAGE="$(IMAGE)" manifests/install.sh install

.PHONY: uninstall
uninstall: ## Remove everything install created; FinancialWorkloads first, children by GC
	$(KUBECTL_SETUP) && KUBECONFIG="$(TARGET_KUBECONFIG)" manifests/install.sh uninstall

.PHONY: e2e-kind
e2e-kind: venv ## Needs Docker + kind: build the image, install it on a fresh kind cluster, run the suite
	$(KIND) delete cluster --name $(KIND_CLUSTER)
	$(KIND) create cluster --name $(KIND_CLUSTER) --config tests/e2e/kind.yaml --wait 120s
	mkdir -p $(dir $(KIND_KUBECONFIG))
	$(KIND) get kubeconfig --name $(KIND_CLUSTER) > $(KIND_KUBECONFIG)
	$(DOCKER) build -t $(E2E_IMAGE) .
	$(KIND) load docker-image $(E2E_IMAGE) --name $(KIND_CLUSTER)
	$(MAKE) --no-print-directory install KUBECONFIG=$(KIND_KUBECONFIG) IMAGE=$(E2E_IMAGE)
	KUBECONFIG=$(KIND_KUBECONFIG) FWOP_OPERATOR=deployment FWOP_E2E_UNINSTALL=1 $(BIN)/pytest tests/cluster
	@echo "kind cluster $(KIND_CLUSTER) kept for inspection; remove it with: $(KIND) delete cluster --name $(KIND_CLUSTER)"

.PHONY: clean
clean: cluster-down ## Stop the local cluster and remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
