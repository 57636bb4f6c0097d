#!/usr/bin/env bash
# Builds a release binary and runs the demo: Gatehouse on embedded
# defaults (a generated self-signed certificate) in front of a small
# upstream that it starts here. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target gatehouse

port="${GATEHOUSE_DEMO_PORT:-8443}"
upstream_port="${GATEHOUSE_DEMO_UPSTREAM_PORT:-8081}"
workdir="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$workdir"' EXIT INT TERM

sed -e "s/@PORT@/${port}/g" -e "s/@UPSTREAM_PORT@/${upstream_port}/g" \
  examples/demo/config.yaml > "$workdir/config.yaml"

python3 examples/demo/upstream.py "$upstream_port" &
sleep 0.3

cat <<MSG

  Gatehouse demo
  --------------
  Open   https://demo.localhost:${port}/          (public route, proxied to the demo app)
         https://demo.localhost:${port}/.well-known/pomerium
         https://private.localhost:${port}/       (protected route: refused without a policy)
  The certificate is self-signed: accept the browser warning, or use curl -k:
         curl -k https://demo.localhost:${port}/
  Edit ${workdir}/config.yaml while it runs: changes apply at once.
  Ctrl-C stops everything.

MSG
build/release/src/gatehouse --config "$workdir/config.yaml"
