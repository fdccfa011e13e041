import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import {
  CoordinatorType,
  MembershipEventType,
  type DeleteGroupRequest,
  type DeleteGroupResponse,
  type DescribeGroupRequest,
  type DescribeGroupResponse,
  type FindCoordinatorRequest,
  type GroupHistoryRequest,
  type GroupHistoryResponse,
  type FindCoordinatorResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type ResetOffsetsRequest,
  type ResetOffsetsResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
  type WatchMembershipRequest,
  type WatchMembershipResponse,
} from '@hospital/proto';
import { Observable } from 'rxjs';
import { Broker } from '../broker';
import { invalidField } from '../errors/broker-error';
import { requireAdmin } from './admin-auth';
import { BROKER_SERVICE } from './service-definition';

/** "ipv4:127.0.0.1:53422" -> "127.0.0.1" */
function hostOf(call: ServerUnaryCall<unknown, unknown>): string {
  const peer = call.getPeer();
  return peer
    .replace(/^ipv[46]:/, '')
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1');
}

/** The gRPC surface of the group coordinator and offsets: each method hands the request on. */
@Controller()
export class GroupController {
  constructor(private readonly broker: Broker) {}

  @GrpcMethod(BROKER_SERVICE, 'findCoordinator')
  findCoordinator(request: FindCoordinatorRequest): FindCoordinatorResponse {
    if (!request.key) throw invalidField('key', 'name the group');
    if (
      request.keyType !== CoordinatorType.COORDINATOR_TYPE_GROUP &&
      request.keyType !== CoordinatorType.COORDINATOR_TYPE_UNSPECIFIED
    ) {
      throw invalidField('key_type', 'only COORDINATOR_TYPE_GROUP is supported');
    }
    // One broker: it coordinates every group.
    return { nodeId: 0, host: this.broker.config.advertisedHost, port: this.broker.config.port };
  }

  @GrpcMethod(BROKER_SERVICE, 'joinGroup')
  joinGroup(
    request: JoinGroupRequest,
    _metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<JoinGroupResponse> {
    return this.broker.coordinator.joinGroup(request, hostOf(call));
  }

  @GrpcMethod(BROKER_SERVICE, 'syncGroup')
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.broker.coordinator.syncGroup(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'heartbeat')
  heartbeat(request: HeartbeatRequest): HeartbeatResponse {
    this.broker.coordinator.heartbeat(request);
    return {};
  }

  @GrpcMethod(BROKER_SERVICE, 'watchMembership')
  watchMembership(request: WatchMembershipRequest): Observable<WatchMembershipResponse> {
    return new Observable((subscriber) =>
      this.broker.coordinator.watchMembership(
        request.groupId,
        request.memberId,
        request.generationId,
        (event) => {
          subscriber.next(event);
          if (event.type === MembershipEventType.MEMBERSHIP_EVENT_TYPE_MEMBER_REMOVED)
            subscriber.complete();
        },
      ),
    );
  }

  @GrpcMethod(BROKER_SERVICE, 'leaveGroup')
  leaveGroup(request: LeaveGroupRequest): LeaveGroupResponse {
    this.broker.coordinator.leaveGroup(request);
    return {};
  }

  @GrpcMethod(BROKER_SERVICE, 'offsetCommit')
  async offsetCommit(request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    await this.broker.coordinator.commitOffsets(request);
    return {};
  }

  @GrpcMethod(BROKER_SERVICE, 'offsetFetch')
  offsetFetch(request: OffsetFetchRequest): OffsetFetchResponse {
    return this.broker.groups.fetch(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'listGroups')
  listGroups(request: ListGroupsRequest): ListGroupsResponse {
    return this.broker.groups.listGroups(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'describeGroup')
  describeGroup(request: DescribeGroupRequest): DescribeGroupResponse {
    return this.broker.groups.describeGroup(request.groupId);
  }

  @GrpcMethod(BROKER_SERVICE, 'groupHistory')
  groupHistory(request: GroupHistoryRequest): GroupHistoryResponse {
    return this.broker.groups.history(request.groupId, this.broker.coordinator.trace);
  }

  @GrpcMethod(BROKER_SERVICE, 'deleteGroup')
  async deleteGroup(request: DeleteGroupRequest, metadata: Metadata): Promise<DeleteGroupResponse> {
    requireAdmin(metadata, this.broker.config.adminToken, 'DeleteGroup');
    await this.broker.coordinator.deleteGroup(request.groupId);
    return {};
  }

  @GrpcMethod(BROKER_SERVICE, 'resetOffsets')
  resetOffsets(request: ResetOffsetsRequest, metadata: Metadata): Promise<ResetOffsetsResponse> {
    requireAdmin(metadata, this.broker.config.adminToken, 'ResetOffsets');
    return this.broker.coordinator.resetOffsets(request);
  }
}
