/**
 * DashboardData → one self-contained HTML page: styles and script inline, the data as a
 * JSON block, no network and no external fonts. The same page is written by `dashboard` and
 * served live by the daemon (data.live: it polls /api/dashboard).
 */
import path from 'node:path';
import { DASHBOARD_CSS, DASHBOARD_SCRIPT } from './client.js';
import type { DashboardData } from './model.js';

export function renderDashboardHtml(data: DashboardData): string {
  const title = `autoresearch · ${path.basename(data.root) || data.root}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="autoresearch">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><p id="meta"></p><p id="conn" hidden></p></header>
<main id="experiments"><noscript><p class="empty-page">This dashboard draws its charts with JavaScript.</p></noscript></main>
<div id="tip" role="tooltip" hidden></div>
<script id="dashboard-data" type="application/json">${embedJson(data)}</script>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * JSON that can sit inside a <script> element: a description containing `</script>` or
 * `<!--` must not end or derail the element, so every `<` is written as \u003c (JSON.parse
 * reads it back as `<`). U+2028/2029 are escaped too, for any reader that evals it as JS.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
