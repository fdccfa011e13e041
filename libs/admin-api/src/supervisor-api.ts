/**
 * The process supervisor's HTTP API (`hospital demo` serves it on loopback):
 * the broker's dashboard and the `hospital` CLI scale consumer groups and kill
 * or restart replicas through it. JSON both ways; every call needs
 * `authorization: Bearer <broker admin token>`.
 *
 *   GET  /replicas                      → ReplicasAnswer
 *   POST /groups/:group/scale           { replicas: n } → ReplicasAnswer
 *   POST /replicas/:name/kill           SIGKILL, as in a crash → ReplicasAnswer
 *   POST /replicas/:name/restart        start it again (stop first if running) → ReplicasAnswer
 *   POST /groups/:group/assignors       { assignors: [...] } roll the replicas onto them → ReplicasAnswer
 *
 * Errors answer 400/401/404 with `{ error: string }`.
 */
export interface ReplicaView {
  /** "billing-3": also the replica's client id, so the broker lists it by this name. */
  name: string;
  group: string;
  state: ReplicaState;
  pid: number | undefined;
  /** Its HTTP port (read API, /health, /metrics). */
  port: number;
  /** GROUP_ASSIGNORS it was started with, in order of preference. */
  assignors: string[];
}

export type ReplicaState = 'starting' | 'running' | 'stopping' | 'stopped' | 'killed' | 'exited';

export interface ReplicasAnswer {
  replicas: ReplicaView[];
}

export interface SupervisorError {
  error: string;
}
