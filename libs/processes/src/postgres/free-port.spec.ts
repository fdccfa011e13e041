import { createServer } from 'node:net';
import { ephemeralPortRange, findFreePortBlock, portBlockStarts } from './free-port';

describe('processes/free-port', () => {
  it('gives replica ports below the ephemeral range, where no outgoing connection can take one', async () => {
    const { low } = ephemeralPortRange();
    for (let run = 0; run < 20; run++) {
      const base = await findFreePortBlock(16);
      expect(base).toBeGreaterThanOrEqual(20_000);
      expect(base + 16).toBeLessThanOrEqual(low);
      // Every port of the block can be listened on.
      for (let port = base; port < base + 16; port++) await listenAndClose(port);
    }
  });

  it('goes above the ephemeral range when there is no room below it, and anywhere only when there is none on either side', () => {
    expect(portBlockStarts(16, { low: 32_768, high: 60_999 })).toEqual({
      first: 20_000,
      last: 32_752,
    });
    expect(portBlockStarts(16, { low: 10_000, high: 40_000 })).toEqual({
      first: 40_001,
      last: 65_520,
    });
    expect(portBlockStarts(16, { low: 1_024, high: 65_535 })).toEqual({
      first: 1_024,
      last: 65_520,
    });
  });

  it("reads Linux's ephemeral range, and falls back to IANA's where there is none", () => {
    expect(ephemeralPortRange(() => '32768\t60999\n')).toEqual({ low: 32_768, high: 60_999 });
    expect(
      ephemeralPortRange(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual({ low: 49_152, high: 65_535 });
    expect(ephemeralPortRange(() => 'garbage')).toEqual({ low: 49_152, high: 65_535 });
  });
});

function listenAndClose(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
