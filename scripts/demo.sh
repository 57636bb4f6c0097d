#!/usr/bin/env bash
# Builds a release binary and runs the demo: the bundled test identity
# provider (tests/support/idp, users alice and bob, on 127.0.0.1) and
# Gatehouse on embedded defaults (a generated self-signed certificate) in
# front of a small upstream that it starts here, with a public route and a
# route that needs a sign-in. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target gatehouse

port="${GATEHOUSE_DEMO_PORT:-8443}"
upstream_port="${GATEHOUSE_DEMO_UPSTREAM_PORT:-8081}"
idp_port="${GATEHOUSE_DEMO_IDP_PORT:-9000}"
workdir="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$workdir"' EXIT INT TERM

# The identity provider: its client's redirect URL names Gatehouse's port.
sed -e "s/@PORT@/${port}/g" scripts/demo-idp.json > "$workdir/idp.json"
node tests/support/idp/server.mjs --host 127.0.0.1 --port "$idp_port" \
  --config "$workdir/idp.json" > "$workdir/idp.log" 2>&1 &
issuer="http://127.0.0.1:${idp_port}"
for _ in $(seq 1 100); do
  if curl -fsS -m 2 -o /dev/null "$issuer/.well-known/openid-configuration" 2>/dev/null; then break; fi
  sleep 0.1
done
if ! curl -fsS -m 2 -o /dev/null "$issuer/.well-known/openid-configuration"; then
  echo "the identity provider did not start (port ${idp_port} busy?):" >&2
  cat "$workdir/idp.log" >&2
  exit 1
fi

# Gatehouse: the demo routes, a route for any signed-in user first, and
# sign-in through that provider. The secrets are new at every run, so every
# run starts signed out.
cat > "$workdir/signed-in-route.yaml" <<YAML
  # Any signed-in user (added by scripts/demo.sh).
  - from: https://app.localhost
    to: http://127.0.0.1:${upstream_port}
    allow_any_authenticated_user: true
YAML
sed -e "s/@PORT@/${port}/g" -e "s/@UPSTREAM_PORT@/${upstream_port}/g" \
  -e "/^routes:/r $workdir/signed-in-route.yaml" \
  examples/demo/config.yaml > "$workdir/config.yaml"
cat >> "$workdir/config.yaml" <<YAML

# Sign-in (added by scripts/demo.sh).
authenticate_service_url: https://authenticate.localhost:${port}
idp_provider: oidc
idp_provider_url: ${issuer}
idp_client_id: gatehouse-demo
idp_client_secret: gatehouse-demo-secret
shared_secret: $(head -c32 /dev/urandom | base64)
cookie_secret: $(head -c32 /dev/urandom | base64)
YAML

python3 examples/demo/upstream.py "$upstream_port" &
sleep 0.3

cat <<MSG

  Gatehouse demo
  --------------
  Open   https://app.localhost:${port}/           (signed-in users only: you are sent to sign in)
         user  alice   password  alice-password
         (or   bob     password  bob-password)
         https://private.localhost:${port}/       (a policy: e-mail addresses at example.com)
         https://app.localhost:${port}/.pomerium/           (who you are signed in as)
         https://app.localhost:${port}/.pomerium/sign_out   (sign out)
         https://demo.localhost:${port}/          (public route, proxied to the demo app)
         https://demo.localhost:${port}/.well-known/pomerium
  The certificate is self-signed: accept the browser warning (for app.localhost and
  again for authenticate.localhost, where sign-in happens), or use curl -k:
         curl -k https://demo.localhost:${port}/
         curl -k -H 'Accept: application/json' https://app.localhost:${port}/    (401)
  The identity provider runs at ${issuer} (its log: ${workdir}/idp.log).
  Edit ${workdir}/config.yaml while it runs: changes apply at once.
  Ctrl-C stops everything.

MSG
build/release/src/gatehouse --config "$workdir/config.yaml"
