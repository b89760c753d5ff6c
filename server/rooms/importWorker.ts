// Worker thread: imports an update (or a room's stored rows, when the room is
// loaded) into a copy of a room's document (loaded from its snapshot) and
// sends back what the import did and the new snapshot. Loro's import is synchronous and, for many concurrent edits,
// takes seconds or minutes; here it blocks this thread, not the server's
// event loop (see importOffThread.ts and importPool.ts).
import { parentPort } from 'node:worker_threads';
import { LoroDoc } from 'loro-crdt';
import { docDepth } from './nesting';
import { addedSpans } from './updateInfo';
import { WORKER_READY, type OffThreadReply, type OffThreadRequest } from './importPool';
import { freeDoc } from './loroHealth';

function run(req: OffThreadRequest): OffThreadReply {
  const doc = new LoroDoc();
  try {
    if (req.snapshot.length) doc.import(req.snapshot);
    const t0 = performance.now();
    const status = req.batch ? doc.importBatch(req.batch) : doc.import(req.bytes);
    const importMs = performance.now() - t0;
    const spans = addedSpans(status);
    if (status.pending || spans.opCount === 0) return { id: req.id, ok: true, status, depth: null, snapshot: null, importMs };
    // Each op deepens the document by one level at most: measure only when that bound could pass the limit.
    const depth = req.depthLimit > 0 && spans.opCount > req.depthHeadroom ? docDepth(doc, req.depthLimit) : null;
    if (depth !== null && depth > req.depthLimit) return { id: req.id, ok: true, status, depth, snapshot: null, importMs };
    return { id: req.id, ok: true, status, depth, snapshot: doc.export({ mode: 'snapshot' }), importMs };
  } finally {
    freeDoc(doc);
  }
}

parentPort!.on('message', (req: OffThreadRequest) => {
  let reply: OffThreadReply;
  try {
    reply = run(req);
  } catch (err) {
    // A Loro panic may leave this thread's wasm instance unusable: answer, then end (a new worker serves the next import).
    parentPort!.postMessage({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies OffThreadReply);
    process.exit(0);
  }
  parentPort!.postMessage(reply, reply.ok && reply.snapshot ? [reply.snapshot.buffer as ArrayBuffer] : []);
});
parentPort!.postMessage(WORKER_READY);
