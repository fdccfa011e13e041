/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page functions below run inside the browser.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freeDemoPorts, runDemo, type RunningDemo } from '../src/demo/run-demo';

const ENSURE_CHROMIUM = join(__dirname, '..', 'scripts', 'ensure-chromium.sh');
const SCREENSHOTS = join(__dirname, '..', '..', 'test-results', 'screenshots');
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

interface DescribedGroup {
  groupId: string;
  generationId: number;
  leader: string;
  members: {
    memberId: string;
    clientId: string;
    assignment: { topic: string; partitions: number[] }[];
  }[];
}

declare global {
  interface Window {
    /** Set by watchPauses: whether each group's seed column was ever drawn paused. */
    pausesSeen?: { [group: string]: boolean };
  }
}

/** partition → owner, as the broker itself reports it (`hospital groups describe --json`). */
function ownersOf(group: DescribedGroup): { [partition: string]: string } {
  return Object.fromEntries(
    group.members
      .flatMap((member) =>
        member.assignment.flatMap((topic) =>
          topic.partitions.map((partition) => [`${topic.topic}-${partition}`, member.clientId]),
        ),
      )
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** partition → owner, as the seed picture draws its arrows. */
async function seedArrows(page: Page, group: string): Promise<{ [partition: string]: string }> {
  const arrows = await page
    .locator(`[data-seed-topic="patient.checkout"] [data-seed-group="${group}"] [data-arrow]`)
    .evaluateAll((paths) =>
      paths.map((path) => [path.getAttribute('data-partition'), path.getAttribute('data-owner')]),
    );
  return Object.fromEntries(arrows.sort(([a], [b]) => String(a).localeCompare(String(b))));
}

/**
 * The seed picture's arrows for a group equal the group's live assignment.
 * The page redraws once a second, so a rebalance that lands between the
 * two reads is waited out: they are compared again after each redraw, for
 * at most 10 redraws, and the last difference is what a failure shows.
 */
async function expectPictureOf(
  page: Page,
  group: string,
  describeGroup: (group: string) => Promise<DescribedGroup>,
): Promise<void> {
  let drawn = await seedArrows(page, group);
  let owners = ownersOf(await describeGroup(group));
  for (let redraw = 0; redraw < 10 && !isDeepStrictEqual(drawn, owners); redraw++) {
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const observer = new MutationObserver(() => {
            observer.disconnect();
            resolve();
          });
          observer.observe(document.getElementById('seed-pictures') as Node, {
            childList: true,
            subtree: true,
          });
          // A picture with nothing new to draw may not change: look again after two redraw periods.
          setTimeout(() => {
            observer.disconnect();
            resolve();
          }, 2_000);
        }),
    );
    drawn = await seedArrows(page, group);
    owners = ownersOf(await describeGroup(group));
  }
  expect(drawn).toEqual(owners);
}

/** Records, in the page, every group whose seed column is ever drawn paused. */
async function watchPauses(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.pausesSeen = {};
    const seen = window.pausesSeen;
    const look = () => {
      for (const column of document.querySelectorAll('[data-seed-group]')) {
        const group = column.getAttribute('data-seed-group') ?? '';
        seen[group] = seen[group] === true || column.getAttribute('data-paused') === 'true';
      }
    };
    new MutationObserver(look).observe(document.getElementById('seed-pictures') as Node, {
      childList: true,
      subtree: true,
    });
    look();
  });
}

async function screenshot(
  target: { screenshot(options: { path: string }): Promise<unknown> },
  name: string,
): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name);
  for (let attempt = 1; ; attempt++) {
    try {
      await target.screenshot({ path });
      break;
    } catch (error) {
      // The page redraws a card on each update: one replaced while it was being shot is shot again.
      if (attempt >= 3 || !String(error).includes('not attached to the DOM')) throw error;
    }
  }
  expect(statSync(path).size).toBeGreaterThan(10_000);
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
      // A killed replica is expelled after its session timeout: 4 s instead of 10 keeps the test short.
      consumerEnv: { SESSION_TIMEOUT_MS: '4000', HEARTBEAT_INTERVAL_MS: '500' },
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

  const describeGroup = (group: string): Promise<DescribedGroup> => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'groups', 'describe', group, '--broker', demo.brokerAddress, '--json'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (result.status !== 0) throw new Error(`groups describe ${group}: ${result.stderr}`);
    return Promise.resolve(JSON.parse(result.stdout) as DescribedGroup);
  };

  const openDashboard = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    await page.goto(`${demo.dashboardUrl}/?token=${demo.adminToken}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator('[data-seed-group="billing"]').first().waitFor();
    return page;
  };

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

    // The seed picture: 4 consumer boxes in billing's column, one arrow from each partition to its owner.
    const column = page.locator('[data-seed-topic="patient.checkout"] [data-seed-group="billing"]');
    await page.waitForFunction(() => {
      const column = document.querySelector(
        '[data-seed-topic="patient.checkout"] [data-seed-group="billing"]',
      );
      return (
        column?.querySelectorAll('[data-consumer]').length === 4 &&
        column.querySelectorAll('[data-arrow]').length === 4
      );
    });
    await expectPictureOf(page, 'billing', describeGroup);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await screenshot(page.locator('#seed'), 'seed-billing-scaled-to-4.png');
    await screenshot(card, 'group-card-billing.png');
    expect(await column.getAttribute('data-paused')).toBe('false');
    await page.close();
  }, 150_000);

  it('kills a replica: the pause is drawn, then 3 boxes whose arrows cover every partition', async () => {
    const page = await openDashboard();
    await watchPauses(page);
    const before = await describeGroup('billing');
    await page.locator('[data-replica="billing-4"] button[data-action="kill"]').click();
    // SIGKILL: no LeaveGroup; the coordinator expels the member after its session timeout.
    await page.waitForFunction(() => window.pausesSeen?.billing === true, undefined, {
      timeout: 30_000,
    });
    await screenshot(page.locator('#seed'), 'seed-billing-paused.png');
    await page.waitForFunction(
      () => {
        const column = document.querySelector(
          '[data-seed-topic="patient.checkout"] [data-seed-group="billing"]',
        );
        const arrows = [...(column?.querySelectorAll('[data-arrow]') ?? [])];
        return (
          column?.getAttribute('data-paused') === 'false' &&
          column.querySelectorAll('[data-consumer]').length === 3 &&
          new Set(arrows.map((arrow) => arrow.getAttribute('data-partition'))).size === 4
        );
      },
      undefined,
      { timeout: 30_000 },
    );
    const after = await describeGroup('billing');
    expect(after.generationId).toBeGreaterThan(before.generationId);
    expect(after.members.map((member) => member.clientId).sort()).toEqual([
      'billing-1',
      'billing-2',
      'billing-3',
    ]);
    expect(await seedArrows(page, 'billing')).toEqual(ownersOf(after));
    await screenshot(page.locator('#seed'), 'seed-billing-after-kill.png');
    await page.close();
  }, 60_000);

  it('adds partitions from the topic row: new strips, with arrows from every group; bad input is named', async () => {
    const page = await openDashboard();
    await watchPauses(page);
    const housekeepingBefore = (await describeGroup('housekeeping')).generationId;
    const form = page.locator('[data-topic="patient.checkout"] [data-form="add-partitions"]');
    await form.locator('input').fill('2');
    await form.locator('button').click();
    await page.locator('#message[data-failed="true"]').waitFor();
    expect(await page.locator('#message').textContent()).toMatch(
      /must be larger.*\[field: partitions\]/,
    );
    await form.locator('input').fill('6');
    await form.locator('button').click();
    await page.waitForFunction(
      () => {
        const picture = document.querySelector('[data-seed-topic="patient.checkout"]');
        if (picture?.querySelectorAll('[data-strip]').length !== 6) return false;
        return ['billing', 'housekeeping', 'pharmacy'].every(
          (group) =>
            new Set(
              [
                ...(picture
                  .querySelector(`[data-seed-group="${group}"]`)
                  ?.querySelectorAll('[data-arrow]') ?? []),
              ].map((arrow) => arrow.getAttribute('data-partition')),
            ).size === 6,
        );
      },
      undefined,
      { timeout: 60_000 },
    );
    for (const group of ['billing', 'housekeeping', 'pharmacy'])
      await expectPictureOf(page, group, describeGroup);
    // Housekeeping is cooperative-sticky: it rebalanced, and its picture never paused.
    expect((await describeGroup('housekeeping')).generationId).toBeGreaterThan(housekeepingBefore);
    expect(await page.evaluate(() => window.pausesSeen?.housekeeping ?? false)).toBe(false);
    await screenshot(page.locator('#seed'), 'seed-six-partitions.png');
    await page.close();
  }, 90_000);

  it('runs housekeeping cooperatively: a third replica joins in two rounds and no kept partition pauses', async () => {
    const page = await openDashboard();
    await watchPauses(page);
    const before = await describeGroup('housekeeping');
    const card = page.locator('[data-group="housekeeping"]');
    await card.locator('button[data-action="scale-up"]').click();
    await page.waitForFunction(
      () => {
        const column = document.querySelector(
          '[data-seed-topic="patient.checkout"] [data-seed-group="housekeeping"]',
        );
        return (
          column?.querySelectorAll('[data-consumer]').length === 3 &&
          column.querySelectorAll('[data-consumer][data-idle="false"]').length === 3
        );
      },
      undefined,
      { timeout: 60_000 },
    );
    const after = await describeGroup('housekeeping');
    // Round 1 revokes what moves; the member that gave it up rejoins at once, and round 2 hands it over.
    expect(after.generationId).toBeGreaterThanOrEqual(before.generationId + 2);
    await card.locator('[data-pause^="round 2"]').first().waitFor();
    expect(await page.evaluate(() => window.pausesSeen?.housekeeping ?? false)).toBe(false);
    expect(await seedArrows(page, 'housekeeping')).toEqual(ownersOf(after));
    const eager = await page
      .locator('[data-group="billing"] [data-pause^="everyone paused"]')
      .count();
    expect(eager).toBeGreaterThan(0);
    await screenshot(card, 'group-card-housekeeping-cooperative.png');
    await page.close();
  }, 90_000);

  it('draws a rebalance as its messages: the leader’s SyncGroup carries every member’s assignment', async () => {
    const page = await openDashboard();
    const billing = await describeGroup('billing');
    const entry = page.locator(
      `[data-group="billing"] .timeline li[data-generation="${billing.generationId}"] [data-action="show-sequence"]`,
    );
    await entry.click();
    const diagram = page.locator(`[data-sequence-generation="${billing.generationId}"]`);
    await diagram.waitFor();
    const leaderSync = diagram.locator('[data-message-kind="SyncGroup"]:not([data-shares=""])');
    expect(await leaderSync.count()).toBe(1);
    const leader = billing.members.find((member) => member.memberId === billing.leader);
    expect(await leaderSync.getAttribute('data-from')).toBe(leader?.clientId);
    const shares = Object.fromEntries(
      ((await leaderSync.getAttribute('data-shares')) ?? '').split(';').map((share) => {
        const [client, partitions] = share.split(':');
        return [client, partitions.split(',').filter(Boolean).sort()];
      }),
    );
    // Exactly the assignment the broker holds for this generation, member by member.
    expect(shares).toEqual(
      Object.fromEntries(
        billing.members.map((member) => [
          member.clientId,
          member.assignment
            .flatMap((topic) => topic.partitions.map((partition) => `${topic.topic}-${partition}`))
            .sort(),
        ]),
      ),
    );
    // Each member's answer carries its own share only.
    const answers = diagram.locator('[data-message-kind="SyncGroup answer"]');
    expect(await answers.count()).toBe(billing.members.length);
    for (const answer of await answers.all())
      expect((await answer.getAttribute('data-shares'))?.split(';')).toHaveLength(1);
    await screenshot(page.locator('#sequence'), 'sequence-billing.png');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
