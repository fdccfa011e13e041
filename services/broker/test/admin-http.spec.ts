import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DashboardSnapshot, GroupHistoryView, ReplicasAnswer } from '@hospital/admin-api';
import { produceToEachPartition } from './support/broker-rpc';
import { GroupDriver, settled } from './support/group-driver';
import { ADMIN_TOKEN, startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'patient.checkout';

/** Reads server-sent events off a response body until `count` have arrived. */
async function readEvents(url: string, count: number): Promise<{ event: string; data: string }[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: { event: string; data: string }[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const field = (name: string) =>
        block
          .split('\n')
          .filter((line) => line.startsWith(`${name}: `))
          .map((line) => line.slice(name.length + 2))
          .join('\n');
      events.push({ event: field('event'), data: field('data') });
    }
    if (events.length >= count) break;
  }
  controller.abort();
  return events;
}

/** A stand-in for `hospital demo`'s supervisor that records what the broker relays. */
async function fakeSupervisor(): Promise<{
  server: Server;
  url: string;
  calls: { method: string; url: string; auth: string; body: string }[];
}> {
  const calls: { method: string; url: string; auth: string; body: string }[] = [];
  const replicas: ReplicasAnswer = {
    replicas: [
      {
        name: 'billing-1',
        group: 'billing',
        state: 'running',
        pid: 4242,
        port: 3100,
        assignors: ['range'],
      },
    ],
  };
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      calls.push({
        method: request.method ?? '',
        url: request.url ?? '',
        auth: request.headers.authorization ?? '',
        body,
      });
      const missing = request.url?.includes('billing-9');
      response.writeHead(missing ? 404 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(missing ? { error: 'no replica billing-9' } : replicas));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

describe('the broker admin HTTP port (dashboard, live events, controls, metrics)', () => {
  let broker: TestBroker;
  let members: GroupDriver[];
  beforeAll(async () => {
    broker = await startTestBroker({ BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' });
    await produceToEachPartition(broker.rpc, TOPIC, 4, 10);
    members = ['billing-1', 'billing-2'].map(
      (clientId) =>
        new GroupDriver(broker.rpc, {
          groupId: 'billing',
          clientId,
          topic: TOPIC,
          sessionTimeoutMs: 5_000,
          rebalanceTimeoutMs: 5_000,
          heartbeatIntervalMs: 200,
        }),
    );
    await members[0].start();
    await members[1].start();
    await settled(members, 1);
  });
  afterAll(async () => {
    for (const member of members) member.halt();
    await broker?.stop();
  });

  const url = (path: string) => `${broker.running.dashboardUrl}${path}`;

  it('serves the dashboard page and its script', async () => {
    const page = await fetch(url('/'));
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<script type="module" src="/dashboard.js">');
    const script = await fetch(url('/dashboard.js'));
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain("new EventSource('/api/events')");
  });

  it('shows each partition with its owner, the members, and the rebalance that made them', async () => {
    const snapshot = (await (await fetch(url('/api/snapshot'))).json()) as DashboardSnapshot;
    const topic = snapshot.topics.find((candidate) => candidate.name === TOPIC);
    expect(topic?.partitions.map((partition) => partition.logEndOffset)).toEqual([10, 10, 10, 10]);
    const billing = snapshot.groups.find((group) => group.groupId === 'billing');
    expect(billing).toMatchObject({ state: 'Stable', totalLag: 40 });
    expect(billing?.partitions.map((partition) => partition.ownerClientId).sort()).toEqual([
      'billing-1',
      'billing-1',
      'billing-2',
      'billing-2',
    ]);
    expect(billing?.members.filter((member) => member.leader)).toHaveLength(1);
    expect(billing?.rebalances[0]).toMatchObject({
      generationId: billing?.generationId,
      trigger: 'member joined',
    });
    expect(billing?.rebalances[0].pauseMs).toBeGreaterThanOrEqual(0);
    expect(snapshot.controls).toMatchObject({
      available: false,
      reason: expect.stringContaining('docker compose up --scale'),
    });
  });

  it('streams a snapshot a second to the page', async () => {
    const events = await readEvents(url('/api/events'), 2);
    expect(events.map((event) => event.event)).toEqual(['snapshot', 'snapshot']);
    const [first, second] = events.map((event) => JSON.parse(event.data) as DashboardSnapshot);
    expect(second.atMs).toBeGreaterThan(first.atMs);
    expect(second.groups.map((group) => group.groupId)).toContain('billing');
  });

  it('exposes Prometheus metrics read from the broker state', async () => {
    const text = await (await fetch(url('/metrics'))).text();
    expect(text).toContain('broker_log_end_offset{topic="patient.checkout",partition="0"} 10');
    expect(text).toContain('broker_group_members{group="billing"} 2');
    expect(text).toMatch(
      /broker_group_lag\{group="billing",topic="patient.checkout",partition="3"\} 10/,
    );
  });

  it('refuses the controls without the admin token, and says why', async () => {
    const post = (path: string, headers: Record<string, string>, body: unknown = {}) =>
      fetch(url(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const anonymous = await post('/api/replicas/billing-1/kill', {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      message: expect.stringContaining('admin token'),
    });
    expect(
      (await post('/api/replicas/billing-1/kill', { authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const badCount = await post('/api/groups/billing/scale', auth, { replicas: -1 });
    expect(badCount.status).toBe(400);
    expect(await badCount.json()).toMatchObject({ field: 'replicas' });
    const badName = await post('/api/replicas/..%2Fetc/kill', auth);
    expect(badName.status).toBe(400);
    expect(await badName.json()).toMatchObject({ field: 'name' });
    const noSupervisor = await post('/api/replicas/billing-1/kill', auth);
    expect(noSupervisor.status).toBe(503);
    expect(await noSupervisor.json()).toMatchObject({
      error: expect.stringContaining('BROKER_CONTROL_URL is unset'),
    });
  });

  it('relays scale, kill and restart to the process supervisor, with its answers', async () => {
    const supervisor = await fakeSupervisor();
    const controlled = await startTestBroker({ BROKER_CONTROL_URL: supervisor.url });
    try {
      const post = (path: string, body: unknown = {}) =>
        fetch(`${controlled.running.dashboardUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body: JSON.stringify(body),
        });
      const scaled = await post('/api/groups/billing/scale', { replicas: 4 });
      expect(scaled.status).toBe(200);
      expect(await scaled.json()).toEqual({
        replicas: [expect.objectContaining({ name: 'billing-1', pid: 4242 })],
      });
      expect((await post('/api/replicas/billing-1/kill')).status).toBe(200);
      expect((await post('/api/replicas/billing-1/restart')).status).toBe(200);
      const missing = await post('/api/replicas/billing-9/kill');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: 'no replica billing-9' });
      const snapshot = (await (
        await fetch(`${controlled.running.dashboardUrl}/api/snapshot`)
      ).json()) as DashboardSnapshot;
      expect(snapshot.controls).toEqual({
        available: true,
        replicas: [expect.objectContaining({ name: 'billing-1', state: 'running' })],
      });
      const commands = supervisor.calls.filter((call) => call.method === 'POST');
      expect(commands.map(({ url, body }) => [url, body])).toEqual([
        ['/groups/billing/scale', '{"replicas":4}'],
        ['/replicas/billing-1/kill', '{}'],
        ['/replicas/billing-1/restart', '{}'],
        ['/replicas/billing-9/kill', '{}'],
      ]);
      expect(supervisor.calls.every((call) => call.auth === `Bearer ${ADMIN_TOKEN}`)).toBe(true);
    } finally {
      await controlled.stop();
      supervisor.server.close();
    }
  });

  it('serves each rebalance of a group as its numbered messages, and 404 for a group that does not exist', async () => {
    const history = (await (
      await fetch(url('/api/groups/billing/history'))
    ).json()) as GroupHistoryView;
    const latest = history.sequences[0];
    const leaderSync = latest.messages.find(
      (message) => message.kind === 'SyncGroup' && message.shares.length > 0,
    );
    expect(leaderSync?.from).toBe(latest.leaderClientId);
    expect(leaderSync?.shares.map((share) => share.clientId).sort()).toEqual([
      'billing-1',
      'billing-2',
    ]);
    expect(latest.messages.map((message) => message.number)).toEqual(
      latest.messages.map((_, index) => index + 1),
    );
    const missing = await fetch(url('/api/groups/nobody/history'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ field: 'group' });
  });

  it('adds partitions and previews an offset reset, answering bad input with 400 and the field', async () => {
    const post = (path: string, body: unknown) =>
      fetch(url(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify(body),
      });
    const notANumber = await post('/api/topics/patient.checkout/partitions', { partitions: 'six' });
    expect(notANumber.status).toBe(400);
    expect(await notANumber.json()).toMatchObject({ field: 'partitions' });
    const fewer = await post('/api/topics/patient.checkout/partitions', { partitions: 2 });
    expect(fewer.status).toBe(400);
    expect(await fewer.json()).toMatchObject({
      field: 'partitions',
      reason: 'INVALID_PARTITIONS',
      message: expect.stringContaining('must be larger'),
    });
    const unknown = await post('/api/topics/lab.results/partitions', { partitions: 2 });
    expect(unknown.status).toBe(404);
    const badTarget = await post('/api/groups/billing/reset-offsets', {
      topic: TOPIC,
      to: 'yesterday',
    });
    expect(badTarget.status).toBe(400);
    expect(await badTarget.json()).toMatchObject({ field: 'to' });
    const live = await post('/api/groups/billing/reset-offsets', { topic: TOPIC, to: 'earliest' });
    expect(live.status).toBe(409);
    expect(await live.json()).toMatchObject({ reason: 'NON_EMPTY_GROUP' });
    const grown = await post('/api/topics/patient.checkout/partitions', { partitions: 5 });
    expect(grown.status).toBe(200);
    expect(((await grown.json()) as { partitions: unknown[] }).partitions).toHaveLength(5);
  });
});
