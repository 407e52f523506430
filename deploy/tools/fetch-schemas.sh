#!/usr/bin/env bash
# Regenerate the vendored JSON schemas in deploy/schemas/ from their upstream sources.
# Needs the network (Go module proxy, Maven Central); `make deploy-check` never runs this.
#
#   deploy/tools/fetch-schemas.sh            (from the repository root)
#
# Sources, all pinned below:
#   Kubernetes   k8s.io/kubernetes module (api/openapi-spec/swagger.json)      Go module proxy
#   CloudNativePG github.com/cloudnative-pg/cloudnative-pg (config/crd/bases)  Go module proxy
#   KEDA         github.com/kedacore/keda/v2 (config/crd/bases)                Go module proxy
#   Compose      github.com/compose-spec/compose-go/v2 (schema/compose-spec.json) Go module proxy
#   Strimzi      io.strimzi:api + io.strimzi:crd-generator, run the way Strimzi's own build
#                generates its CRDs (the generator needs Java 21 or newer)      Maven Central
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.35.4}"
CNPG_VERSION="${CNPG_VERSION:-v1.28.0}"
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-v2.16.2}"
STRIMZI_VERSION="${STRIMZI_VERSION:-1.2.0}"
OUT="${OUT:-deploy/schemas}"
PYTHON="${PYTHON:-python3}"

# The Kubernetes kinds the chart renders (plus a few an operator may add with overrides).
K8S_KINDS=(
  Deployment.apps/v1 Service.core/v1 ServiceAccount.core/v1 ConfigMap.core/v1 Secret.core/v1
  NetworkPolicy.networking.k8s.io/v1 PodDisruptionBudget.policy/v1
  HorizontalPodAutoscaler.autoscaling/v2 Ingress.networking.k8s.io/v1 Job.batch/v1
  PersistentVolumeClaim.core/v1 Role.rbac.authorization.k8s.io/v1
  RoleBinding.rbac.authorization.k8s.io/v1
)

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo ">> Go modules (k8s.io/kubernetes@v$K8S_VERSION, cloudnative-pg@$CNPG_VERSION, keda@$KEDA_VERSION, compose-go@$COMPOSE_GO_VERSION)"
export GOMODCACHE="$work/gomod" GOFLAGS=-mod=mod
go mod download -json \
  "k8s.io/kubernetes@v$K8S_VERSION" \
  "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION" \
  "github.com/kedacore/keda/v2@$KEDA_VERSION" \
  "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION" >"$work/mods.json"
K8S_DIR="$GOMODCACHE/k8s.io/kubernetes@v$K8S_VERSION"
CNPG_DIR="$GOMODCACHE/github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION"
KEDA_DIR="$GOMODCACHE/github.com/kedacore/keda/v2@$KEDA_VERSION"
COMPOSE_DIR="$GOMODCACHE/github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION"

echo ">> Strimzi $STRIMZI_VERSION CRDs from Maven Central"
M2="$work/m2"
for artifact in api crd-generator; do
  mvn -q -Dmaven.repo.local="$M2" dependency:get -Dtransitive=false \
    -Dartifact="io.strimzi:$artifact:$STRIMZI_VERSION"
done
java_bin="${JAVA:-}"
if [[ -z "$java_bin" ]]; then
  for candidate in "${JAVA_HOME:-/nonexistent}/bin/java" /usr/lib/jvm/temurin-25-jdk-amd64/bin/java \
    /usr/lib/jvm/temurin-21-jdk-amd64/bin/java /usr/lib/jvm/java-21-openjdk-amd64/bin/java java; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
      java_bin="$candidate"
      break
    fi
  done
fi
[[ -n "$java_bin" ]] || { echo "need Java 21+ for Strimzi's crd-generator (set JAVA=...)" >&2; exit 1; }
strimzi_dir="$work/strimzi"
mkdir -p "$strimzi_dir"
"$java_bin" -classpath \
  "$M2/io/strimzi/api/$STRIMZI_VERSION/api-$STRIMZI_VERSION.jar:$M2/io/strimzi/crd-generator/$STRIMZI_VERSION/crd-generator-$STRIMZI_VERSION.jar" \
  io.strimzi.crdgenerator.CrdGenerator \
  --crd-api-version v1 --api-versions v1 --storage-version v1 --target-kube 1.16+ --yaml \
  "io.strimzi.api.kafka.model.kafka.Kafka=$strimzi_dir/040-Crd-kafka.yaml" \
  "io.strimzi.api.kafka.model.topic.KafkaTopic=$strimzi_dir/043-Crd-kafkatopic.yaml" \
  "io.strimzi.api.kafka.model.user.KafkaUser=$strimzi_dir/044-Crd-kafkauser.yaml" \
  "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$strimzi_dir/045-Crd-kafkanodepool.yaml"

echo ">> converting into $OUT"
rm -rf "$OUT/kubernetes" "$OUT/kafka.strimzi.io" "$OUT/postgresql.cnpg.io" "$OUT/keda.sh" "$OUT/compose"
mkdir -p "$OUT/compose"
install -m 0644 "$COMPOSE_DIR/schema/compose-spec.json" "$OUT/compose/compose-spec.json"
kind_args=()
for kind in "${K8S_KINDS[@]}"; do kind_args+=(--k8s-kind "$kind"); done
"$PYTHON" deploy/tools/gen_schemas.py --out "$OUT" \
  --crd "$strimzi_dir"/*.yaml \
  "$CNPG_DIR/config/crd/bases/postgresql.cnpg.io_clusters.yaml" \
  "$CNPG_DIR/config/crd/bases/postgresql.cnpg.io_databases.yaml" \
  "$KEDA_DIR/config/crd/bases/keda.sh_scaledobjects.yaml" \
  "$KEDA_DIR/config/crd/bases/keda.sh_triggerauthentications.yaml" \
  --k8s-swagger "$K8S_DIR/api/openapi-spec/swagger.json" --k8s-version "$K8S_VERSION" \
  "${kind_args[@]}" >/dev/null

cat >"$OUT/VERSIONS" <<EOF
# Sources of the JSON schemas in this folder (regenerate: deploy/tools/fetch-schemas.sh)
kubernetes=$K8S_VERSION
strimzi=$STRIMZI_VERSION
cloudnative-pg=${CNPG_VERSION#v}
keda=${KEDA_VERSION#v}
compose-go=${COMPOSE_GO_VERSION#v}
EOF
find "$OUT" -name '*.json' | sort
