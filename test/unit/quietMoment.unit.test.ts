// QuietMoment: a re-read of a notebook waits until its person has stopped typing.
import * as assert from 'assert';
import { QuietMoment } from '../../extension/core/quietMoment';

describe('QuietMoment', () => {
  it('is quiet when nothing was typed, and for quietMs after the last key', () => {
    let t = 1_000;
    const q = new QuietMoment(() => t);
    assert.strictEqual(q.waitLeft(300), 0);
    q.touch();
    assert.strictEqual(q.waitLeft(300), 300);
    t += 200;
    assert.strictEqual(q.waitLeft(300), 100);
    q.touch(); // another key: the wait starts again
    assert.strictEqual(q.waitLeft(300), 300);
    t += 300;
    assert.strictEqual(q.waitLeft(300), 0);
  });

  it('whenQuiet resolves only once the keys have stopped for quietMs, and gives up on typing that never stops', async () => {
    let t = 0;
    const q = new QuietMoment(() => t);
    const pause = () => new Promise((r) => setTimeout(r, 30));
    q.touch();
    let resolved: boolean | undefined;
    const p = q.whenQuiet(10, 1_000).then((v) => (resolved = v));
    await pause();
    assert.strictEqual(resolved, undefined, 'resolved although no time passed since the key');
    t = 5;
    q.touch(); // a key 5 ms later: quiet from 15 on
    t = 12;
    await pause();
    assert.strictEqual(resolved, undefined, 'resolved 7 ms after a key');
    t = 15;
    assert.strictEqual(await p, true);

    const start = t;
    q.touch();
    const gaveUp = q.whenQuiet(10, 50);
    t = start + 60;
    q.touch(); // still typing when the give-up time has passed
    assert.strictEqual(await gaveUp, false);
  });
});
