// @ts-check
// The source material's picture, live: each partition as a strip of its
// last offsets, each group's committed offset as a marker on the strip, and
// an arrow from each partition to the consumer that owns it. Groups reading
// the same topic are drawn side by side, as billing and housekeeping are.

import { arrowHead, count, groupColour, label, s } from './dom.js';

/** @typedef {import('../../../libs/admin-api/src/dashboard-api').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').GroupView} GroupView */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').TopicView} TopicView */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').MemberView} MemberView */

/** Offsets drawn per strip: the newest ones. */
export const CELLS = 10;
const CELL_W = 36;
const ROW_H = 40;
const TOP = 58;
const LABEL_W = 92;
const STRIP_W = CELLS * CELL_W;
const ARROW_W = 70;
const BOX_W = 172;
const COLUMN_GAP = 26;
const COLUMN_W = ARROW_W + BOX_W + COLUMN_GAP;
const FIRST_COLUMN_X = LABEL_W + STRIP_W + 62;
/** An eager pause is often a few milliseconds: it stays on screen this long, labelled with its real length. */
export const PAUSE_SHOWN_MS = 2_000;
/** A member silent this long is drawn as silent (the coordinator waits for its session timeout). */
const SILENT_AFTER_MS = 3_500;

const REBALANCING = new Set(['PreparingRebalance', 'CompletingRebalance']);

/**
 * What a group looks like right now: paused (no arrows) while an eager
 * rebalance runs, and for PAUSE_SHOWN_MS after one that was too quick to
 * see; a cooperative one keeps the arrows of the partitions it keeps.
 */
export class PauseMemory {
  constructor() {
    /** @type {Map<string, { generation: number, until: number, pauseMs: number | undefined, kept: Map<string, string> }>} */
    this.held = new Map();
    /** @type {Map<string, { generation: number, owners: Map<string, string> }>} */
    this.seen = new Map();
  }

  /**
   * @param {GroupView} group
   * @param {number} nowMs the page's clock
   * @returns {{ paused: boolean, note: string, owners: Map<string, string> }}
   */
  frame(group, nowMs) {
    const owners = new Map(
      group.partitions
        .filter((partition) => partition.ownerClientId)
        .map((partition) => [`${partition.topic}-${partition.partition}`, partition.ownerClientId]),
    );
    const before = this.seen.get(group.groupId);
    const latest = group.rebalances[0];
    const cooperative = group.rebalanceProtocol === 'cooperative';
    if (before && group.generationId > before.generation) {
      // A new generation since the last frame: remember what stayed put, and hold the pause on screen.
      const kept = new Map(
        [...owners].filter(([partition, owner]) => before.owners.get(partition) === owner),
      );
      this.held.set(group.groupId, {
        generation: group.generationId,
        until: nowMs + PAUSE_SHOWN_MS,
        pauseMs: latest?.pauseMs,
        kept,
      });
    }
    if (!REBALANCING.has(group.state))
      this.seen.set(group.groupId, { generation: group.generationId, owners });
    if (REBALANCING.has(group.state))
      return cooperative
        ? {
            paused: false,
            note: 'rebalancing cooperatively: kept partitions keep consuming',
            owners,
          }
        : { paused: true, note: 'paused: rebalancing', owners: new Map() };
    const held = this.held.get(group.groupId);
    if (held && held.until > nowMs) {
      const length = held.pauseMs === undefined ? '' : ` ${count(held.pauseMs)} ms`;
      return cooperative
        ? {
            paused: false,
            note: `rebalanced to generation ${held.generation}: ${held.kept.size} kept partition(s) never paused`,
            owners,
          }
        : {
            paused: true,
            note: `paused${length}: rebalancing → generation ${held.generation}`,
            owners: new Map(),
          };
    }
    return { paused: false, note: '', owners };
  }
}

/**
 * @param {DashboardSnapshot} snapshot
 * @param {PauseMemory} pauses
 * @param {number} nowMs
 * @returns {SVGElement[]}
 */
export function seedPictures(snapshot, pauses, nowMs) {
  const groupIndex = new Map(snapshot.groups.map((group, index) => [group.groupId, index]));
  return snapshot.topics
    .filter((topic) => !topic.internal)
    .map((topic) => {
      const groups = snapshot.groups.filter((group) =>
        group.partitions.some((partition) => partition.topic === topic.name),
      );
      return topicPicture(
        topic,
        groups.map((group) => ({
          group,
          colour: groupColour(groupIndex.get(group.groupId) ?? 0),
          frame: pauses.frame(group, nowMs),
        })),
      );
    });
}

/**
 * @param {TopicView} topic
 * @param {{ group: GroupView, colour: string, frame: { paused: boolean, note: string, owners: Map<string, string> } }[]} columns
 */
function topicPicture(topic, columns) {
  const rows = topic.partitions.length;
  const boxesHeight = columns.map(({ group }) => boxLayout(group, topic.name).height);
  const height = TOP + Math.max(rows * ROW_H, ...boxesHeight) + 16;
  const width = FIRST_COLUMN_X + Math.max(1, columns.length) * COLUMN_W;
  const svg = s('svg', {
    class: 'seed',
    'data-seed-topic': topic.name,
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `topic ${topic.name}: ${rows} partitions and the consumers of each group`,
  });
  svg.append(
    s(
      'defs',
      {},
      ...columns.map(({ colour }, index) =>
        arrowHead(`head-${topic.name}-${index}`, { fill: colour }),
      ),
    ),
    label({ x: 0, y: 16, class: 'seed-title' }, `Topic ${topic.name}`),
    label(
      { x: LABEL_W, y: 36, class: 'seed-caption' },
      `last ${CELLS} offsets per partition · ▲ each group's committed offset`,
    ),
  );
  topic.partitions.forEach((partition, row) =>
    svg.append(strip(topic.name, partition, row, columns)),
  );
  columns.forEach((column, index) =>
    svg.append(
      groupColumn(
        topic.name,
        column,
        FIRST_COLUMN_X + index * COLUMN_W,
        `head-${topic.name}-${index}`,
      ),
    ),
  );
  return svg;
}

/**
 * @param {string} topic
 * @param {TopicView['partitions'][number]} partition
 * @param {number} row
 * @param {{ group: GroupView, colour: string }[]} columns
 */
function strip(topic, partition, row, columns) {
  const y = TOP + row * ROW_H;
  const first = Math.max(partition.logStartOffset, partition.logEndOffset - CELLS);
  const older = first - partition.logStartOffset;
  const g = s('g', {
    'data-strip': `${topic}-${partition.partition}`,
    'data-log-end': partition.logEndOffset,
  });
  g.append(label({ x: 0, y: y + 22, class: 'seed-partition' }, `Partition ${partition.partition}`));
  for (let cell = 0; cell < CELLS; cell++) {
    const offset = first + cell;
    const x = LABEL_W + cell * CELL_W;
    const filled = offset < partition.logEndOffset;
    g.append(
      s('rect', { x, y: y + 4, width: CELL_W, height: 24, class: filled ? 'cell' : 'cell empty' }),
    );
    if (filled)
      g.append(label({ x: x + CELL_W / 2, y: y + 20, class: 'cell-text' }, String(offset)));
  }
  if (older > 0)
    g.append(
      label(
        { x: LABEL_W - 4, y: y + 20, class: 'seed-older' },
        '…',
        `${count(older)} older offset(s) from ${count(partition.logStartOffset)}`,
      ),
    );
  const endX = LABEL_W + Math.min(CELLS, partition.logEndOffset - first) * CELL_W;
  g.append(
    s('line', { x1: endX, x2: endX, y1: y, y2: y + 32, class: 'log-end' }),
    label(
      { x: LABEL_W + STRIP_W + 8, y: y + 20, class: 'seed-end' },
      `end ${count(partition.logEndOffset)}`,
      'log-end offset: the next offset to be written',
    ),
  );
  columns.forEach(({ group, colour }, index) => {
    const committed = group.partitions.find(
      (p) => p.topic === topic && p.partition === partition.partition,
    )?.committedOffset;
    if (committed === undefined || committed < 0) return;
    const shown = Math.min(Math.max(committed, first), first + CELLS);
    const x = LABEL_W + (shown - first) * CELL_W;
    const markY = y + 30 + index * 4;
    g.append(
      s(
        'path',
        {
          d: `M ${x} ${markY - 5} l -4 6 l 8 0 z`,
          fill: colour,
          'data-committed-marker': group.groupId,
          'data-offset': committed,
        },
        s(
          'title',
          {},
          `${group.groupId} committed ${count(committed)}${committed < first ? ` (before the strip: ${count(first - committed)} more behind)` : ''}`,
        ),
      ),
    );
  });
  return g;
}

/**
 * Consumer boxes stacked in the order of their first partition, each as tall
 * as its partitions, so a range assignment lines up with its strips as the
 * source material draws it; idle members come last.
 * @param {GroupView} group
 * @param {string} topic
 */
function boxLayout(group, topic) {
  const first = (/** @type {MemberView} */ member) => {
    const mine = member.assignment
      .filter((name) => name.startsWith(`${topic}-`))
      .map((name) => Number(name.slice(topic.length + 1)));
    return { member, partitions: mine.sort((a, b) => a - b) };
  };
  const members = group.members
    .map(first)
    .sort(
      (a, b) =>
        (a.partitions[0] ?? Number.MAX_SAFE_INTEGER) -
          (b.partitions[0] ?? Number.MAX_SAFE_INTEGER) ||
        a.member.clientId.localeCompare(b.member.clientId),
    );
  let y = TOP;
  const boxes = members.map((entry) => {
    const rows = Math.max(1, entry.partitions.length);
    const box = { ...entry, y, height: rows * ROW_H - 8 };
    y += rows * ROW_H;
    return box;
  });
  return { boxes, height: y - TOP };
}

/**
 * @param {string} topic
 * @param {{ group: GroupView, colour: string, frame: { paused: boolean, note: string, owners: Map<string, string> } }} column
 * @param {number} x
 * @param {string} head
 */
function groupColumn(topic, { group, colour, frame }, x, head) {
  const g = s('g', {
    'data-seed-group': group.groupId,
    'data-paused': String(frame.paused),
    'data-generation': group.generationId,
  });
  const lag = group.partitions
    .filter((partition) => partition.topic === topic)
    .reduce((sum, partition) => sum + partition.lag, 0);
  g.append(
    label(
      { x, y: 16, class: 'seed-group', fill: colour },
      `${group.groupId}  ·  lag ${count(lag)}`,
    ),
    label(
      { x, y: 34, class: 'seed-caption' },
      `${group.state} · gen ${group.generationId} · ${group.protocol || '—'}, ${group.rebalanceProtocol}`,
    ),
  );
  if (frame.note)
    g.append(label({ x, y: 50, class: frame.paused ? 'seed-paused' : 'seed-note' }, frame.note));
  const { boxes } = boxLayout(group, topic);
  const boxX = x + ARROW_W;
  const boxOf = new Map(boxes.map((box) => [box.member.clientId, box]));
  for (const [partitionName, owner] of frame.owners) {
    if (!partitionName.startsWith(`${topic}-`)) continue;
    const box = boxOf.get(owner);
    if (!box) continue;
    const partition = Number(partitionName.slice(topic.length + 1));
    const fromY = TOP + partition * ROW_H + 16;
    const index = box.partitions.indexOf(partition);
    const toY = box.y + (index < 0 ? box.height / 2 : index * ROW_H + 16);
    g.append(
      s('path', {
        d: `M ${x} ${fromY} C ${x + ARROW_W / 2} ${fromY}, ${x + ARROW_W / 2} ${toY}, ${boxX - 2} ${toY}`,
        class: 'arrow',
        stroke: colour,
        'marker-end': `url(#${head})`,
        'data-arrow': '',
        'data-partition': partitionName,
        'data-owner': owner,
      }),
    );
  }
  for (const box of boxes) {
    const { member } = box;
    const silent = member.heartbeatAgeMs > SILENT_AFTER_MS;
    const state = frame.paused ? 'paused' : member.idle ? 'idle' : silent ? 'silent' : 'consuming';
    const card = s('g', {
      'data-consumer': member.clientId,
      'data-idle': String(member.idle),
      'data-state': state,
    });
    card.append(
      s('rect', {
        x: boxX,
        y: box.y,
        width: BOX_W,
        height: box.height,
        rx: 6,
        class: `box ${state}`,
        stroke: colour,
      }),
      label(
        { x: boxX + 8, y: box.y + 16, class: 'box-name' },
        `${member.clientId}${member.leader ? ' ★ leader' : ''}`,
        member.memberId,
      ),
      label(
        { x: boxX + 8, y: box.y + 30, class: 'box-detail' },
        frame.paused
          ? 'paused: rebalancing'
          : member.idle
            ? 'idle: no partition to read'
            : silent
              ? `silent ${(member.heartbeatAgeMs / 1000).toFixed(1)} s of ${(member.sessionTimeoutMs / 1000).toFixed(0)} s session`
              : box.partitions.map((p) => `P${p}`).join(', '),
      ),
    );
    g.append(card);
  }
  return g;
}
