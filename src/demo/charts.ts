import { writeFile } from 'node:fs/promises';
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';

export interface ChartSeries {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color: string;
  /** Draw dots instead of a line (e.g. trial objective values). */
  readonly dots?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** Horizontal reference lines, e.g. a detector threshold. */
  readonly thresholds?: ReadonlyArray<{ readonly label: string; readonly y: number }>;
  /** Format x tick labels (e.g. epoch ms → time of day). */
  readonly formatX?: (x: number) => string;
}

const WIDTH = 900;
const HEIGHT = 420;
const MARGIN = { left: 80, right: 170, top: 50, bottom: 55 };

function niceTicks(min: number, max: number, count = 5): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const factor = [1, 2, 5, 10].find((f) => span / (step * f) <= count) ?? 10;
  const unit = step * factor;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / unit) * unit; t <= max + 1e-12; t += unit)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Renders a simple line/dot chart to a PNG file, for people who would rather look than read. */
export async function renderLineChart(chart: LineChart, file: string): Promise<void> {
  const canvas = createCanvas(WIDTH, HEIGHT);
  const g: SKRSContext2D = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, WIDTH, HEIGHT);
  const all = chart.series.flatMap((s) => s.points);
  const ys = [...all.map((p) => p[1]), ...(chart.thresholds ?? []).map((t) => t.y)];
  const xs = all.map((p) => p[0]);
  const [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yMin, yMax] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const pad = (yMax - yMin) * 0.08;
  [yMin, yMax] = [yMin - pad, yMax + pad];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;

  g.fillStyle = '#111111';
  g.font = 'bold 18px sans-serif';
  g.fillText(chart.title, MARGIN.left, 30);
  g.font = '12px sans-serif';
  g.strokeStyle = '#dddddd';
  g.lineWidth = 1;
  for (const t of niceTicks(yMin, yMax)) {
    g.beginPath();
    g.moveTo(MARGIN.left, py(t));
    g.lineTo(MARGIN.left + plotW, py(t));
    g.stroke();
    const label = String(t);
    g.fillText(label, MARGIN.left - 8 - g.measureText(label).width, py(t) + 4);
  }
  for (const t of niceTicks(xMin, xMax, 6)) {
    const label = chart.formatX ? chart.formatX(t) : String(t);
    g.fillText(label, px(t) - g.measureText(label).width / 2, MARGIN.top + plotH + 18);
  }
  g.strokeStyle = '#333333';
  g.strokeRect(MARGIN.left, MARGIN.top, plotW, plotH);
  g.fillText(chart.xLabel, MARGIN.left + plotW / 2 - g.measureText(chart.xLabel).width / 2, HEIGHT - 12);
  g.save();
  g.translate(16, MARGIN.top + plotH / 2 + g.measureText(chart.yLabel).width / 2);
  g.rotate(-Math.PI / 2);
  g.fillText(chart.yLabel, 0, 8);
  g.restore();

  for (const threshold of chart.thresholds ?? []) {
    g.strokeStyle = '#cc0000';
    g.setLineDash([6, 4]);
    g.beginPath();
    g.moveTo(MARGIN.left, py(threshold.y));
    g.lineTo(MARGIN.left + plotW, py(threshold.y));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#cc0000';
    g.fillText(threshold.label, MARGIN.left + plotW + 6, py(threshold.y) + 4);
  }
  chart.series.forEach((series, index) => {
    g.strokeStyle = series.color;
    g.fillStyle = series.color;
    g.lineWidth = 2;
    if (series.dots) {
      for (const [x, y] of series.points) {
        g.beginPath();
        g.arc(px(x), py(y), 3.5, 0, 2 * Math.PI);
        g.fill();
      }
    } else {
      g.beginPath();
      series.points.forEach(([x, y], i) => (i === 0 ? g.moveTo(px(x), py(y)) : g.lineTo(px(x), py(y))));
      g.stroke();
    }
    g.fillRect(MARGIN.left + plotW + 10, MARGIN.top + 10 + index * 20, 12, 12);
    g.fillStyle = '#111111';
    g.fillText(series.name, MARGIN.left + plotW + 28, MARGIN.top + 21 + index * 20);
  });
  await writeFile(file, canvas.toBuffer('image/png'));
}
