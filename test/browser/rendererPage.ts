// Headless Chromium around the renderer test page: launch, theme switching
// (light and dark sets of --vscode-* variables), rendering a payload, and
// collecting console errors.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium unless SQLROOM_CHROMIUM names another (as scripts/test.mjs allows). */
export function launchChromium(): Promise<Browser> {
  const executablePath = process.env.SQLROOM_CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/** A subset of VS Code's Light+ and Dark+ theme variables, as the output webview defines them. */
export const THEMES: Record<'light' | 'dark', Record<string, string>> = {
  light: {
    '--vscode-font-family': 'system-ui, "Segoe UI", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
    '--vscode-editor-font-size': '13px',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-editor-background': '#ffffff',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-list-hoverBackground': '#f2f2f2',
    '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-button-border': '#0000001a',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-dropdown-background': '#ffffff',
    '--vscode-dropdown-foreground': '#3b3b3b',
    '--vscode-dropdown-border': '#cecece',
    '--vscode-editorWarning-foreground': '#bf8803',
    '--vscode-textPreformat-foreground': '#3b3b3b',
    '--vscode-textPreformat-background': '#0000001f',
    '--vscode-errorForeground': '#f85149',
    '--vscode-inputValidation-errorBackground': '#f2dede',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-charts-blue': '#1a85ff',
  },
  dark: {
    '--vscode-font-family': 'system-ui, "Segoe UI", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
    '--vscode-editor-font-size': '13px',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-list-hoverBackground': '#2a2d2e',
    '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-button-secondaryHoverBackground': '#3c3c3c',
    '--vscode-button-border': '#ffffff12',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-dropdown-background': '#313131',
    '--vscode-dropdown-foreground': '#cccccc',
    '--vscode-dropdown-border': '#3c3c3c',
    '--vscode-editorWarning-foreground': '#cca700',
    '--vscode-textPreformat-foreground': '#d0d0d0',
    '--vscode-textPreformat-background': '#3c3c3c',
    '--vscode-errorForeground': '#f85149',
    '--vscode-inputValidation-errorBackground': '#5a1d1d',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-charts-blue': '#3794ff',
  },
};

/** Opens the test page and returns it with a live list of console errors and page errors. */
export async function openRendererPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { sqlroomReady?: boolean }).sqlroomReady === true);
  return { page, errors };
}

export async function applyTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.evaluate((vars) => {
    const root = document.documentElement;
    for (const [name, value] of Object.entries(vars)) root.style.setProperty(name, value);
  }, THEMES[theme]);
}

/** Renders the output text (a JSON payload, or anything else) as output item `id` of type `mime` (default: a result). */
export async function renderText(page: Page, id: string, text: string, mime = 'application/vnd.sqlroom.result+json'): Promise<void> {
  await page.evaluate(
    ([i, t, m]) => (window as unknown as { sqlroomRender(id: string, text: string, mime: string): unknown }).sqlroomRender(i, t, m),
    [id, text, mime] as const,
  );
}
