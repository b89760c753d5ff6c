// fastUpdateSpan reads how many ops a fast-updates blob holds from its block
// headers, without Loro; the server uses it on every update to decide whether
// the client's bytes hold only new ops. It must agree with
// decodeImportBlobMeta (inspectBlob) on every update Loro exports.
import * as assert from 'node:assert/strict';
import { LoroDoc, LoroList, LoroMap, LoroText } from 'loro-crdt';
import { fastUpdateShape, fastUpdateSpan, inspectBlob } from '../../server/rooms/updateInfo';
import { crowdAtOneSpot } from '../support/loroEdit';
import { loadAutomergePaper } from '../support/traceFixture';
import { Prng } from '../../bench/prng';

/** A few peers making random edits of every kind, syncing now and then; every update and some range exports. */
function randomUpdates(seed: number): Uint8Array[] {
  const rnd = new Prng(seed);
  const peers = Array.from({ length: 1 + rnd.int(4) }, (_, i) => {
    const d = new LoroDoc();
    d.setPeerId(BigInt(1 + i * 1_000_003 + seed));
    return d;
  });
  const out: Uint8Array[] = [];
  for (let step = 0; step < 120; step++) {
    const d = peers[rnd.int(peers.length)];
    const before = d.oplogVersion();
    const n = 1 + rnd.int(4);
    for (let k = 0; k < n; k++) {
      const what = rnd.int(5);
      if (what === 0) {
        const t = d.getText('t');
        t.insert(rnd.int(t.length + 1), 'x'.repeat(1 + rnd.int(rnd.int(10) === 0 ? 400 : 8)));
      } else if (what === 1) {
        const t = d.getText('t');
        if (t.length > 2) t.delete(rnd.int(t.length - 1), 1 + rnd.int(2));
      } else if (what === 2) d.getMap('m').set(`k${rnd.int(20)}`, rnd.int(1000));
      else if (what === 3) {
        const l = d.getList('l');
        l.insert(rnd.int(l.length + 1), rnd.int(2) ? 'v' : 1);
      } else {
        const m = d.getMap('nested').setContainer(`c${rnd.int(5)}`, rnd.int(2) ? new LoroText() : rnd.int(2) ? new LoroMap() : new LoroList());
        if (m instanceof LoroText) m.insert(0, 'n');
      }
      if (rnd.int(3) === 0) d.commit();
    }
    d.commit();
    out.push(d.export({ mode: 'update', from: before }));
    before.free();
    if (rnd.int(6) === 0) {
      const other = peers[rnd.int(peers.length)];
      other.import(d.export({ mode: 'update', from: other.oplogVersion() }));
    }
    if (rnd.int(10) === 0) out.push(d.export({ mode: 'update' })); // everything this peer has, many blocks
  }
  for (const d of peers) d.free();
  return out;
}

describe('fastUpdateSpan (ops in an update, from its block headers)', () => {
  it('agrees with decodeImportBlobMeta on random multi-peer edits of every container kind', () => {
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) {
      for (const u of randomUpdates(seed)) {
        assert.equal(fastUpdateSpan(u), inspectBlob(u).span, `seed ${seed}, update of ${u.length} bytes`);
        // Its blocks bound the peers (a room load's cost estimate relies on it).
        assert.ok(fastUpdateShape(u)!.blocks >= inspectBlob(u).ranges.size, `seed ${seed}: blocks bound the peers`);
        checked++;
      }
    }
    assert.ok(checked > 4000);
  });

  it('agrees on the real editing trace typed keystroke by keystroke, and on a crowd of unsynced peers', () => {
    const trace = loadAutomergePaper();
    const d = new LoroDoc();
    d.setPeerId(7n);
    const t = d.getText('t');
    for (const tx of trace.txns.slice(0, 3000)) {
      const before = d.oplogVersion();
      for (const [pos, del, ins] of tx.patches) {
        if (del) t.delete(pos, del);
        if (ins) t.insert(pos, ins);
      }
      d.commit();
      const u = d.export({ mode: 'update', from: before });
      before.free();
      assert.equal(fastUpdateSpan(u), inspectBlob(u).span);
    }
    const whole = d.export({ mode: 'update' });
    assert.equal(fastUpdateSpan(whole), inspectBlob(whole).span);
    d.free();
    const { start, crowd } = crowdAtOneSpot(300, 0);
    assert.equal(fastUpdateSpan(crowd), inspectBlob(crowd).span);
    assert.ok(fastUpdateShape(crowd)!.blocks >= 300, 'a block per peer of the crowd');
    start.free();
  });

  it('answers null for snapshots and for framing it does not understand (the caller then asks Loro)', () => {
    const d = new LoroDoc();
    d.getText('t').insert(0, 'hello');
    d.commit();
    assert.equal(fastUpdateSpan(d.export({ mode: 'snapshot' })), null);
    const u = d.export({ mode: 'update' });
    assert.equal(fastUpdateSpan(u.subarray(0, u.length - 3)), null, 'a block cut short');
    const bogus = new Uint8Array(u);
    bogus[22] = 0xff; // a block length past the end
    assert.equal(fastUpdateSpan(bogus), null);
    assert.equal(fastUpdateSpan(new Uint8Array(10)), null);
    d.free();
  });
});
