import type { ControlsView, ReplicasAnswer, SupervisorError } from '@hospital/admin-api';

import type { ReplicaControls, SupervisorAnswer } from './replica-controls';

/**
 * Talks to the process supervisor behind the dashboard's buttons. The broker
 * only relays: it checks the admin token, and the supervisor checks it again.
 */
export class SupervisorClient implements ReplicaControls {
  constructor(
    private readonly url: string,
    private readonly adminToken: string | undefined,
    private readonly timeoutMs = 2_000,
  ) {}

  /** The replicas to show, or why there are no controls. Never throws. */
  async view(): Promise<ControlsView> {
    const answer = await this.call('GET', '/replicas');
    if (answer.status === 200 && 'replicas' in answer.body)
      return { available: true, replicas: answer.body.replicas };
    const reason = 'error' in answer.body ? answer.body.error : `answered ${answer.status}`;
    return {
      available: false,
      reason: `process supervisor at ${this.url}: ${reason}`,
      replicas: [],
    };
  }

  /** Relays one command; a supervisor that is missing or down is a 503 with the reason. */
  async command(path: string, body: unknown = {}): Promise<SupervisorAnswer> {
    return this.call('POST', path, body);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<SupervisorAnswer> {
    try {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.adminToken ?? ''}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      try {
        return {
          status: response.status,
          body: JSON.parse(text) as ReplicasAnswer | SupervisorError,
        };
      } catch {
        return {
          status: 502,
          body: { error: `answered ${response.status} with non-JSON: ${text.slice(0, 200)}` },
        };
      }
    } catch (error) {
      return { status: 503, body: { error: `not reachable: ${(error as Error).message}` } };
    }
  }
}
