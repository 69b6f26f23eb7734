{{/* The release's name for its objects: <release>-<process>, unless the release is already named conveyor-something. */}}
{{- define "conveyor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one process's objects. Call with (dict "root" $ "process" "orders"). */}}
{{- define "conveyor.processName" -}}
{{- printf "%s-%s" (include "conveyor.fullname" .root) .process | trunc 63 | trimSuffix "-" -}}
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
