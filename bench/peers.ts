// The peer systems that need packages of their own (Hocuspocus + SQLite and
// Yjs, in bench/peers/): loaded at run time, so the project's type check and
// `npm ci` do not depend on them. bench/bench.mjs installs and compiles them
// before a run that includes `hocuspocus`.
import { existsSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { BenchClient } from './load';
import type { RunningSystem, SystemOptions } from './systems/types';
import type { Patch, RealRoomPlan } from './realPlan';
import type { RealRoomTrace } from './realLoroTrace';
import type { ClientScript, TraceConfig } from './trace';

export interface YjsClient extends BenchClient {
  waitForCells(cells: number, timeoutMs?: number): Promise<void>;
  cellTexts(): string[];
  lastReceivedAt: number;
}

export interface YjsRoomTraceLike {
  roomId: string;
  base: Uint8Array;
  clients: { clientId: number; updates: Uint8Array[]; ends: number[] }[];
}

interface PeerModules {
  YjsBenchClient: new (url: string, roomId: string, clientId: number) => YjsClient;
  buildYjsTrace(cfg: TraceConfig, scripts: ClientScript[]): YjsRoomTraceLike[];
  buildYjsRealTrace(plan: RealRoomPlan[], patches: Patch[]): RealRoomTrace[];
  startHocuspocus(o: SystemOptions): Promise<RunningSystem>;
}

let loaded: PeerModules | undefined;

/** The compiled bench/peers modules; throws with the command to run when they are missing. */
export function peers(): PeerModules {
  if (loaded) return loaded;
  const dir = path.join(__dirname, 'peers');
  // The compiled peers live in out/bench/peers, their packages in bench/peers/node_modules:
  // a link next to them lets Node's resolution find those packages.
  const modules = path.resolve(__dirname, '..', '..', 'bench', 'peers', 'node_modules');
  const link = path.join(dir, 'node_modules');
  if (existsSync(modules) && !existsSync(link)) {
    try {
      symlinkSync(modules, link, 'dir');
    } catch {
      /* made by another process meanwhile, or not possible: the require below says what is missing */
    }
  }
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    loaded = {
      ...(require(path.join(dir, 'yjsClient')) as Pick<PeerModules, 'YjsBenchClient'>),
      ...(require(path.join(dir, 'yjsTrace')) as Pick<PeerModules, 'buildYjsTrace'>),
      ...(require(path.join(dir, 'hocuspocus')) as Pick<PeerModules, 'startHocuspocus'>),
      ...(require(path.join(dir, 'yjsRealTrace')) as Pick<PeerModules, 'buildYjsRealTrace'>),
    };
  } catch (err) {
    throw new Error(
      `the Hocuspocus/Yjs peers are not installed or compiled (${(err as Error).message}); ` +
        'run the bench through `npm run bench`, which installs bench/peers, or leave hocuspocus out with --systems',
    );
  }
  return loaded;
}
