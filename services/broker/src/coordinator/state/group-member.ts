import type { JoinGroupResponse, SyncGroupResponse } from '@hospital/proto';
import type { BrokerError } from '../../errors/broker-error';
import type { HeldResponse } from '../runtime/held-response';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

/** What a member said about itself in its last JoinGroup. */
export interface MemberSpec {
  readonly memberId: string;
  readonly groupInstanceId: string | undefined;
  readonly clientId: string;
  readonly host: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
}

/** Who the member is and its timeouts, as stored in the group's metadata record. */
export function identityOf(member: Omit<MemberSpec, 'protocolType' | 'protocols'>) {
  return {
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    clientId: member.clientId,
    host: member.host,
    sessionTimeoutMs: member.sessionTimeoutMs,
    rebalanceTimeoutMs: member.rebalanceTimeoutMs,
  };
}

/** The spec alone, as a plain value (for a record that must outlive the member). */
export function specOf(member: MemberSpec): MemberSpec {
  return { ...identityOf(member), protocolType: member.protocolType, protocols: member.protocols };
}

/** A member as handlers see it: read-only. */
export interface MemberView extends MemberSpec {
  readonly assignment: Buffer;
  readonly lastHeartbeatMs: number;
  /** A JoinGroup of this member is held open until the join phase ends. */
  readonly awaitingJoin: boolean;
  /** A SyncGroup of this member is held open until the assignment is stored. */
  readonly awaitingSync: boolean;
  supports(protocol: string): boolean;
  metadataFor(protocol: string): Buffer;
  sameProtocols(protocols: readonly Protocol[]): boolean;
}

export type HeldAnswer<T> = { value: T } | { error: BrokerError };

/**
 * One member of a classic group. Only its group changes it, and only while
 * the shard replays a record.
 */
export class GroupMember implements MemberView {
  private spec: MemberSpec;
  private assigned: Buffer = Buffer.alloc(0);
  private heartbeatMs: number;
  private heldJoin: HeldResponse<JoinGroupResponse> | undefined;
  private heldSync: HeldResponse<SyncGroupResponse> | undefined;

  constructor(spec: MemberSpec, nowMs: number) {
    this.spec = spec;
    this.heartbeatMs = nowMs;
  }

  get memberId(): string {
    return this.spec.memberId;
  }
  get groupInstanceId(): string | undefined {
    return this.spec.groupInstanceId;
  }
  get clientId(): string {
    return this.spec.clientId;
  }
  get host(): string {
    return this.spec.host;
  }
  get sessionTimeoutMs(): number {
    return this.spec.sessionTimeoutMs;
  }
  get rebalanceTimeoutMs(): number {
    return this.spec.rebalanceTimeoutMs;
  }
  get protocolType(): string {
    return this.spec.protocolType;
  }
  get protocols(): readonly Protocol[] {
    return this.spec.protocols;
  }
  get assignment(): Buffer {
    return this.assigned;
  }
  get lastHeartbeatMs(): number {
    return this.heartbeatMs;
  }
  get awaitingJoin(): boolean {
    return this.heldJoin !== undefined;
  }
  get awaitingSync(): boolean {
    return this.heldSync !== undefined;
  }

  supports(protocol: string): boolean {
    return this.protocols.some((candidate) => candidate.name === protocol);
  }

  metadataFor(protocol: string): Buffer {
    return (
      this.protocols.find((candidate) => candidate.name === protocol)?.metadata ?? Buffer.alloc(0)
    );
  }

  sameProtocols(protocols: readonly Protocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (protocol, index) =>
          protocol.name === this.protocols[index].name &&
          protocol.metadata.equals(this.protocols[index].metadata),
      )
    );
  }

  // ---- Changed by ClassicGroup during replay ----------------------------

  update(spec: MemberSpec): void {
    if (spec.memberId !== this.memberId)
      throw new Error(`member ${this.memberId} cannot become ${spec.memberId}`);
    this.spec = spec;
  }

  assign(assignment: Buffer): void {
    this.assigned = assignment;
  }

  heartbeat(nowMs: number): void {
    this.heartbeatMs = nowMs;
  }

  holdJoin(held: HeldResponse<JoinGroupResponse>): void {
    if (this.heldJoin) throw new Error(`member ${this.memberId} already has a held JoinGroup`);
    this.heldJoin = held;
  }

  answerJoin(answer: HeldAnswer<JoinGroupResponse>): void {
    const held = this.heldJoin;
    this.heldJoin = undefined;
    settle(held, answer);
  }

  holdSync(held: HeldResponse<SyncGroupResponse>): void {
    if (this.heldSync) throw new Error(`member ${this.memberId} already has a held SyncGroup`);
    this.heldSync = held;
  }

  answerSync(answer: HeldAnswer<SyncGroupResponse>): void {
    const held = this.heldSync;
    this.heldSync = undefined;
    settle(held, answer);
  }

  /** The member is gone: whatever it still waits for fails with `error`. */
  failHeld(error: BrokerError): void {
    this.answerJoin({ error });
    this.answerSync({ error });
  }
}

function settle<T>(held: HeldResponse<T> | undefined, answer: HeldAnswer<T>): void {
  if (!held) return;
  if ('error' in answer) held.reject(answer.error);
  else held.resolve(answer.value);
}
