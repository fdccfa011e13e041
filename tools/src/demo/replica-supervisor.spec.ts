import {
  ReplicaSupervisor,
  SupervisorRefusal,
  type GroupSettings,
  type ReplicaProcess,
} from './replica-supervisor';

/** A replica process that ends when told to, or when the test says it crashed. */
function fakeProcess(pid: number): ReplicaProcess & { crash(): void; how: string[] } {
  let end!: (how: string) => void;
  const exited = new Promise<string>((resolve) => (end = resolve));
  const how: string[] = [];
  const finish = (signal: string) => {
    how.push(signal);
    end(signal);
    return exited;
  };
  return {
    pid,
    exited,
    how,
    stop: () => finish('SIGTERM'),
    kill: () => finish('SIGKILL'),
    crash: () => end('1'),
  };
}

function supervisor() {
  const started: ReturnType<typeof fakeProcess>[] = [];
  const lines: string[] = [];
  const billing = {
    name: 'billing',
    portOf: (index: number) => 3099 + index,
    start: async (_index: number, name: string, _port: number, settings: GroupSettings) => {
      const process = fakeProcess(1000 + started.length);
      started.push(process);
      lines.push(`start ${name} ${settings.assignors?.join(',') ?? 'default'}`);
      return process;
    },
  };
  const pharmacy = { ...billing, name: 'pharmacy', portOf: (index: number) => 3299 + index };
  return {
    started,
    lines,
    replicas: new ReplicaSupervisor([billing, pharmacy], 16, (line) => lines.push(line)),
  };
}

const states = (views: { name: string; state: string }[]) =>
  views.map(({ name, state }) => `${name}:${state}`);

describe('tools/demo/ReplicaSupervisor', () => {
  it('scales a group up with the next names and ports, answering before they are ready', async () => {
    const { replicas, started } = supervisor();
    expect(states(replicas.scale('billing', 2))).toEqual([
      'billing-1:starting',
      'billing-2:starting',
    ]);
    await replicas.settled();
    expect(replicas.list()).toEqual([
      {
        name: 'billing-1',
        group: 'billing',
        state: 'running',
        pid: 1000,
        port: 3100,
        assignors: ['range'],
      },
      {
        name: 'billing-2',
        group: 'billing',
        state: 'running',
        pid: 1001,
        port: 3101,
        assignors: ['range'],
      },
    ]);
    replicas.scale('billing', 4);
    await replicas.settled();
    expect(states(replicas.list())).toEqual([
      'billing-1:running',
      'billing-2:running',
      'billing-3:running',
      'billing-4:running',
    ]);
    expect(started).toHaveLength(4);
  });

  it('scales down by stopping the newest replicas gracefully (SIGTERM: they leave the group)', async () => {
    const { replicas, started } = supervisor();
    replicas.scale('billing', 3);
    await replicas.settled();
    replicas.scale('billing', 1);
    await replicas.settled();
    expect(states(replicas.list())).toEqual([
      'billing-1:running',
      'billing-2:stopped',
      'billing-3:stopped',
    ]);
    expect(started.map((process) => process.how.join())).toEqual(['', 'SIGTERM', 'SIGTERM']);
  });

  it('kills with SIGKILL, restarts a killed replica under its old name, and refills gaps first', async () => {
    const { replicas, started } = supervisor();
    replicas.scale('billing', 2);
    await replicas.settled();
    expect(states(replicas.kill('billing-1'))).toContain('billing-1:killed');
    await replicas.settled();
    expect(started[0].how).toEqual(['SIGKILL']);
    replicas.scale('billing', 2); // billing-1 comes back rather than a billing-3
    await replicas.settled();
    expect(states(replicas.list())).toEqual(['billing-1:running', 'billing-2:running']);
    replicas.restart('billing-2');
    await replicas.settled();
    expect(started[1].how).toEqual(['SIGTERM']);
    expect(replicas.list().map((replica) => replica.pid)).toEqual([1002, 1003]);
  });

  it('marks a replica that dies by itself as exited', async () => {
    const { replicas, started, lines } = supervisor();
    replicas.scale('pharmacy', 1);
    await replicas.settled();
    started[0].crash();
    await started[0].exited;
    await Promise.resolve();
    expect(states(replicas.list())).toEqual(['pharmacy-1:exited']);
    expect(lines.at(-1)).toContain('pharmacy-1 exited by itself (1)');
  });

  it('marks a replica that fails to start as exited, with the reason logged', async () => {
    const lines: string[] = [];
    const broken = new ReplicaSupervisor(
      [
        {
          name: 'billing',
          portOf: () => 1,
          start: () =>
            Promise.reject(
              new Error(
                [
                  'billing-1 exited (1) before the awaited line:',
                  '{"level":30,"msg":"connecting"}',
                  '{"level":60,"msg":"billing failed to start","err":{"message":"listen EADDRINUSE: address already in use 127.0.0.1:1"}}',
                  'npm notice',
                ].join('\n'),
              ),
            ),
        },
      ],
      4,
      (line) => lines.push(line),
    );
    broken.scale('billing', 1);
    await broken.settled();
    expect(states(broken.list())).toEqual(['billing-1:exited']);
    // The reason is the process's own last error line, not just that it exited.
    expect(lines).toEqual([
      '✖ billing-1 failed to start: billing-1 exited (1) before the awaited line (billing failed to start: listen EADDRINUSE: address already in use 127.0.0.1:1)',
    ]);
  });

  it('refuses unknown groups and replicas, bad counts, and killing what is not running', async () => {
    const { replicas } = supervisor();
    const refusal = (act: () => unknown) => {
      try {
        act();
      } catch (error) {
        return error instanceof SupervisorRefusal ? [error.status, error.message] : error;
      }
      return 'accepted';
    };
    expect(refusal(() => replicas.scale('radiology', 1))).toEqual([
      404,
      expect.stringContaining('there are billing, pharmacy'),
    ]);
    expect(refusal(() => replicas.scale('billing', 17))).toEqual([
      400,
      'replicas must be a whole number from 0 to 16',
    ]);
    expect(refusal(() => replicas.kill('billing-1'))).toEqual([
      404,
      'no replica "billing-1"; there are none',
    ]);
    replicas.scale('billing', 1);
    replicas.scale('billing', 0);
    await replicas.settled();
    expect(refusal(() => replicas.kill('billing-1'))).toEqual([
      400,
      'billing-1 is stopped, not running',
    ]);
  });

  it('rolls a group onto another assignor one replica at a time, keeping the old one listed second', async () => {
    const { replicas, lines } = supervisor();
    replicas.scale('billing', 2);
    await replicas.settled();
    lines.length = 0;
    replicas.rollAssignors('billing', ['cooperative-sticky'], ['range', 'cooperative-sticky']);
    await replicas.settled();
    expect(lines.filter((line) => !line.startsWith('↻'))).toEqual([
      '■ billing-1 stopped (left its group)',
      'start billing-1 cooperative-sticky,range',
      expect.stringMatching(/^✔ billing-1 running/),
      '■ billing-2 stopped (left its group)',
      'start billing-2 cooperative-sticky,range',
      expect.stringMatching(/^✔ billing-2 running/),
    ]);
    expect(replicas.list().map((view) => view.assignors)).toEqual([
      ['cooperative-sticky', 'range'],
      ['cooperative-sticky', 'range'],
    ]);
    expect(() => replicas.rollAssignors('billing', ['fair'], ['range'])).toThrow(SupervisorRefusal);
  });
});
