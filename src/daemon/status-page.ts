/** The page the daemon serves on its loopback port: every experiment, refreshing itself. */
export function statusPage(status: unknown): string {
  const s = status as { daemon?: { root?: string; uptime_s?: number }; experiments?: Array<Record<string, unknown>> };
  const rows = (s.experiments ?? [])
    .map((e) => `<tr>${['id', 'state', 'iterations', 'keeps', 'discards', 'crashes', 'best', 'phase', 'reason'].map((k) => `<td>${escapeHtml(String(e[k] ?? ''))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>autoresearch</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}</style></head>
<body><h1>autoresearch</h1><p>${escapeHtml(s.daemon?.root ?? '')} · up ${s.daemon?.uptime_s ?? 0} s</p>
<table><tr><th>experiment</th><th>state</th><th>iterations</th><th>keep</th><th>discard</th><th>crash</th><th>best</th><th>phase</th><th>reason</th></tr>
${rows}</table></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
