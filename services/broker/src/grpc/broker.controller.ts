import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import type {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicRequest,
  CreateTopicResponse,
  DeleteTopicRequest,
  DeleteTopicResponse,
  DescribeTopicRequest,
  DescribeTopicResponse,
  FetchRequest,
  internal,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ListTopicsRequest,
  ListTopicsResponse,
  ProduceResponse,
} from '@hospital/proto';
import { Broker } from '../broker';
import { requireAdmin } from './admin-auth';
import { DataStreams } from './data-streams';
import { clientIdOf, type PipelinedCall } from './pipelined-streams';
import { BROKER_SERVICE } from './service-definition';

/** The gRPC surface of topics and the data plane: each method hands the request to the broker. */
@Controller()
export class BrokerController {
  constructor(
    private readonly broker: Broker,
    private readonly streams: DataStreams,
  ) {}

  @GrpcMethod(BROKER_SERVICE, 'createTopic')
  createTopic(request: CreateTopicRequest): CreateTopicResponse {
    return this.broker.topics.createTopic(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'createPartitions')
  createPartitions(request: CreatePartitionsRequest): CreatePartitionsResponse {
    return this.broker.topics.createPartitions(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'deleteTopic')
  deleteTopic(request: DeleteTopicRequest, metadata: Metadata): DeleteTopicResponse {
    requireAdmin(metadata, this.broker.config.adminToken, 'DeleteTopic');
    this.broker.topics.deleteTopic(request.name);
    return {};
  }

  @GrpcMethod(BROKER_SERVICE, 'listTopics')
  listTopics(request: ListTopicsRequest): ListTopicsResponse {
    return this.broker.topics.listTopics(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'describeTopic')
  describeTopic(request: DescribeTopicRequest): DescribeTopicResponse {
    return this.broker.topics.describeTopic(request);
  }

  @GrpcMethod(BROKER_SERVICE, 'produce')
  produce(request: internal.ProduceRequestView): Promise<ProduceResponse> {
    return this.broker.data.produce(request);
  }

  @GrpcStreamCall(BROKER_SERVICE, 'produceStream')
  produceStream(call: PipelinedCall<internal.ProduceRequestView, ProduceResponse>): void {
    this.streams.produce.serve(call);
  }

  @GrpcStreamCall(BROKER_SERVICE, 'fetchStream')
  fetchStream(call: PipelinedCall<FetchRequest, internal.FetchResponseView>): void {
    this.streams.fetch.serve(call);
  }

  @GrpcMethod(BROKER_SERVICE, 'fetch')
  fetch(
    request: FetchRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<internal.FetchResponseView> {
    this.broker.noteFetch(clientIdOf(metadata), request);
    const cancelled = new AbortController();
    call.once('cancelled', () => cancelled.abort());
    return this.broker.data.fetch(request, cancelled.signal);
  }

  @GrpcMethod(BROKER_SERVICE, 'listOffsets')
  listOffsets(request: ListOffsetsRequest): ListOffsetsResponse {
    return this.broker.data.listOffsets(request);
  }
}
