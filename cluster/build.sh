#!/usr/bin/env bash
# Build (or reuse) the local test cluster's binaries from the pinned wrapper
# modules in cluster/gomod/. Each module builds into its own cache folder whose
# name carries a hash of its go.mod, go.sum and RECIPE below, so a binary is
# rebuilt only when a pinned version (or the way it is built) changes:
#
#   ${FWOP_CACHE:-~/.cache/fwop-cluster}/<module>-<hash>/bin/...
#
# Prints "export FWOP_BIN_<MODULE>=<dir>" lines on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${FWOP_CACHE:-$HOME/.cache/fwop-cluster}"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--mod=mod}" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
mkdir -p "$cache"

log() { echo "cluster/build: $*" >&2; }

# Bump when the build commands below change in a way that changes the binaries
# (flags, stamps, the stage files copied); the pinned versions are hashed anyway.
RECIPE=1

# key MODULE -> a short hash of what decides the build's output
key() { { cat "$here/gomod/$1/go.mod" "$here/gomod/$1/go.sum" "$here/gomod/$1/"*.go 2>/dev/null; echo "recipe $RECIPE"; } | sha256sum | cut -c1-12; }

# version MODULE PATH -> the version of PATH pinned in MODULE's go.mod
version() { (cd "$here/gomod/$1" && go list -m -f '{{.Version}}' "$2"); }

build_kubernetes() {
  local out=$1 v major minor ldflags="-s -w"
  v=$(version kubernetes k8s.io/kubernetes)
  major=${v#v}; major=${major%%.*}
  minor=${v#v*.}; minor=${minor%%.*}
  # Without these stamps /version and `kubectl version` report v0.0.0.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  (cd "$here/gomod/kubernetes" && go build -trimpath -ldflags "$ldflags" -o "$out/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local out=$1
  (cd "$here/gomod/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  local out=$1 dir
  (cd "$here/gomod/kwok" && go build -trimpath -ldflags "-s -w" -o "$out/bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
  # The Stage objects that make fake nodes Ready and pods Running ship in the module.
  dir=$(cd "$here/gomod/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  mkdir -p "$out/stages"
  cp "$dir"/kustomize/stage/node/fast/node-initialize.yaml \
     "$dir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
     "$dir"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml "$out/stages/"
  chmod u+w "$out"/stages/*.yaml
}

# The kstatus judge of the cluster tests (tests/cluster/test_kstatus.py): its own main.go.
build_kstatus() {
  local out=$1
  (cd "$here/gomod/kstatus" && go build -trimpath -ldflags "-s -w" -o "$out/bin/kstatus" .)
}

# helm, for the chart tests (tests/cluster/test_chart*.py): lint, template, install.
build_helm() {
  local out=$1 v
  v=$(version helm helm.sh/helm/v4)
  (cd "$here/gomod/helm" && go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$v -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    -o "$out/bin/helm" helm.sh/helm/v4/cmd/helm)
}

for module in etcd kwok kubernetes kstatus helm; do
  dest="$cache/$module-$(key "$module")"
  if [ -f "$dest/.complete" ]; then
    [ -z "${FWOP_VERBOSE:-}" ] || log "$module: cached in $dest"
  else
    log "$module: building into $dest (the first Kubernetes build takes many minutes)"
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    start=$(date +%s)
    "build_$module" "$dest.tmp"
    rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.complete"
    log "$module: built in $(( $(date +%s) - start ))s"
  fi
  echo "export FWOP_BIN_$(echo "$module" | tr a-z A-Z)=$dest"
done
