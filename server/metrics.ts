// Counters and latency histograms, rendered in the Prometheus text format.
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  last = 0;
  constructor(readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.last = v;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }
}

const MS_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export class Metrics {
  opsAccepted = 0;
  opsDuplicate = 0;
  opsRejected = 0;
  /** ops_log rows written (each packs one or more updates). */
  opsStored = 0;
  /** Updates in those rows. */
  updatesStored = 0;
  bytesStored = 0;
  flushes = 0;
  flushFailures = 0;
  snapshots = 0;
  snapshotFailures = 0;
  protocolErrors = 0;
  walErrors = 0;
  /** Flushes that ran longer than flush.stallMs. */
  flushStalls = 0;
  readonly flushLatency = new Histogram(MS_BUCKETS);
  readonly snapshotLatency = new Histogram(MS_BUCKETS);
  readonly walFsyncLatency = new Histogram(MS_BUCKETS);
  /** Ops accepted in the last completed second window (rate). */
  private windowStart = Date.now();
  private windowOps = 0;
  opsPerSecond = 0;

  countAccepted(): void {
    this.opsAccepted++;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.opsPerSecond = this.windowOps / ((now - this.windowStart) / 1000);
      this.windowStart = now;
      this.windowOps = 0;
    }
    this.windowOps++;
  }

  currentOpsPerSecond(): number {
    const now = Date.now();
    if (now - this.windowStart > 2000) return 0;
    return this.opsPerSecond;
  }
}

type Sample = { name: string; help: string; type: 'gauge' | 'counter'; value: number; labels?: Record<string, string> };

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function renderPrometheus(samples: Sample[], histograms: { name: string; help: string; h: Histogram }[]): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of samples) {
    if (!seen.has(s.name)) {
      out.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
      seen.add(s.name);
    }
    const labels = s.labels ? `{${Object.entries(s.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
    out.push(`${s.name}${labels} ${Number.isFinite(s.value) ? s.value : 0}`);
  }
  for (const { name, help, h } of histograms) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    h.buckets.forEach((b, i) => out.push(`${name}_bucket{le="${b / 1000}"} ${h.counts[i]}`));
    out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum / 1000}`, `${name}_count ${h.count}`);
  }
  return out.join('\n') + '\n';
}
