#!/usr/bin/env node
// `npm run bench [-- args]`: installs the peer systems' packages when the run
// needs them (bench/peers: Hocuspocus + SQLite, Yjs; kept out of the
// project's own dependencies), compiles the project (tsc -p ., errors outside
// bench/ are reported but do not stop the bench) and bench/peers, and runs
// out/bench/run.js.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const tscJs = path.join(repo, 'node_modules/typescript/bin/tsc');

const systemsArg = args.find((a, i) => args[i - 1] === '--systems') ?? args.find((a) => a.startsWith('--systems='))?.slice(10);
const wantsPeers = !systemsArg || systemsArg.split(',').includes('hocuspocus');
if (wantsPeers) installPeers();

const tsc = spawnSync(process.execPath, [tscJs, '-p', repo], { cwd: repo, encoding: 'utf8' });
const errors = (tsc.stdout + tsc.stderr).split('\n').filter((l) => /error TS/.test(l));
const ours = errors.filter((l) => l.startsWith('bench/'));
if (errors.length) console.error(`tsc: ${errors.length} type errors (${ours.length} in bench/)${ours.length ? ':\n' + ours.join('\n') : ''}`);
if (ours.length) process.exit(1);
if (wantsPeers) {
  const peersTsc = spawnSync(process.execPath, [tscJs, '-p', path.join(repo, 'bench/peers')], { cwd: repo, stdio: 'inherit' });
  if (peersTsc.status !== 0) process.exit(1);
}
const run = spawnSync(process.execPath, [path.join(repo, 'out/bench/run.js'), ...args], { cwd: repo, stdio: 'inherit' });
process.exit(run.status ?? 1);

/** `npm ci` in bench/peers when its lock file changed since the last install. */
function installPeers() {
  const dir = path.join(repo, 'bench/peers');
  const lock = fs.readFileSync(path.join(dir, 'package-lock.json'));
  const stamp = path.join(dir, 'node_modules', '.sqlroom-lock-sha256');
  const sha = createHash('sha256').update(lock).digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === sha) return;
  console.error('bench: installing the peer systems (bench/peers: Hocuspocus + SQLite, Yjs)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit', env: nestedNpmEnv() });
  if (r.status !== 0) {
    console.error('bench: installing bench/peers failed; run without Hocuspocus: npm run bench -- --systems ours-duckdb,ours-ducklake,loro-simple');
    process.exit(1);
  }
  fs.writeFileSync(stamp, sha);
}

/**
 * Environment for a nested npm: without what the outer `npm run` put there
 * (its user agent, prefixes, package fields), and with the running Node's own
 * headers for native builds when they are on disk (better-sqlite3 would
 * otherwise download them, which fails offline).
 */
function nestedNpmEnv() {
  const keep = new Set(['npm_config_registry', 'npm_config_cafile', 'npm_config_ca', 'npm_config_proxy', 'npm_config_https_proxy',
    'npm_config_noproxy', 'npm_config_strict_ssl', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cache']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|INIT_CWD$)/.test(k) || keep.has(k)));
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = prefix;
  return env;
}
