#!/usr/bin/env bash
# Installs what building, running and testing Gatehouse needs on Debian 12.
# Idempotent: packages already present are skipped quickly.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build clang-14 lld-14 mold ccache pkg-config git
  # libraries (Boost 1.81: never libboost-dev, which is 1.74 and conflicts)
  libboost1.81-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev libre2-dev libnghttp2-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libsqlite3-dev libpq-dev
  # tests and fuzzing
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # real peers used by the tests and the demo
  curl openssl python3 python3-websockets python3-h2 python3-grpcio python3-protobuf
  nghttp2-client procps postgresql-15 tzdata
)

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
