import { byCodeUnits } from '@hospital/proto';
import fc from 'fast-check';
import type { Assignment, Assignor, MemberSubscription } from './assignor';
import { CooperativeStickyAssignor } from './cooperative-sticky';
import { RangeAssignor } from './range';
import { RoundRobinAssignor } from './round-robin';
import { StickyAssignor } from './sticky';

const RUNS = 2_000;
const key = (topic: string, partition: number) => `${topic}:${partition}`;

interface Scenario {
  members: MemberSubscription[];
  partitionsPerTopic: Map<string, number>;
}

/** Random groups: 1-8 members, 1-3 topics of 1-24 partitions, random subscriptions and previous ownership. */
const scenario = (homogeneous: boolean): fc.Arbitrary<Scenario> =>
  fc
    .record({
      topicSizes: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 3 }),
      memberCount: fc.integer({ min: 1, max: 8 }),
      seed: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 64, maxLength: 64 }),
    })
    .map(({ topicSizes, memberCount, seed }) => {
      let cursor = 0;
      const next = () => seed[cursor++ % seed.length];
      const topics = topicSizes.map((_, index) => `topic-${index}`);
      const partitionsPerTopic = new Map(topics.map((topic, index) => [topic, topicSizes[index]]));
      const members = Array.from({ length: memberCount }, (_, index) => {
        const subscribed = homogeneous ? topics : topics.filter(() => next() % 3 !== 0);
        return {
          memberId: `m-${(next() % 1000).toString().padStart(3, '0')}-${index}`,
          topics: subscribed.length > 0 ? subscribed : [topics[0]],
          ownedPartitions: [] as MemberSubscription['ownedPartitions'],
          generationId: 1 + (next() % 3),
        };
      });
      // Previous ownership, including stale and conflicting claims.
      for (const [topic, count] of partitionsPerTopic) {
        for (let partition = 0; partition < count + 2; partition++) {
          if (next() % 4 === 0) continue;
          const owner = members[next() % members.length];
          const entry = owner.ownedPartitions.find((owned) => owned.topic === topic);
          if (entry) entry.partitions.push(partition);
          else owner.ownedPartitions.push({ topic, partitions: [partition] });
        }
      }
      return { members, partitionsPerTopic };
    });

function ownersOf(assignment: Assignment): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const [memberId, topics] of assignment) {
    for (const { topic, partitions } of topics)
      for (const partition of partitions)
        owners.set(key(topic, partition), [...(owners.get(key(topic, partition)) ?? []), memberId]);
  }
  return owners;
}

function subscribedPartitions({ members, partitionsPerTopic }: Scenario): string[] {
  const out: string[] = [];
  for (const [topic, count] of partitionsPerTopic) {
    if (members.some((member) => member.topics.includes(topic)))
      for (let partition = 0; partition < count; partition++) out.push(key(topic, partition));
  }
  return out;
}

/** Valid previous owner per partition, as the sticky assignors read it. */
function validPreviousOwners({ members, partitionsPerTopic }: Scenario): Map<string, string> {
  const best = new Map<string, { memberId: string; generation: number }>();
  for (const member of [...members].sort((a, b) => byCodeUnits(a.memberId, b.memberId))) {
    for (const { topic, partitions } of member.ownedPartitions) {
      if (!member.topics.includes(topic)) continue;
      for (const partition of partitions) {
        if (partition >= (partitionsPerTopic.get(topic) ?? 0)) continue;
        const claimed = best.get(key(topic, partition));
        if (!claimed || member.generationId > claimed.generation)
          best.set(key(topic, partition), {
            memberId: member.memberId,
            generation: member.generationId,
          });
      }
    }
  }
  return new Map([...best].map(([partition, owner]) => [partition, owner.memberId]));
}

const sizes = (assignment: Assignment) =>
  [...assignment.values()].map((topics) =>
    topics.reduce((sum, topic) => sum + topic.partitions.length, 0),
  );

function expectValid(scenario: Scenario, assignment: Assignment, complete: boolean): void {
  const owners = ownersOf(assignment);
  const subscribedBy = new Map(scenario.members.map((member) => [member.memberId, member.topics]));
  for (const [partition, memberIds] of owners) {
    const [topic, index] = partition.split(':');
    expect(memberIds).toHaveLength(1);
    expect(subscribedBy.get(memberIds[0])).toContain(topic);
    expect(Number(index)).toBeLessThan(scenario.partitionsPerTopic.get(topic) ?? 0);
  }
  if (complete) expect([...owners.keys()].sort()).toEqual(subscribedPartitions(scenario).sort());
}

describe('broker-client/consumer/assignors', () => {
  const all: [string, Assignor][] = [
    ['range', new RangeAssignor()],
    ['roundrobin', new RoundRobinAssignor()],
    ['sticky', new StickyAssignor()],
  ];

  it.each(all)(
    '%s assigns every subscribed partition exactly once, only to members subscribed to its topic',
    (_name, assignor) => {
      fc.assert(
        fc.property(scenario(false), (input) =>
          expectValid(input, assignor.assign(input.members, input.partitionsPerTopic), true),
        ),
        { numRuns: RUNS },
      );
    },
  );

  it('range balances each topic: its subscribers differ by at most one partition', () => {
    fc.assert(
      fc.property(scenario(false), (input) => {
        const assignment = new RangeAssignor().assign(input.members, input.partitionsPerTopic);
        for (const topic of input.partitionsPerTopic.keys()) {
          const counts = input.members
            .filter((member) => member.topics.includes(topic))
            .map(
              (member) =>
                assignment.get(member.memberId)?.find((owned) => owned.topic === topic)?.partitions
                  .length ?? 0,
            );
          if (counts.length > 0)
            expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it.each([all[1], all[2]])(
    '%s balances members with one subscription to within one partition',
    (_name, assignor) => {
      fc.assert(
        fc.property(scenario(true), (input) => {
          const counts = sizes(assignor.assign(input.members, input.partitionsPerTopic));
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('sticky moves no more partitions than balance requires', () => {
    fc.assert(
      fc.property(scenario(true), (input) => {
        const previous = validPreviousOwners(input);
        const assignment = new StickyAssignor().assign(input.members, input.partitionsPerTopic);
        const owners = ownersOf(assignment);
        const moved = [...previous].filter(
          ([partition, owner]) => owners.get(partition)?.[0] !== owner,
        ).length;
        // The fewest possible: each member keeps up to its quota, the biggest owners taking the ceiling slots.
        const total = subscribedPartitions(input).length;
        const floor = Math.floor(total / input.members.length);
        const extra = total % input.members.length;
        const kept = input.members
          .map(
            (member) => [...previous.values()].filter((owner) => owner === member.memberId).length,
          )
          .sort((a, b) => b - a);
        const required = kept.reduce(
          (sum, count, rank) =>
            sum + Math.max(0, count - (extra === 0 ? floor : rank < extra ? floor + 1 : floor)),
          0,
        );
        expect(moved).toBe(required);
      }),
      { numRuns: RUNS },
    );
  });

  it('cooperative-sticky never hands a partition straight from one owner to another, and converges in a few rounds', () => {
    const assignor = new CooperativeStickyAssignor();
    fc.assert(
      fc.property(scenario(false), (input) => {
        let round: Scenario = input;
        for (let attempt = 1; ; attempt++) {
          const previous = validPreviousOwners(round);
          const assignment = assignor.assign(round.members, round.partitionsPerTopic);
          expectValid(round, assignment, false);
          for (const [partition, [owner]] of ownersOf(assignment)) {
            const before = previous.get(partition);
            if (before !== undefined) expect(owner).toBe(before);
          }
          if (ownersOf(assignment).size === subscribedPartitions(round).length) break;
          expect(attempt).toBeLessThan(4);
          // Owners revoke what they lost and rejoin owning only what they kept.
          round = {
            partitionsPerTopic: round.partitionsPerTopic,
            members: round.members.map((member) => ({
              ...member,
              generationId: 10 + attempt,
              ownedPartitions: assignment.get(member.memberId) ?? [],
            })),
          };
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('cooperative-sticky keeps unmoved partitions with their owners while a new member joins', () => {
    const assignor = new CooperativeStickyAssignor();
    const members = [
      {
        memberId: 'a',
        topics: ['t'],
        ownedPartitions: [{ topic: 't', partitions: [0, 1] }],
        generationId: 3,
      },
      {
        memberId: 'b',
        topics: ['t'],
        ownedPartitions: [{ topic: 't', partitions: [2, 3] }],
        generationId: 3,
      },
      { memberId: 'c', topics: ['t'], ownedPartitions: [], generationId: -1 },
    ];
    const first = assignor.assign(members, new Map([['t', 4]]));
    // One partition has to move to c: it is withheld this round while its owner revokes it.
    expect(
      Object.fromEntries(
        [...first].map(([id, topics]) => [id, topics.flatMap((topic) => topic.partitions)]),
      ),
    ).toEqual({ a: [0], b: [2, 3], c: [] });
  });

  describe('range reproduces the source material (4 partitions, members in member-id order)', () => {
    const table: [number, number[][]][] = [
      [1, [[0, 1, 2, 3]]],
      [
        2,
        [
          [0, 1],
          [2, 3],
        ],
      ],
      [3, [[0, 1], [2], [3]]],
      [4, [[0], [1], [2], [3]]],
      [6, [[0], [1], [2], [3], [], []]],
    ];
    it.each(table)('%i consumer(s)', (count, expected) => {
      const members = Array.from({ length: count }, (_, index) => ({
        memberId: `consumer-${index + 1}`,
        topics: ['patient.checkout'],
        ownedPartitions: [],
        generationId: -1,
      }));
      const assignment = new RangeAssignor().assign(members, new Map([['patient.checkout', 4]]));
      expect(
        members.map(
          (member) => assignment.get(member.memberId)?.flatMap((topic) => topic.partitions) ?? [],
        ),
      ).toEqual(expected);
    });
  });

  describe('member order is Java String.compareTo, as in Kafka, whatever the locale', () => {
    const members = ['a', 'B'].map((memberId) => ({
      memberId,
      topics: ['t'],
      ownedPartitions: [],
      generationId: -1,
    }));
    const shares = (assignor: Assignor) => {
      const assignment = assignor.assign(members, new Map([['t', 3]]));
      return Object.fromEntries(
        members.map((member) => [
          member.memberId,
          assignment.get(member.memberId)?.flatMap((topic) => topic.partitions) ?? [],
        ]),
      );
    };
    it('range gives "B" (0x42) the first and larger share before "a" (0x61)', () => {
      expect(shares(new RangeAssignor())).toEqual({ B: [0, 1], a: [2] });
    });
    it('round-robin starts with "B"', () => {
      expect(shares(new RoundRobinAssignor())).toEqual({ B: [0, 2], a: [1] });
    });
  });
});
