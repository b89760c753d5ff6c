// One esbuild command for every bundle (the rust-analyzer way): the extension
// host bundle and the server CLI for Node, the notebook renderer for the
// browser. `vscode` and native/wasm packages stay external and ship in
// node_modules (see .vscodeignore).
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const nodeExternal = ['vscode', '@duckdb/node-api', '@duckdb/node-bindings', '@duckdb/node-bindings-*', 'loro-crdt', 'bufferutil', 'utf-8-validate'];

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };
const targets = [
  { ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['server/cli.ts'], outfile: 'dist/server.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, banner: { js: '#!/usr/bin/env node' } },
  // Worker thread for big imports, loaded from next to the bundle that starts it (server/rooms/importOffThread.ts).
  { ...common, entryPoints: ['server/rooms/importWorker.ts'], outfile: 'dist/importWorker.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['media/renderer/index.ts'], outfile: 'dist/renderer.js', platform: 'browser', format: 'esm', target: 'es2022' },
  { ...common, entryPoints: ['media/history/index.ts'], outfile: 'dist/history.js', platform: 'browser', format: 'esm', target: 'es2022' },
  { ...common, entryPoints: ['media/activity/index.ts'], outfile: 'dist/activity.js', platform: 'browser', format: 'esm', target: 'es2022' },
].filter((t) => existsSync(t.entryPoints[0]));

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  console.log(`built ${targets.map((t) => t.outfile).join(', ')}`);
}
