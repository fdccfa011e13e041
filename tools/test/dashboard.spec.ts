/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page functions below run inside the browser.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freeDemoPorts, runDemo, type RunningDemo } from '../src/demo/run-demo';

const ENSURE_CHROMIUM = join(__dirname, '..', 'scripts', 'ensure-chromium.sh');
const SCREENSHOTS = join(__dirname, '..', '..', 'test-results');
const CLI = join(__dirname, '..', 'dist', 'main.js');

/** The owners the page shows for billing's partitions, and the generation on its card. */
async function billingOnPage(page: Page): Promise<{ owners: string[]; generation: number }> {
  const card = page.locator('[data-group="billing"]');
  return {
    owners: await card
      .locator('.owner')
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-owner') ?? '')),
    generation: Number(await card.getAttribute('data-generation')),
  };
}

describe('the dashboard in headless Chromium', () => {
  let stateDir: string | undefined;
  let demo: RunningDemo;
  let browser: Browser;
  let startedAt: number;
  /** Debian's Chromium (installed here when missing, as root on Debian); playwright-core drives it, no browser download. */
  let chromiumPath = '';
  beforeAll(() => {
    const found = spawnSync('bash', [ENSURE_CHROMIUM], { encoding: 'utf8', timeout: 600_000 });
    if (found.status !== 0)
      throw new Error(found.stderr.trim().split('\n').at(-1) || 'no Chromium could be had');
    chromiumPath = found.stdout.trim().split('\n').at(-1) as string;
  }, 610_000);
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hospital-dashboard-'));
    const ports = await freeDemoPorts(4);
    startedAt = Date.now();
    // What `npm start` runs, on free ports.
    demo = await runDemo({
      stateDir,
      fresh: true,
      rate: 20,
      replicas: { billing: 2, housekeeping: 2, pharmacy: 1 },
      ports,
      log: () => {},
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      // No sandbox as root in CI; no background traffic to hosts this network cannot reach.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('shows checkouts flowing into all three groups within 60 s of the start', async () => {
    const page = await browser.newPage();
    await page.goto(demo.dashboardUrl);
    await page.locator('#connection[data-state="live"]').waitFor();
    // Every group has committed past offset 0 on some partition: its replicas consumed and committed.
    await page.waitForFunction(
      () =>
        ['billing', 'housekeeping', 'pharmacy'].every((group) =>
          [...document.querySelectorAll(`[data-group="${group}"] [data-committed]`)].some(
            (cell) => Number(cell.getAttribute('data-committed')) > 0,
          ),
        ),
      undefined,
      { timeout: Math.max(1_000, startedAt + 60_000 - Date.now()) },
    );
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    await page.close();
  }, 70_000);

  it('answers `hospital groups describe billing` while the demo runs', () => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'groups', 'describe', 'billing', '--broker', demo.brokerAddress],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^group billing: Stable, generation \d+, 2 member\(s\)/m);
    expect(result.stdout).toMatch(
      /TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/,
    );
    expect(result.stdout.match(/^patient\.checkout\s+\d/gm)).toHaveLength(4);
  });

  it('scales billing from 2 to 4 with its buttons and shows the new owners', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${demo.dashboardUrl}/?token=${demo.adminToken}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    expect(page.url()).not.toContain('token='); // taken into local storage, not left in the address bar

    const card = page.locator('[data-group="billing"]');
    await card.locator('[data-replicas="2"]').waitFor();
    await page.waitForFunction(
      () =>
        new Set(
          [...document.querySelectorAll('[data-group="billing"] .owner')].map((cell) =>
            cell.getAttribute('data-owner'),
          ),
        ).size === 2,
    );
    const before = await billingOnPage(page);
    expect(new Set(before.owners)).toEqual(new Set(['billing-1', 'billing-2']));
    expect(await page.locator('[data-topic="patient.checkout"]').textContent()).toContain('0:');

    await card.locator('button[data-action="scale-up"]').click();
    await card.locator('[data-replicas="3"]').waitFor();
    await card.locator('button[data-action="scale-up"]').click();
    await card.locator('[data-replicas="4"]').waitFor();
    await card
      .locator('[data-replica="billing-4"] .badge[data-state="running"]')
      .waitFor({ timeout: 60_000 });

    // Four members, one partition each: the page shows the new owners and the rebalances that made them.
    await page.waitForFunction(
      () => {
        const owners = [...document.querySelectorAll('[data-group="billing"] .owner')].map((cell) =>
          cell.getAttribute('data-owner'),
        );
        return owners.length === 4 && new Set(owners).size === 4 && !owners.includes('');
      },
      undefined,
      { timeout: 60_000 },
    );
    const after = await billingOnPage(page);
    expect([...after.owners].sort()).toEqual(['billing-1', 'billing-2', 'billing-3', 'billing-4']);
    expect(after.generation).toBeGreaterThan(before.generation);
    await expect(card.locator('.timeline li').first().textContent()).resolves.toContain(
      'member joined',
    );
    expect(await card.locator('[data-member]').count()).toBe(4);

    mkdirSync(SCREENSHOTS, { recursive: true });
    const screenshot = join(SCREENSHOTS, 'dashboard-billing-scaled-to-4.png');
    await card.screenshot({ path: screenshot });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
  }, 150_000);
});
