// Helpers for the sync-server tests: temp dirs, stock loro-websocket clients,
// a raw protocol client for bad input, polling.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { LoroDoc, VersionVector } from 'loro-crdt';
import { LoroWebsocketClient, type LoroWebsocketClientRoom } from 'loro-websocket';
import { CrdtType, MessageType, decode, encode, type HexString, type ProtocolMessage } from 'loro-protocol';
import { startServer, type RunningServer, type ServerOptions } from '../../server';

// The stock client uses the global WebSocket, which Node 20 lacks.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

// loro-adaptors publishes LoroAdaptor only under the "./loro" export.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LoroAdaptor } = require('loro-adaptors/loro') as typeof import('loro-adaptors/dist/loro');

export function tmpDir(prefix = 'sqlroom-server-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Mocha hooks for in-process server tests: a fresh temp folder for each test
 * (`dir`), and the last server `start` made closed (it may be closed already)
 * and the folder removed after it.
 */
export function serverPerTest(): { readonly dir: string; start(opts: Partial<ServerOptions>): Promise<RunningServer> } {
  let dir = '';
  let server: RunningServer | null = null;
  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    rmDir(dir);
  });
  return {
    get dir() {
      return dir;
    },
    async start(opts) {
      server = await startServer({ port: 0, logLevel: 'silent', ...opts });
      return server;
    },
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface StockClient {
  client: LoroWebsocketClient;
  room: LoroWebsocketClientRoom;
  doc: LoroDoc;
  errors: { code: number; reason?: string }[];
  close(): Promise<void>;
}

/** A stock loro-websocket client joined to `roomId`, editing `doc`. */
export async function stockClient(url: string, roomId: string, doc = new LoroDoc(), user?: string): Promise<StockClient> {
  const client = new LoroWebsocketClient({ url, disablePing: true, reconnect: { enabled: false } });
  await client.waitConnected();
  const errors: { code: number; reason?: string }[] = [];
  const adaptor = new LoroAdaptor(doc, { onUpdateError: (_u, code, reason) => errors.push({ code, reason }) });
  const room = await client.join({ roomId, crdtAdaptor: adaptor, auth: user ? new TextEncoder().encode(JSON.stringify({ user })) : undefined });
  return {
    client,
    room,
    doc,
    errors,
    close: async () => {
      await room.destroy().catch(() => undefined);
      client.destroy();
    },
  };
}

/** Raw protocol client: sends any frame, records every reply. */
export class RawClient {
  readonly messages: ProtocolMessage[] = [];
  readonly texts: string[] = [];
  readonly received: Uint8Array[] = [];
  closeCode: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (!isBinary) {
        this.texts.push(bytes.toString('utf8'));
        return;
      }
      this.received.push(new Uint8Array(bytes));
      this.messages.push(decode(new Uint8Array(bytes)));
    });
    ws.on('close', (code) => (this.closeCode = code));
  }

  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  send(msg: ProtocolMessage): void {
    this.ws.send(encode(msg));
  }

  join(roomId: string, version: Uint8Array = new Uint8Array(), auth: Uint8Array = new Uint8Array()): void {
    this.send({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId, auth, version });
  }

  update(roomId: string, updates: Uint8Array[], batchId: HexString = randomBatch()): HexString {
    this.send({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId, updates, batchId });
    return batchId;
  }

  /** One update as a fragmented batch (header, then fragments of `fragmentBytes`), as clients send updates over the protocol's message size. */
  updateInFragments(roomId: string, bytes: Uint8Array, fragmentBytes = 200 * 1024, batchId: HexString = randomBatch()): HexString {
    const fragmentCount = Math.ceil(bytes.length / fragmentBytes);
    this.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId, batchId, fragmentCount, totalSizeBytes: bytes.length });
    for (let i = 0; i < fragmentCount; i++) {
      this.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId, batchId, index: i, fragment: bytes.subarray(i * fragmentBytes, (i + 1) * fragmentBytes) });
    }
    return batchId;
  }

  async next<T extends ProtocolMessage['type']>(type: T, pred: (m: Extract<ProtocolMessage, { type: T }>) => boolean = () => true, timeoutMs = 5000) {
    let found: Extract<ProtocolMessage, { type: T }> | undefined;
    await waitFor(
      () => {
        found = this.messages.find((m): m is Extract<ProtocolMessage, { type: T }> => m.type === type && pred(m as Extract<ProtocolMessage, { type: T }>));
        return !!found;
      },
      `message type ${type}`,
      timeoutMs,
    );
    return found!;
  }

  /** The next updates the server sends to `roomId`: one DocUpdate, or a fragmented batch reassembled. */
  async nextUpdates(roomId: string, timeoutMs = 5000): Promise<Uint8Array[]> {
    let got: Uint8Array[] | null = null;
    await waitFor(
      () => {
        for (const m of this.messages) {
          if (m.roomId !== roomId) continue;
          if (m.type === MessageType.DocUpdate) got = m.updates;
          else if (m.type === MessageType.DocUpdateFragmentHeader) {
            const parts = this.messages.filter((f): f is Extract<ProtocolMessage, { type: typeof MessageType.DocUpdateFragment }> => f.type === MessageType.DocUpdateFragment && f.batchId === m.batchId);
            if (parts.length < m.fragmentCount) return false;
            parts.sort((x, y) => x.index - y.index);
            got = [Buffer.concat(parts.map((f) => f.fragment))];
          } else continue;
          return true;
        }
        return false;
      },
      `updates for room ${roomId}`,
      timeoutMs,
    );
    return got!;
  }

  ackFor(batchId: HexString, timeoutMs = 5000) {
    return this.next(MessageType.Ack, (m) => m.refId === batchId, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

/** The room as a fresh joiner gets it right now (a raw join with no version: the server's snapshot). */
export async function freshJoin(url: string, roomId: string, timeoutMs = 15_000): Promise<LoroDoc> {
  const raw = await RawClient.connect(url);
  try {
    raw.join(roomId);
    const ok = await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId, timeoutMs);
    const doc = new LoroDoc();
    if (VersionVector.decode(ok.version).length() > 0) doc.importBatch(await raw.nextUpdates(roomId, timeoutMs));
    return doc;
  } finally {
    raw.close();
  }
}

let batchCounter = 0;
export function randomBatch(): HexString {
  batchCounter++;
  return `0x${(Date.now() % 1e9).toString(16).padStart(8, '0')}${batchCounter.toString(16).padStart(8, '0')}`;
}

/** One update from a fresh peer inserting `text` into the root text "t". */
export function textUpdate(text: string, peer: bigint): Uint8Array {
  const d = new LoroDoc();
  d.setPeerId(peer);
  d.getText('t').insert(0, text);
  d.commit();
  const u = d.export({ mode: 'update' });
  d.free();
  return u;
}

/** Text of a doc as the tests use it: root text "t". */
export function textOf(doc: LoroDoc): string {
  return doc.getText('t').toString();
}

/** Updates stored in ops_log for a doc+branch (rows pack several; analytics count the updates). */
export async function storedUpdates(storage: { analytics(q: { docId: string; branch: string }): Promise<{ perBranch: { updates: number }[] }> }, docId: string, branch = 'main'): Promise<number> {
  const a = await storage.analytics({ docId, branch });
  return a.perBranch.reduce((n, b) => n + b.updates, 0);
}
