{{/* The release's resource prefix. */}}
{{- define "vineyard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vineyard.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "vineyard.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vineyard.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "vineyard.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* A Kubernetes quantity (Ki, Mi, Gi, Ti or plain bytes) in whole MiB, rounded up; fails on anything else. */}}
{{- define "vineyard.mebibytes" -}}
{{- $q := toString . -}}
{{- if regexMatch "^[0-9]+Ki$" $q -}}{{ div (add (trimSuffix "Ki" $q | atoi) 1023) 1024 }}
{{- else if regexMatch "^[0-9]+Mi$" $q -}}{{ trimSuffix "Mi" $q | atoi }}
{{- else if regexMatch "^[0-9]+Gi$" $q -}}{{ mul (trimSuffix "Gi" $q | atoi) 1024 }}
{{- else if regexMatch "^[0-9]+Ti$" $q -}}{{ mul (trimSuffix "Ti" $q | atoi) 1048576 }}
{{- else if regexMatch "^[0-9]+$" $q -}}{{ div (add ($q | atoi) 1048575) 1048576 }}
{{- else -}}{{ fail (printf "%q is not a size like 512Mi or 4Gi (use Ki, Mi, Gi, Ti or bytes)" $q) }}
{{- end -}}
{{- end -}}

{{/* The etcd endpoint the daemons use. */}}
{{- define "vineyard.etcdEndpoint" -}}
{{- if .Values.etcd.enabled -}}
{{- printf "http://%s-etcd.%s.svc:%d" (include "vineyard.fullname" .) .Release.Namespace (int .Values.etcd.clientPort) -}}
{{- else if .Values.etcd.externalEndpoint -}}
{{- .Values.etcd.externalEndpoint -}}
{{- else -}}
{{- fail "etcd.enabled is false and etcd.externalEndpoint is empty: the daemons need an etcd" -}}
{{- end -}}
{{- end -}}
