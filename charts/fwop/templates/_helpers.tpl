{{- /*
The chart reads its objects from manifests/ (files/ links to them) and changes only the
fields the values name, so there is one source of truth for what the operator installs.
*/ -}}

{{- /* Labels on every object of the chart, on top of the objects' own. */ -}}
{{- define "fwop.labels" -}}
app.kubernetes.io/part-of: fwop
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- /* (list root object): the object as YAML, with the chart's labels added. */ -}}
{{- define "fwop.emit" -}}
{{- $root := index . 0 }}
{{- $obj := index . 1 }}
{{- $meta := $obj.metadata }}
{{- $_ := set $meta "labels" (merge (include "fwop.labels" $root | fromYaml) ($meta.labels | default dict)) }}
{{- toYaml $obj }}
{{- end }}

{{- /* (list root name): the one object of files/<name>, parsed. */ -}}
{{- define "fwop.load" -}}
{{- $root := index . 0 }}
{{- $text := $root.Files.Get (printf "files/%s" (index . 1)) }}
{{- if not $text }}{{ fail (printf "fwop: files/%s is missing or empty" (index . 1)) }}{{ end }}
{{- $obj := fromYaml $text }}
{{- if hasKey $obj "Error" }}{{ fail (printf "fwop: files/%s does not parse: %s" (index . 1) $obj.Error) }}{{ end }}
{{- toYaml $obj }}
{{- end }}

{{- /* (list root name): the objects of files/<name>, parsed, as a JSON array. */ -}}
{{- define "fwop.docs" -}}
{{- $root := index . 0 }}
{{- $name := index . 1 }}
{{- $docs := list }}
{{- range $text := regexSplit "(?m)^---[ \t]*$" ($root.Files.Get (printf "files/%s" $name)) -1 }}
{{- $obj := fromYaml $text }}
{{- if hasKey $obj "Error" }}{{ fail (printf "fwop: files/%s does not parse: %s" $name $obj.Error) }}{{ end }}
{{- if $obj }}{{ $docs = append $docs $obj }}{{ end }}
{{- end }}
{{- toJson $docs }}
{{- end }}

{{- /* (list root name): every object of files/<name>, each with the chart's labels. */ -}}
{{- define "fwop.file" -}}
{{- $root := index . 0 }}
{{- range $obj := include "fwop.docs" . | fromJsonArray }}
---
{{ include "fwop.emit" (list $root $obj) }}
{{- end }}
{{- end }}

{{- /* The Secret the operator's pods mount the webhook's certificate from. */ -}}
{{- define "fwop.tlsSecret" -}}
{{- .Values.webhook.certificate.secretName }}
{{- end }}
