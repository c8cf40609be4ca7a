import { AssignerProtocol, type Cluster } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { firstStarted, isRefused, soleOwnerAssigner } from '../../../src/kafka/sole-owner-assigner.js';

/** The one cluster method the assigner reads: each topic's partitions. */
const cluster = {
  findTopicPartitionMetadata: (topic: string) =>
    Array.from({ length: topic === 'p' ? 4 : 1 }, (_, partitionId) => ({ partitionId })),
} as unknown as Cluster; // a structural fake of the one method used; the rest of Cluster is unused

function member(memberId: string, startedAtMs: number) {
  const assigner = soleOwnerAssigner(startedAtMs)({ cluster, groupId: 'g', logger: undefined as never });
  return { memberId, memberMetadata: assigner.protocol({ topics: ['p', 'o'] }).metadata };
}

async function assign(members: ReturnType<typeof member>[]) {
  const leader = soleOwnerAssigner(0)({ cluster, groupId: 'g', logger: undefined as never });
  const result = await leader.assign({ members, topics: ['p', 'o'] });
  return Object.fromEntries(
    result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment]),
  );
}

describe('sole-owner assignment (embedded store)', () => {
  it('gives a lone member every partition of every topic', async () => {
    expect(await assign([member('a', 100)])).toEqual({ a: { p: [0, 1, 2, 3], o: [0] } });
  });

  it('keeps every partition with the member that started first, whoever leads, and none for the others', async () => {
    const assigned = await assign([member('late', 200), member('early', 100), member('later', 300)]);
    expect(assigned).toEqual({ early: { p: [0, 1, 2, 3], o: [0] }, late: {}, later: {} });
    expect(isRefused(assigned['late'] ?? {})).toBe(true);
    expect(isRefused(assigned['early'] ?? {})).toBe(false);
  });

  it('breaks a tie on the start time by member id, and never lets unreadable metadata win', async () => {
    expect(
      firstStarted([
        { memberId: 'b', startedAtMs: 5 },
        { memberId: 'a', startedAtMs: 5 },
      ]),
    ).toBe('a');
    const garbage = { memberId: 'aaa', memberMetadata: Buffer.from('not an assigner subscription') };
    expect(await assign([garbage, member('z', 9_999)])).toEqual({ aaa: {}, z: { p: [0, 1, 2, 3], o: [0] } });
  });
});
