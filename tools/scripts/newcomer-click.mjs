// The newcomer's first click, timed: opens the dashboard the demo printed,
// clicks billing's "+" once, and waits for the seed picture to draw the
// rebalance (a third billing box, with arrows from every partition).
// Usage: node tools/scripts/newcomer-click.mjs <dashboard url with ?token=> [chromium]
// The function passed to waitForFunction runs in the page.
/* global document */
import { chromium } from 'playwright-core';

const [url, executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'] =
  process.argv.slice(2);
if (!url) {
  console.error('usage: newcomer-click.mjs <dashboard url> [chromium path]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  const opened = performance.now();
  await page.goto(url);
  await page.locator('[data-seed-group="billing"]').first().waitFor({ timeout: 60_000 });
  const shown = performance.now();
  await page.locator('[data-group="billing"] button[data-action="scale-up"]').click();
  await page.waitForFunction(
    () => {
      const column = document.querySelector(
        '[data-seed-topic="patient.checkout"] [data-seed-group="billing"]',
      );
      const owners = new Set(
        [...(column?.querySelectorAll('[data-arrow]') ?? [])].map((arrow) =>
          arrow.getAttribute('data-owner'),
        ),
      );
      return column?.querySelectorAll('[data-consumer]').length === 3 && owners.size === 3;
    },
    undefined,
    { timeout: 60_000 },
  );
  const drawn = performance.now();
  console.log(
    JSON.stringify({
      pageShownMs: Math.round(shown - opened),
      clickToRebalanceDrawnMs: Math.round(drawn - shown),
    }),
  );
} finally {
  await browser.close();
}
