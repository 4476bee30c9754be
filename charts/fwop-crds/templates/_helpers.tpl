{{- /* Labels on every object of the chart. */ -}}
{{- define "fwop-crds.labels" -}}
app.kubernetes.io/part-of: fwop
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- /* (list root text keep): one object from its YAML text, with the chart's labels. */ -}}
{{- define "fwop-crds.emit" -}}
{{- $root := index . 0 }}
{{- $obj := fromYaml (index . 1) }}
{{- if hasKey $obj "Error" }}{{ fail (printf "fwop-crds: a CRD file does not parse: %s" $obj.Error) }}{{ end }}
{{- $meta := $obj.metadata }}
{{- $_ := set $meta "labels" (merge (include "fwop-crds.labels" $root | fromYaml) ($meta.labels | default dict)) }}
{{- if index . 2 }}
{{- $_ := set $meta "annotations" (merge (dict "helm.sh/resource-policy" "keep") ($meta.annotations | default dict)) }}
{{- end }}
{{- toYaml $obj }}
{{- end }}

{{- /*
(list root name): non-empty when the PolicyReport CRD `name` is to be rendered: always with
policyReports true, never with false; with auto, when the cluster has no such CRD or this
release owns it (helm's own annotation), so an upgrade never drops it.
*/ -}}
{{- define "fwop-crds.wantPolicyReports" -}}
{{- $root := index . 0 }}
{{- $mode := $root.Values.policyReports }}
{{- if eq (toString $mode) "true" }}yes
{{- else if eq (toString $mode) "auto" }}
{{- $live := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" (index . 1) }}
{{- if not $live }}yes
{{- else if and (eq (dig "metadata" "annotations" "meta.helm.sh/release-name" "" $live) $root.Release.Name) (eq (dig "metadata" "annotations" "meta.helm.sh/release-namespace" "" $live) $root.Release.Namespace) }}yes
{{- end }}
{{- end }}
{{- end }}
