#!/usr/bin/env bash
# Times a newcomer's path on this machine, from a fresh clone: `npm ci`,
# `npm start` until the demo prints its dashboard, then one click on
# billing's "+" until the seed picture draws the rebalance.
# Usage: tools/scripts/newcomer-path.sh [repository]   (default: this one)
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
work=$(mktemp -d /tmp/newcomer-XXXXXX)
demo=''
cleanup() {
  # The demo runs in its own process group: npm, the shell nx runs and the demo all get the interrupt.
  if [ -n "$demo" ]; then kill -INT -- "-$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$repo" "$work/clone"
cd "$work/clone"
now() { date +%s.%N; }
start=$(now)
echo "[newcomer] npm ci" >&2
npm ci --no-audit --no-fund >"$work/ci.log" 2>&1
installed=$(now)
echo "[newcomer] npm start" >&2
setsid npm start >"$work/demo.log" 2>&1 &
demo=$!
until grep -q 'The hospital is running' "$work/demo.log"; do
  if ! kill -0 "$demo" 2>/dev/null; then tail -20 "$work/demo.log" >&2; exit 1; fi
  sleep 0.2
done
running=$(now)
url=$(grep -o 'http://127.0.0.1:[0-9]*/?token=[0-9a-f]*' "$work/demo.log" | head -1)
browser=$(bash tools/scripts/ensure-chromium.sh | tail -1)
echo "[newcomer] clicking billing's + on $url" >&2
click=$(node tools/scripts/newcomer-click.mjs "$url" "$browser")
done_at=$(now)
node -e '
const [start, installed, running, done] = process.argv.slice(1, 5).map(Number);
const click = JSON.parse(process.argv[5]);
console.log(JSON.stringify({
  npmCiS: +(installed - start).toFixed(1),
  npmStartToDashboardS: +(running - installed).toFixed(1),
  ...click,
  totalS: +(done - start).toFixed(1),
}));' "$start" "$installed" "$running" "$done_at" "$click"
