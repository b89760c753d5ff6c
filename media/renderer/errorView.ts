// What a malformed output item shows instead of a table.

export function buildError(message: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'sqlroom-error';
  box.setAttribute('role', 'alert');
  const title = document.createElement('strong');
  title.textContent = 'SQLRoom cannot show this result: ';
  box.append(title, message);
  return box;
}
