{{/*
Names
*/}}
{{- define "myaccount.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "myaccount.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of one component's resources: <fullname>-<component>. Takes (dict "root" $ "component" "identity"). */}}
{{- define "myaccount.componentName" -}}
{{- printf "%s-%s" (include "myaccount.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "myaccount.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "myaccount.version" -}}
{{- default .Chart.AppVersion .Values.image.tag | replace "+" "_" | replace "@" "_" | replace ":" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels. Takes (dict "root" $ "component" "identity").
Selectors use only name, instance and component, which never change over a release's life.
*/}}
{{- define "myaccount.selectorLabels" -}}
app.kubernetes.io/name: {{ include "myaccount.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "myaccount.labels" -}}
{{ include "myaccount.selectorLabels" . }}
app.kubernetes.io/version: {{ include "myaccount.version" .root | quote }}
app.kubernetes.io/part-of: myaccount
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "myaccount.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of every pod of the release (name and instance), for NetworkPolicy peers. */}}
{{- define "myaccount.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "myaccount.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* metadata.annotations (commonAnnotations plus extra ones), indented for metadata, or nothing. Takes (dict "root" $ "extra" map). */}}
{{- define "myaccount.annotations" -}}
{{- $all := merge (deepCopy (.extra | default dict)) (deepCopy (.root.Values.commonAnnotations | default dict)) -}}
{{- with $all }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* The image reference: registry/repository:tag, or @digest when a digest is set. */}}
{{- define "myaccount.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $repo = printf "%s/%s" .Values.image.registry .Values.image.repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "myaccount.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "myaccount.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
One service's settings: serviceDefaults with every key the service sets replacing the default
as a whole (a shallow merge, so false, 0 and "" given by a service win). Returns YAML; use with
fromYaml. Takes (dict "root" $ "name" "identity").
*/}}
{{- define "myaccount.service" -}}
{{- $svc := deepCopy .root.Values.serviceDefaults -}}
{{- range $key, $value := index .root.Values.services .name -}}
{{- $_ := set $svc $key $value -}}
{{- end -}}
{{- if eq $svc.kind "grpc" -}}
{{- $_ := set $svc "adminPort" (default (add $svc.grpcPort 1000) $svc.adminPort) -}}
{{- end -}}
{{- if not (hasKey $svc "pdb") -}}
{{- $_ := set $svc "pdb" .root.Values.pdb -}}
{{- end -}}
{{- toYaml $svc -}}
{{- end -}}

{{/* Names of the enabled services of kind grpc, as a YAML list. */}}
{{- define "myaccount.grpcServiceNames" -}}
{{- $names := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if and $svc.enabled (eq $svc.kind "grpc") -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- toYaml $names -}}
{{- end -}}

{{/* Whether the migration Job runs (and the services start without migrating). */}}
{{- define "myaccount.migrationJob" -}}
{{- if eq .Values.migrations.mode "job" }}true{{ end -}}
{{- end -}}

{{/*
Database secret of a service: its own existingSecret, else postgres.existingSecret, else the
chart's own Secret. Takes (dict "root" $ "name" "identity" "svc" $svc).
*/}}
{{- define "myaccount.databaseSecretName" -}}
{{- if .svc.database.existingSecret -}}
{{- .svc.database.existingSecret -}}
{{- else if .root.Values.postgres.existingSecret -}}
{{- .root.Values.postgres.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "myaccount.fullname" .root) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "myaccount.databaseSecretKey" -}}
{{- default (printf "%s-database-url" .name) .svc.database.existingSecretKey -}}
{{- end -}}

{{/* Names of enabled services whose database URL comes from the chart's own Secret (YAML list). */}}
{{- define "myaccount.managedDatabaseServices" -}}
{{- $root := . -}}
{{- $names := list -}}
{{- range $name, $raw := .Values.services -}}
{{- if $raw.enabled -}}
{{- $svc := include "myaccount.service" (dict "root" $root "name" $name) | fromYaml -}}
{{- if and $svc.database $svc.database.enabled (not $svc.database.existingSecret) (not $root.Values.postgres.existingSecret) -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $names -}}
{{- end -}}

{{/* Where a service's NATS seed is mounted. */}}
{{- define "myaccount.natsCredentialsDir" -}}
/var/run/secrets/myaccount/nats
{{- end -}}

{{/* Where a calling workload's own key is mounted. */}}
{{- define "myaccount.workloadKeyDir" -}}
/var/run/myaccount/workload
{{- end }}

{{/* The Secret holding one workload's private key. Takes (dict "root" $ "name" "gateway"). */}}
{{- define "myaccount.workloadKeySecret" -}}
{{- $default := printf "%s-workload-%s" (include "myaccount.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- default $default (index (.root.Values.workloadIdentity.secretNames | default dict) .name) -}}
{{- end }}

{{/* A caller's public key, required. Takes (dict "root" $ "name" "gateway" "callee" "identity"). */}}
{{- define "myaccount.workloadPublicKey" -}}
{{- required (printf "workloadIdentity.publicKeys.%s is required: %s accepts calls only from %s, proven by its workload key. Run myaccount workload-keys --out DIR, create the Secrets it prints and set the public keys it prints (docs/OPERATIONS.md, The internal plane)" .name .callee .name) (index .root.Values.workloadIdentity.publicKeys .name) -}}
{{- end }}

{{/* The Secret holding one service's NATS nkey seed. Takes (dict "root" $ "name" "identity"). */}}
{{- define "myaccount.natsCredentialsSecret" -}}
{{- $default := printf "%s-nats-%s" (include "myaccount.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- default $default (index (.root.Values.nats.credentials.secretNames | default dict) .name) -}}
{{- end -}}

{{/* Where a component's TLS Secret (tls.crt, tls.key, ca.crt) is mounted. */}}
{{- define "myaccount.tlsDir" -}}
/var/run/secrets/myaccount/tls
{{- end -}}

{{/* The TLS Secret of one component. Takes (dict "root" $ "name" "identity"). */}}
{{- define "myaccount.tlsSecret" -}}
{{- $default := printf "%s-%s-tls" (include "myaccount.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- default $default (index (.root.Values.tls.secretNames | default dict) .name) -}}
{{- end -}}

{{/* The scheme of gRPC addresses: https with tls.enabled. */}}
{{- define "myaccount.grpcScheme" -}}
{{- ternary "https" "http" (eq (toString .Values.tls.enabled) "true") -}}
{{- end -}}

{{/* NATS_URL, from the Secret when one is named. */}}
{{- define "myaccount.natsUrlEnv" -}}
- name: NATS_URL
{{- if .Values.nats.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.existingSecret }}
      key: {{ .Values.nats.existingSecretKey }}
{{- else }}
  value: {{ .Values.nats.url | quote }}
{{- end }}
{{- end -}}

{{/* The variables every workload gets: logging, tokens, service addresses, telemetry. Takes (dict "root" $ "name" "identity" "svc" $svc). */}}
{{- define "myaccount.commonEnv" -}}
{{- $root := .root -}}
- name: RUST_LOG
  value: {{ default $root.Values.logLevel .svc.logLevel | quote }}
- name: TOKEN_ISSUER
  value: {{ $root.Values.tokens.issuer | quote }}
- name: TOKEN_AUDIENCE
  value: {{ $root.Values.tokens.audience | quote }}
{{- if and $root.Values.services.identity.enabled (ne .name "identity") }}
{{- $identity := include "myaccount.service" (dict "root" $root "name" "identity") | fromYaml }}
- name: JWKS_URL
  value: {{ printf "%s://%s:%v/.well-known/jwks.json" (ternary "https" "http" $root.Values.tls.enabled) (include "myaccount.componentName" (dict "root" $root "component" "identity")) $identity.adminPort | quote }}
{{- end }}
{{- range $other := include "myaccount.grpcServiceNames" $root | fromYamlArray }}
{{- if ne $other $.name }}
{{- $o := include "myaccount.service" (dict "root" $root "name" $other) | fromYaml }}
- name: {{ printf "%s_URL" $o.envPrefix }}
  value: {{ printf "%s://%s:%v" (include "myaccount.grpcScheme" $root) (include "myaccount.componentName" (dict "root" $root "component" $other)) $o.grpcPort | quote }}
{{- end }}
{{- end }}
{{- if and $root.Values.sharedSignals.issuer (has .name (list "signals" "gateway")) }}
- name: SIGNALS_ISSUER
  value: {{ $root.Values.sharedSignals.issuer | quote }}
{{- end }}
{{- if $root.Values.tls.enabled }}
- name: GRPC_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" (include "myaccount.tlsDir" $root) | quote }}
{{- end }}
{{- if $root.Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "myaccount-%s" .name | quote }}
{{- end }}
{{- end -}}

{{/*
The database URL variable of a service. Takes (dict "root" $ "name" "identity" "svc" $svc) and
optionally "secret": another Secret (the migration owner's), read under "<service>-database-url".
*/}}
{{- define "myaccount.databaseEnv" -}}
- name: {{ printf "%s_DATABASE_URL" .svc.envPrefix }}
  valueFrom:
    secretKeyRef:
      name: {{ default (include "myaccount.databaseSecretName" .) .secret }}
      key: {{ ternary (printf "%s-database-url" .name) (include "myaccount.databaseSecretKey" .) (not (empty .secret)) }}
{{- end -}}

{{/* The chart's variables of one workload. Takes (dict "root" $ "name" "identity" "svc" $svc). */}}
{{- define "myaccount.chartEnv" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $p := $svc.envPrefix -}}
{{- if eq $svc.kind "grpc" }}
- name: {{ $p }}_HOST
  value: {{ $root.Values.listenAddress | quote }}
- name: {{ $p }}_GRPC_PORT
  value: {{ $svc.grpcPort | quote }}
- name: {{ $p }}_ADMIN_PORT
  value: {{ $svc.adminPort | quote }}
- name: {{ $p }}_REQUEST_TIMEOUT
  value: {{ $svc.requestTimeout | quote }}
- name: {{ $p }}_DRAIN_TIMEOUT
  value: {{ $svc.drainTimeout | quote }}
{{- if $root.Values.tls.enabled }}
- name: {{ $p }}_GRPC_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" (include "myaccount.tlsDir" $root) | quote }}
- name: {{ $p }}_GRPC_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" (include "myaccount.tlsDir" $root) | quote }}
{{- end }}
{{- if and $svc.database $svc.database.enabled }}
{{ include "myaccount.databaseEnv" . }}
- name: {{ $p }}_DATABASE_MAX_CONNECTIONS
  value: {{ $svc.database.maxConnections | quote }}
- name: {{ $p }}_RUN_MIGRATIONS
  value: {{ ternary "false" "true" (eq (include "myaccount.migrationJob" $root) "true") | quote }}
{{- end }}
{{ include "myaccount.natsUrlEnv" $root }}
{{- if $root.Values.nats.credentials.enabled }}
- name: NATS_NKEY_SEED_FILE
  value: {{ printf "%s/%s" (include "myaccount.natsCredentialsDir" $root) $root.Values.nats.credentials.secretKey | quote }}
{{- end }}
- name: NATS_STREAM_REPLICAS
  value: {{ $root.Values.nats.streamReplicas | quote }}
- name: NATS_STREAM_MAX_AGE
  value: {{ $root.Values.nats.streamMaxAge | quote }}
- name: NATS_DUPLICATE_WINDOW
  value: {{ $root.Values.nats.duplicateWindow | quote }}
{{- with $root.Values.nats.namespace }}
- name: NATS_NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{- else }}
- name: {{ $p }}_HOST
  value: {{ $root.Values.listenAddress | quote }}
- name: {{ $p }}_PORT
  value: {{ $svc.httpPort | quote }}
- name: {{ $p }}_TRUST_FORWARDED_FOR
  value: {{ $svc.trustForwardedFor | default false | quote }}
{{- /* Same keys on every replica, so a cookie sealed by one opens on the others. */}}
- name: GATEWAY_COOKIE_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "cookieKeys.existingSecret is required: the gateway (services.%s) seals session cookies with GATEWAY_COOKIE_KEYS, which every replica must share. Create a Secret, e.g. kubectl -n %s create secret generic myaccount-keys --from-literal=%s=\"c1:$(head -c 32 /dev/urandom | base64)\", and set cookieKeys.existingSecret=myaccount-keys (docs/OPERATIONS.md, Making keys)" .name $root.Release.Namespace $root.Values.cookieKeys.existingSecretKey) $root.Values.cookieKeys.existingSecret }}
      key: {{ $root.Values.cookieKeys.existingSecretKey }}
- name: GATEWAY_HSTS
  value: {{ include "myaccount.hsts" (dict "root" $root "svc" $svc) | quote }}
{{- with $svc.corsAllowedOrigins }}
- name: GATEWAY_CORS_ALLOWED_ORIGINS
  value: {{ join "," . | quote }}
{{- end }}
{{- with $svc.authRateLimit }}
- name: GATEWAY_AUTH_RATE_LIMIT_PER_IP
  value: {{ .perIp | quote }}
- name: GATEWAY_AUTH_RATE_LIMIT_PER_ACCOUNT
  value: {{ .perAccount | quote }}
- name: GATEWAY_AUTH_RATE_LIMIT_PERIOD
  value: {{ .period | quote }}
{{- end }}
{{- if hasKey $svc "serviceConcurrencyLimit" }}
- name: GATEWAY_SERVICE_CONCURRENCY_LIMIT
  value: {{ $svc.serviceConcurrencyLimit | quote }}
{{- end }}
{{- if hasKey $svc "callRetries" }}
- name: GATEWAY_CALL_RETRIES
  value: {{ $svc.callRetries | quote }}
{{- end }}
{{- end }}
{{- if or (eq .name "identity") (eq .name "gateway") }}
- name: {{ $p }}_WORKLOAD_KEY_FILE
  value: {{ printf "%s/%s" (include "myaccount.workloadKeyDir" $root) $root.Values.workloadIdentity.secretKey | quote }}
{{- end }}
{{- if eq $svc.kind "grpc" }}
{{- /* Every service takes a person's calls from the gateway alone; security-info also identity's second-factor checks. */}}
{{- $trusted := list (printf "gateway=%s" (include "myaccount.workloadPublicKey" (dict "root" $root "name" "gateway" "callee" .name))) }}
{{- if eq .name "security-info" }}
{{- $trusted = append $trusted (printf "identity=%s" (include "myaccount.workloadPublicKey" (dict "root" $root "name" "identity" "callee" .name))) }}
{{- end }}
- name: {{ $p }}_TRUSTED_CALLERS
  value: {{ join "," $trusted | quote }}
{{- end }}
{{- if eq .name "identity" }}
- name: ACCESS_TOKEN_TTL
  value: {{ $root.Values.tokens.accessTokenTtl | quote }}
- name: SESSION_IDLE_TIMEOUT
  value: {{ $root.Values.tokens.sessionIdleTimeout | quote }}
- name: SESSION_MAX_LIFETIME
  value: {{ $root.Values.tokens.sessionMaxLifetime | quote }}
{{- with $root.Values.bootstrapAdmin.existingSecret }}
- name: IDENTITY_BOOTSTRAP_ADMIN_UPN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $root.Values.bootstrapAdmin.upnKey }}
- name: IDENTITY_BOOTSTRAP_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $root.Values.bootstrapAdmin.passwordKey }}
{{- end }}
{{- end }}
{{- if $svc.dataEncryptionKeys }}
- name: DATA_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "dataEncryption.existingSecret is required: services.%s seals data at rest with DATA_ENCRYPTION_KEYS, and the chart never generates it (a regenerated key makes that data unreadable). Create a Secret, e.g. kubectl -n %s create secret generic myaccount-keys --from-literal=%s=\"k1:$(head -c 32 /dev/urandom | base64)\", keep a copy in your secret manager, and set dataEncryption.existingSecret=myaccount-keys (docs/OPERATIONS.md, Making keys)" .name $root.Release.Namespace $root.Values.dataEncryption.existingSecretKey) $root.Values.dataEncryption.existingSecret }}
      key: {{ $root.Values.dataEncryption.existingSecretKey }}
{{- end }}
{{- if eq .name "security-info" }}
{{- $rp := include "myaccount.webauthn" $root | fromYaml }}
- name: WEBAUTHN_RP_ID
  value: {{ $rp.rpId | quote }}
- name: WEBAUTHN_RP_ORIGIN
  value: {{ $rp.rpOrigin | quote }}
- name: WEBAUTHN_RP_NAME
  value: {{ $rp.rpName | quote }}
{{- with $root.Values.phone }}
{{- if .provider }}
- name: PHONE_PROVIDER
  value: {{ .provider | quote }}
{{- if .url }}
- name: PHONE_PROVIDER_URL
  value: {{ .url | quote }}
{{- end }}
{{- if .account }}
- name: PHONE_PROVIDER_ACCOUNT
  value: {{ .account | quote }}
{{- end }}
{{- if .from }}
- name: PHONE_FROM
  value: {{ .from | quote }}
{{- end }}
- name: PHONE_PROVIDER_AUTH
  value: {{ .auth | quote }}
- name: PHONE_PROVIDER_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ required "phone.existingSecret is required with phone.provider: the provider's credential (Twilio's auth token, the webhook's token or HMAC key) comes from a Secret, e.g. kubectl create secret generic myaccount-phone --from-literal=phone-provider-token=... (docs/OPERATIONS.md)" .existingSecret }}
      key: {{ .existingSecretKey }}
{{- end }}
{{- end }}
{{- end }}
{{ include "myaccount.commonEnv" . }}
{{- end -}}

{{/*
Every variable of one workload: the chart's, except those the service sets itself in env (plain
values) or extraEnv (Kubernetes form), which follow. Takes (dict "root" $ "name" "identity" "svc" $svc).
*/}}
{{- define "myaccount.env" -}}
{{- $own := keys (.svc.env | default dict) -}}
{{- range (.svc.extraEnv | default list) -}}
{{- $own = append $own .name -}}
{{- end -}}
{{- $all := list -}}
{{- range (include "myaccount.chartEnv" . | fromYamlArray) -}}
{{- if not (has .name $own) -}}
{{- $all = append $all . -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := (.svc.env | default dict) -}}
{{- $all = append $all (dict "name" $key "value" (toString $value)) -}}
{{- end -}}
{{- range (.svc.extraEnv | default list) -}}
{{- $all = append $all . -}}
{{- end -}}
{{- toYaml $all -}}
{{- end -}}

{{/* Pod anti-affinity from a preset. Takes (dict "root" $ "component" name "preset" soft|hard|none). */}}
{{- define "myaccount.podAntiAffinity" -}}
{{- if eq .preset "soft" }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "myaccount.selectorLabels" . | nindent 12 }}
{{- else if eq .preset "hard" }}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "myaccount.selectorLabels" . | nindent 10 }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by the workloads and the Jobs. */}}
{{- define "myaccount.podCommon" -}}
serviceAccountName: {{ include "myaccount.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Whole seconds of a duration written as the services read them: 30, 250ms, 30s, 10m, 2h, 7d. */}}
{{- define "myaccount.seconds" -}}
{{- $v := toString . | trim -}}
{{- $digits := regexFind "^[0-9]+" $v -}}
{{- $n := atoi $digits -}}
{{- $unit := trimPrefix $digits $v | trim -}}
{{- if eq $unit "ms" -}}{{ div $n 1000 }}
{{- else if or (eq $unit "s") (eq $unit "") -}}{{ $n }}
{{- else if eq $unit "m" -}}{{ mul $n 60 }}
{{- else if eq $unit "h" -}}{{ mul $n 3600 }}
{{- else if eq $unit "d" -}}{{ mul $n 86400 }}
{{- else -}}{{ fail (printf "not a duration: %q (write 250ms, 30s, 10m, 2h or 7d)" $v) }}
{{- end -}}
{{- end -}}

{{/* Whether clients reach the portal over HTTPS through the chart's Ingress. */}}
{{- define "myaccount.ingressTls" -}}
{{- if and .Values.ingress.enabled (or .Values.ingress.tls (gt (len .Values.ingress.extraTls) 0)) }}true{{ end -}}
{{- end -}}

{{/* GATEWAY_HSTS: the gateway's hsts value, "auto" meaning on when the Ingress serves TLS. Takes (dict "root" $ "svc" $svc). */}}
{{- define "myaccount.hsts" -}}
{{- $hsts := "auto" -}}
{{- if hasKey .svc "hsts" -}}{{- $hsts = toString .svc.hsts -}}{{- end -}}
{{- if eq $hsts "auto" -}}
{{- ternary "true" "false" (eq (include "myaccount.ingressTls" .root) "true") -}}
{{- else -}}
{{- $hsts -}}
{{- end -}}
{{- end -}}

{{/*
security-info's WebAuthn relying party (YAML: rpId, rpOrigin, rpName): webauthn.* when set, else
the Ingress host (https with TLS), else localhost and http://localhost:8080 (a port-forward).
*/}}
{{- define "myaccount.webauthn" -}}
{{- $w := .Values.webauthn -}}
{{- $host := "localhost" -}}
{{- $origin := "http://localhost:8080" -}}
{{- if .Values.ingress.enabled -}}
{{- $host = .Values.ingress.hostname -}}
{{- $origin = printf "%s://%s" (ternary "https" "http" (eq (include "myaccount.ingressTls" .) "true")) .Values.ingress.hostname -}}
{{- end -}}
rpId: {{ default $host $w.rpId | quote }}
rpOrigin: {{ default $origin $w.rpOrigin | quote }}
rpName: {{ $w.rpName | quote }}
{{- end -}}
