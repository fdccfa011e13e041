import type { ControlsView, ReplicasAnswer, SupervisorError } from '@hospital/admin-api';

export interface SupervisorAnswer {
  status: number;
  body: ReplicasAnswer | SupervisorError;
}

/**
 * What stands behind the dashboard's scale, kill and restart buttons: the
 * demo's process supervisor when BROKER_CONTROL_URL is set, else nothing
 * (each button answers 503 with the reason).
 */
export abstract class ReplicaControls {
  /** The replicas to show, or why there are no controls. Never throws. */
  abstract view(): Promise<ControlsView>;
  /** Relays one command; a supervisor that is missing or down is a 503 with the reason. */
  abstract command(path: string, body?: unknown): Promise<SupervisorAnswer>;
}

const NO_SUPERVISOR =
  'no process supervisor: this broker was not started by `hospital demo` (BROKER_CONTROL_URL is unset); ' +
  'with docker compose, scale with `docker compose up --scale billing=4`';

/** No supervisor configured: the relay is off. */
export class NoReplicaControls extends ReplicaControls {
  async view(): Promise<ControlsView> {
    return { available: false, reason: NO_SUPERVISOR, replicas: [] };
  }

  async command(): Promise<SupervisorAnswer> {
    return { status: 503, body: { error: NO_SUPERVISOR } };
  }
}
