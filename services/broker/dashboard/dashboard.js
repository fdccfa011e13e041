// @ts-check
// The broker's dashboard: one server-sent `snapshot` event per second
// (/api/events) redrawn as topics, groups, owners, lag and rebalances. The
// buttons call the broker's /api/…, which relays them to `hospital demo`.

/** @typedef {import('../../../libs/admin-api/src/dashboard-api').DashboardSnapshot} DashboardSnapshot */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').GroupView} GroupView */
/** @typedef {import('../../../libs/admin-api/src/dashboard-api').ControlsView} ControlsView */

const TOKEN_KEY = 'hospital.adminToken';
const TIMELINE_ROWS = 8;

/**
 * Builds an element; text is always set as text, never parsed as HTML
 * (client ids and reasons come from clients).
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attributes]
 * @param {(Node | string | number)[]} children
 * @returns {HTMLElement}
 */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children)
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

/** @param {string} id */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element;
}

/** @param {number} value */
const count = (value) => value.toLocaleString('en-US');
/** @param {number} value */
const rate = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });
/** @param {number} ms */
const time = (ms) => new Date(ms).toLocaleTimeString('en-GB');

function token() {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

/** Takes `?token=` from the address once (hospital demo prints such a link), then hides it. */
function adoptTokenFromAddress() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (!given) return;
  localStorage.setItem(TOKEN_KEY, given);
  url.searchParams.delete('token');
  history.replaceState(null, '', url);
}

/** @param {string} text @param {boolean} [failed] */
function say(text, failed = false) {
  const message = byId('message');
  message.textContent = text;
  message.hidden = false;
  message.dataset.failed = String(failed);
}

/**
 * @param {string} path
 * @param {unknown} [body]
 */
async function command(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify(body ?? {}),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = answer.error ?? answer.message ?? response.statusText;
    say(`${path}: ${Array.isArray(reason) ? reason.join('; ') : reason}`, true);
    if (response.status === 401 || response.status === 403) byId('token-form').hidden = false;
    return;
  }
  say(`${path}: done`);
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
      ),
    );
  byId('topics')
    .querySelector('tbody')
    ?.replaceChildren(...rows);
}

/** @param {GroupView} group @param {ControlsView} controls */
function renderControls(group, controls) {
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
            h('td', {}, replica.state === 'running' ? kill : '', ' ', restart),
          );
        }),
      ),
    ),
  );
}

/** @param {GroupView} group */
function renderTimeline(group) {
  const shown = group.rebalances.slice(0, TIMELINE_ROWS);
  const longest = Math.max(1, ...shown.map((record) => record.pauseMs ?? 0));
  return h(
    'ol',
    { class: 'timeline' },
    ...shown.map((record) =>
      h(
        'li',
        { 'data-generation': record.generationId },
        h('span', {}, `gen ${record.generationId}`),
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
              { title: 'consumption paused while the group rebalanced' },
              h('div', {
                class: 'pause-bar',
                style: `width:${Math.round((record.pauseMs / longest) * 100)}%`,
              }),
              `${count(record.pauseMs)} ms`,
            ),
      ),
    ),
  );
}

/** @param {GroupView} group @param {ControlsView} controls */
function renderGroup(group, controls) {
  const leader = group.members.find((member) => member.leader);
  const members = h(
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
  const owners = h(
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
        { class: 'muted' },
        `${group.protocol || 'no protocol'} · leader ${leader?.clientId ?? '—'} · ${group.members.length} members`,
      ),
      h('span', {}, `lag ${count(group.totalLag)}`),
      h('span', {}, `${rate(group.consumeRate)}/s consumed`),
    ),
    renderControls(group, controls),
    h(
      'div',
      { class: 'columns' },
      h('div', {}, h('h4', {}, 'members'), members),
      h('div', {}, h('h4', {}, 'partition → owner'), owners),
    ),
    h('h4', {}, 'rebalances (newest first)'),
    group.rebalances.length ? renderTimeline(group) : h('p', { class: 'muted' }, 'none yet'),
  );
}

/** @param {DashboardSnapshot} snapshot */
function render(snapshot) {
  byId('clock').textContent = `updated ${time(snapshot.atMs)}`;
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
