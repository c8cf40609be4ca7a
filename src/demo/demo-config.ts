/** The demo's daemon configuration: short windows and a small search so the story fits in minutes. */
export const DEMO_TOKEN = 'demo-token-not-for-production-0001';

export interface DemoTimings {
  /** Predictions per second per model. */
  readonly rate: number;
  readonly windowMs: number;
  readonly intervalMs: number;
  /** Stationary traffic before the first champion is trained. */
  readonly stationaryMs: number;
  readonly labelDelayMs: number;
  readonly maxTrials: number;
  readonly epochs: number;
  /** Between two monitor-triggered studies of one model. */
  readonly cooldownMs: number;
  /** How far back a study's labelled data reaches. */
  readonly dataLookbackMs: number;
  /** Labelled rows after the drift onset a drift-triggered study waits for before it trains. */
  readonly postDriftRows: number;
  /** How long the demo waits for the model to turn critical after drift. */
  readonly driftTimeoutMs: number;
  readonly studyTimeoutMs: number;
}

export interface DemoConfigInput {
  readonly database: string;
  /** Where the daemon stores: its embedded engine under `path`, or a ClickHouse server. */
  readonly store: { readonly engine: 'embedded'; readonly path: string } | { readonly engine: 'server' };
  readonly topics: {
    readonly predictions: string;
    readonly outcomes: string;
    readonly deadLetter: string;
    readonly events: string;
  };
  readonly receiverUrl: string;
  readonly receiverSecret: string;
  readonly outputDir: string;
  readonly timings: DemoTimings;
}

function storeSection(input: DemoConfigInput): string {
  const database = `clickhouse:\n  database: ${input.database}`;
  return input.store.engine === 'embedded'
    ? `store:\n  engine: embedded\n  path: ${JSON.stringify(input.store.path)}\n${database}`
    : `store:\n  engine: server\n${database}`;
}

export function demoConfig(input: DemoConfigInput): string {
  const t = input.timings;
  return `# Written by \`driftguard demo\`. A real daemon config: try \`npx driftguard config check --config <this file>\`.
${storeSection(input)}
kafka:
  consumerGroup: ${input.database}
  topics:
    predictions: ${input.topics.predictions}
    outcomes: ${input.topics.outcomes}
    deadLetter: ${input.topics.deadLetter}
    events: ${input.topics.events}
http:
  port: 0
  apiToken: ${DEMO_TOKEN}
monitoring:
  intervalMs: ${t.intervalMs}
  labelHorizonMs: 600000
  models:
    fraud:
      task: { type: classification, classes: [fraud, ok] }
      features: { amount: numeric, account_age_days: numeric, hour: numeric, country: categorical, device: categorical }
      reference: { type: first_events, count: ${Math.round((t.rate * t.stationaryMs) / 2000)} }
      window: { type: time, durationMs: ${t.windowMs} }
      performance:
        - { metric: accuracy, min: 0.7 }
    eta:
      task: { type: regression }
      reference: { type: first_events, count: ${Math.round((t.rate * t.stationaryMs) / 2000)} }
      window: { type: time, durationMs: ${t.windowMs} }
      alpha: 0.01          # small demo windows: evaluated every few seconds, so be stricter per window
      performance:
        - { metric: mae, max: 4 }
alerts:
  externalUrl: http://127.0.0.1
  cooldownMs: 60000
  sinks:
    - type: webhook
      name: demo-receiver
      url: ${input.receiverUrl}
      secret: ${input.receiverSecret}
  delivery:
    dispatchIntervalMs: 500
retune:
  enabled: true
  models: [fraud]          # the classifier; eta is a regression and this demo's gate uses accuracy
  trainer: { kind: tfjs, defaults: { epochs: ${t.epochs}, batchSize: 32 } }
  objective: { metric: val_loss, direction: minimize }
  space:
    params:
      - { name: learningRate, type: float, low: 0.003, high: 0.1, log: true }
      - { name: layers, type: int, low: 0, high: 2 }
      - { name: units, type: int, low: 4, high: 32, log: true }
      - { name: l2, type: float, low: 0.000001, high: 0.001, log: true }
  sampler: { name: tpe }
  pruner: { name: median }
  budget: { maxTrials: ${t.maxTrials}, maxConcurrentTrials: 1 }
  promotion: { metric: accuracy, minImprovement: 0.01, alpha: 0.05 }
  triggers: { states: [critical], cooldownMs: ${t.cooldownMs} }
  data:
    lookbackMs: ${t.dataLookbackMs}
    holdoutFraction: 0.3
    validationFraction: 0.2
    # A study the monitor starts on drift learns from rows after the drift onset only, once enough are labelled.
    afterDrift: { minLabelledRows: ${t.postDriftRows}, pollIntervalMs: 1000, maxWaitMs: ${t.studyTimeoutMs} }
  modelStoreDir: ${input.outputDir}/models
  workDir: ${input.outputDir}/retune
  eventsTopic: ${input.topics.events}
`;
}
