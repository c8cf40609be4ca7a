import type { CompiledAlerts } from '../options.js';
import { createAlertmanagerSink } from './alertmanager.js';
import { createPagerdutySink } from './pagerduty.js';
import type { Sink } from './sink.js';
import { createSlackSink } from './slack.js';
import { createWebhookSink } from './webhook.js';

/** One adapter per configured sink, in configuration order. */
export function createSinks(config: Pick<CompiledAlerts, 'sinks' | 'externalUrl'>): Sink[] {
  return config.sinks.map((sink) => {
    switch (sink.type) {
      case 'webhook':
        return createWebhookSink(sink);
      case 'slack':
        return createSlackSink(sink, config.externalUrl);
      case 'pagerduty':
        return createPagerdutySink(sink, config.externalUrl);
      case 'alertmanager':
        return createAlertmanagerSink(sink, config.externalUrl);
    }
  });
}
