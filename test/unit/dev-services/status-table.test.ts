import { describe, expect, it } from 'vitest';
import { formatStatusTable } from '../../../src/cli/dev-services-command.js';

describe('dev-services status table', () => {
  it('aligns columns and shows - for what is unknown', () => {
    const table = formatStatusTable([
      { name: 'clickhouse', state: 'up', pid: 123, ports: { http: 1001, tcp: 1002 }, logFile: '/l' },
      { name: 'kafka', state: 'down', pid: null, ports: {}, logFile: null },
    ]);
    expect(table).toBe(
      [
        'SERVICE     STATE  PID  PORTS',
        'clickhouse  up     123  http=1001 tcp=1002',
        'kafka       down   -    -',
        '',
      ].join('\n'),
    );
  });
});
