import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { presentsAdminToken } from '@hospital/proto';
import { type ReplicasAnswer, type SupervisorError } from '@hospital/admin-api';
import { ASSIGNORS } from '@hospital/broker-client';
import { SupervisorRefusal, type ReplicaSupervisor } from './replica-supervisor';

export interface RunningControlServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4_096;

async function readJson(request: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of request) {
    body += (chunk as Buffer).toString();
    if (body.length > MAX_BODY_BYTES)
      throw new SupervisorRefusal(400, `body is over ${MAX_BODY_BYTES} bytes`);
  }
  if (!body.trim()) return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new SupervisorRefusal(400, 'body is not JSON');
  }
}

/**
 * The supervisor's HTTP API (see ReplicaView in @hospital/proto for the
 * routes), on loopback only: the broker's dashboard buttons and the
 * `hospital scale|kill|restart` commands come through here.
 */
export async function startControlServer(
  supervisor: ReplicaSupervisor,
  options: { port: number; adminToken: string },
): Promise<RunningControlServer> {
  const route = async (request: IncomingMessage): Promise<ReplicasAnswer> => {
    const path = new URL(request.url ?? '/', 'http://supervisor').pathname;
    if (request.method === 'GET' && path === '/replicas') return { replicas: supervisor.list() };
    if (request.method === 'POST') {
      const scale = /^\/groups\/([^/]+)\/scale$/.exec(path);
      if (scale) {
        const { replicas } = (await readJson(request)) as { replicas?: unknown };
        if (typeof replicas !== 'number')
          throw new SupervisorRefusal(400, 'replicas (a number) is missing from the body');
        return { replicas: supervisor.scale(decodeURIComponent(scale[1]), replicas) };
      }
      const assignors = /^\/groups\/([^/]+)\/assignors$/.exec(path);
      if (assignors) {
        const body = (await readJson(request)) as { assignors?: unknown };
        if (
          !Array.isArray(body.assignors) ||
          body.assignors.some((name) => typeof name !== 'string')
        )
          throw new SupervisorRefusal(400, 'assignors (a list of names) is missing from the body');
        return {
          replicas: supervisor.rollAssignors(
            decodeURIComponent(assignors[1]),
            body.assignors as string[],
            Object.keys(ASSIGNORS),
          ),
        };
      }
      const action = /^\/replicas\/([^/]+)\/(kill|restart)$/.exec(path);
      if (action) {
        const name = decodeURIComponent(action[1]);
        return {
          replicas: action[2] === 'kill' ? supervisor.kill(name) : supervisor.restart(name),
        };
      }
    }
    throw new SupervisorRefusal(404, `no route ${request.method} ${path}`);
  };
  const answer = (
    response: ServerResponse,
    status: number,
    body: ReplicasAnswer | SupervisorError,
  ) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const server = createServer((request, response) => {
    if (!presentsAdminToken(request.headers.authorization, options.adminToken)) {
      answer(response, 401, { error: 'this needs the admin token: authorization: Bearer <token>' });
      return;
    }
    route(request).then(
      (body) => answer(response, 200, body),
      (error: unknown) =>
        error instanceof SupervisorRefusal
          ? answer(response, error.status, { error: error.message })
          : answer(response, 500, { error: (error as Error).message }),
    );
  });
  server.listen(options.port, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
