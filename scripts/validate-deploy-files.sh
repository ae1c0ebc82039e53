#!/usr/bin/env bash
# Validates compose.yaml against the Compose specification's schema (dclint, from npm) and the
# Kubernetes example in deploy/kubernetes/ against Kubernetes' own schemas (kubernetes-validate,
# from PyPI, which bundles them: no cluster is needed), strictly: an unknown field fails. The
# example is checked against 1.30, the oldest Kubernetes with the preStop sleep action it uses,
# and against the newest the validator knows.
set -euo pipefail
cd "$(dirname "$0")/.."

DCLINT=dclint@3.1.0
KUBERNETES_VALIDATE=kubernetes-validate==1.37.0
VENV=target/deploy-check/venv

# Style rules are left to taste; --quiet keeps the errors: the schema and unbound published ports.
npx --yes "$DCLINT" --quiet compose.yaml
echo "deploy-check: compose.yaml is valid Compose"

if ! python3 -m venv --help >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "deploy-check: python3 with venv is missing, and CI must validate the Kubernetes example" >&2
    exit 1
  fi
  echo "deploy-check: skipped the Kubernetes example: it needs python3 with venv (apt-get install python3-venv)"
  exit 0
fi
if ! "$VENV/bin/pip" show kubernetes-validate 2>/dev/null | grep -qx "Version: ${KUBERNETES_VALIDATE#*==}"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$KUBERNETES_VALIDATE"
fi
for version in 1.30.0 1.37.0; do
  "$VENV/bin/kubernetes-validate" --strict --quiet --kubernetes-version "$version" deploy/kubernetes/*.yaml
done
echo "deploy-check: deploy/kubernetes/ is valid for Kubernetes 1.30 and 1.37"
