// A stable colour per collaborator: the same name gets the same colour in
// every window, in cell presence, the status bar and the history view. The
// palette reads on light and dark themes; each colour has a coloured mark
// (an emoji circle) for places that cannot colour text, such as VS Code's
// status bars. Pure: shared by the extension and the history webview.

export interface CollaboratorColor {
  /** CSS colour for text and dots. */
  hex: string;
  /** The same colour as a character, for plain-text places. */
  mark: string;
  /** Its name, for tooltips and screen readers. */
  label: string;
}

export const COLLABORATOR_PALETTE: readonly CollaboratorColor[] = [
  { hex: '#d9534f', mark: '🔴', label: 'red' },
  { hex: '#e07b24', mark: '🟠', label: 'orange' },
  { hex: '#c9a100', mark: '🟡', label: 'yellow' },
  { hex: '#3fa34d', mark: '🟢', label: 'green' },
  { hex: '#3b82d6', mark: '🔵', label: 'blue' },
  { hex: '#9b59b6', mark: '🟣', label: 'purple' },
  { hex: '#9c6b43', mark: '🟤', label: 'brown' },
];

/** FNV-1a over the UTF-16 code units of the trimmed, lower-cased name. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  const s = name.trim().toLowerCase();
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The palette index of a name (what presence publishes as `color`). */
export function collaboratorColorIndex(name: string): number {
  return hashName(name) % COLLABORATOR_PALETTE.length;
}

export function collaboratorColor(name: string): CollaboratorColor {
  return COLLABORATOR_PALETTE[collaboratorColorIndex(name)];
}

/** "🟢 Ana": a name with its colour mark. */
export function markedName(name: string): string {
  return `${collaboratorColor(name).mark} ${name}`;
}
