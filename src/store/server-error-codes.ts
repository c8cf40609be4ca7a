/**
 * ClickHouse server error codes after which the same statement can succeed later, with what each
 * means for an operator. Read from the error's code (ClickHouseError.code on current releases; the
 * `Code: N` that starts every 18.16 error body, which the client does not parse) — a field of the
 * protocol, not the wording of a message.
 */
export const TRANSIENT_SERVER_CODES: ReadonlyMap<number, string> = new Map([
  [159, 'a timeout inside ClickHouse'],
  [202, 'too many simultaneous queries'],
  [209, 'a socket timeout between nodes'],
  [210, 'a network error between nodes'],
  [225, 'no ZooKeeper/Keeper session: replicated tables cannot take writes until it is back'],
  [242, 'a replicated table is read-only: ZooKeeper/Keeper is unreachable (or the replica is starting)'],
  [252, 'too many parts: merges are behind; inserts resume once they catch up'],
  [279, 'no replica of a shard answered'],
  [285, 'fewer replicas are alive than the insert quorum needs: a replica is down'],
  [286, 'the previous quorum insert has not reached every replica yet: a replica is down or lagging'],
  [319, 'the insert quorum was not reached in time (unknown status): a replica is down or lagging'],
  [999, 'a ZooKeeper/Keeper error (its session expired, or it is unreachable)'],
]);

/** The server's error code of a client error, when it carries one. */
export function serverErrorCode(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  const match = /^Code: (\d+)[,.]/.exec(error.message);
  return match === null ? undefined : Number(match[1]);
}

/**
 * What a passing error means, with the cause ClickHouse nested in it where that says more: a
 * quorum insert that timed out because ZooKeeper went away is `Code: 319 … Reason: Code: 999 …`.
 */
export function explainTransient(code: number, message: string): string | undefined {
  const outer = TRANSIENT_SERVER_CODES.get(code);
  if (outer === undefined) return undefined;
  const nested = [...message.matchAll(/Code: (\d+)[,.]/g)]
    .map((match) => Number(match[1]))
    .filter((inner) => inner !== code && TRANSIENT_SERVER_CODES.has(inner));
  const [cause] = nested;
  return cause === undefined
    ? `code ${code}: ${outer}`
    : `code ${code}: ${outer}; cause: code ${cause}: ${TRANSIENT_SERVER_CODES.get(cause)}`;
}
