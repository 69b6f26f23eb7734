{{/* The release's name for its objects: <release>-<process>, unless the release is already named conveyor-something. */}}
{{- define "conveyor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one process's objects. Call with (dict "root" $ "process" $process). */}}
{{- define "conveyor.processName" -}}
{{- printf "%s-%s" (include "conveyor.fullname" .root) .process | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
What the templates know of a process beyond its values comes from files/topology.json, generated from
Topology/SystemTopology.cs: "true" (or nothing) for whether it is ServiceControl, or sends mail.
*/}}
{{- define "conveyor.isServiceControl" -}}
{{- if eq .process (.root.Files.Get "files/topology.json" | fromJson).serviceControl }}true{{ end -}}
{{- end -}}

{{- define "conveyor.sendsMail" -}}
{{- if has .process (.root.Files.Get "files/topology.json" | fromJson).mailSenders }}true{{ end -}}
{{- end -}}

{{/* Refuses values whose processes are not exactly the topology's endpoints (a renamed or missing one). */}}
{{- define "conveyor.checkProcesses" -}}
{{- $expected := (.Files.Get "files/topology.json" | fromJson).endpoints | sortAlpha | join ", " }}
{{- $actual := keys .Values.processes | sortAlpha | join ", " }}
{{- if ne $expected $actual }}{{ fail (printf "processes must be exactly the system's endpoints (%s), not %s" $expected $actual) }}{{ end -}}
{{- end -}}

{{- define "conveyor.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .process }}
{{- end -}}

{{- define "conveyor.labels" -}}
{{ include "conveyor.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: conveyor
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "conveyor.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .process (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{/* True when KEDA, not the Deployment, owns this process's replica count. */}}
{{- define "conveyor.autoscaled" -}}
{{- if and .root.Values.keda.enabled .settings.autoscaling -}}true{{- end -}}
{{- end -}}

{{/* A NetworkPolicy egress rule: to the given peers (any destination when none) on the given TCP ports. */}}
{{- define "conveyor.egressRule" -}}
- ports:
  {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
  {{- end }}
  {{- with .peers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
