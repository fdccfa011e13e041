import { connect, type Socket } from 'node:net';
import { damageBytes, Random } from './mutate';

/**
 * The Kafka half of `npm run fuzz`: frames built by KafkaJS's own request
 * encoders (an independent codec) for every API the listener serves at a
 * classic version it serves, and by @platformatic/kafka's for the flexible
 * versions (compact types, tagged fields, request header v2); then sent as
 * they are, damaged, cut short, with a header from another API or version,
 * or replaced by noise. A clear answer
 * is a response frame with the request's correlation id, or the connection
 * closed by the broker (what Kafka does with a request it cannot read).
 * A connection left open with no answer is unclear, except on the calls that
 * may hold by design; the broker process dying is a crash.
 */
export type KafkaOutcome =
  'answered' | 'closed' | 'held (long poll)' | 'awaiting the rest' | 'unclear';

interface KafkaJsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<{ buffer: Buffer }>;
}
type Builder = (args: Record<string, unknown>) => KafkaJsRequest;

const TOPIC = 'patient.checkout';
/** The calls that may hold by design, by API key (also for frames whose key was swapped for one of them). */
const LONG_POLL_KEYS = new Map([
  [0, 'Produce'],
  [1, 'Fetch'],
  [11, 'JoinGroup'],
  [14, 'SyncGroup'],
]);
const LONG_POLLS = new Set(LONG_POLL_KEYS.values());
/** Valid frames that Kafka closes the connection on when sent first: SASL tokens need the handshake before them. */
const CLOSED_WHEN_ALONE = new Set(['SaslAuthenticate']);
/** How long an answer may take: requests that may hold, and frames the broker is still waiting to complete, are given less. */
const ANSWER_WITHIN_MS = 3_000;
const LONG_POLL_MS = 2_000;
const INCOMPLETE_FRAME_MS = 200;

/** API name, KafkaJS's folder, and the versions both KafkaJS and the listener have, with arguments valid for all of them. */
const APIS: { name: string; folder: string; versions: number[]; args: Record<string, unknown> }[] =
  [
    {
      name: 'Produce',
      folder: 'produce',
      versions: [3, 4, 5, 6, 7],
      args: {
        acks: -1,
        timeout: 500,
        topicData: [
          {
            topic: TOPIC,
            partitions: [
              {
                partition: 0,
                firstSequence: 0,
                messages: [
                  { key: 'P-1', value: 'checkout', headers: { h: 'v' }, timestamp: Date.now() },
                ],
              },
            ],
          },
        ],
      },
    },
    {
      name: 'Fetch',
      folder: 'fetch',
      versions: [4, 5, 6, 7, 8, 9, 10, 11],
      args: {
        replicaId: -1,
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 1,
        topics: [
          {
            topic: TOPIC,
            partitions: [
              { partition: 0, fetchOffset: '0', logStartOffset: '0', maxBytes: 1 << 20 },
            ],
          },
        ],
      },
    },
    {
      name: 'ListOffsets',
      folder: 'listOffsets',
      versions: [1, 2, 3],
      args: {
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic: TOPIC, partitions: [{ partition: 0, timestamp: '-1' }] }],
      },
    },
    {
      name: 'Metadata',
      folder: 'metadata',
      versions: [0, 1, 2, 3, 4, 5, 6],
      args: { topics: [TOPIC], allowAutoTopicCreation: false },
    },
    {
      name: 'OffsetCommit',
      folder: 'offsetCommit',
      versions: [2, 3, 4, 5],
      args: {
        groupId: 'fuzz',
        groupGenerationId: -1,
        memberId: '',
        retentionTime: -1,
        topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '0' }] }],
      },
    },
    {
      name: 'OffsetFetch',
      folder: 'offsetFetch',
      versions: [1, 2, 3, 4],
      args: { groupId: 'fuzz', topics: [{ topic: TOPIC, partitions: [{ partition: 0 }] }] },
    },
    {
      name: 'FindCoordinator',
      folder: 'findCoordinator',
      versions: [0, 1, 2],
      args: { coordinatorKey: 'fuzz', coordinatorType: 0, groupId: 'fuzz' },
    },
    {
      name: 'JoinGroup',
      folder: 'joinGroup',
      versions: [0, 1, 2, 3, 4, 5],
      args: {
        groupId: 'fuzz',
        sessionTimeout: 10_000,
        rebalanceTimeout: 300,
        memberId: '',
        protocolType: 'consumer',
        groupProtocols: [
          {
            name: 'range',
            metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 120, 255, 255, 255, 255]),
          },
        ],
      },
    },
    {
      name: 'Heartbeat',
      folder: 'heartbeat',
      versions: [0, 1, 2, 3],
      args: {
        groupId: 'fuzz',
        groupGenerationId: 1,
        memberId: 'fuzz-member',
        groupInstanceId: null,
      },
    },
    {
      name: 'LeaveGroup',
      folder: 'leaveGroup',
      versions: [0, 1, 2, 3],
      args: { groupId: 'fuzz', memberId: 'fuzz-member', members: [{ memberId: 'fuzz-member' }] },
    },
    {
      name: 'SyncGroup',
      folder: 'syncGroup',
      versions: [0, 1, 2, 3],
      args: {
        groupId: 'fuzz',
        generationId: 1,
        memberId: 'fuzz-member',
        groupAssignment: [
          { memberId: 'fuzz-member', memberAssignment: Buffer.from([0, 0, 0, 0, 0, 0]) },
        ],
      },
    },
    {
      name: 'DescribeGroups',
      folder: 'describeGroups',
      versions: [0, 1, 2],
      args: { groupIds: ['fuzz', 'billing'] },
    },
    { name: 'ListGroups', folder: 'listGroups', versions: [0, 1, 2], args: {} },
    { name: 'SaslHandshake', folder: 'saslHandshake', versions: [1], args: { mechanism: 'PLAIN' } },
    { name: 'ApiVersions', folder: 'apiVersions', versions: [0, 1, 2], args: {} },
    {
      name: 'CreateTopics',
      folder: 'createTopics',
      versions: [0, 1, 2, 3],
      args: {
        topics: [
          {
            topic: 'fuzz.kafka',
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [{ name: 'retention.ms', value: '60000' }],
          },
        ],
        timeout: 1000,
        validateOnly: false,
      },
    },
    {
      name: 'DeleteTopics',
      folder: 'deleteTopics',
      versions: [0, 1],
      args: { topics: ['fuzz.kafka'], timeout: 1000 },
    },
    {
      name: 'SaslAuthenticate',
      folder: 'saslAuthenticate',
      versions: [0, 1],
      args: { authBytes: Buffer.from('\u0000admin\u0000guess') },
    },
    {
      name: 'CreatePartitions',
      folder: 'createPartitions',
      versions: [0, 1],
      args: {
        topicPartitions: [{ topic: 'fuzz.kafka', count: 3 }],
        timeout: 1000,
        validateOnly: false,
      },
    },
  ];

function builder(folder: string, version: number): Builder {
  // KafkaJS's per-version encoders; not part of its typed API, so loaded by path.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`kafkajs/src/protocol/requests/${folder}/v${version}/request`) as Builder;
}

/** One request body, encoded by an independent client library. */
interface Encoded {
  apiKey: number;
  apiVersion: number;
  body: Buffer;
  /** Sent with request header v2 (tagged fields after the client id). */
  flexible: boolean;
}

interface FuzzedApi {
  name: string;
  versions: number[];
  encode(version: number): Promise<Encoded>;
}

const KAFKAJS_APIS: FuzzedApi[] = APIS.map((api) => ({
  name: api.name,
  versions: api.versions,
  async encode(version) {
    const request = builder(api.folder, version)(api.args);
    const body = (await request.encode()).buffer;
    return { apiKey: request.apiKey, apiVersion: request.apiVersion, body, flexible: false };
  },
}));

type Platformatic = typeof import('@platformatic/kafka');
let platformatic: Promise<Platformatic> | undefined;

/** An API at the one version @platformatic/kafka's own encoder writes (flexible ones, and ListOffsets v5). */
function platformaticApi(
  name: string,
  encode: (kafka: Platformatic) => {
    api: { key: number; version: number };
    request: { buffer: Buffer };
    flexible?: boolean;
  },
): FuzzedApi {
  return {
    name,
    versions: [0],
    async encode() {
      platformatic ??= import('@platformatic/kafka');
      const { api, request, flexible = true } = encode(await platformatic);
      return { apiKey: api.key, apiVersion: api.version, body: request.buffer, flexible };
    },
  };
}

const RANGE_METADATA = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 120, 255, 255, 255, 255]);

/** The listener's newest versions, as @platformatic/kafka (which speaks only those) encodes them. */
const PLATFORMATIC_APIS: FuzzedApi[] = [
  platformaticApi('ApiVersions', (k) => ({
    api: k.apiVersionsV3.api,
    request: k.apiVersionsV3.createRequest('fuzz', '1.0'),
  })),
  platformaticApi('Metadata', (k) => ({
    api: k.metadataV9.api,
    request: k.metadataV9.createRequest([TOPIC], false, false),
  })),
  platformaticApi('FindCoordinator', (k) => ({
    api: k.findCoordinatorV4.api,
    request: k.findCoordinatorV4.createRequest(0, ['fuzz', 'billing']),
  })),
  platformaticApi('Fetch', (k) => ({
    api: k.fetchV12.api,
    request: k.fetchV12.createRequest(
      50,
      1,
      1 << 20,
      1,
      0,
      -1,
      [
        {
          topicId: TOPIC,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 0,
              fetchOffset: 0n,
              lastFetchedEpoch: 0,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      [],
      '',
    ),
  })),
  platformaticApi('ListOffsets', (k) => ({
    api: k.listOffsetsV5.api,
    request: k.listOffsetsV5.createRequest(-1, 1, [
      { name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: 0, timestamp: -1n }] },
    ]),
    flexible: false,
  })),
  platformaticApi('JoinGroup', (k) => ({
    api: k.joinGroupV6.api,
    request: k.joinGroupV6.createRequest('fuzz', 10_000, 300, '', null, 'consumer', [
      { name: 'range', metadata: RANGE_METADATA },
    ]),
  })),
  platformaticApi('SyncGroup', (k) => ({
    api: k.syncGroupV4.api,
    request: k.syncGroupV4.createRequest('fuzz', 1, 'fuzz-member', null, 'consumer', 'range', [
      { memberId: 'fuzz-member', assignment: Buffer.from([0, 0, 0, 0, 0, 0]) },
    ]),
  })),
  platformaticApi('Heartbeat', (k) => ({
    api: k.heartbeatV4.api,
    request: k.heartbeatV4.createRequest('fuzz', 1, 'fuzz-member', null),
  })),
  platformaticApi('LeaveGroup', (k) => ({
    api: k.leaveGroupV4.api,
    request: k.leaveGroupV4.createRequest('fuzz', [
      { memberId: 'fuzz-member', groupInstanceId: null },
    ]),
  })),
  platformaticApi('OffsetCommit', (k) => ({
    api: k.offsetCommitV8.api,
    request: k.offsetCommitV8.createRequest('fuzz', -1, '', null, [
      {
        name: TOPIC,
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 0n,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          },
        ],
      },
    ]),
  })),
  platformaticApi('OffsetFetch', (k) => ({
    api: k.offsetFetchV8.api,
    request: k.offsetFetchV8.createRequest(
      [{ groupId: 'fuzz', memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
      false,
    ),
  })),
];

/** Every API and version fuzzed: KafkaJS's encoders for the classic versions, @platformatic/kafka's for the flexible ones. */
const FUZZED_APIS: FuzzedApi[] = [...KAFKAJS_APIS, ...PLATFORMATIC_APIS];

/** The broker's default BROKER_MAX_REQUEST_BYTES, which the fuzzed broker runs with. */
const MAX_REQUEST_BYTES = 16 << 20;

/** Whether the broker can act on `sent` bytes led by this size prefix: refuse it, or read a whole frame. */
function decided(size: number, sent: number): boolean {
  return size < 8 || size > MAX_REQUEST_BYTES || size <= sent - 4;
}

/** A valid frame (size, header v1 or v2, body) for one API at one version. */
async function validFrame(api: FuzzedApi, version: number, correlationId: number): Promise<Buffer> {
  const { apiKey, apiVersion, body, flexible } = await api.encode(version);
  const header = Buffer.alloc(8 + 2 + 4 + 1);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(4, 8);
  header.write('fuzz', 10);
  header.writeInt8(0, 14); // header v2: no tagged fields
  const frame = Buffer.concat([Buffer.alloc(4), header.subarray(0, flexible ? 15 : 14), body]);
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

/** One hostile frame: valid, damaged past the header, with another version or key, truncated, or noise. */
async function hostileFrame(
  random: Random,
  correlationId: number,
): Promise<{ api: string; bytes: Buffer; complete: boolean; correlationId?: number }> {
  const api = random.pick(FUZZED_APIS);
  const version = random.pick(api.versions);
  const valid = await validFrame(api, version, correlationId);
  const body = valid.subarray(4);
  const reframe = (payload: Buffer) => {
    const out = Buffer.concat([Buffer.alloc(4), payload]);
    out.writeInt32BE(payload.length, 0);
    return out;
  };
  const kind = random.int(7);
  switch (kind) {
    case 0:
      return { api: api.name, bytes: valid, complete: true };
    case 1: {
      // Damage after the api key, version and correlation id, so the answer can be matched.
      const damaged = Buffer.concat([body.subarray(0, 8), damageBytes(body.subarray(8), random)]);
      return { api: api.name, bytes: reframe(damaged), complete: true };
    }
    case 2: {
      const shifted = Buffer.from(body);
      shifted.writeInt16BE(random.pick([-1, 0, 12, 13, 32_767, random.int(60)]), 2); // another version
      return { api: `${api.name} (other version)`, bytes: reframe(shifted), complete: true };
    }
    case 3: {
      const other = Buffer.from(body);
      const key = random.pick([...FUZZED_APIS.map(() => random.int(70)), -1, 1000]);
      other.writeInt16BE(key, 0); // another API's key
      // Read as a long-polling API, another body may hold as that API may (a JoinGroup that waits for a rebalance).
      const heldAs = LONG_POLL_KEYS.get(key);
      return {
        api: heldAs ? `${heldAs} (another API's body)` : 'unknown-key',
        bytes: reframe(other),
        complete: true,
      };
    }
    case 4:
      // Framed as the shorter body: complete, but cut short inside.
      return {
        api: `${api.name} (truncated)`,
        bytes: reframe(body.subarray(0, 8 + random.int(Math.max(1, body.length - 8)))),
        complete: true,
      };
    case 5: {
      const lying = Buffer.from(valid);
      const size = random.pick([-1, 0, 3, 0x7fffffff, body.length + 1 + random.int(100)]);
      lying.writeInt32BE(size, 0);
      const sent = lying.subarray(0, Math.min(lying.length, 64 + random.int(64)));
      // A plausible size the frame does not reach yet: the broker waits for the rest, as Kafka does.
      return {
        api: 'size-prefix',
        bytes: sent,
        complete: decided(size, sent.length),
      };
    }
    default: {
      const noise = random.bytes(random.int(200));
      return {
        api: 'noise',
        bytes: noise,
        // Noise that happens to frame a request is answered under whatever correlation id its bytes hold.
        correlationId: noise.length >= 12 ? noise.readInt32BE(8) : undefined,
        complete: noise.length >= 4 && decided(noise.readInt32BE(0), noise.length),
      };
    }
  }
}

/** Sends one frame on a fresh connection and classifies what came back. */
function exchange(
  host: string,
  port: number,
  bytes: Buffer,
  correlationId: number,
  wait: { ms: number; outcome: KafkaOutcome },
): Promise<[KafkaOutcome, string?]> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, host);
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (result: [KafkaOutcome, string?]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish(
          wait.outcome === 'unclear'
            ? ['unclear', `no answer and no close within ${wait.ms} ms`]
            : [wait.outcome],
        ),
      wait.ms,
    );
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 8) return;
      const answered = received.readInt32BE(4);
      finish(
        answered === correlationId
          ? ['answered']
          : ['unclear', `answer carries correlation id ${answered}, sent ${correlationId}`],
      );
    });
    socket.on('close', () => finish(['closed']));
    socket.on('error', () => finish(['closed']));
  });
}

export async function fuzzKafka(
  address: string,
  count: number,
  random: Random,
  pool: (count: number, work: (index: number) => Promise<void>) => Promise<void>,
  record: (api: string, outcome: KafkaOutcome, detail?: string) => void,
  progress: (done: number) => void,
): Promise<void> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  // Each valid frame once, first: one the broker refuses means the fuzzer's baseline is wrong.
  let correlationId = count;
  for (const api of FUZZED_APIS)
    for (const version of api.versions) {
      const bytes = await validFrame(api, version, ++correlationId);
      const wait: { ms: number; outcome: KafkaOutcome } = LONG_POLLS.has(api.name)
        ? { ms: LONG_POLL_MS, outcome: 'held (long poll)' }
        : { ms: ANSWER_WITHIN_MS, outcome: 'unclear' };
      const [outcome, detail] = await exchange(host, port, bytes, correlationId, wait);
      const refused = outcome === 'closed' && !CLOSED_WHEN_ALONE.has(api.name);
      record(
        'kafka valid frames',
        refused ? 'unclear' : outcome,
        refused ? `${api.name} v${bytes.readInt16BE(6)}: a valid frame was refused` : detail,
      );
    }
  let done = 0;
  await pool(count, async (index) => {
    const correlationId = index + 1;
    const frame = await hostileFrame(random, correlationId);
    const { api, bytes, complete } = frame;
    const wait: { ms: number; outcome: KafkaOutcome } = !complete
      ? { ms: INCOMPLETE_FRAME_MS, outcome: 'awaiting the rest' }
      : LONG_POLLS.has(api.split(' ')[0])
        ? { ms: LONG_POLL_MS, outcome: 'held (long poll)' }
        : { ms: ANSWER_WITHIN_MS, outcome: 'unclear' };
    const [outcome, detail] = await exchange(
      host,
      port,
      bytes,
      frame.correlationId ?? correlationId,
      wait,
    );
    // The key and version the broker read, so an unclear answer can be replayed.
    const header =
      bytes.length >= 8 ? ` (key ${bytes.readInt16BE(4)} v${bytes.readInt16BE(6)})` : '';
    record(`kafka ${api.split(' ')[0]}`, outcome, detail && `${api}${header}: ${detail}`);
    progress(++done);
  });
}
