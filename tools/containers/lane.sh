#!/usr/bin/env bash
# The container lane (`npm run test:containers`; the last step of .ci/run):
# a Docker engine, local stand-ins for the public base images, the
# integration suites against testcontainers' Postgres, and the compose smoke
# test of docker-compose.yml. Needs root and Debian's repositories for the
# packages it installs when missing (docker.io, docker-compose, debootstrap).
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\n--- container lane: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "Debian packages: docker.io, docker-compose, debootstrap"
bash tools/scripts/apt-install.sh docker.io docker-compose debootstrap

step "Docker engine"
started_dockerd=''
if ! docker info >/dev/null 2>&1; then
  dockerd >/var/log/hospital-dockerd.log 2>&1 &
  started_dockerd=$!
  trap '[ -n "$started_dockerd" ] && kill "$started_dockerd" 2>/dev/null; wait "$started_dockerd" 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -40 /var/log/hospital-dockerd.log >&2; exit 1; }
fi
docker info --format 'Docker {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}}'

step "stand-in base images (debootstrap + docker import)"
bash tools/containers/build-standins.sh

step "build"
npx nx run-many -t build --output-style=static >/dev/null

step "integration suites against testcontainers (POSTGRES_TEST_MODE=testcontainers)"
# The reaper image (ryuk) cannot be pulled here; every suite stops its own containers.
POSTGRES_TEST_MODE=testcontainers TESTCONTAINERS_RYUK_DISABLED=true \
  npx nx run-many -t test -p processes db billing housekeeping pharmacy system-tests --output-style=stream

step "compose smoke test (docker-compose up --build, 1,000 checkouts, scale, kill, down -v)"
node tools/dist/containers/compose-smoke.js

step "done"
