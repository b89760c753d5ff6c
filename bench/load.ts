// Drives one system through the trace: connect every client, send the base
// notebook, then a paced phase (latency at typing speed) and a saturated
// phase (throughput with a bounded window of unacked updates per client).
import { summarize, type LatencySummary } from './stats';
import { withTimeout } from './loroClient';

export interface BenchClient {
  connect(timeoutMs?: number): Promise<void>;
  sendUpdate(update: Uint8Array): Promise<boolean>;
  onRemote?: (ends: Map<string, number>) => void;
  close(): void;
}

export interface ClientPlan {
  /** Key under which this client's updates appear in a receiver's version (peer / clientID). */
  peerKey: string;
  updates: Uint8Array[];
  /** Version end after each update; -1 = not observable (e.g. a Yjs delete-only update). */
  ends: number[];
}

export interface RoomPlan {
  roomId: string;
  base: Uint8Array;
  clients: ClientPlan[];
}

export interface LoadOptions {
  /** Keystrokes per client sent in the paced phase. */
  pacedKeys: number;
  /** Interval between one client's keystrokes in the paced phase (ms). */
  pacedIntervalMs: number;
  /** Unacked updates allowed per client in the saturated phase. */
  window: number;
  /** Upper bound per phase (ms). */
  phaseTimeoutMs: number;
  makeClient(roomId: string, clientIndex: number, plan: ClientPlan): BenchClient;
  /** Called after client 0 of a room has sent the base and got its ack (e.g. wait until others have it). */
  afterBase?(room: RoomPlan, clients: BenchClient[]): Promise<void>;
  /** DB write counter of the server. */
  dbWrites(): Promise<number>;
  /** Relay samples only from these senders (default: every client but 0), e.g. those on another server process. */
  relayFrom?(roomIndex: number, clientIndex: number): boolean;
}

export interface LoadResult {
  updates: number;
  failedAcks: number;
  pacedAck: LatencySummary;
  pacedRelay: LatencySummary;
  satAck: LatencySummary;
  updatesPerSec: number;
  satSeconds: number;
  /** CPU of the bench (client) process during the saturated phase, % of one core. */
  clientCpuPct: number;
  /** Run time from the first paced send to the last saturated ack (s). */
  runSeconds: number;
  dbWritesDuringRun: number;
  errors: string[];
}

interface Sent {
  at: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(rooms: RoomPlan[], o: LoadOptions): Promise<LoadResult> {
  const errors: string[] = [];
  const clients = rooms.map((r) => r.clients.map((c, i) => o.makeClient(r.roomId, i, c)));
  const all = clients.flat();
  try {
    // Connect a few at a time (a burst of joins is not what we measure).
    for (let i = 0; i < all.length; i += 8) {
      await Promise.all(all.slice(i, i + 8).map((c) => c.connect()));
    }
    for (let r = 0; r < rooms.length; r++) {
      const ok = await withTimeout(clients[r][0].sendUpdate(rooms[r].base), o.phaseTimeoutMs, `base of ${rooms[r].roomId}`);
      if (!ok) throw new Error(`base of ${rooms[r].roomId} was not acked OK`);
      await o.afterBase?.(rooms[r], clients[r]);
    }

    // Relay: client 0 of each room watches the others' keystrokes arrive.
    const sent: Sent[][] = rooms.map((r) => r.clients.map((c) => ({ at: new Array<number>(c.updates.length) })));
    const relay: number[] = [];
    let measuringRelay = true;
    const nextByRoom: number[][] = [];
    rooms.forEach((room, r) => {
      const byPeer = new Map(room.clients.map((c, i) => [c.peerKey, i]));
      const next = room.clients.map(() => 0);
      nextByRoom[r] = next;
      clients[r][0].onRemote = (ends) => {
        const now = performance.now();
        for (const [peer, end] of ends) {
          const i = byPeer.get(peer);
          if (i === undefined || i === 0 || (o.relayFrom && !o.relayFrom(r, i))) continue;
          const plan = room.clients[i];
          while (next[i] < plan.ends.length) {
            const k = next[i];
            const at = sent[r][i].at[k];
            if (at === undefined) break;
            if (plan.ends[k] === -1) {
              next[i]++;
              continue;
            }
            if (plan.ends[k] > end) break;
            if (measuringRelay) relay.push(now - at);
            next[i]++;
          }
        }
      };
    });

    let failedAcks = 0;
    const track = (r: number, i: number, k: number, samples: number[]): Promise<void> => {
      const at = performance.now();
      sent[r][i].at[k] = at;
      return clients[r][i].sendUpdate(rooms[r].clients[i].updates[k]).then((ok) => {
        if (ok) samples.push(performance.now() - at);
        else failedAcks++;
      });
    };

    const writes0 = await o.dbWrites();
    const runStart = performance.now();

    // Paced phase: open loop, every client types at a fixed rate, staggered.
    const pacedAck: number[] = [];
    const pacedPending: Promise<void>[] = [];
    const nClients = all.length;
    let idx = 0;
    const pacedDone = rooms.flatMap((room, r) =>
      room.clients.map((plan, i) => {
        const offset = ((idx++ % nClients) * o.pacedIntervalMs) / nClients;
        const keys = Math.min(o.pacedKeys, plan.updates.length);
        return (async () => {
          await sleep(offset);
          const t0 = performance.now();
          for (let k = 0; k < keys; k++) {
            const due = t0 + k * o.pacedIntervalMs;
            const wait = due - performance.now();
            if (wait > 1) await sleep(wait);
            pacedPending.push(track(r, i, k, pacedAck));
          }
        })();
      }),
    );
    await withTimeout(Promise.all(pacedDone), o.phaseTimeoutMs, 'paced phase (sending)');
    await withTimeout(Promise.all(pacedPending), o.phaseTimeoutMs, 'paced phase (acks)');
    await sleep(200); // let the last relays arrive
    if (o.relayFrom) {
      // Relays that take longer (across server processes): wait for the paced keystrokes of the measured senders (bounded).
      const end = performance.now() + 15_000;
      const pacedOf = (r: number, i: number) => Math.min(o.pacedKeys, rooms[r].clients[i].updates.length);
      const done = () => rooms.every((room, r) => room.clients.every((_c, i) => i === 0 || !o.relayFrom!(r, i) || nextByRoom[r][i] >= pacedOf(r, i)));
      while (!done() && performance.now() < end) await sleep(20);
    }
    measuringRelay = false;

    // Saturated phase: each client keeps `window` updates in flight.
    const satAck: number[] = [];
    const satStart = performance.now();
    const cpu0 = process.cpuUsage();
    const satDone = rooms.flatMap((room, r) =>
      room.clients.map(async (plan, i) => {
        const first = Math.min(o.pacedKeys, plan.updates.length);
        let k = first;
        const inFlight = new Set<Promise<void>>();
        while (k < plan.updates.length) {
          while (inFlight.size < o.window && k < plan.updates.length) {
            const p: Promise<void> = track(r, i, k++, satAck).finally(() => inFlight.delete(p));
            inFlight.add(p);
          }
          await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      }),
    );
    await withTimeout(Promise.all(satDone), o.phaseTimeoutMs, 'saturated phase');
    const satEnd = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const writes1 = await o.dbWrites();

    const updates = rooms.reduce((s, r) => s + 1 + r.clients.reduce((t, c) => t + c.updates.length, 0), 0);
    return {
      updates,
      failedAcks,
      pacedAck: summarize(pacedAck),
      pacedRelay: summarize(relay),
      satAck: summarize(satAck),
      updatesPerSec: satAck.length / ((satEnd - satStart) / 1000),
      satSeconds: (satEnd - satStart) / 1000,
      clientCpuPct: ((cpu.user + cpu.system) / 1000 / (satEnd - satStart)) * 100,
      runSeconds: (satEnd - runStart) / 1000,
      dbWritesDuringRun: writes1 - writes0,
      errors,
    };
  } finally {
    for (const c of all) {
      try {
        c.close();
      } catch {
        /* already closed */
      }
    }
  }
}
