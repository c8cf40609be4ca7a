import { createHash } from 'node:crypto';

/**
 * Stable identifiers. Everything here is a pure function of its inputs, so a restarted daemon
 * (or a replayed cycle) derives the same ids and receivers can deduplicate on them.
 */

function sha256Hex(parts: readonly string[]): string {
  const hash = createHash('sha256');
  // A NUL separator keeps ("ab", "c") and ("a", "bc") apart.
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex');
}

/**
 * 16 hex digits, as Alertmanager's fingerprints: the identity of a (model, rule, segment) alert.
 * The whole model ('' or no segment) hashes (model, rule) alone, as before segments existed, so
 * persisted states and receivers keep their keys.
 */
export function alertFingerprint(model: string, rule: string, segment = ''): string {
  return sha256Hex(segment === '' ? [model, rule] : [model, rule, segment]).slice(0, 16);
}

/** Alertmanager's group key format for a group labelled by model. */
export function modelGroupKey(model: string): string {
  return `{}:{model=${JSON.stringify(model)}}`;
}

/** 32 hex digits identifying one notification (or event) by its content. */
export function contentId(parts: readonly string[]): string {
  return sha256Hex(parts).slice(0, 32);
}

/**
 * The delivery id of one message to one sink: the same on every retry and after a restart, so
 * a receiver that saw a duplicate (sent, then the daemon crashed before recording it) can drop it.
 */
export function deliveryId(messageId: string, sinkName: string): string {
  return sha256Hex(['delivery', messageId, sinkName]).slice(0, 32);
}
