{{/* ----------------------------------------------------------------- names */}}

{{- define "billing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "billing.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "billing.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "billing.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "billing.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "billing.kafkaCluster" -}}
{{- default (printf "%s-kafka" (include "billing.fullname" .)) .Values.strimzi.clusterName -}}
{{- end -}}

{{- define "billing.pgCluster" -}}
{{- default (printf "%s-pg" (include "billing.fullname" .)) .Values.cnpg.clusterName -}}
{{- end -}}

{{- define "billing.clearinghouseClaim" -}}
{{- default (printf "%s-clearinghouse" (include "billing.fullname" .)) .Values.clearinghouse.persistence.existingClaim -}}
{{- end -}}

{{/* ----------------------------------------------------------------- labels */}}

{{- define "billing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "billing.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "billing.labels" -}}
helm.sh/chart: {{ include "billing.chart" . }}
{{ include "billing.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: billing
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one workload. Call with (dict "root" $ "service" "claims" "role" "api"). */}}
{{- define "billing.workloadSelectorLabels" -}}
{{ include "billing.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- if .service }}
billing/service: {{ .service }}
{{- end }}
{{- end -}}

{{- define "billing.workloadLabels" -}}
{{ include "billing.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- if .service }}
billing/service: {{ .service }}
{{- end }}
{{- end -}}

{{- define "billing.workloadName" -}}
{{- if .service -}}
{{- printf "%s-%s-%s" (include "billing.fullname" .root) .service .role | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" (include "billing.fullname" .root) .role | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* ----------------------------------------------------------------- settings */}}

{{- define "billing.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if and .Values.image.requireDigest (not .Values.image.digest) -}}
{{- fail "image.digest is required (image.requireDigest): pin the image by its sha256 digest" -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Role settings of one service: the global role block overridden by services.<svc>.<role>. */}}
{{- define "billing.roleSettings" -}}
{{- $svc := index .root.Values.services .service -}}
{{- $base := deepCopy (index .root.Values .role) -}}
{{- $over := default dict (index $svc .role) -}}
{{- toYaml (mergeOverwrite $base (deepCopy $over)) -}}
{{- end -}}

{{- define "billing.kafkaBootstrap" -}}
{{- if .Values.strimzi.enabled -}}
{{- printf "%s-kafka-bootstrap.%s.svc:9093" (include "billing.kafkaCluster" .) .Release.Namespace -}}
{{- else -}}
{{- required "kafka.bootstrapServers is required when strimzi.enabled is false" .Values.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{- define "billing.kafkaSecurityProtocol" -}}
{{- if .Values.strimzi.enabled -}}SASL_SSL{{- else -}}{{ .Values.kafka.securityProtocol }}{{- end -}}
{{- end -}}

{{- define "billing.kafkaSaslMechanism" -}}
{{- if .Values.strimzi.enabled -}}SCRAM-SHA-512{{- else -}}{{ .Values.kafka.saslMechanism }}{{- end -}}
{{- end -}}

{{/* Name of the Secret and key holding the Kafka CA bundle ("" when none). */}}
{{- define "billing.kafkaCaSecret" -}}
{{- if .Values.strimzi.enabled -}}
{{- printf "%s-cluster-ca-cert" (include "billing.kafkaCluster" .) -}}
{{- else -}}
{{- .Values.kafka.caSecret.name -}}
{{- end -}}
{{- end -}}

{{- define "billing.kafkaCaKey" -}}
{{- if .Values.strimzi.enabled -}}ca.crt{{- else -}}{{ .Values.kafka.caSecret.key }}{{- end -}}
{{- end -}}

{{/* SASL username of a service. Call with (dict "root" $ "service" "claims"). */}}
{{- define "billing.kafkaUsername" -}}
{{- if .root.Values.strimzi.enabled -}}
{{- printf "%s-%s" (include "billing.fullname" .root) .service -}}
{{- else -}}
{{- (index .root.Values.kafka.users .service).username -}}
{{- end -}}
{{- end -}}

{{- define "billing.kafkaPasswordSecret" -}}
{{- if .root.Values.strimzi.enabled -}}
{{- include "billing.kafkaUsername" . -}}
{{- else -}}
{{- (index .root.Values.kafka.users .service).existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "billing.kafkaPasswordKey" -}}
{{- if .root.Values.strimzi.enabled -}}password{{- else -}}{{ (index .root.Values.kafka.users .service).passwordKey }}{{- end -}}
{{- end -}}

{{- define "billing.kafkaUsesSasl" -}}
{{- if hasPrefix "SASL" (include "billing.kafkaSecurityProtocol" .) -}}true{{- end -}}
{{- end -}}

{{/* ----------------------------------------------------------------- pod parts */}}

{{- define "billing.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "billing.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment of every billing container. Call with (dict "root" $ "service" "claims" "role" "api"). */}}
{{- define "billing.env" -}}
{{- $root := .root -}}
{{- $svc := index $root.Values.services .service -}}
- name: OTEL_SERVICE_NAME
  value: {{ printf "billing-%s-%s" .service .role | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=billing,k8s.namespace.name=%s" $root.Release.Namespace | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ include "billing.kafkaUsername" . | quote }}
{{- if include "billing.kafkaUsesSasl" $root }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "billing.kafkaPasswordSecret" . }}
      key: {{ include "billing.kafkaPasswordKey" . }}
{{- end }}
{{- if $root.Values.cnpg.enabled }}
{{- $credentials := ternary (printf "%s-role-%s" (include "billing.pgCluster" $root) .service) (printf "%s-app" (include "billing.pgCluster" $root)) (and $root.Values.cnpg.rolePerService true) }}
- name: DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ $credentials }}
      key: username
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $credentials }}
      key: password
- name: DATABASE_URL
  value: {{ printf "postgresql://$(DB_USER):$(DB_PASSWORD)@%s-rw.%s.svc:5432/%s?sslmode=%s%s" (include "billing.pgCluster" $root) $root.Release.Namespace $svc.database $root.Values.cnpg.sslmode (include "billing.pgRootCertParam" $root) | quote }}
{{- if and $root.Values.cnpg.rolePerService $svc.decryptsPhi }}
- name: KEYS_DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ include "billing.pgCluster" $root }}-role-keys
      key: username
- name: KEYS_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "billing.pgCluster" $root }}-role-keys
      key: password
- name: PHI_KEYS_DATABASE_URL
  value: {{ printf "postgresql://$(KEYS_DB_USER):$(KEYS_DB_PASSWORD)@%s-rw.%s.svc:5432/%s?sslmode=%s%s" (include "billing.pgCluster" $root) $root.Release.Namespace $root.Values.cnpg.keysDatabase $root.Values.cnpg.sslmode (include "billing.pgRootCertParam" $root) | quote }}
{{- end }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "postgresql.external.existingSecret is required when cnpg.enabled is false" $root.Values.postgresql.external.existingSecret }}
      key: {{ .service }}
{{- with (and $svc.decryptsPhi $root.Values.postgresql.external.keysUrlKey) }}
- name: PHI_KEYS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.postgresql.external.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- if $svc.decryptsPhi }}
{{- /* Only the services that seal or open patient data get the master key (least privilege). */}}
- name: PHI_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.phiMasterKey.existingSecret is required" $root.Values.secrets.phiMasterKey.existingSecret }}
      key: {{ $root.Values.secrets.phiMasterKey.key }}
{{- /* Key rotation (docs/operations.md): present only while the secret holds them. */}}
{{- range $variable := list "PHI_PREVIOUS_MASTER_KEYS" "PHI_BLIND_INDEX_KEY" "PHI_BLIND_INDEX_KEY_VERSION" "PHI_PREVIOUS_BLIND_INDEX_KEYS" }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.secrets.phiMasterKey.existingSecret }}
      key: {{ $variable }}
      optional: true
{{- end }}
{{- end }}
{{- with $root.Values.secrets.jwt }}
{{- if .existingSecret }}
- name: JWT_PUBLIC_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .publicKeyKey }}
{{- if .privateKeyKey }}
- name: JWT_PRIVATE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .privateKeyKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* verify-ca / verify-full check the server's certificate against a CA: which Secret holds it. */}}
{{- define "billing.pgCaSecret" -}}
{{- if and .Values.cnpg.enabled (has .Values.cnpg.sslmode (list "verify-ca" "verify-full")) -}}
{{- default (printf "%s-ca" (include "billing.pgCluster" .)) .Values.cnpg.caSecret -}}
{{- end -}}
{{- end -}}

{{- define "billing.pgRootCertParam" -}}
{{- if include "billing.pgCaSecret" . -}}&sslrootcert=/etc/billing/pg-ca/ca.crt{{- end -}}
{{- end -}}

{{/* Volumes shared by every billing pod: /tmp, the Kafka CA and the PostgreSQL CA. */}}
{{- define "billing.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if include "billing.kafkaCaSecret" .root }}
- name: kafka-ca
  secret:
    secretName: {{ include "billing.kafkaCaSecret" .root }}
    items:
      - key: {{ include "billing.kafkaCaKey" .root }}
        path: ca.crt
{{- end }}
{{- if include "billing.pgCaSecret" .root }}
- name: pg-ca
  secret:
    secretName: {{ include "billing.pgCaSecret" .root }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- if .clearinghouse }}
- name: clearinghouse
{{- if .root.Values.clearinghouse.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "billing.clearinghouseClaim" .root }}
{{- else }}
  emptyDir:
    sizeLimit: 1Gi
{{- end }}
{{- end }}
{{- end -}}

{{- define "billing.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "billing.kafkaCaSecret" .root }}
- name: kafka-ca
  mountPath: /etc/billing/kafka-ca
  readOnly: true
{{- end }}
{{- if include "billing.pgCaSecret" .root }}
- name: pg-ca
  mountPath: /etc/billing/pg-ca
  readOnly: true
{{- end }}
{{- if .clearinghouse }}
- name: clearinghouse
  mountPath: {{ .root.Values.clearinghouse.dir }}
{{- end }}
{{- end -}}

{{/* Pod spec parts common to every workload. Call with (dict "root" $ "service" "claims" "role" "api"). */}}
{{- define "billing.podCommon" -}}
serviceAccountName: {{ include "billing.serviceAccountName" .root }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "billing.podSecurityContext" .root | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "billing.workloadSelectorLabels" . | nindent 14 }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "billing.workloadSelectorLabels" . | nindent 8 }}
{{- end -}}

{{- define "billing.podMetadata" -}}
labels:
  {{- include "billing.workloadLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
  {{- with .root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* ----------------------------------------------------------------- network policy parts */}}

{{- define "billing.egressDns" -}}
# DNS
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 10 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end -}}

{{- define "billing.egressOtel" -}}
{{- if .Values.otel.endpoint }}
# OpenTelemetry collector
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.otel.namespace }}
      {{- with .Values.otel.podSelector }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
  ports:
    {{- range .Values.otel.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
{{- end }}
{{- end -}}
