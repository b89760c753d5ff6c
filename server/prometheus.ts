// GET /metrics with prom-client: each sqlroom_* gauge and counter is defined
// once (name, help, how to read it) and read at scrape time from one snapshot
// of the server's state. Node's default process and event-loop metrics come from
// one process-wide registry: they describe the process, which every server in
// it shares, and each collectDefaultMetrics() call starts an event-loop monitor
// and a GC observer that are never stopped, so one per server would leak.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from './metrics';
import type { ServerStats } from './index';

/** What one scrape reads. */
export interface Readings {
  s: ServerStats;
  m: Metrics;
  wal: { segments: number; fsyncs: number; writeFailures: number };
  flushInProgressMs: number;
  pauses: number;
  longestPauseMs: number;
  remoteRowsApplied: number;
  commitConflicts: number;
}

type Def = [name: string, help: string, value: (r: Readings) => number];

const GAUGES: Def[] = [
  ['sqlroom_rooms', 'Rooms loaded in memory', (r) => r.s.rooms],
  ['sqlroom_clients', 'Open websocket connections', (r) => r.s.clients],
  ['sqlroom_buffer_ops', 'Updates accepted but not yet in the database', (r) => r.s.bufferedOps],
  ['sqlroom_buffer_bytes', 'Bytes accepted but not yet in the database', (r) => r.s.bufferedBytes],
  ['sqlroom_wal_depth', 'WAL entries not yet committed to the database', (r) => r.s.walDepth],
  ['sqlroom_wal_bytes', 'Bytes in WAL segments', (r) => r.s.walBytes],
  ['sqlroom_wal_live_bytes', 'WAL bytes holding updates not yet in the database', (r) => r.s.walLiveBytes],
  ['sqlroom_wal_max_bytes', 'Limit of sqlroom_wal_live_bytes; past it updates are refused', (r) => r.s.walMaxBytes],
  ['sqlroom_wal_full', '1 while updates are refused because the WAL is at its limit', (r) => (r.s.walFull ? 1 : 0)],
  ['sqlroom_wal_segments', 'WAL segment files', (r) => r.wal.segments],
  ['sqlroom_degraded', '1 when the database cannot be written or a flush stalled (serving from the WAL)', (r) => (r.s.degraded ? 1 : 0)],
  ['sqlroom_flush_in_progress_seconds', 'Age of the running flush (0: none); past the stall limit the server is degraded', (r) => r.flushInProgressMs / 1000],
  ['sqlroom_wal_torn_bytes', 'Bytes of torn (never acknowledged) WAL records skipped at the last start', (r) => r.s.recovered.tornBytes],
  ['sqlroom_wal_torn_regions', 'Torn WAL regions skipped at the last start', (r) => r.s.recovered.tornRegions],
  ['sqlroom_process_longest_pause_seconds', 'Longest such pause', (r) => r.longestPauseMs / 1000],
  ['sqlroom_ops_per_second', 'Updates accepted per second (last window)', (r) => r.m.currentOpsPerSecond()],
];

const COUNTERS: Def[] = [
  ['sqlroom_updates_refused_wal_full_total', 'Updates refused because the WAL was full', (r) => r.s.updatesRefusedWalFull],
  ['sqlroom_flush_stalls_total', 'Flushes that ran longer than the stall limit (flush.stallMs)', (r) => r.m.flushStalls],
  ['sqlroom_process_pauses_total', 'Times the whole server process stood still for over 2 s (SIGSTOP, VM pause, blocked event loop)', (r) => r.pauses],
  ['sqlroom_wal_write_failures_total', 'WAL batches whose write or fsync failed (short write, ENOSPC, EIO; never acked)', (r) => r.wal.writeFailures],
  ['sqlroom_ops_accepted_total', 'Updates accepted (durable, acked)', (r) => r.s.opsAccepted],
  ['sqlroom_ops_duplicate_total', 'Updates that carried nothing new (not stored again)', (r) => r.s.opsDuplicate],
  ['sqlroom_ops_rejected_total', 'Updates rejected as invalid', (r) => r.s.opsRejected],
  ['sqlroom_ops_stored_total', "Rows written to ops_log (each packs one author's updates of a flush)", (r) => r.s.opsStored],
  ['sqlroom_updates_stored_total', 'Updates written to ops_log (in those rows)', (r) => r.s.updatesStored],
  ['sqlroom_bytes_stored_total', 'Bytes written to ops_log', (r) => r.m.bytesStored],
  ['sqlroom_flushes_total', 'Successful flush transactions', (r) => r.s.flushes],
  ['sqlroom_flush_failures_total', 'Failed flush transactions', (r) => r.s.flushFailures],
  ['sqlroom_snapshots_total', 'Snapshots written', (r) => r.s.snapshots],
  ['sqlroom_snapshot_failures_total', 'Snapshots that failed', (r) => r.m.snapshotFailures],
  ['sqlroom_read_bytes_total', 'Bytes of websocket frames read from clients', (r) => r.m.bytesRead],
  ['sqlroom_backlog_pauses_total', 'Times reading a socket stopped until a flush ended because more than flush.maxBacklog acknowledged updates were not yet in the database', (r) => r.m.backlogPauses],
  ['sqlroom_read_pauses_total', 'Times reading a socket stopped because its client sent faster than maxReadBytesPerSecond(PerAddress)', (r) => r.m.readPauses],
  ['sqlroom_protocol_errors_total', 'Malformed or unexpected frames', (r) => r.s.protocolErrors],
  ['sqlroom_wal_fsyncs_total', 'WAL group commits (fdatasync)', (r) => r.wal.fsyncs],
  ['sqlroom_wal_errors_total', 'WAL appends that failed', (r) => r.m.walErrors],
  ['sqlroom_imports_offthread_total', 'Big updates imported in a worker thread', (r) => r.m.importsOffThread],
  ['sqlroom_room_loads_offthread_total', 'Rooms whose stored rows were imported in a worker thread when the room was loaded', (r) => r.m.roomLoadsOffThread],
  ['sqlroom_reads_offthread_total', 'Past versions (GET /at, branch heads) whose stored rows were imported in a worker thread', (r) => r.m.readsOffThread],
  ['sqlroom_remote_rows_applied_total', 'Rows written by other server processes imported here (scale-out)', (r) => r.remoteRowsApplied],
  ['sqlroom_commit_conflicts_total', 'Flush/snapshot commits retried after a conflict with another process (scale-out)', (r) => r.commitConflicts],
];

let processRegistry: Registry | null = null;

/** Node's default metrics (process_cpu_*, nodejs_eventloop_lag_*, nodejs_heap_* …), one set per process. */
function defaultMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const finite = (v: number) => (Number.isFinite(v) ? v : 0);

/**
 * Registers the gauges and counters in `metrics.registry` (which already holds
 * the histograms) and returns the scrape: Prometheus text and its content type.
 */
export function prometheusExporter(metrics: Metrics, read: () => Readings): () => Promise<{ text: string; contentType: string }> {
  const registry = metrics.registry;
  let now: Readings | null = null;
  for (const [name, help, value] of GAUGES) {
    new Gauge({ name, help, registers: [registry], collect() { if (now) this.set(finite(value(now))); } });
  }
  // The server keeps its own monotonic counts (stats() reports them too); each
  // scrape adds what they grew by since the last one.
  for (const [name, help, value] of COUNTERS) {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        if (!now) return;
        const v = finite(value(now));
        if (v > seen) this.inc(v - seen);
        seen = Math.max(seen, v);
      },
    });
  }
  return async () => {
    now = read();
    const all = Registry.merge([registry, defaultMetrics()]);
    return { text: await all.metrics(), contentType: all.contentType };
  };
}
