import type {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicRequest,
  CreateTopicResponse,
  DescribeTopicRequest,
  DescribeTopicResponse,
  ListTopicsRequest,
  ListTopicsResponse,
  TopicDescription,
} from '@hospital/proto';
import type { Topic, TopicStore } from '../storage/topic-store';

/** The topic RPCs, translated between protobuf messages and the topic store. */
export class TopicAdmin {
  constructor(
    private readonly store: TopicStore,
    /** The largest record batch a Produce may carry, told to producers in every description. */
    private readonly maxBatchBytes: number,
  ) {}

  createTopic(request: CreateTopicRequest): CreateTopicResponse {
    const settings = this.store.resolveSettings(request.config ?? {});
    return { topic: this.describe(this.store.create(request.name, request.partitions, settings)) };
  }

  /** Creates a topic unless it exists (used at start for the configured topics). */
  ensureTopic(name: string, partitions: number, internal = false): Topic {
    if (this.store.has(name)) return this.store.get(name);
    return this.store.create(name, partitions, this.store.resolveSettings(), internal);
  }

  createPartitions(request: CreatePartitionsRequest): CreatePartitionsResponse {
    return {
      topic: this.describe(this.store.addPartitions(request.name, request.totalPartitions)),
    };
  }

  deleteTopic(name: string): void {
    this.store.delete(name);
  }

  listTopics(request: ListTopicsRequest): ListTopicsResponse {
    return {
      topics: this.store
        .list()
        .filter((topic) => request.includeInternal || !topic.internal)
        .map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.length,
          internal: topic.internal,
        })),
    };
  }

  describeTopic(request: DescribeTopicRequest): DescribeTopicResponse {
    return { topic: this.describe(this.store.get(request.name)) };
  }

  /** A topic as DescribeTopic, the dashboard and /metrics show it. */
  describe(topic: Topic): TopicDescription {
    return {
      name: topic.name,
      internal: topic.internal,
      config: { ...topic.settings },
      partitions: topic.partitions.map((log, partition) => ({
        partition,
        logStartOffset: log.logStartOffset,
        logEndOffset: log.logEndOffset,
        sizeBytes: log.sizeBytes,
        segmentCount: log.segmentCount,
      })),
      maxBatchBytes: this.maxBatchBytes,
    };
  }
}
