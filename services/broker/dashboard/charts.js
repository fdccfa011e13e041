// @ts-check
// A group's lag and consume rate over the last minutes, with its rebalances
// marked where they happened.

import { count, label, rate, s, time } from './dom.js';

/** @typedef {import('../../../libs/admin-api/src/dashboard-api').GroupView} GroupView */

const W = 420;
const H = 90;
const PAD = 4;

/**
 * @param {number[]} values
 * @param {number[]} times
 * @param {number} fromMs
 * @param {number} spanMs
 */
function line(values, times, fromMs, spanMs) {
  const top = Math.max(1, ...values);
  return values
    .map((value, i) => {
      const x = PAD + ((times[i] - fromMs) / spanMs) * (W - 2 * PAD);
      const y = H - PAD - (value / top) * (H - 2 * PAD - 12);
      return `${i === 0 ? 'M' : 'L'} ${x.toFixed(1)} ${y.toFixed(1)}`;
    })
    .join(' ');
}

/** @param {GroupView} group @returns {SVGElement} */
export function groupChart(group) {
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    'data-chart': group.groupId,
  });
  const samples = group.series;
  if (samples.length < 2) {
    svg.append(label({ x: PAD, y: H / 2, class: 'seed-caption' }, 'collecting samples…'));
    return svg;
  }
  const times = samples.map((sample) => sample.atMs);
  const fromMs = times[0];
  const spanMs = Math.max(1, times[times.length - 1] - fromMs);
  const lags = samples.map((sample) => sample.lag);
  const rates = samples.map((sample) => sample.consumeRate);
  for (const record of group.rebalances) {
    if (record.startedMs < fromMs) continue;
    const x = PAD + ((record.startedMs - fromMs) / spanMs) * (W - 2 * PAD);
    svg.append(
      s(
        'line',
        {
          x1: x,
          x2: x,
          y1: 12,
          y2: H - PAD,
          class: 'chart-rebalance',
          'data-rebalance-mark': record.generationId,
        },
        s(
          'title',
          {},
          `generation ${record.generationId}: ${record.trigger} at ${time(record.startedMs)}${record.pauseMs === undefined ? '' : `, paused ${record.pauseMs} ms`}`,
        ),
      ),
    );
  }
  svg.append(
    s('path', { d: line(lags, times, fromMs, spanMs), class: 'chart-lag' }),
    s('path', { d: line(rates, times, fromMs, spanMs), class: 'chart-rate' }),
    label(
      { x: PAD, y: 10, class: 'chart-legend lag' },
      `lag ${count(lags[lags.length - 1])} (max ${count(Math.max(...lags))})`,
    ),
    label(
      { x: W / 2, y: 10, class: 'chart-legend rate' },
      `${rate(rates[rates.length - 1])}/s consumed`,
    ),
    label(
      { x: W - PAD, y: H - 2, class: 'chart-axis' },
      `last ${Math.round(spanMs / 1000)} s; dashed: rebalances`,
    ),
  );
  return svg;
}
