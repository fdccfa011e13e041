import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Linux's ephemeral range: where the kernel picks the local port of every outgoing connection. */
export function ephemeralPortRange(
  read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
): { low: number; high: number } {
  try {
    const [low, high] = read().trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low <= high) return { low, high };
  } catch {
    // Not Linux: IANA's dynamic range, which macOS and Windows use.
  }
  return { low: 49_152, high: 65_535 };
}

/** Below the ephemeral range and above the well-known and common service ports. */
const FIRST_FIXED_PORT = 20_000;
const LAST_PORT = 65_535;

/**
 * Where a block of `count` replica ports may start: below the ephemeral
 * range, else above it. Only when neither side has room, anywhere above the
 * privileged ports: an outgoing connection may then take one of them.
 */
export function portBlockStarts(
  count: number,
  ephemeral: { low: number; high: number },
): { first: number; last: number } {
  if (ephemeral.low - count >= FIRST_FIXED_PORT)
    return { first: FIRST_FIXED_PORT, last: ephemeral.low - count };
  if (LAST_PORT - count + 1 >= ephemeral.high + 1)
    return { first: ephemeral.high + 1, last: LAST_PORT - count + 1 };
  return { first: 1_024, last: LAST_PORT - count + 1 };
}

/**
 * The first of `count` consecutive free ports on 127.0.0.1, for replicas
 * numbered from a base port that stay theirs across restarts. The block lies
 * outside the ephemeral range where the machine leaves room: a port inside
 * it could be taken at any moment as the local end of some outgoing
 * connection (a Postgres or gRPC client's), and a replica restarted on it
 * would fail with EADDRINUSE.
 */
export async function findFreePortBlock(count: number): Promise<number> {
  const { first, last } = portBlockStarts(count, ephemeralPortRange());
  for (let attempt = 0; attempt < 50; attempt++) {
    // A random start, so that two demos or test runs at once rarely probe the same block.
    const base = first + Math.floor(Math.random() * (last - first + 1));
    let free = true;
    for (let port = base; free && port < base + count; port++) free = await isFree(port);
    if (free) return base;
  }
  throw new Error(
    `no ${count} consecutive free ports found on 127.0.0.1 in ${first}..${last + count - 1}`,
  );
}
