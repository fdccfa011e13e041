import { ErrorReason, type JoinGroupRequest, type JoinGroupResponse } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { answerOf, kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import type { KafkaReader } from '../protocol/kafka-reader';
import { ApiKey, NO_THROTTLE, type KafkaApi, type KafkaContext } from './kafka-api';

/**
 * JoinGroup v0–6 on the broker's own coordinator. Kafka's consumer protocol
 * metadata passes through as opaque bytes and the leader (a Kafka client)
 * assigns. Before v4 a client cannot answer MEMBER_ID_REQUIRED, so the edge
 * completes Kafka's two-step join for it with the id just issued.
 */
export const joinGroupApi: KafkaApi = {
  key: ApiKey.JoinGroup,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 6,
  async handle(input, version, context) {
    const groupId = input.string();
    const sessionTimeoutMs = input.int32();
    const rebalanceTimeoutMs = version >= 1 ? input.int32() : sessionTimeoutMs;
    const memberId = input.string();
    const groupInstanceId = version >= 5 ? (input.nullableString() ?? undefined) : undefined;
    const protocolType = input.string();
    const protocols = input.structs((protocol) => ({
      name: protocol.string(),
      metadata: protocol.bytes(),
    }));
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const request: JoinGroupRequest = {
      groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      memberId,
      groupInstanceId,
      protocolType,
      protocols,
      clientId: context.session.clientId,
      reason: '',
    };
    const answer = await join(context, request, version);
    return (out) => {
      if (version >= 2) out.int32(NO_THROTTLE);
      if ('errorCode' in answer) {
        out.int16(answer.errorCode).int32(-1).string('').string('').string(answer.memberId);
        out.structs([], () => undefined);
        return;
      }
      out.int16(KafkaErrorCode.NONE).int32(answer.generationId).string(answer.protocolName);
      out.string(answer.leader).string(answer.memberId);
      out.structs(answer.members, (w, member) => {
        w.string(member.memberId);
        if (version >= 5) w.nullableString(member.groupInstanceId ?? null);
        w.bytes(member.metadata);
      });
    };
  },
};

async function join(
  context: KafkaContext,
  request: JoinGroupRequest,
  version: number,
): Promise<JoinGroupResponse | { errorCode: number; memberId: string }> {
  try {
    return await context.broker.coordinator.joinGroup(request, context.session.host);
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    const issued = error.metadata.member_id ?? request.memberId;
    if (error.reason === ErrorReason.MEMBER_ID_REQUIRED && version < 4)
      return join(context, { ...request, memberId: issued }, version);
    return {
      errorCode: kafkaCodeOf(error),
      memberId: error.reason === ErrorReason.MEMBER_ID_REQUIRED ? issued : request.memberId,
    };
  }
}

/** SyncGroup v0–4: the leader's assignments in, each member's own bytes out. */
export const syncGroupApi: KafkaApi = {
  key: ApiKey.SyncGroup,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  async handle(input, version, context) {
    const groupId = input.string();
    const generationId = input.int32();
    const memberId = input.string();
    const groupInstanceId = version >= 3 ? (input.nullableString() ?? undefined) : undefined;
    const assignments = input.structs((a) => ({ memberId: a.string(), assignment: a.bytes() }));
    input.skipTags(); // the request's own tagged fields (flexible versions)
    let errorCode: number = KafkaErrorCode.NONE;
    let assignment: Uint8Array = Buffer.alloc(0);
    try {
      const response = await context.broker.coordinator.syncGroup({
        groupId,
        generationId,
        memberId,
        groupInstanceId,
        protocolType: '',
        protocolName: '',
        assignments,
      });
      assignment = response.assignment;
    } catch (error) {
      errorCode = kafkaCodeOf(error);
    }
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      out.int16(errorCode).bytes(assignment);
    };
  },
};

/** Heartbeat v0–4. */
export const heartbeatApi: KafkaApi = {
  key: ApiKey.Heartbeat,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  handle(input, version, context) {
    const groupId = input.string();
    const generationId = input.int32();
    const memberId = input.string();
    const groupInstanceId = version >= 3 ? (input.nullableString() ?? undefined) : undefined;
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const { errorCode } = answerOf(() =>
      context.broker.coordinator.heartbeat({ groupId, generationId, memberId, groupInstanceId }),
    );
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      out.int16(errorCode);
    };
  },
};

/** LeaveGroup v0–4; from v3 it leaves several (static) members at once, each answered. */
export const leaveGroupApi: KafkaApi = {
  key: ApiKey.LeaveGroup,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  handle(input, version, context) {
    const groupId = input.string();
    const members =
      version >= 3
        ? input.structs((m: KafkaReader) => ({
            memberId: m.string(),
            groupInstanceId: m.nullableString() ?? undefined,
          }))
        : [{ memberId: input.string(), groupInstanceId: undefined }];
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const answers = members.map((member) => ({
      ...member,
      errorCode: answerOf(() =>
        context.broker.coordinator.leaveGroup({
          groupId,
          members: [{ ...member, reason: 'the Kafka client left' }],
        }),
      ).errorCode,
    }));
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      if (version < 3) {
        out.int16(answers[0].errorCode);
        return;
      }
      // The top-level code is for the request; per-member failures are in the list, as Kafka answers.
      out.int16(KafkaErrorCode.NONE);
      out.structs(answers, (w, answer) =>
        w
          .string(answer.memberId)
          .nullableString(answer.groupInstanceId ?? null)
          .int16(answer.errorCode),
      );
    };
  },
};
