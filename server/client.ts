// `sqlroom-server client`: a small command-line client for one room, over a
// list of server URLs (the processes of a scale-out deployment; the next one
// is tried when a connection is lost). It uses the extension's own room
// client (extension/core, plain Node), so it behaves like the editor does.
//   --once   join, wait until synced, print the document as JSON, exit;
//   default  print a JSON line whenever the document changes, append every
//            stdin line to the root text `--text` (default "t"); on end of
//            input wait until every line is acknowledged, print the final
//            state and exit.
import * as readline from 'node:readline';
import { LoroDoc } from 'loro-crdt';
import { RoomClient } from '../extension/core/sync/roomClient';

export interface ClientArgs {
  urls: string[];
  room: string;
  user: string;
  token?: string;
  /** PEM certificate(s) to trust for wss:// (--ca-file). */
  ca?: Buffer;
  once: boolean;
  text: string;
  timeoutMs: number;
}

function stateLine(doc: LoroDoc, client: RoomClient, extra: Record<string, unknown> = {}): string {
  const vv = doc.oplogVersion();
  const version = Object.fromEntries(vv.toJSON());
  vv.free();
  return JSON.stringify({ server: client.url, version, doc: doc.toJSON(), ...extra });
}

export async function runClient(a: ClientArgs, out: NodeJS.WritableStream = process.stdout, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const doc = new LoroDoc();
  let lastError = '';
  const client = new RoomClient({
    url: a.urls[0],
    urls: a.urls,
    ...(a.ca ? { ca: a.ca } : {}),
    roomId: a.room,
    doc,
    auth: { user: a.user, ...(a.token ? { token: a.token } : {}) },
    initialBackoffMs: 200,
    maxBackoffMs: 2000,
    onStatus: (s) => {
      if (s.state === 'error') lastError = s.detail ?? 'error';
    },
    onRemote: () => {
      if (!a.once) out.write(stateLine(doc, client, { event: 'remote' }) + '\n');
    },
    log: (m) => process.stderr.write(m + '\n'),
  });
  try {
    if (a.once) {
      await client.whenSynced(a.timeoutMs);
      out.write(stateLine(doc, client) + '\n');
      return 0;
    }
    const rl = readline.createInterface({ input });
    const text = doc.getText(a.text);
    let lines = 0;
    for await (const line of rl) {
      text.insert(text.length, line + '\n');
      doc.commit();
      lines++;
    }
    await client.whenSynced(a.timeoutMs);
    out.write(stateLine(doc, client, { event: 'done', lines }) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`sqlroom-server client: ${lastError || (err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}
