#!/usr/bin/env bash
# Validates docker-compose.yml with docker-compose (Debian's package; installed
# here when missing, which needs root and Debian's repositories).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "docker-compose is not installed and cannot be installed here (needs root and apt-get)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi
docker-compose -f docker-compose.yml config --quiet
echo "docker-compose.yml is valid ($(docker-compose version --short))"
