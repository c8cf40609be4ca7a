import { z } from 'zod';
import { DriftguardError } from '../../kernel/errors.js';
import type { PolicyOptions } from './policy.js';
import type { DeepReadonly } from '../../kernel/deep-readonly.js';
export type { DeepReadonly };

/**
 * The `alerts:` section of the configuration. The lead wires `alertsSchema` into the config;
 * `compileAlertsOptions` turns its output into the frozen shape the subsystem runs on.
 * Secrets (webhook HMAC secrets, PagerDuty routing keys, Slack URLs, bearer tokens) live here
 * and are never logged: sinks are described in logs by `name` and `type` only.
 */

const durationMs = z.number().int().nonnegative();
const severity = z.enum(['warning', 'critical']);
const sinkName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
  message:
    'use letters, digits, ".", "_" and "-" (1-64 characters); the name labels metrics and is part of delivery ids',
});
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const sinkCommon = {
  /** Unique name; labels metrics and logs and is part of every delivery id, so keep it stable. */
  name: sinkName,
  /** Lowest severity delivered to this sink. @default "warning" */
  minSeverity: severity.default('warning'),
  /** Explicit allow-list of severities; overrides minSeverity when given. */
  severities: z.array(severity).min(1).optional(),
  /** Also deliver model events (retune, promotion) through this sink. @default true */
  events: z.boolean().default(true),
  /** Per-request timeout. @default 10000 */
  timeoutMs: z.number().int().positive().default(10_000),
};

export const webhookSinkSchema = z
  .object({
    type: z.literal('webhook'),
    ...sinkCommon,
    url: httpUrl,
    /** HMAC-SHA256 key of `X-Driftguard-Signature` (and of the deprecated `X-Driftguard-Signature-256`). */
    secret: z.string().min(16, { message: 'use at least 16 characters (e.g. `openssl rand -hex 32`)' }),
    /** Extra request headers (e.g. an API key the receiver wants). @default {} */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const slackSinkSchema = z
  .object({
    type: z.literal('slack'),
    ...sinkCommon,
    /** The incoming-webhook URL (it is itself a secret). */
    url: httpUrl,
  })
  .strict();

export const pagerdutySinkSchema = z
  .object({
    type: z.literal('pagerduty'),
    ...sinkCommon,
    /** Integration key of the PagerDuty service (a secret). */
    routingKey: z.string().min(1),
    /** Events API v2 endpoint. @default "https://events.pagerduty.com/v2/enqueue" */
    url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
    /** Change Events endpoint, used for model events. @default "https://events.pagerduty.com/v2/change/enqueue" */
    changeUrl: httpUrl.default('https://events.pagerduty.com/v2/change/enqueue'),
    /** `payload.source` of triggers. @default "driftguard" */
    source: z.string().min(1).default('driftguard'),
  })
  .strict();

export const alertmanagerSinkSchema = z
  .object({
    type: z.literal('alertmanager'),
    ...sinkCommon,
    /** A receiver that understands Alertmanager's webhook payload (version 4). */
    url: httpUrl,
    /** `receiver` field of the payload. @default the sink's name */
    receiver: z.string().min(1).optional(),
    /** Sent as `Authorization: Bearer <token>` when given. */
    bearerToken: z.string().min(1).optional(),
  })
  .strict();

export const sinkSchema = z.discriminatedUnion('type', [
  webhookSinkSchema,
  slackSinkSchema,
  pagerdutySinkSchema,
  alertmanagerSinkSchema,
]);

export const alertsSchema = z
  .object({
    /** Turn alerting off entirely (evaluations are then ignored). @default true */
    enabled: z.boolean().default(true),
    /** Where alerts are delivered; several at once. @default [] */
    sinks: z.array(sinkSchema).default([]),
    /**
     * Consecutive breaching windows before an alert fires, per severity. Critical fires on the
     * first window by default: the threshold is already far out and paging late costs more.
     */
    forWindows: z
      .object({
        /** @default 2 */
        warning: z.number().int().positive().default(2),
        /** @default 1 */
        critical: z.number().int().positive().default(1),
      })
      .strict()
      .prefault({}),
    /** Consecutive non-breaching windows before a firing alert resolves (hysteresis). @default 2 */
    resolveAfterWindows: z.number().int().positive().default(2),
    /** A rule that resolved cannot fire again for this long (stops flapping pages). @default 1800000 */
    cooldownMs: durationMs.default(1_800_000),
    /** A firing rule not evaluated for this long is resolved as stale; 0 never. @default 86400000 */
    staleAfterMs: durationMs.default(86_400_000),
    /** Base URL of this driftguard (links in payloads: externalURL, generatorURL). @default "http://127.0.0.1:8080" */
    externalUrl: httpUrl.default('http://127.0.0.1:8080'),
    delivery: z
      .object({
        /** How often the dispatcher looks for due deliveries (it also runs right after new alerts). @default 1000 */
        dispatchIntervalMs: z.number().int().positive().default(1_000),
        /** First retry delay after a retriable failure. @default 1000 */
        initialDelayMs: z.number().int().positive().default(1_000),
        /** Cap on the retry delay, so a receiver that comes back is served within this. @default 60000 */
        maxDelayMs: z.number().int().positive().default(60_000),
        /** @default 2 */
        factor: z.number().min(1).default(2),
        /** Share of each delay that is randomised. @default 0.2 */
        jitter: z.number().min(0).max(1).default(0.2),
        /** A delivery still failing after this long is given up (status "dead"). @default 86400000 */
        maxAgeMs: z.number().int().positive().default(86_400_000),
        /** Deliveries handled per dispatcher run at most. @default 500 */
        batchSize: z.number().int().positive().default(500),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AlertsConfigInput = z.input<typeof alertsSchema>;
export type AlertsConfig = z.output<typeof alertsSchema>;
export type SinkConfig = z.output<typeof sinkSchema>;
export type WebhookSinkConfig = z.output<typeof webhookSinkSchema>;
export type SlackSinkConfig = z.output<typeof slackSinkSchema>;
export type PagerdutySinkConfig = z.output<typeof pagerdutySinkSchema>;
export type AlertmanagerSinkConfig = z.output<typeof alertmanagerSinkSchema>;

/** The daemon's compiled config is deeply readonly; accept it as it is. */

/** The `alerts:` section as raw input, or as parsed into the daemon's frozen config. */
export type AlertsSectionInput =
  AlertsConfigInput | DeepReadonly<AlertsConfigInput> | DeepReadonly<AlertsConfig>;

/** What the subsystem runs on: validated, cross-checked, frozen. */
export interface CompiledAlerts {
  readonly enabled: boolean;
  readonly sinks: readonly Readonly<SinkConfig>[];
  readonly policy: PolicyOptions;
  readonly externalUrl: string;
  readonly delivery: Readonly<AlertsConfig['delivery']>;
}

/**
 * Parses (raw input) or accepts (already parsed by the daemon's config) the alerts section and
 * applies the rules that span fields. Throws with the offending value and the fix.
 */
export function compileAlertsOptions(input: AlertsSectionInput = {}): CompiledAlerts {
  // Parsing again is cheap and puts an already-parsed section (the daemon's frozen config) and
  // raw input (tests, tools) through the same checks.
  const config = alertsSchema.parse(input);
  const seen = new Set<string>();
  for (const sink of config.sinks) {
    if (seen.has(sink.name)) {
      throw configError(
        `alerts.sinks: the name ${JSON.stringify(sink.name)} is used twice; sink names must be unique because delivery ids derive from them`,
      );
    }
    seen.add(sink.name);
  }
  if (config.delivery.initialDelayMs > config.delivery.maxDelayMs) {
    throw configError(
      `alerts.delivery.initialDelayMs (${config.delivery.initialDelayMs}) is above alerts.delivery.maxDelayMs (${config.delivery.maxDelayMs}); lower it or raise the cap`,
    );
  }
  const externalUrl = config.externalUrl.replace(/\/+$/, '');
  return Object.freeze({
    enabled: config.enabled,
    sinks: Object.freeze(config.sinks.map((sink) => Object.freeze(sink))),
    policy: Object.freeze({
      forWindows: Object.freeze({ ...config.forWindows }),
      resolveAfterWindows: config.resolveAfterWindows,
      cooldownMs: config.cooldownMs,
      staleAfterMs: config.staleAfterMs,
    }),
    externalUrl,
    delivery: Object.freeze({ ...config.delivery }),
  });
}

function configError(message: string): DriftguardError {
  return new DriftguardError('CONFIG_INVALID', message, { retriable: false });
}
