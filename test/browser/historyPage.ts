// The history webview in headless Chromium: the real page (historyHtml, with
// its CSP and nonce) and the real bundle (media/history), served on
// 127.0.0.1. VS Code's part is played by a stub acquireVsCodeApi() whose
// postMessage goes to Node (page.exposeFunction), where the real
// HistoryController answers from a real Loro history; the host's replies come
// back through window.postMessage, as in a VS Code webview.
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Browser, Page } from 'playwright-core';
import { HistoryController, type HistoryActions } from '../../extension/history/historyController';
import { historyHtml } from '../../extension/history/historyHtml';
import type { HostMessage, WebviewMessage } from '../../media/history/protocol';
import type { NotebookDoc } from '../../server/shared/notebookDoc';
import { bundleBrowserEntry, repoRoot } from './rendererServer';

export function bundleHistory(root = repoRoot()): Promise<string> {
  return bundleBrowserEntry('media/history/index.ts', root);
}

export interface HistoryServer {
  url: string;
  close(): Promise<void>;
}

export async function startHistoryServer(bundle: string): Promise<HistoryServer> {
  let origin = '';
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (pathname === '/') {
      const html = historyHtml({ cspSource: origin, scriptUri: `${origin}/dist/history.js`, title: 'History' });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    } else if (pathname === '/dist/history.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(bundle);
    } else if (pathname === '/favicon.ico') {
      res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg"/>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Actions the host was asked for, in order. */
export type ActionCall = { action: keyof HistoryActions; args: unknown[] };

export interface HistoryPageHandle {
  page: Page;
  controller: HistoryController;
  /** Every message the webview posted. */
  sent: WebviewMessage[];
  /** Every message the host posted. */
  received: HostMessage[];
  actions: ActionCall[];
  errors: string[];
  close(): Promise<void>;
}

export async function openHistoryPage(
  browser: Browser,
  url: string,
  nb: NotebookDoc,
  opts: { title?: string; windowSeconds?: number; viewport?: { width: number; height: number } } = {},
): Promise<HistoryPageHandle> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1000, height: 640 }, timezoneId: 'UTC', locale: 'en-GB' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  const sent: WebviewMessage[] = [];
  const received: HostMessage[] = [];
  const actions: ActionCall[] = [];
  const record = (action: keyof HistoryActions) => (...args: unknown[]) => {
    actions.push({ action, args });
    return undefined;
  };
  let controller!: HistoryController;
  controller = new HistoryController(
    nb,
    () => opts.title ?? 'History',
    (m) => {
      received.push(m);
      void page.evaluate((msg) => window.postMessage(msg, '*'), m).catch(() => undefined);
    },
    {
      open: record('open'),
      compare: record('compare'),
      restore: record('restore'),
      checkpoint: record('checkpoint'),
      branch: record('branch'),
      merge: record('merge'),
      revert: record('revert'),
      openAtTime: (t) => {
        actions.push({ action: 'openAtTime', args: [t] });
        return t === undefined ? undefined : controller.current().versionAt(t);
      },
    },
    opts.windowSeconds === undefined ? {} : { windowSeconds: opts.windowSeconds },
  );
  await page.exposeFunction('sqlroomHostReceive', (m: WebviewMessage) => {
    sent.push(m);
    return controller.handle(m);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { acquireVsCodeApi(): unknown; sqlroomHostReceive(m: unknown): Promise<void> };
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => void w.sqlroomHostReceive(m), getState: () => undefined, setState: () => undefined });
  });
  await page.goto(url);
  return {
    page,
    controller,
    sent,
    received,
    actions,
    errors,
    close: async () => {
      controller.dispose();
      await context.close();
    },
  };
}
