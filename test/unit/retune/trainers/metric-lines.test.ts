import { describe, expect, it } from 'vitest';
import { LineSplitter, parseMetricLine } from '../../../../retune/trainers/metric-lines.js';

describe('parseMetricLine: Katib text lines', () => {
  it('reads several name=value pairs on one line, with the step taken out', () => {
    expect(parseMetricLine('epoch=3 val_loss=0.412 val_accuracy=0.91')).toEqual({
      metrics: { val_loss: 0.412, val_accuracy: 0.91 },
      step: 3,
      final: false,
      format: 'text',
    });
  });

  it('accepts spaces around "=", signs, exponents and leading-dot decimals', () => {
    expect(parseMetricLine('loss = -1.5e-3, acc=+.75  lr=1E2')?.metrics).toEqual({
      loss: -0.0015,
      acc: 0.75,
      lr: 100,
    });
  });

  it('accepts Katib name characters: dashes and pipes', () => {
    expect(parseMetricLine('val-loss=0.3 a|b=2')?.metrics).toEqual({ 'val-loss': 0.3, 'a|b': 2 });
  });

  it('ignores pairs whose value is not a number, and lines without metrics', () => {
    expect(parseMetricLine('mode=fast loss=0.2 sign=- lr=')?.metrics).toEqual({ loss: 0.2 });
    expect(parseMetricLine('Training started')).toBeUndefined();
    expect(parseMetricLine('mode=fast')).toBeUndefined();
    expect(parseMetricLine('')).toBeUndefined();
  });

  it('a line with only a step is no metric line', () => {
    expect(parseMetricLine('epoch=4')).toBeUndefined();
  });

  it('the last value of a repeated name wins; a value glued to text is cut where the number ends', () => {
    expect(parseMetricLine('loss=0.5 loss=0.4')?.metrics).toEqual({ loss: 0.4 });
    expect(parseMetricLine('loss=0.25s')?.metrics).toEqual({ loss: 0.25 });
  });

  it('uses the step keys in priority order and ignores non-integer steps', () => {
    expect(parseMetricLine('epoch=2 step=40 loss=1')?.step).toBe(40);
    expect(parseMetricLine('epoch=2 step=40 loss=1', { stepKeys: ['epoch'] })).toMatchObject({
      step: 2,
      metrics: { step: 40, loss: 1 },
    });
    expect(parseMetricLine('epoch=1.5 loss=1')?.step).toBeUndefined();
  });
});

describe('parseMetricLine: JSON lines', () => {
  it('reads numeric fields as metrics and "step" as the step', () => {
    expect(parseMetricLine('{"step": 3, "val_loss": 0.4, "phase": "val"}')).toEqual({
      metrics: { val_loss: 0.4 },
      step: 3,
      final: false,
      format: 'json',
    });
  });

  it('marks "final": true lines', () => {
    expect(parseMetricLine('{"final": true, "val_loss": 0.2}')).toMatchObject({
      final: true,
      metrics: { val_loss: 0.2 },
    });
  });

  it('falls back to text parsing for braces that are not JSON, and ignores JSON without numbers', () => {
    expect(parseMetricLine('{loss=0.3}')?.metrics).toEqual({ loss: 0.3 });
    expect(parseMetricLine('{"msg": "hello"}')).toBeUndefined();
    expect(parseMetricLine('[1, 2]')).toBeUndefined();
  });
});

describe('LineSplitter', () => {
  it('joins chunks into lines, strips CR, and flushes the rest', () => {
    const s = new LineSplitter();
    expect(s.push('a=1\r\nb=')).toEqual(['a=1']);
    expect(s.push('2\nc')).toEqual(['b=2']);
    expect(s.flush()).toEqual(['c']);
    expect(s.flush()).toEqual([]);
  });

  it('cuts runaway lines at the bound', () => {
    const s = new LineSplitter(4);
    expect(s.push('abcdefghij')).toEqual(['abcd', 'efgh']);
    expect(s.flush()).toEqual(['ij']);
  });
});
