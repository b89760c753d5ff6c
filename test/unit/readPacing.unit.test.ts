// Read pacing (server/protocol/readPacing.ts) on a fake clock: a connection
// over its own budget waits until it is back within it; over the address's
// budget, only the heavy senders of that address wait.
import * as assert from 'node:assert/strict';
import { KeyedBuckets, TokenBucket } from '../../server/protocol/limits';
import { HEAVY_BYTES, ReadPacer } from '../../server/protocol/readPacing';

describe('read pacing', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 0;
  });

  it('a bucket in debt says how long until it is out of it, and refills at its rate', () => {
    const b = new TokenBucket(1000, 1000, clock);
    b.charge(1000);
    assert.equal(b.debtMs, 0);
    b.charge(500);
    assert.equal(b.debtMs, 500);
    now = 250;
    assert.equal(b.debtMs, 250);
    now = 2000;
    assert.equal(b.debtMs, 0);
    assert.ok(b.idle);
  });

  it('a connection past one second of its rate waits; a quiet one never does', () => {
    const address = new KeyedBuckets(0, 1, clock);
    const p = new ReadPacer(1_000_000, address, 'a', clock);
    assert.equal(p.charge(600_000), 0);
    assert.equal(p.charge(600_000), 200);
    now = 200;
    assert.equal(p.charge(10), 0.01);
    const quiet = new ReadPacer(1_000_000, address, 'a', clock);
    for (let i = 0; i < 100; i++) assert.equal(quiet.charge(100), 0);
  });

  it("over the address's budget, its heavy senders wait and its light ones do not", () => {
    const address = new KeyedBuckets(1_000_000, 1, clock);
    const heavy = new ReadPacer(10_000_000, address, '10.0.0.1', clock);
    const light = new ReadPacer(10_000_000, address, '10.0.0.1', clock);
    const elsewhere = new ReadPacer(10_000_000, address, '10.0.0.2', clock);
    assert.equal(heavy.charge(900_000), 0);
    assert.ok(heavy.charge(HEAVY_BYTES) > 0, 'the heavy sender waits for its address');
    assert.equal(light.charge(100), 0, 'a light sender behind the same address reads on');
    assert.equal(elsewhere.charge(900_000), 0, 'another address has its own budget');
  });

  it('0 turns pacing off', () => {
    const p = new ReadPacer(0, new KeyedBuckets(0, 1, clock), 'a', clock);
    assert.equal(p.charge(1e12), 0);
  });
});
