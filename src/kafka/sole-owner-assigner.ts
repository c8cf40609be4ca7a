import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * The partition assignment of a daemon that stores in its embedded engine. Such a store lives
 * inside one process, so a second replica in the consumer group would take partitions and store
 * them where nobody else reads. The group protocol itself settles it, race-free, whoever leads:
 * every member says when it started (in its subscription's user data), and the group leader gives
 * every partition to the member that started first and none to the others. A member left with
 * nothing knows it was refused (see {@link isRefused}) and stops with a clear error.
 *
 * Only members that rejoined in the new generation take part, so a replica that crashed a moment
 * ago (this daemon's own previous life) never blocks its successor. Members of a server-store
 * daemon offer another protocol; the broker refuses to mix the two in one group.
 */
export const SOLE_OWNER_PROTOCOL = 'DriftguardSoleOwner';

interface Subscription {
  readonly startedAtMs: number;
}

export function soleOwnerAssigner(startedAtMs: number): PartitionAssigner {
  return ({ cluster }) => ({
    name: SOLE_OWNER_PROTOCOL,
    version: 1,
    async assign({ members, topics }) {
      const owner = firstStarted(
        members.map((member) => ({ memberId: member.memberId, ...subscription(member.memberMetadata) })),
      );
      const everything = Object.fromEntries(
        topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)]),
      );
      return Promise.resolve(
        members.map(({ memberId }) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: memberId === owner ? everything : {},
            userData: Buffer.alloc(0),
          }),
        })),
      );
    },
    protocol({ topics }) {
      return {
        name: SOLE_OWNER_PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify({ startedAtMs } satisfies Subscription)),
        }),
      };
    },
  });
}

/** The member that started first (ties: the smaller member id), or undefined for no members. */
export function firstStarted(
  members: ReadonlyArray<{ memberId: string; startedAtMs: number }>,
): string | undefined {
  return [...members].sort((a, b) => a.startedAtMs - b.startedAtMs || a.memberId.localeCompare(b.memberId))[0]
    ?.memberId;
}

function subscription(metadata: Buffer): Subscription {
  try {
    const { userData } = AssignerProtocol.MemberMetadata.decode(metadata) ?? { userData: Buffer.alloc(0) };
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<Subscription>;
    if (typeof parsed.startedAtMs === 'number') return { startedAtMs: parsed.startedAtMs };
  } catch {
    // Unreadable metadata: such a member cannot claim to be first (below).
  }
  return { startedAtMs: Number.POSITIVE_INFINITY };
}

/** Whether a sole-owner member was refused: it subscribed to topics and was given no partition. */
export function isRefused(assignment: Readonly<Record<string, readonly number[]>>): boolean {
  return Object.values(assignment).every((partitions) => partitions.length === 0);
}
