// The edits a restore applies to the VS Code notebook (restorePlan.ts): applied
// one after another they give the target cells, cells that did not change are
// not touched, and the plan is small. Plus the version string form and the
// webview message check.
import * as assert from 'assert';
import { Prng } from '../../bench/prng';
import { planRestore, type RestoreStep } from '../../extension/history/restorePlan';
import { isWebviewMessage } from '../../media/history/protocol';
import { formatVersion, parseVersion, shortVersion } from '../../server/shared/history';
import type { CellData } from '../../server/shared/notebookTypes';

function cell(id: string, source = `SELECT '${id}'`, extra: Partial<CellData> = {}): CellData {
  return { id, kind: 'code', language: 'sql', source, metadata: {}, ...extra };
}

/** Applies the steps in order, as VS Code applies the NotebookEdits of one WorkspaceEdit. */
function apply(current: CellData[], steps: RestoreStep[]): { cells: CellData[]; touched: Set<string> } {
  const cells = [...current];
  const touched = new Set<string>();
  for (const s of steps) {
    if (s.type === 'replace') {
      cells.slice(s.start, s.end).forEach((c) => touched.add(c.id));
      cells.splice(s.start, s.end - s.start, ...s.cells);
    } else {
      touched.add(cells[s.index].id);
      cells[s.index] = s.cell;
    }
  }
  return { cells, touched };
}

describe('restore plan', () => {
  it('replaces a changed cell, deletes a removed one and leaves the rest alone', () => {
    const current = [cell('a'), cell('b', 'SELECT 2'), cell('c'), cell('d')];
    const target = [cell('a'), cell('b', 'SELECT 1'), cell('d'), cell('e')];
    const steps = planRestore(current, target);
    const { cells, touched } = apply(current, steps);
    assert.deepStrictEqual(cells, target);
    assert.deepStrictEqual([...touched].sort(), ['b', 'c']);
    assert.ok(steps.every((s, i) => i === 0 || (s.type === 'replace' ? s.start : s.index) <= (steps[i - 1].type === 'replace' ? (steps[i - 1] as { start: number }).start : (steps[i - 1] as { index: number }).index)), 'last index first');
  });

  it('updates only metadata when only the name or metadata changed', () => {
    const current = [cell('a'), cell('b')];
    const target = [cell('a', undefined, { name: 'totals' }), cell('b', undefined, { metadata: { collapsed: true } })];
    const steps = planRestore(current, target);
    assert.deepStrictEqual(steps.map((s) => s.type), ['metadata', 'metadata']);
    assert.deepStrictEqual(apply(current, steps).cells, target);
  });

  it('moves a cell by touching only that cell', () => {
    const current = [cell('a'), cell('b'), cell('c'), cell('d')];
    const target = [cell('b'), cell('c'), cell('d'), cell('a')];
    const { cells, touched } = apply(current, planRestore(current, target));
    assert.deepStrictEqual(cells, target);
    assert.deepStrictEqual([...touched], ['a']);
  });

  it('is empty when nothing changed', () => {
    const cells = [cell('a'), cell('b')];
    assert.deepStrictEqual(planRestore(cells, cells.map((c) => ({ ...c }))), []);
  });

  it('reaches any target from any notebook (seeded random cases)', () => {
    const rng = new Prng(42);
    for (let round = 0; round < 300; round++) {
      const pool = Array.from({ length: 8 }, (_, i) => String.fromCharCode(97 + i));
      const pick = () => pool.filter(() => rng.next() < 0.6).sort(() => rng.next() - 0.5);
      const current = pick().map((id) => cell(id, rng.next() < 0.5 ? 'x' : 'y'));
      const target = pick().map((id) => cell(id, rng.next() < 0.5 ? 'x' : 'y', rng.next() < 0.2 ? { name: 'n' } : {}));
      const steps = planRestore(current, target);
      const { cells, touched } = apply(current, steps);
      assert.deepStrictEqual(cells, target, `round ${round}`);
      // Cells equal in both and already in order (here: all of them when the common ids keep their order) stay untouched.
      const common = current.filter((c) => target.some((t) => t.id === c.id)).map((c) => c.id);
      const sameOrder = common.join() === target.filter((t) => common.includes(t.id)).map((t) => t.id).join();
      if (sameOrder) {
        for (const c of current) {
          const t = target.find((x) => x.id === c.id);
          if (t && JSON.stringify(t) === JSON.stringify(c)) assert.ok(!touched.has(c.id), `round ${round}: ${c.id} was touched`);
        }
      }
    }
  });
});

describe('version strings', () => {
  it('round-trip frontiers sorted by peer, and refuse malformed ones', () => {
    const v = formatVersion([{ peer: '9', counter: 3 }, { peer: '12', counter: 0 }]);
    assert.strictEqual(v, '12@0,9@3');
    assert.deepStrictEqual(parseVersion(v), [{ peer: '12', counter: 0 }, { peer: '9', counter: 3 }]);
    assert.deepStrictEqual(parseVersion(''), []);
    assert.strictEqual(shortVersion(v), '12@0 +1');
    for (const bad of ['x@1', '1@', '1@2,1@3', '1@-1', ' 1@2']) assert.throws(() => parseVersion(bad), Error, bad);
  });
});

describe('history webview messages', () => {
  it('accepts the protocol and rejects anything else', () => {
    assert.ok(isWebviewMessage({ type: 'ready' }));
    assert.ok(isWebviewMessage({ type: 'loadPage', generation: 1, cursor: 200, limit: 200 }));
    assert.ok(isWebviewMessage({ type: 'compare', version: '1@2', label: 'a', with: { kind: 'current' }, withLabel: 'current' }));
    assert.ok(isWebviewMessage({ type: 'openAtTime', time: 1780000000 }));
    assert.ok(!isWebviewMessage({ type: 'compare', version: '1@2', label: 'a', with: { kind: 'branch' }, withLabel: 'x' }));
    assert.ok(!isWebviewMessage({ type: 'loadPage', cursor: '0' }));
    assert.ok(!isWebviewMessage({ type: 'openAtTime', time: Infinity }));
    assert.ok(!isWebviewMessage('open'));
    assert.ok(!isWebviewMessage(null));
  });
});
