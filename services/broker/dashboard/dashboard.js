// @ts-check
// The broker's dashboard: one server-sent `snapshot` event per second
// (/api/events) drawn first as the source material's picture (strips of
// offsets, arrows to consumers), then per group: controls, a lag chart,
// members, owners and the rebalance timeline, whose entries open the
// rebalance as its message sequence (/api/groups/<group>/history).

import { byId, count, h, rate, time } from './dom.js';
import { groupChart } from './charts.js';
import { command, say, token, TOKEN_KEY } from './forms.js';
import { PauseMemory, seedPictures } from './seed-view.js';
import { sequenceDiagram } from './sequence-view.js';

/** @typedef {import('../../../libs/admin-api/src/dashboard-api').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').GroupView} GroupView */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').ControlsView} ControlsView */
/** @typedef {import('../../../libs/admin-api/src/history-api').GroupHistoryView} GroupHistoryView */

const TIMELINE_ROWS = 8;
const ASSIGNORS = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'];
const pauses = new PauseMemory();
/** Forms keep what the user typed: built once per group or topic, moved into each new render. */
const forms = new Map();

/** Takes `?token=` from the address once (hospital demo prints such a link), then hides it. */
function adoptTokenFromAddress() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (!given) return;
  localStorage.setItem(TOKEN_KEY, given);
  url.searchParams.delete('token');
  history.replaceState(null, '', url);
}

/**
 * @template {HTMLElement} T
 * @param {string} key
 * @param {() => T} build
 * @returns {T}
 */
function kept(key, build) {
  if (!forms.has(key)) forms.set(key, build());
  return forms.get(key);
}

/** @param {string} topic @param {number} partitions */
function addPartitionsForm(topic, partitions) {
  const form = kept(`partitions:${topic}`, () => {
    const input = h('input', {
      type: 'number',
      min: 1,
      step: 1,
      size: 4,
      'data-field': 'partitions',
      'aria-label': 'new total partitions',
    });
    const button = h(
      'button',
      { type: 'submit', 'data-action': 'add-partitions' },
      'add partitions',
    );
    const element = h(
      'form',
      { class: 'inline-form', 'data-form': 'add-partitions' },
      'grow to ',
      input,
      ' ',
      button,
    );
    element.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = /** @type {HTMLInputElement} */ (input).value;
      void command(`/api/topics/${encodeURIComponent(topic)}/partitions`, {
        partitions: value === '' ? undefined : Number(value),
      });
    });
    return element;
  });
  // The broker checks the number (and says why it refuses one); the page only suggests the next size.
  const input = /** @type {HTMLInputElement} */ (form.querySelector('input'));
  if (input.value === '') input.value = String(partitions + 2);
  return form;
}

/** @param {DashboardSnapshot} snapshot */
function renderTopics(snapshot) {
  const showInternal = /** @type {HTMLInputElement} */ (byId('show-internal')).checked;
  const rows = snapshot.topics
    .filter((topic) => showInternal || !topic.internal)
    .map((topic) =>
      h(
        'tr',
        { 'data-topic': topic.name },
        h('td', {}, topic.name, topic.internal ? h('span', { class: 'muted' }, ' (internal)') : ''),
        h(
          'td',
          {},
          ...topic.partitions.map((partition) =>
            h(
              'span',
              { class: 'partition-chip', title: `log start ${partition.logStartOffset}` },
              `${partition.partition}: ${count(partition.logEndOffset)}`,
            ),
          ),
        ),
        h(
          'td',
          { class: 'number' },
          count(topic.partitions.reduce((sum, p) => sum + p.logEndOffset - p.logStartOffset, 0)),
        ),
        h('td', { class: 'number' }, rate(topic.produceRate)),
        h('td', {}, topic.internal ? '' : addPartitionsForm(topic.name, topic.partitions.length)),
      ),
    );
  byId('topics')
    .querySelector('tbody')
    ?.replaceChildren(...rows);
}

/** @param {GroupView} group @param {ControlsView} controls */
function renderReplicas(group, controls) {
  if (!controls.available) return h('div');
  const replicas = controls.replicas.filter((replica) => replica.group === group.groupId);
  if (replicas.length === 0) return h('div');
  const running = replicas.filter(
    (replica) => !['stopped', 'killed', 'exited'].includes(replica.state),
  ).length;
  const scaleTo = (/** @type {number} */ n) =>
    command(`/api/groups/${encodeURIComponent(group.groupId)}/scale`, { replicas: n });
  const minus = h(
    'button',
    { type: 'button', 'data-action': 'scale-down', title: 'stop the newest replica' },
    '−',
  );
  const plus = h(
    'button',
    { type: 'button', 'data-action': 'scale-up', title: 'start one more replica' },
    '+',
  );
  minus.addEventListener('click', () => scaleTo(Math.max(0, running - 1)));
  plus.addEventListener('click', () => scaleTo(running + 1));
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'controls' },
      h('strong', {}, 'replicas'),
      minus,
      h('span', { 'data-replicas': running }, `${running} running`),
      plus,
      assignorForm(group, [...new Set(replicas.map((replica) => replica.assignors.join(', ')))]),
    ),
    h(
      'table',
      { class: 'replicas' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'replica'),
          h('th', {}, 'state'),
          h('th', { class: 'number' }, 'pid'),
          h('th', {}, 'assignors'),
          h('th', {}, ''),
        ),
      ),
      h(
        'tbody',
        {},
        ...replicas.map((replica) => {
          const kill = h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-action': 'kill',
              title: 'SIGKILL: no LeaveGroup, the group notices after the session timeout',
            },
            'kill',
          );
          const restart = h('button', { type: 'button', 'data-action': 'restart' }, 'restart');
          kill.addEventListener('click', () =>
            command(`/api/replicas/${encodeURIComponent(replica.name)}/kill`),
          );
          restart.addEventListener('click', () =>
            command(`/api/replicas/${encodeURIComponent(replica.name)}/restart`),
          );
          return h(
            'tr',
            { 'data-replica': replica.name },
            h('td', {}, replica.name),
            h('td', {}, h('span', { class: 'badge', 'data-state': replica.state }, replica.state)),
            h('td', { class: 'number' }, replica.pid ?? '—'),
            h('td', { class: 'muted' }, replica.assignors.join(', ')),
            h('td', {}, replica.state === 'running' ? kill : '', ' ', restart),
          );
        }),
      ),
    ),
  );
}

/** Rolls the group's replicas onto another assignor. @param {GroupView} group @param {string[]} current */
function assignorForm(group, current) {
  const form = kept(`assignor:${group.groupId}`, () => {
    const select = h(
      'select',
      { 'data-field': 'assignors', 'aria-label': 'assignor' },
      ...ASSIGNORS.map((name) => h('option', { value: name }, name)),
    );
    const element = h(
      'form',
      {
        class: 'inline-form',
        'data-form': 'assignor',
        title:
          'restarts the replicas one at a time; the old assignor stays listed second until the last one restarts',
      },
      'assignor ',
      select,
      ' ',
      h('button', { type: 'submit', 'data-action': 'roll-assignor' }, 'roll replicas'),
    );
    /** @type {HTMLSelectElement} */ (select).value = group.protocol || 'range';
    element.addEventListener('submit', (event) => {
      event.preventDefault();
      void command(`/api/groups/${encodeURIComponent(group.groupId)}/assignors`, {
        assignors: [/** @type {HTMLSelectElement} */ (select).value],
      });
    });
    return element;
  });
  form.title = `replicas now list: ${current.join(' | ')}`;
  return form;
}

/** Resets a stopped group's offsets: a dry run first, then a confirmation. @param {GroupView} group */
function resetForm(group) {
  return kept(`reset:${group.groupId}`, () => {
    const topics = [...new Set(group.partitions.map((partition) => partition.topic))];
    const topic = h(
      'select',
      { 'data-field': 'topic' },
      ...topics.map((name) => h('option', { value: name }, name)),
    );
    const to = h(
      'select',
      { 'data-field': 'to' },
      ...['earliest', 'latest', 'offset', 'shift-by'].map((name) =>
        h('option', { value: name }, name),
      ),
    );
    const value = h('input', {
      type: 'number',
      step: 1,
      size: 7,
      'data-field': 'value',
      placeholder: 'offset / shift',
    });
    const preview = h('div', { class: 'reset-preview', 'data-reset-preview': '' });
    const confirm = h(
      'button',
      { type: 'button', class: 'danger', 'data-action': 'confirm-reset', hidden: true },
      'confirm reset',
    );
    const body = (/** @type {boolean} */ dryRun) => {
      const target = /** @type {HTMLSelectElement} */ (to).value;
      const number = /** @type {HTMLInputElement} */ (value).value;
      return {
        topic: /** @type {HTMLSelectElement} */ (topic).value,
        to: target,
        dryRun,
        ...(target === 'offset' ? { offset: number === '' ? undefined : Number(number) } : {}),
        ...(target === 'shift-by' ? { shiftBy: number === '' ? undefined : Number(number) } : {}),
      };
    };
    const path = `/api/groups/${encodeURIComponent(group.groupId)}/reset-offsets`;
    const form = h(
      'form',
      { class: 'inline-form', 'data-form': 'reset-offsets' },
      h('strong', {}, 'reset offsets '),
      topic,
      ' to ',
      to,
      ' ',
      value,
      ' ',
      h('button', { type: 'submit', 'data-action': 'preview-reset' }, 'preview (dry run)'),
      ' ',
      confirm,
      preview,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      confirm.hidden = true;
      const answer = await command(path, body(true));
      if (!answer) return preview.replaceChildren();
      preview.replaceChildren(changesTable(answer.changes, 'would change'));
      confirm.hidden = answer.changes.length === 0;
    });
    confirm.addEventListener('click', async () => {
      confirm.hidden = true;
      const answer = await command(path, body(false));
      if (answer) preview.replaceChildren(changesTable(answer.changes, 'changed'));
    });
    return form;
  });
}

/** @param {{ topic: string, partition: number, previousOffset: number, newOffset: number }[]} changes @param {string} verb */
function changesTable(changes, verb) {
  return h(
    'table',
    { class: 'changes' },
    h('caption', {}, `${changes.length} partition(s) ${verb}`),
    h(
      'tbody',
      {},
      ...changes.map((change) =>
        h(
          'tr',
          {},
          h('td', {}, `${change.topic}-${change.partition}`),
          h(
            'td',
            { class: 'number' },
            change.previousOffset < 0 ? '—' : count(change.previousOffset),
          ),
          h('td', {}, '→'),
          h(
            'td',
            { class: 'number', 'data-new-offset': change.newOffset },
            count(change.newOffset),
          ),
        ),
      ),
    ),
  );
}

/** Opens one rebalance as its message sequence. @param {string} groupId @param {number} generation */
async function showSequence(groupId, generation) {
  const panel = byId('sequence');
  panel.hidden = false;
  const response = await fetch(`/api/groups/${encodeURIComponent(groupId)}/history`);
  if (!response.ok) {
    panel.replaceChildren(
      h('p', { class: 'note' }, `history of ${groupId}: ${response.statusText}`),
    );
    return;
  }
  /** @type {GroupHistoryView} */
  const history = await response.json();
  const sequence = history.sequences.find((entry) => entry.generationId === generation);
  const close = h('button', { type: 'button', 'data-action': 'close-sequence' }, 'close');
  close.addEventListener('click', () => (panel.hidden = true));
  panel.replaceChildren(
    h('div', { class: 'group-head' }, h('h2', {}, 'Rebalance, message by message'), close),
    sequence
      ? sequenceDiagram(groupId, sequence)
      : h(
          'p',
          { class: 'muted' },
          `generation ${generation} of ${groupId} is no longer in the broker's trace (it keeps the most recent ones, since it started)`,
        ),
  );
  panel.scrollIntoView({ block: 'start' });
}

/**
 * How long a rebalance paused what. Eager: every member, for the whole
 * rebalance. Cooperative: kept partitions never; a member that gave
 * partitions up rejoins at once (its reason says so), and that second round
 * hands them to their new owner.
 * @param {GroupView} group
 * @param {GroupView['rebalances'][number]} record
 */
function pauseText(group, record) {
  if (record.pauseMs === undefined) return '';
  if (group.rebalanceProtocol === 'eager') return `everyone paused ${count(record.pauseMs)} ms`;
  return record.reason.includes('revoked')
    ? `round 2: revoked partitions reassigned in ${count(record.pauseMs)} ms; kept ones never paused`
    : `round 1 in ${count(record.pauseMs)} ms; kept partitions never paused`;
}

/** @param {GroupView} group */
function renderTimeline(group) {
  const shown = group.rebalances.slice(0, TIMELINE_ROWS);
  const longest = Math.max(1, ...shown.map((record) => record.pauseMs ?? 0));
  return h(
    'ol',
    { class: 'timeline' },
    ...shown.map((record) => {
      const open = h(
        'button',
        {
          type: 'button',
          class: 'link',
          'data-action': 'show-sequence',
          title: 'draw its messages',
        },
        `gen ${record.generationId}`,
      );
      open.addEventListener('click', () => void showSequence(group.groupId, record.generationId));
      return h(
        'li',
        { 'data-generation': record.generationId, 'data-protocol': group.rebalanceProtocol },
        open,
        h('span', { class: 'muted' }, time(record.startedMs)),
        h(
          'span',
          {},
          h('strong', {}, record.trigger),
          ` — ${record.reason} (${record.members} members)`,
        ),
        record.pauseMs === undefined
          ? h('span', { class: 'badge', 'data-state': 'PreparingRebalance' }, 'running…')
          : h(
              'span',
              {
                class: 'pause',
                title: pauseText(group, record),
                'data-pause': pauseText(group, record),
              },
              h('div', {
                class: group.rebalanceProtocol === 'eager' ? 'pause-bar' : 'pause-bar cooperative',
                style: `width:${Math.round((record.pauseMs / longest) * 100)}%`,
              }),
              `${count(record.pauseMs)} ms`,
            ),
        h('span', { class: 'muted pause-text' }, pauseText(group, record)),
      );
    }),
  );
}

/** @param {GroupView} group */
function membersTable(group) {
  return h(
    'table',
    { class: 'members' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'member'),
        h('th', {}, 'host'),
        h('th', {}, 'partitions'),
        h('th', {}, 'heartbeat'),
      ),
    ),
    h(
      'tbody',
      {},
      ...group.members.map((member) =>
        h(
          'tr',
          { 'data-member': member.clientId, 'data-idle': member.idle },
          h(
            'td',
            { title: member.memberId },
            member.clientId,
            member.leader ? h('span', { class: 'badge' }, ' leader') : '',
            member.idle ? h('span', { class: 'badge', 'data-state': 'idle' }, ' idle') : '',
          ),
          h('td', {}, member.host),
          h(
            'td',
            {},
            ...member.assignment.map((name) => h('span', { class: 'partition-chip' }, name)),
          ),
          h('td', { class: 'number' }, `${(member.heartbeatAgeMs / 1000).toFixed(1)} s ago`),
        ),
      ),
    ),
  );
}

/** @param {GroupView} group */
function ownersTable(group) {
  return h(
    'table',
    { class: 'owners' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'partition'),
        h('th', {}, 'owner'),
        h('th', { class: 'number' }, 'committed'),
        h('th', { class: 'number' }, 'log end'),
        h('th', { class: 'number' }, 'lag'),
      ),
    ),
    h(
      'tbody',
      {},
      ...group.partitions.map((partition) =>
        h(
          'tr',
          { 'data-partition': `${partition.topic}-${partition.partition}` },
          h('td', {}, `${partition.topic}-${partition.partition}`),
          h(
            'td',
            { class: 'owner', 'data-owner': partition.ownerClientId },
            partition.ownerClientId || 'no owner',
          ),
          h(
            'td',
            { class: 'number', 'data-committed': partition.committedOffset },
            partition.committedOffset < 0 ? '—' : count(partition.committedOffset),
          ),
          h('td', { class: 'number' }, count(partition.logEndOffset)),
          h('td', { class: 'number' }, count(partition.lag)),
        ),
      ),
    ),
  );
}

/** @param {GroupView} group @param {ControlsView} controls */
function renderGroup(group, controls) {
  const leader = group.members.find((member) => member.leader);
  return h(
    'article',
    { class: 'group', 'data-group': group.groupId, 'data-generation': group.generationId },
    h(
      'div',
      { class: 'group-head' },
      h('h3', {}, group.groupId),
      h('span', { class: 'badge', 'data-state': group.state }, group.state),
      h('span', {}, `generation ${group.generationId}`),
      h(
        'span',
        { class: 'badge', 'data-protocol': group.rebalanceProtocol },
        `${group.rebalanceProtocol} rebalancing`,
      ),
      h(
        'span',
        { class: 'muted' },
        `${group.protocol || 'no protocol'} · leader ${leader?.clientId ?? '—'} · ${group.members.length} members`,
      ),
      h('span', {}, `lag ${count(group.totalLag)}`),
      h('span', {}, `${rate(group.consumeRate)}/s consumed`),
    ),
    renderReplicas(group, controls),
    h(
      'div',
      { class: 'columns' },
      h('div', {}, h('h4', {}, 'lag and consume rate'), groupChart(group)),
      h(
        'div',
        {},
        h('h4', {}, 'offsets (the group must be Empty: scale it to 0 first)'),
        resetForm(group),
      ),
    ),
    h(
      'div',
      { class: 'columns' },
      h('div', {}, h('h4', {}, 'members'), membersTable(group)),
      h('div', {}, h('h4', {}, 'partition → owner'), ownersTable(group)),
    ),
    h('h4', {}, 'rebalances (newest first; click one to see its messages)'),
    group.rebalances.length ? renderTimeline(group) : h('p', { class: 'muted' }, 'none yet'),
  );
}

/** @param {DashboardSnapshot} snapshot */
function render(snapshot) {
  byId('clock').textContent = `updated ${time(snapshot.atMs)}`;
  const pictures = seedPictures(snapshot, pauses, Date.now());
  byId('seed-pictures').replaceChildren(
    ...(pictures.length ? pictures : [h('p', { class: 'muted' }, 'No topics yet.')]),
  );
  renderTopics(snapshot);
  byId('groups').replaceChildren(
    ...(snapshot.groups.length
      ? snapshot.groups.map((group) => renderGroup(group, snapshot.controls))
      : [h('p', { class: 'muted' }, 'No consumer groups yet.')]),
  );
  const note = byId('controls-note');
  note.hidden = snapshot.controls.available;
  note.textContent = snapshot.controls.reason ?? '';
  byId('token-form').hidden = !snapshot.controls.available || token() !== '';
}

/** @param {'connecting' | 'live' | 'offline'} state */
function connection(state) {
  const badge = byId('connection');
  badge.dataset.state = state;
  badge.textContent =
    state === 'live' ? 'live' : state === 'offline' ? 'reconnecting…' : 'connecting…';
}

function start() {
  adoptTokenFromAddress();
  /** @type {DashboardSnapshot | undefined} */
  let latest;
  byId('show-internal').addEventListener('change', () => latest && renderTopics(latest));
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, /** @type {HTMLInputElement} */ (byId('token')).value.trim());
    byId('token-form').hidden = true;
    say('admin token saved in this browser');
  });
  // EventSource reconnects by itself after a broker restart.
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => connection('live'));
  events.addEventListener('error', () => connection('offline'));
  events.addEventListener('snapshot', (event) => {
    latest = /** @type {DashboardSnapshot} */ (
      JSON.parse(/** @type {MessageEvent<string>} */ (event).data)
    );
    connection('live');
    render(latest);
  });
}

start();
