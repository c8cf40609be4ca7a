/** Progress events of running studies, for the CLI progress bar and logs. */
export type RetuneProgressEvent =
  | { readonly type: 'study.started'; readonly studyId: string; readonly model: string }
  | {
      /** A drift-triggered study counted the labelled rows after the onset and waits for more. */
      readonly type: 'study.waiting';
      readonly studyId: string;
      readonly model: string;
      readonly labelledRows: number;
      readonly neededRows: number;
      readonly onsetMs: number;
    }
  | {
      readonly type: 'trial.started';
      readonly studyId: string;
      readonly model: string;
      readonly trial: number;
      readonly params: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: 'trial.reported';
      readonly studyId: string;
      readonly model: string;
      readonly trial: number;
      readonly step: number;
      readonly value: number;
    }
  | {
      readonly type: 'trial.finished';
      readonly studyId: string;
      readonly model: string;
      readonly trial: number;
      readonly state: string;
      readonly value: number | undefined;
      readonly bestTrial: number | undefined;
      readonly bestValue: number | undefined;
    }
  | {
      readonly type: 'promotion.decided';
      readonly studyId: string;
      readonly model: string;
      readonly promoted: boolean;
      readonly reason: string;
    }
  | {
      readonly type: 'study.finished';
      readonly studyId: string;
      readonly model: string;
      readonly state: string;
      readonly error: string;
      readonly promoted: boolean | undefined;
    };

export type RetuneProgressListener = (event: RetuneProgressEvent) => void;
