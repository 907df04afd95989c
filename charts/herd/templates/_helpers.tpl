{{- define "herd.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herd.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "herd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ include "herd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: herd
{{- end -}}

{{- define "herd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "herd.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "herd.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The rules the controller needs in every namespace it watches. */}}
{{- define "herd.watchRules" -}}
- apiGroups: ["herd.dev"]
  resources: ["loadtests"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["herd.dev"]
  resources: ["loadtests/status"]
  verbs: ["update"]
# Children carry ownerReferences with blockOwnerDeletion, which the
# OwnerReferencesPermissionEnforcement admission plugin allows only to those who
# may update the owner's finalizers.
- apiGroups: ["herd.dev"]
  resources: ["loadtests/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "create", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
# The guardrails' per-namespace annotations (docs/security.md#guardrails): read
# once per run start, so get alone (a Role grants it for its own namespace only).
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get"]
{{- end -}}

{{/* The coordinator Service's name and the DNS names its certificate covers (agents dial the .svc one). */}}
{{- define "herd.coordinatorService" -}}
{{- printf "%s-coordinator" (include "herd.fullname" .) -}}
{{- end -}}

{{- define "herd.coordinatorDnsNames" -}}
{{- $svc := include "herd.coordinatorService" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{/* The Secret holding the coordinator's tls.crt, tls.key and ca.crt. */}}
{{- define "herd.coordinatorTlsSecret" -}}
{{- if eq .Values.coordinator.tls.source "existingSecret" -}}
{{- required "coordinator.tls.existingSecret is required when coordinator.tls.source is existingSecret" .Values.coordinator.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-coordinator-tls" (include "herd.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "herd.coordinatorTlsDir" -}}/etc/herd/coordinator-tls{{- end -}}

{{/* herd-operator's flags (docs/operator.md); tests/chart runs the binary with them. */}}
{{- define "herd.operatorArgs" -}}
{{- $fullname := include "herd.fullname" . -}}
{{- if .Values.leaderElection.enabled }}
- --leader-elect
- --leader-election-namespace={{ .Release.Namespace }}
{{- end }}
{{- range .Values.watchNamespaces }}
- --namespace={{ . }}
{{- end }}
- --coordinator-listen=0.0.0.0:{{ .Values.coordinator.port }}
- --coordinator-advertise={{ $fullname }}-coordinator.{{ .Release.Namespace }}.svc:{{ .Values.coordinator.port }}
{{- if .Values.coordinator.tls.enabled }}
{{- $dir := include "herd.coordinatorTlsDir" . }}
- --coordinator-tls-cert={{ $dir }}/tls.crt
- --coordinator-tls-key={{ $dir }}/tls.key
- --coordinator-tls-ca={{ $dir }}/ca.crt
{{- else }}
- --coordinator-insecure
{{- end }}
- --metrics-listen=0.0.0.0:{{ .Values.metrics.port }}
- --health-listen=0.0.0.0:{{ .Values.health.port }}
- --agent-image={{ default (include "herd.image" .) .Values.agent.image }}
{{- if .Values.agent.metrics.enabled }}
- --agent-metrics-port={{ .Values.agent.metrics.port }}
{{- end }}
- --workers={{ .Values.operator.workers }}
- --log-level={{ .Values.operator.logLevel }}
{{- include "herd.guardrailArgs" . }}
{{- range .Values.operator.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}


{{/* The guardrails as herd-operator flags (docs/security.md#guardrails). */}}
{{- define "herd.guardrailArgs" -}}
{{- with .Values.guardrails }}
{{- if .maxUsers }}
- {{ printf "--max-users=%v" (int64 .maxUsers) | quote }}
{{- end }}
{{- if .maxAgents }}
- {{ printf "--max-agents=%v" (int64 .maxAgents) | quote }}
{{- end }}
{{- if .maxDuration }}
- {{ printf "--max-duration=%s" .maxDuration | quote }}
{{- end }}
{{- if .maxRate }}
- {{ printf "--max-rate=%v" .maxRate | quote }}
{{- end }}
{{- range .allowedHosts }}
- {{ printf "--allow-host=%s" . | quote }}
{{- end }}
{{- range .allowedImages }}
- {{ printf "--allow-image=%s" . | quote }}
{{- end }}
- {{ printf "--allow-service-account=%t" .allowServiceAccount | quote }}
- {{ printf "--allow-priority-class=%t" .allowPriorityClass | quote }}
- {{ printf "--allow-secret-env=%t" .allowSecretEnv | quote }}
{{- end }}
{{- end -}}
