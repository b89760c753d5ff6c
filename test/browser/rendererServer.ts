// Serves a test page for the notebook renderer on 127.0.0.1: the renderer
// bundle (built in memory with the same esbuild options as scripts/build.mjs,
// served as /dist/renderer.js) and a harness module that plays VS Code's part:
// it calls activate(ctx).renderOutputItem(outputItem, element). With
// `?messaging=1` in the URL the context also has VS Code's renderer messaging:
// what the renderer posts collects in window.sqlroomPosted, and
// window.sqlroomReceive(message) delivers a message from "the extension".
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';

/** The repository root: the nearest folder upwards holding the sqlroom package.json. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 10; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'sqlroom') return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`no sqlroom package.json above ${from}`);
}

/** Bundles a browser entry (as scripts/build.mjs does) in memory. */
export async function bundleBrowserEntry(entry: string, root = repoRoot()): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export function bundleRenderer(root = repoRoot()): Promise<string> {
  return bundleBrowserEntry('media/renderer/index.ts', root);
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>SQLRoom renderer</title>
<style>body { margin: 0; padding: 16px; background: var(--vscode-editor-background, Canvas); }</style>
<script type="module" src="/harness.js"></script>
</head><body><div id="output"></div></body></html>`;

// window.sqlroomRender(id, text): feeds `text` to the renderer as VS Code
// would (json() parses the bytes and throws on bad JSON).
const HARNESS = `import { activate } from '/dist/renderer.js';
const state = { value: undefined };
const messaging = new URLSearchParams(location.search).get('messaging') === '1';
const receivers = new Set();
window.sqlroomPosted = [];
window.sqlroomReceive = (message) => { for (const r of receivers) r(message); };
const api = activate({
  setState: (v) => { state.value = v; },
  getState: () => state.value,
  getRenderer: async () => undefined,
  workspace: { isTrusted: true },
  ...(messaging ? {
    postMessage: (message) => { window.sqlroomPosted.push(JSON.parse(JSON.stringify(message))); },
    onDidReceiveMessage: (listener) => { receivers.add(listener); return { dispose: () => receivers.delete(listener) }; },
  } : {}),
});
window.sqlroomRender = (id, text, mime = 'application/vnd.sqlroom.result+json') => {
  const element = document.getElementById('output');
  const bytes = new TextEncoder().encode(text);
  const item = {
    id,
    mime,
    metadata: {},
    text: () => new TextDecoder().decode(bytes),
    json: () => JSON.parse(new TextDecoder().decode(bytes)),
    data: () => bytes,
    blob: () => new Blob([bytes], { type: mime }),
  };
  api.disposeOutputItem(undefined);
  return api.renderOutputItem(item, element, new AbortController().signal);
};
window.sqlroomReady = true;
`;

export interface RendererServer {
  url: string;
  close(): Promise<void>;
}

export async function startRendererServer(bundle: string): Promise<RendererServer> {
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html', body: PAGE },
    '/harness.js': { type: 'text/javascript', body: HARNESS },
    '/dist/renderer.js': { type: 'text/javascript', body: bundle },
    '/favicon.ico': { type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' },
  };
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://127.0.0.1').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': `${file.type}; charset=utf-8`, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
