import { EventEmitter, once } from 'node:events';
import type { ServiceError } from '@grpc/grpc-js';
import {
  ConsumerAssignment,
  ConsumerSubscription,
  ErrorReason,
  readErrorDetail,
  type JoinGroupResponse,
} from '@hospital/proto';
import { rangeAssignment } from '../../src/bench/range-assignment';
import type { BrokerRpc } from './broker-rpc';

export interface DriverOptions {
  groupId: string;
  clientId: string;
  topic: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  groupInstanceId?: string;
}

const reasonOf = (error: unknown) => readErrorDetail((error as ServiceError).metadata)?.reason;

/**
 * A minimal member of the classic protocol, for tests: joins (answering
 * MEMBER_ID_REQUIRED), computes a range assignment when it is the leader,
 * syncs, heartbeats, and rejoins when told to. Emits 'assigned' after every
 * SyncGroup. Enough to watch the coordinator, not a real consumer.
 */
export class GroupDriver extends EventEmitter {
  memberId = '';
  generationId = -1;
  partitions: number[] = [];
  /** Members the coordinator sent this member in its last JoinGroup answer (the leader's view). */
  lastJoinMembers: string[] = [];
  leader = '';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private joining: Promise<void> | undefined;

  constructor(
    private readonly rpc: BrokerRpc,
    readonly options: DriverOptions,
  ) {
    super();
  }

  get isJoining(): boolean {
    return this.joining !== undefined;
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs);
    return this.join();
  }

  private join(): Promise<void> {
    this.joining ??= this.joinLoop().finally(() => (this.joining = undefined));
    return this.joining;
  }

  private async joinLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const response = await this.rpc.call('joinGroup', {
          groupId: this.options.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
          protocolType: 'consumer',
          protocols: [
            {
              name: 'range',
              metadata: Buffer.from(
                ConsumerSubscription.encode({
                  topics: [this.options.topic],
                  userData: Buffer.alloc(0),
                  ownedPartitions: [],
                  generationId: -1,
                }).finish(),
              ),
            },
          ],
          clientId: this.options.clientId,
          reason: '',
        });
        await this.sync(response);
        return;
      } catch (error) {
        const reason = reasonOf(error);
        if (reason === ErrorReason.MEMBER_ID_REQUIRED) {
          this.memberId =
            readErrorDetail((error as ServiceError).metadata)?.metadata.member_id ?? '';
        } else if (reason === ErrorReason.UNKNOWN_MEMBER_ID) {
          this.memberId = '';
        } else if (
          reason !== ErrorReason.REBALANCE_IN_PROGRESS &&
          reason !== ErrorReason.ILLEGAL_GENERATION
        ) {
          if (!this.stopped) this.emit('failed', error);
          return;
        }
      }
    }
  }

  private async sync(join: JoinGroupResponse): Promise<void> {
    this.memberId = join.memberId;
    this.leader = join.leader;
    this.lastJoinMembers = join.members.map((member) => member.memberId);
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (join.leader === join.memberId) {
      const described = await this.rpc.call('describeTopic', { name: this.options.topic });
      const count = described.topic?.partitions.length ?? 0;
      assignments = rangeAssignment(
        join.members.map((member) => member.memberId),
        this.options.topic,
        count,
      );
    }
    const synced = await this.rpc.call('syncGroup', {
      groupId: this.options.groupId,
      generationId: join.generationId,
      memberId: join.memberId,
      groupInstanceId: this.options.groupInstanceId,
      protocolType: 'consumer',
      protocolName: join.protocolName,
      assignments,
    });
    this.generationId = join.generationId;
    this.partitions = ConsumerAssignment.decode(synced.assignment).partitions.flatMap(
      (topic) => topic.partitions,
    );
    this.emit('assigned', this.generationId, this.partitions);
  }

  private async beat(): Promise<void> {
    if (this.stopped || this.joining || !this.memberId) return;
    try {
      await this.rpc.call('heartbeat', {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
      });
      this.emit('heartbeat');
    } catch (error) {
      const reason = reasonOf(error);
      if (reason === ErrorReason.UNKNOWN_MEMBER_ID) this.memberId = '';
      if (!this.stopped) void this.join();
    }
  }

  /** Commits offsets as this member, with its member id and generation. */
  commit(partition: number, offset: number): Promise<unknown> {
    return this.rpc.call('offsetCommit', {
      groupId: this.options.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.options.groupInstanceId,
      topics: [
        {
          name: this.options.topic,
          partitions: [{ partition, committedOffset: offset, metadata: '' }],
        },
      ],
    });
  }

  /** Graceful: LeaveGroup. */
  async leave(): Promise<void> {
    this.halt();
    await this.rpc.call('leaveGroup', {
      groupId: this.options.groupId,
      members: [
        {
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
          reason: 'test leaves',
        },
      ],
    });
  }

  /** A crash: no LeaveGroup, heartbeats just stop. */
  halt(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Resolves at the next assignment. */
  nextAssignment(): Promise<unknown[]> {
    return once(this, 'assigned');
  }
}

/** Resolves once every driver holds an assignment of one generation newer than `after`. */
export async function settled(drivers: GroupDriver[], after: number): Promise<number> {
  for (;;) {
    const generations = new Set(drivers.map((driver) => driver.generationId));
    const [generation] = generations;
    if (
      generations.size === 1 &&
      generation > after &&
      drivers.every((driver) => !driver.isJoining)
    ) {
      return generation;
    }
    await Promise.race(drivers.map((driver) => driver.nextAssignment()));
  }
}
