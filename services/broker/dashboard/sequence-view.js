// @ts-check
// One rebalance as a sequence diagram, numbered as the source material
// numbers the coordinator ↔ leader exchange: lifelines for the coordinator
// and each member, one arrow per protocol message the broker recorded.

import { arrowHead, h, label, s } from './dom.js';

/** @typedef {import('../../../libs/admin-api/src/history-api').RebalanceSequenceView} RebalanceSequenceView */
/** @typedef {import('../../../libs/admin-api/src/history-api').MessageView} MessageView */

const LANE_W = 190;
const FIRST_LANE = 110;
const HEAD = 56;
const ROW = 30;
const LINE = 14;

/** @param {MessageView} message */
const extraLines = (message) => (message.members.length > 0 ? 1 : 0) + message.shares.length;

/**
 * @param {string} groupId
 * @param {RebalanceSequenceView} sequence
 * @returns {HTMLElement}
 */
export function sequenceDiagram(groupId, sequence) {
  const lanes = ['coordinator'];
  for (const message of sequence.messages)
    for (const name of [message.from, message.to]) if (!lanes.includes(name)) lanes.push(name);
  const laneX = (/** @type {string} */ name) => FIRST_LANE + lanes.indexOf(name) * LANE_W;
  const height =
    HEAD +
    sequence.messages.reduce((sum, message) => sum + ROW + extraLines(message) * LINE, 0) +
    20;
  const width = FIRST_LANE + lanes.length * LANE_W;
  const svg = s('svg', {
    class: 'sequence',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    'data-sequence-generation': sequence.generationId,
  });
  svg.append(s('defs', {}, arrowHead('seq-head', { class: 'seq-head' })));
  for (const name of lanes) {
    const x = laneX(name);
    const leader = name === sequence.leaderClientId;
    svg.append(
      s('rect', {
        x: x - 80,
        y: 8,
        width: 160,
        height: 30,
        rx: 6,
        class: name === 'coordinator' ? 'lane coordinator' : 'lane',
      }),
      label(
        { x, y: 28, class: 'lane-name' },
        name === 'coordinator' ? 'Group Coordinator' : `${name}${leader ? ' (leader)' : ''}`,
      ),
      s('line', { x1: x, x2: x, y1: 38, y2: height - 8, class: 'lifeline' }),
    );
  }
  let y = HEAD;
  for (const message of sequence.messages) {
    const from = laneX(message.from);
    const to = laneX(message.to);
    const left = Math.min(from, to);
    const row = s('g', {
      'data-message': message.number,
      'data-message-kind': message.kind,
      'data-from': message.from,
      'data-to': message.to,
      'data-shares': message.shares
        .map((share) => `${share.clientId}:${share.partitions.join(',')}`)
        .join(';'),
    });
    row.append(
      s('line', {
        x1: from,
        x2: to === from ? to + 40 : to,
        y1: y + 12,
        y2: y + 12,
        class: message.error ? 'seq-arrow failed' : 'seq-arrow',
        'marker-end': 'url(#seq-head)',
      }),
      s('circle', { cx: from, cy: y + 12, r: 9, class: 'seq-number' }),
      label({ x: from, y: y + 16, class: 'seq-number-text' }, String(message.number)),
      label(
        { x: left + 14, y: y + 6, class: 'seq-label' },
        `${message.kind}${message.error ? ` → ${message.error}` : ''}  +${message.sinceStartMs} ms`,
        message.summary,
      ),
    );
    let line = y + ROW;
    if (message.members.length > 0) {
      row.append(
        label(
          { x: left + 14, y: line, class: 'seq-detail' },
          `members: ${message.members.join(', ')}`,
        ),
      );
      line += LINE;
    }
    for (const share of message.shares) {
      row.append(
        label(
          { x: left + 14, y: line, class: 'seq-detail' },
          `${share.clientId} ← ${share.partitions.join(', ') || '(none: idle)'}`,
        ),
      );
      line += LINE;
    }
    svg.append(row);
    y += ROW + extraLines(message) * LINE;
  }
  const cause = sequence.trigger
    ? `${sequence.trigger}${sequence.reason ? ` (${sequence.reason})` : ''}`
    : '';
  return h(
    'figure',
    { class: 'sequence-figure', 'data-group': groupId },
    h(
      'figcaption',
      {},
      h('strong', {}, `${groupId}, generation ${sequence.generationId}`),
      ` — ${cause || 'cause no longer in the history'}; protocol ${sequence.protocol || '—'}, leader ${sequence.leaderClientId || '—'}`,
      sequence.pauseMs === undefined ? '' : `; paused ${sequence.pauseMs} ms`,
      sequence.dropped ? ` (${sequence.dropped} more messages past the broker's bound)` : '',
    ),
    svg,
  );
}
