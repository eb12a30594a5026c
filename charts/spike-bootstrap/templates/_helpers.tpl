{{/*
Names, labels and derived values shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "spike-bootstrap.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: fullnameOverride, or "<release>-<chart name>", or
the release name alone when it already contains the chart name. Kubernetes
label values and many names allow at most 63 characters.
*/}}
{{- define "spike-bootstrap.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "spike-bootstrap.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "spike-bootstrap.selectorLabels" -}}
app.kubernetes.io/name: {{ include "spike-bootstrap.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "spike-bootstrap.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "spike-bootstrap.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: bootstrap
app.kubernetes.io/part-of: spike
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "spike-bootstrap.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "spike-bootstrap.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "spike-bootstrap.spireReleaseName" -}}
{{- default .Release.Name .Values.spireRelease.name }}
{{- end }}

{{- define "spike-bootstrap.spireReleaseNamespace" -}}
{{- default .Release.Namespace .Values.spireRelease.namespace }}
{{- end }}

{{/* The image reference: repository with the digest, or with the tag. */}}
{{- define "spike-bootstrap.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
SPIKE_NEXUS_KEEPER_PEERS: keepers.peers joined with commas, or one URL per
share for pods 0 .. shares-1 of the keeper StatefulSet. A StatefulSet pod
has the DNS name <pod>.<headless service>.<namespace>.svc.<cluster domain>.
*/}}
{{- define "spike-bootstrap.keeperPeers" -}}
{{- if .Values.keepers.peers }}
{{- join "," .Values.keepers.peers }}
{{- else }}
{{- $statefulSet := default (printf "%s-spike-keeper" (include "spike-bootstrap.spireReleaseName" .)) .Values.keepers.statefulSet }}
{{- $service := default (printf "%s-headless" $statefulSet) .Values.keepers.service }}
{{- $namespace := default .Release.Namespace .Values.keepers.namespace }}
{{- $urls := list }}
{{- range $index := until (int .Values.shamir.shares) }}
{{- $urls = append $urls (printf "https://%s-%d.%s.%s.svc.%s:%d" $statefulSet $index $service $namespace $.Values.clusterDomain (int $.Values.keepers.port)) }}
{{- end }}
{{- join "," $urls }}
{{- end }}
{{- end }}

{{/* SPIKE_NEXUS_API_URL: nexus.apiUrl, or the Nexus Service's full DNS name. */}}
{{- define "spike-bootstrap.nexusApiUrl" -}}
{{- if .Values.nexus.apiUrl }}
{{- .Values.nexus.apiUrl }}
{{- else }}
{{- $service := default (printf "%s-spike-nexus" (include "spike-bootstrap.spireReleaseName" .)) .Values.nexus.service }}
{{- $namespace := default .Release.Namespace .Values.nexus.namespace }}
{{- printf "https://%s.%s.svc.%s:%d" $service $namespace .Values.clusterDomain (int .Values.nexus.port) }}
{{- end }}
{{- end }}

{{/* A trust-domain list for one role, or trustRoots.default when it is empty. */}}
{{- define "spike-bootstrap.trustRoot" -}}
{{- $domains := index .root.Values.trustRoots .role }}
{{- if $domains }}
{{- join "," $domains }}
{{- else }}
{{- .root.Values.trustRoots.default }}
{{- end }}
{{- end }}

{{/*
Fails the render when values contradict each other. values.schema.json has
the same checks, but JSON Schema cannot compare two values, so it lists each
share count up to its maximum, and --skip-schema-validation skips it.
Renders nothing.
*/}}
{{- define "spike-bootstrap.validate" -}}
{{- $shares := int .Values.shamir.shares }}
{{- $threshold := int .Values.shamir.threshold }}
{{- if gt $threshold $shares }}
{{- fail (printf "shamir.threshold (%d) is greater than shamir.shares (%d). Set a threshold from 1 to the number of shares." $threshold $shares) }}
{{- end }}
{{- if and .Values.keepers.peers (ne (len .Values.keepers.peers) $shares) }}
{{- fail (printf "keepers.peers lists %d keepers but shamir.shares is %d. List one keeper per share, or leave keepers.peers empty to derive it." (len .Values.keepers.peers) $shares) }}
{{- end }}
{{- end }}

{{/*
Annotations of the ServiceAccount, Role and RoleBinding, as YAML. In argocd
mode they go one sync wave before the Job, so they exist when its pod starts.
In helm-hook mode they are ordinary release objects, which Helm creates
before it runs post-install hooks.
*/}}
{{- define "spike-bootstrap.rbacAnnotations" -}}
{{- if eq .Values.mode "argocd" }}
argocd.argoproj.io/sync-wave: {{ sub (int .Values.argocd.syncWave) 1 | quote }}
{{- end }}
{{- end }}

{{/* Annotations that make the Job a hook in helm-hook and argocd modes, as YAML. */}}
{{- define "spike-bootstrap.jobAnnotations" -}}
{{- if eq .Values.mode "helm-hook" }}
helm.sh/hook: post-install,post-upgrade
helm.sh/hook-weight: {{ .Values.helmHook.weight | quote }}
{{- /* Not hook-failed: a failed Job stays, so its logs can be read. */}}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- else if eq .Values.mode "argocd" }}
argocd.argoproj.io/hook: Sync
argocd.argoproj.io/sync-wave: {{ .Values.argocd.syncWave | quote }}
{{- /* Not HookFailed: a failed Job stays, so its logs can be read. */}}
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded
{{- end }}
{{- end }}
