/** The small slice of the daemon's HTTP API the demo narrates from. */
export interface HealthJson {
  status: string;
  reasons: string[];
  evaluatedAtMs: number;
  windowEvents: number;
  driftedFeatures: number;
}

export interface StudyJson {
  studyId: string;
  model: string;
  state: string;
  trigger: string;
  maxTrials: number;
  bestTrial: number;
  bestValue: number | null;
  objective: string;
  error: string;
  trials?: Array<{ trial: number; state: string; value: number | null; finishedAt: string | null }>;
  /** The rows it learns from: after the drift onset (with the rows counted while it waits), or the lookback. */
  window?: { policy?: string; onset?: string; labelledRows?: number; neededRows?: number } | null;
}

export interface DecisionJson {
  studyId: string;
  promoted: boolean;
  metric: string;
  championVersion: string;
  challengerVersion: string;
  championValue: number;
  challengerValue: number;
  improvement: number;
  pValue: number | null;
  test: string;
  reason: string;
  evidence?: Record<string, unknown>;
}

/** One model's entry of `GET /v1/models`. */
export interface ModelJson {
  model: string;
  stored?: {
    predictions: { total: number; window: number };
    outcomes: { total: number; window: number };
  };
}

/** One row of `GET /v1/models/:model/drift`. */
export interface DriftRowJson {
  evaluated_at_ms: string | number;
  feature: string;
  detector: string;
  statistic: number;
}

export class DemoApi {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  async get<T>(path: string): Promise<T | undefined> {
    const response = await fetch(`${this.base}${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
    }).catch(() => undefined);
    if (response === undefined || !response.ok) return undefined;
    return (await response.json()) as T;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as T & { error?: { message: string } };
    if (!response.ok) throw new Error(`POST ${path} failed: ${json.error?.message ?? response.status}`);
    return json;
  }

  health(model: string): Promise<HealthJson | undefined> {
    return this.get<HealthJson>(`/v1/models/${model}/health`);
  }

  async study(id: string): Promise<StudyJson | undefined> {
    return (await this.get<{ study: StudyJson }>(`/v1/studies/${id}`))?.study;
  }

  async studies(model: string): Promise<StudyJson[]> {
    return (await this.get<{ studies: StudyJson[] }>(`/v1/studies?model=${model}`))?.studies ?? [];
  }

  async models(): Promise<ModelJson[]> {
    return (await this.get<{ models: ModelJson[] }>('/v1/models'))?.models ?? [];
  }

  /** Every drift result of one model and detector since `fromMs`, oldest first (all pages). */
  async drift(model: string, detector: string, fromMs: number): Promise<DriftRowJson[]> {
    const rows: DriftRowJson[] = [];
    for (let offset: number | null = 0; offset !== null;) {
      const page: { results: DriftRowJson[]; nextOffset: number | null } | undefined = await this.get(
        `/v1/models/${model}/drift?detector=${detector}&from=${fromMs}&limit=500&offset=${offset}`,
      );
      rows.push(...(page?.results ?? []));
      offset = page?.nextOffset ?? null;
    }
    return rows.reverse();
  }

  async decisions(model: string): Promise<DecisionJson[]> {
    return (await this.get<{ decisions: DecisionJson[] }>(`/v1/models/${model}/decisions`))?.decisions ?? [];
  }
}
