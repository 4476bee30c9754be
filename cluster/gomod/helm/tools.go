//go:build tools

// Pins helm's command in this module; cluster/build.sh builds it.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
