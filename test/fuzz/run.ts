// `npm run fuzz -- [--target NAME] [--seconds N | --runs N] [--seed N] [--save-corpus]`
// Runs each target (default: all) in a worker thread and prints executions,
// exec/s, corpus size, branches covered and crashes. Crashing inputs are
// written to test-artifacts/fuzz/<target>/crash-<hash>; --save-corpus adds
// the inputs that reached new coverage to test/fuzz/corpus/<target>/.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FUZZ_ROOT, TARGETS, runFuzz, type FuzzReport } from './engine/runner';

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { target: { type: 'string', multiple: true }, seconds: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' }, 'save-corpus': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(`usage: npm run fuzz -- [--target ${TARGETS.join('|')}]... [--seconds N | --runs N] [--seed N] [--save-corpus]`);
    return 0;
  }
  const targets = values.target?.length ? values.target : TARGETS;
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}; one of ${TARGETS.join(', ')}`);
  const runs = values.runs !== undefined ? Number(values.runs) : undefined;
  const seconds = values.seconds !== undefined ? Number(values.seconds) : runs === undefined ? 60 : undefined;
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
  const artifacts = path.join(FUZZ_ROOT, '..', '..', 'test-artifacts', 'fuzz');
  const reports: (FuzzReport & { workers: number })[] = [];
  for (const target of targets) {
    console.log(`== ${target}: ${runs !== undefined ? `${runs} runs` : `${seconds} s`}, seed ${seed}`);
    const r = await runFuzz({
      target,
      runs,
      seconds,
      seed,
      onProgress: (p) => console.log(`   ${target} #${p.executions} ${(p.executions / p.seconds).toFixed(0)} exec/s corpus ${p.corpus} branches ${p.branchesCovered}/${p.branchesTotal} crashes ${p.crashes.length}`),
    });
    reports.push(r);
    for (const c of r.crashes) {
      const input = Buffer.from(c.input, 'base64');
      const dir = path.join(artifacts, target);
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `crash-${createHash('sha1').update(input).digest('hex').slice(0, 12)}`);
      fs.writeFileSync(file, input);
      console.log(`   CRASH (${c.kind}) ${c.message}\n   input: ${file}\n${c.stack.split('\n').slice(0, 14).join('\n')}`);
    }
    for (const k of r.knownIssues) console.log(`   known issue (${k.count}×, not counted as a crash): ${k.message.split('\n')[0]}`);
    if (r.workers > 1) console.log(`   ${r.workers} workers (a known issue poisoned the previous ones)`);
    if (values['save-corpus']) {
      const dir = path.join(FUZZ_ROOT, 'corpus', target);
      for (const b64 of r.newInputs) {
        const input = Buffer.from(b64, 'base64');
        fs.writeFileSync(path.join(dir, `gen-${createHash('sha1').update(input).digest('hex').slice(0, 12)}`), input);
      }
      console.log(`   saved ${r.newInputs.length} new corpus inputs to ${dir}`);
    }
  }
  console.log('\ntarget        executions    seconds  exec/s  corpus  branches        crashes  known');
  for (const r of reports) {
    console.log(`${r.target.padEnd(13)} ${String(r.executions).padStart(10)} ${r.seconds.toFixed(1).padStart(10)} ${r.execPerSecond.toFixed(0).padStart(7)} ${String(r.corpus).padStart(7)}  ${`${r.branchesCovered}/${r.branchesTotal}`.padEnd(14)} ${String(r.crashes.length).padEnd(8)} ${r.knownIssues.reduce((n, k) => n + k.count, 0)}`);
  }
  return reports.some((r) => r.crashes.length) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
