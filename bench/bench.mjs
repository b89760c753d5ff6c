#!/usr/bin/env node
// `npm run bench [-- args]`: compiles the project (tsc -p ., errors outside
// bench/ are reported but do not stop the bench) and runs out/bench/run.js.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', repo], {
  cwd: repo,
  encoding: 'utf8',
});
const errors = (tsc.stdout + tsc.stderr).split('\n').filter((l) => /error TS/.test(l));
const ours = errors.filter((l) => l.startsWith('bench/'));
if (errors.length) console.error(`tsc: ${errors.length} type errors (${ours.length} in bench/)${ours.length ? ':\n' + ours.join('\n') : ''}`);
if (ours.length) process.exit(1);
const run = spawnSync(process.execPath, [path.join(repo, 'out/bench/run.js'), ...process.argv.slice(2)], {
  cwd: repo,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
