import type { FetchRequest, internal, ProduceResponse } from '@hospital/proto';
import type { Logger } from 'pino';
import type { DataPlane } from '../data/data-plane';
import { PipelinedStreams } from './pipelined-streams';

/** The data plane's two pipelined RPCs, ProduceStream and FetchStream. */
export class DataStreams {
  readonly produce: PipelinedStreams<internal.ProduceRequestView, ProduceResponse>;
  readonly fetch: PipelinedStreams<FetchRequest, internal.FetchResponseView>;

  constructor(data: DataPlane, logger: Logger) {
    this.produce = new PipelinedStreams(
      'ProduceStream',
      (request) => data.produce(request ?? { topics: [], acks: 0, timeoutMs: 0 }),
      logger,
    );
    this.fetch = new PipelinedStreams(
      'FetchStream',
      (request, signal) =>
        data.fetch(request ?? { maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [] }, signal),
      logger,
    );
  }

  drainAll(): void {
    this.produce.drainAll();
    this.fetch.drainAll();
  }
}
