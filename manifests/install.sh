#!/usr/bin/env bash
# Install or uninstall the operator (this folder, a kustomize base) in the cluster that
# KUBECONFIG names. `make install` and `make uninstall` call it; docs/install.md explains it.
#
#   install.sh install     CRDs first (the guard policies of guard-policy.yaml take
#                          FinancialWorkloads as params), then the webhook's certificate (a
#                          Secret, generated once), then everything else with the CA injected
#                          into the ValidatingWebhookConfiguration. Idempotent.
#   install.sh uninstall   FinancialWorkloads first (their children go through garbage
#                          collection, and the call waits until they are gone), then every
#                          object install created, the guard policies and their bindings
#                          included. Idempotent.
#
# Environment: KUBECTL (default kubectl), IMAGE (an image reference that replaces the one in
# kustomization.yaml, by digest `name@sha256:...` or tag `name:tag`), FWOP_BUILD_DIR (where
# the rendered install is written, default build/install), FWOP_INSTALL_WAIT (seconds to
# wait for the operator's rollout; 0 skips the wait; default 180).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
BUILD="${FWOP_BUILD_DIR:-$REPO/build/install}"
KUBECTL="${KUBECTL:-kubectl}"
WAIT="${FWOP_INSTALL_WAIT:-180}"
NS=fwop-system
SECRET=fwop-webhook-tls
SERVICE=fwop-webhook
MANAGER=fwop-install
CRDS=(
  customresourcedefinition.apiextensions.k8s.io/financialworkloads.finance.compliance.dev
  customresourcedefinition.apiextensions.k8s.io/financialworkloadpolicies.finance.compliance.dev
)

say() { printf 'fwop-install: %s\n' "$*" >&2; }
k() { "$KUBECTL" "$@"; }
apply() { k apply --server-side --force-conflicts --field-manager="$MANAGER" "$@"; }

# The kustomize `images:` entry for $IMAGE, or nothing.
image_entry() {
  [[ -n "${IMAGE:-}" ]] || return 0
  local name tag
  if [[ "$IMAGE" == *@* ]]; then
    printf 'images:\n  - {name: fwop, newName: "%s", digest: "%s"}\n' "${IMAGE%@*}" "${IMAGE#*@}"
  elif [[ "${IMAGE##*/}" == *:* ]]; then
    name="${IMAGE%:*}" tag="${IMAGE##*:}"
    printf 'images:\n  - {name: fwop, newName: "%s", newTag: "%s"}\n' "$name" "$tag"
  else
    say "IMAGE must carry a digest (name@sha256:...) or a tag (name:tag): $IMAGE"
    exit 2
  fi
}

# A kustomization in $BUILD over this folder, with the CA bundle (base64) and the image.
render() {
  local ca_bundle="$1" base
  mkdir -p "$BUILD"
  base="$(realpath --relative-to="$BUILD" "$HERE")"
  {
    echo "# Written by manifests/install.sh; regenerated on every install."
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [$base]"
    image_entry
    if [[ -n "$ca_bundle" ]]; then
      echo "patches:"
      echo "  - target: {kind: ValidatingWebhookConfiguration, name: fwop}"
      echo "    patch: |-"
      echo "      - {op: add, path: /webhooks/0/clientConfig/caBundle, value: \"$ca_bundle\"}"
    fi
  } >"$BUILD/kustomization.yaml"
  k kustomize "$BUILD" >"$BUILD/fwop.yaml"
}

# The webhook's serving certificate, signed by a CA made for this install. The CA's key
# exists only in a temporary folder for the signature; the Secret holds the serving key and
# certificate and the CA certificate. An existing Secret is kept (delete it to rotate).
ensure_tls() (
  if k get secret "$SECRET" -n "$NS" >/dev/null 2>&1; then
    say "keeping the existing Secret $NS/$SECRET"
    exit 0
  fi
  dns="$SERVICE.$NS.svc"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
    -subj "/CN=fwop-webhook-ca" -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  openssl req -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -subj "/CN=$dns" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:$dns,DNS:$dns.cluster.local" >"$tmp/ext.cnf"
  openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 365 -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null
  k create secret generic "$SECRET" -n "$NS" --type=kubernetes.io/tls \
    --from-file=tls.crt="$tmp/tls.crt" --from-file=tls.key="$tmp/tls.key" \
    --from-file=ca.crt="$tmp/ca.crt" >/dev/null
  say "created the Secret $NS/$SECRET (serving certificate valid 365 days)"
)

install() {
  apply -k "$REPO/crds"
  k wait --for=condition=Established --timeout=60s "${CRDS[@]}"
  # PolicyReport CRDs: created only where absent (Kyverno or another tool may own them);
  # uninstall leaves them (other tools' reports may live in them).
  local crd
  for crd in "$REPO"/crds/wgpolicyk8s/*.yaml; do
    k get -f "$crd" >/dev/null 2>&1 || k create -f "$crd" >/dev/null
  done
  apply -f "$HERE/namespace.yaml"
  ensure_tls
  local ca_bundle
  ca_bundle="$(k get secret "$SECRET" -n "$NS" -o 'jsonpath={.data.ca\.crt}')"
  render "$ca_bundle"
  apply -f "$BUILD/fwop.yaml"
  if [[ "$WAIT" != 0 ]]; then
    k rollout status deployment/fwop -n "$NS" --timeout="${WAIT}s"
  fi
  say "installed; rendered objects in $BUILD/fwop.yaml"
}

uninstall() {
  if k get "${CRDS[0]}" >/dev/null 2>&1; then
    # Foreground: each workload stays until garbage collection has removed its children,
    # so when this returns no child is left behind. The operator is still running here and
    # leaves workloads that are being deleted alone.
    say "deleting every FinancialWorkload and waiting for their children to go"
    k delete financialworkloads.finance.compliance.dev --all --all-namespaces \
      --cascade=foreground --wait --timeout=300s
  fi
  render ""
  # Everything install created, by name (every object of the rendered install, so the
  # ValidatingAdmissionPolicies fwop-guard* and their bindings too); the namespace takes
  # the Deployment, the Secret and the rest of fwop-system with it, and the CRDs their
  # remaining objects.
  k delete --ignore-not-found --wait --timeout=300s -f "$BUILD/fwop.yaml"
  say "uninstalled (Pod Security labels the operator set on workload namespaces are kept)"
}

case "${1:-}" in
  install) install ;;
  uninstall) uninstall ;;
  *)
    echo "usage: $0 install|uninstall" >&2
    exit 2
    ;;
esac
