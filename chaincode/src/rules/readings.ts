import { Bounds, MetricStats } from '../model/devices';

/** Per-metric count, min and max of a batch. */
export function metricStats(readings: { metric: string; value: number }[]): Record<string, MetricStats> {
  const out: Record<string, MetricStats> = {};
  for (const r of readings) {
    const s = Object.prototype.hasOwnProperty.call(out, r.metric) ? out[r.metric] : undefined;
    if (!s) out[r.metric] = { count: 1, min: r.value, max: r.value };
    else {
      s.count++;
      s.min = Math.min(s.min, r.value);
      s.max = Math.max(s.max, r.value);
    }
  }
  return out;
}

export function outOfBounds(value: number, b: Bounds): boolean {
  return (b.min !== undefined && value < b.min) || (b.max !== undefined && value > b.max);
}

/** Problems with a device's thresholds: metric names, finite bounds, min ≤ max. */
export function checkThresholds(thresholds: Record<string, unknown>): string[] {
  const out: string[] = [];
  const entries = Object.entries(thresholds);
  if (entries.length > 32) out.push('at most 32 metrics');
  for (const [metric, b] of entries) {
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(metric)) out.push(`metric '${metric}' must be lower-case letters, digits and _`);
    const bounds = b as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || Object.keys(bounds).some((k) => k !== 'min' && k !== 'max')) {
      out.push(`${metric}: bounds are {min?, max?}`);
      continue;
    }
    for (const k of ['min', 'max']) if (bounds[k] !== undefined && (typeof bounds[k] !== 'number' || !Number.isFinite(bounds[k]))) out.push(`${metric}.${k} must be a finite number`);
    if (typeof bounds.min === 'number' && typeof bounds.max === 'number' && bounds.min > bounds.max) out.push(`${metric}: min is greater than max`);
  }
  return out;
}
