// The server's counters (plain numbers, also reported by stats()) and its
// latency histograms (prom-client, registered in this server's own Registry:
// tests and embedders run many servers in one process).
import { Histogram, Registry } from 'prom-client';

const SECONDS_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  /** This server's metrics; server/prometheus.ts adds the gauges and counters read at scrape time. */
  readonly registry = new Registry();
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
  /** Bytes of websocket frames read from clients. */
  bytesRead = 0;
  /** Times reading a socket was stopped because its client was over its reading budget (server/protocol/readPacing.ts). */
  readPauses = 0;
  /** Times reading a socket was stopped because the database flush was behind (flush.maxBacklog). */
  backlogPauses = 0;
  /** Big updates imported in a worker thread (server/rooms/importOffThread.ts). */
  importsOffThread = 0;
  /** Rooms loaded from the database in a worker thread (their rows since the last snapshot were costly to import). */
  roomLoadsOffThread = 0;
  /** Past versions built for a reader (GET /at, a branch's head) in a worker thread (their rows were costly to import). */
  readsOffThread = 0;
  /** Observed in seconds. */
  readonly flushLatency = this.histogram('sqlroom_flush_duration_seconds', 'Flush transaction latency');
  readonly snapshotLatency = this.histogram('sqlroom_snapshot_duration_seconds', 'Snapshot export + write latency');
  readonly walFsyncLatency = this.histogram('sqlroom_wal_fsync_duration_seconds', 'WAL group commit (fdatasync) latency');
  readonly offThreadImportLatency = this.histogram('sqlroom_offthread_import_duration_seconds', 'Import of a big update in a worker thread, snapshot export to swap');
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

  private histogram(name: string, help: string): Histogram {
    return new Histogram({ name, help, buckets: SECONDS_BUCKETS, registers: [this.registry] });
  }
}
