#!/usr/bin/env bash
# Validates docker-compose.yml with docker-compose (Debian's package, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v docker-compose >/dev/null 2>&1 || bash tools/scripts/apt-install.sh docker-compose
docker-compose -f docker-compose.yml config --quiet
echo "docker-compose.yml is valid ($(docker-compose version --short))"
