import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/demo/demo-command.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The demo, as a new user runs it (`driftguard demo`), in its shortened mode, on the embedded
 * store (the default: no ClickHouse server) and on the ClickHouse server: every step of the story
 * must have happened, read from the summary the demo prints last.
 */
describe.each(['embedded', 'server'] as const)('driftguard demo --quick --store %s', (store) => {
  it('ingests, turns the drifted model critical, delivers a signed alert, runs a study and records a decision', async () => {
    const args = [path.join(repoRoot, 'bin', 'driftguard.js'), 'demo', '--quick', '--store', store];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const last = output.trim().split('\n').pop() ?? '';
    let summary: DemoSummary;
    try {
      summary = JSON.parse(last) as DemoSummary;
    } catch {
      throw new Error(`the demo did not end with its JSON summary:\n${output.slice(-3000)}`);
    }
    expect(summary.store).toBe(store);
    expect(summary.stored).toEqual({
      predictions: summary.events.predictions,
      outcomes: summary.events.outcomes,
    });
    expect(summary.deadLettered).toBe(summary.events.invalid);
    expect(summary.criticalAfterMs).not.toBeNull();
    expect(summary.alertsReceived).toBeGreaterThan(0);
    expect(summary.alertSignaturesValid).toBe(true);
    expect(summary.study?.state).toBe('completed');
    expect(summary.decision?.studyId).toBe(summary.study?.id);
    expect(summary.decision?.reason.length).toBeGreaterThan(10);
    // The drift-triggered study waited for labels after the onset and learnt from those rows.
    expect(summary.waitedForLabels).toBe(true);
    expect(summary.dataWindow).toMatchObject({ policy: 'drift-onset' });
    expect(summary.decision?.reason).toMatch(/data: rows after the drift onset/);
    for (const chart of summary.charts) expect(existsSync(chart)).toBe(true);
    expect(summary.charts.length).toBe(2);
    expect(summary.wallSeconds).toBeLessThan(300);
    expect(summary.ok, output.slice(-3000)).toBe(true);
    expect(code).toBe(0);
  }, 400_000);
});
