import { startControlServer, type RunningControlServer } from './control-server';
import { ReplicaSupervisor, type ReplicaProcess } from './replica-supervisor';

const TOKEN = 'control-test-token';

function process(pid: number): ReplicaProcess {
  let end!: (how: string) => void;
  const exited = new Promise<string>((resolve) => (end = resolve));
  return {
    pid,
    exited,
    stop: () => (end('SIGTERM'), exited),
    kill: () => (end('SIGKILL'), exited),
  };
}

describe('tools/demo/control server (the supervisor API)', () => {
  let supervisor: ReplicaSupervisor;
  let server: RunningControlServer;
  let pids = 100;
  beforeAll(async () => {
    supervisor = new ReplicaSupervisor(
      [{ name: 'billing', portOf: (index) => 3099 + index, start: async () => process(pids++) }],
      8,
      () => {},
    );
    server = await startControlServer(supervisor, { port: 0, adminToken: TOKEN });
  });
  afterAll(() => server?.close());

  const call = async (method: string, path: string, body?: string, token = TOKEN) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('scales, kills and restarts, answering with every replica', async () => {
    expect(await call('POST', '/groups/billing/scale', '{"replicas":2}')).toEqual({
      status: 200,
      body: {
        replicas: [
          expect.objectContaining({ name: 'billing-1', state: 'starting' }),
          expect.objectContaining({ name: 'billing-2' }),
        ],
      },
    });
    await supervisor.settled();
    expect((await call('POST', '/replicas/billing-2/kill')).body.replicas).toContainEqual(
      expect.objectContaining({ name: 'billing-2', state: 'killed' }),
    );
    await supervisor.settled();
    await call('POST', '/replicas/billing-2/restart');
    await supervisor.settled();
    expect((await call('GET', '/replicas')).body).toEqual({
      replicas: [
        {
          name: 'billing-1',
          group: 'billing',
          state: 'running',
          pid: 100,
          port: 3100,
          assignors: ['range'],
        },
        {
          name: 'billing-2',
          group: 'billing',
          state: 'running',
          pid: 102,
          port: 3101,
          assignors: ['range'],
        },
      ],
    });
  });

  it('rolls a group onto other assignors through POST /groups/:group/assignors', async () => {
    const rolled = await call(
      'POST',
      '/groups/billing/assignors',
      '{"assignors":["cooperative-sticky"]}',
    );
    expect(rolled.status).toBe(200);
    await supervisor.settled();
    expect(
      (
        (await call('GET', '/replicas')).body as { replicas: { assignors: string[] }[] }
      ).replicas.map((replica) => replica.assignors),
    ).toEqual([
      ['cooperative-sticky', 'range'],
      ['cooperative-sticky', 'range'],
    ]);
    expect(await call('POST', '/groups/billing/assignors', '{"assignors":"range"}')).toEqual({
      status: 400,
      body: { error: 'assignors (a list of names) is missing from the body' },
    });
    expect((await call('POST', '/groups/billing/assignors', '{"assignors":["fair"]}')).status).toBe(
      400,
    );
  });

  it('answers bad requests with a status and a reason', async () => {
    expect(await call('GET', '/replicas', undefined, 'wrong')).toEqual({
      status: 401,
      body: { error: expect.stringContaining('admin token') },
    });
    expect(await call('POST', '/groups/billing/scale', '{"replicas":')).toEqual({
      status: 400,
      body: { error: 'body is not JSON' },
    });
    expect(await call('POST', '/groups/billing/scale', '{}')).toEqual({
      status: 400,
      body: { error: 'replicas (a number) is missing from the body' },
    });
    expect(await call('POST', '/groups/billing/scale', '{"replicas":9}')).toEqual({
      status: 400,
      body: { error: 'replicas must be a whole number from 0 to 8' },
    });
    expect((await call('POST', '/groups/radiology/scale', '{"replicas":1}')).status).toBe(404);
    expect((await call('POST', '/replicas/billing-7/kill')).status).toBe(404);
    expect(await call('DELETE', '/replicas')).toEqual({
      status: 404,
      body: { error: 'no route DELETE /replicas' },
    });
  });
});
