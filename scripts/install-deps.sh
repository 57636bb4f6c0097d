#!/usr/bin/env bash
# Installs what building, running and testing Gatehouse needs on Debian 12.
# Idempotent: packages already present are skipped quickly.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build clang-14 lld-14 mold ccache pkg-config git
  # libraries (Boost 1.81: never libboost-dev, which is 1.74 and conflicts)
  libboost1.81-dev libssl-dev libyaml-dev nlohmann-json3-dev libre2-dev libnghttp2-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libsqlite3-dev libpq-dev
  # tests and fuzzing
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # real peers used by the tests and the demo
  curl openssl python3 python3-websockets python3-h2 python3-grpcio python3-protobuf
  nghttp2-client procps postgresql-15 tzdata python3-yaml
  # the sign-in tests: a browserless client, JWT checks and headless Chromium
  python3-requests python3-cryptography python3-jwt chromium
  # the side-by-side benchmark (bench/run.sh): nginx, Apache + mod_auth_openidc, load generators
  nginx-light apache2 libapache2-mod-auth-openidc wrk hey
)
# The test identity provider runs on Node.js (18 or newer). Debian's nodejs
# is installed only when no node is on the PATH already.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages of the test identity provider and browser driver, exactly as
# locked; skipped while node_modules matches the lock file.
idp_dir="$(dirname "$0")/../tests/support/idp"
lock_sum="$(sha256sum "$idp_dir/package-lock.json" | cut -d' ' -f1)"
stamp="$idp_dir/node_modules/.installed-lock-sha256"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  echo "installing npm packages in tests/support/idp"
  npm ci --prefix "$idp_dir" --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi
