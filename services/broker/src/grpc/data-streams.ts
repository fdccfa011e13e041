import type { FetchRequest, internal, ProduceResponse } from '@hospital/proto';
import type { Logger } from 'pino';
import type { DataPlane } from '../data/data-plane';
import { PipelinedStreams } from './pipelined-streams';

/** The data plane's two pipelined RPCs, ProduceStream and FetchStream. */
export class DataStreams {
  readonly produce: PipelinedStreams<internal.ProduceRequestView, ProduceResponse>;
  readonly fetch: PipelinedStreams<FetchRequest, internal.FetchResponseView>;

  /** `onFetch` sees each Fetch with the client id of its stream (the rebalance trace's first fetch). */
  constructor(
    data: DataPlane,
    logger: Logger,
    onFetch: (clientId: string, request: FetchRequest) => void = () => {},
  ) {
    this.produce = new PipelinedStreams(
      'ProduceStream',
      (request) => data.produce(request ?? { topics: [], acks: 0, timeoutMs: 0 }),
      logger,
    );
    this.fetch = new PipelinedStreams(
      'FetchStream',
      (request, signal, clientId) => {
        const fetch = request ?? { maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [] };
        onFetch(clientId, fetch);
        return data.fetch(fetch, signal);
      },
      logger,
    );
  }

  drainAll(): void {
    this.produce.drainAll();
    this.fetch.drainAll();
  }
}
