/**
 * The page's inline stylesheet and script. The script reads DashboardData from the
 * `#dashboard-data` JSON block, renders one card per experiment with an SVG progress chart,
 * and, when the daemon serves the page (data.live), polls /api/dashboard and re-renders.
 *
 * Plain ES2017 in a string, no template literals (this is a TS template's content), and never
 * the character sequences that end or confuse an HTML script element: a test checks that.
 * SVG is built as one string per chart and set with innerHTML: 10,000 dots in one parse.
 */

export const DASHBOARD_CSS = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d8dee4;--bg:#f6f8fa;--card:#fff;--keep:#1a7f37;--keep-fill:#2da44e;--discard:#8c959f;--crash:#cf222e;--best:#1a7f37;--label:#116329}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 24px 8px}
h1{font-size:20px;margin:0 0 2px}
header p{margin:0;color:var(--muted)}
#conn{color:var(--crash);font-weight:600}
.live-dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:var(--keep-fill);margin-right:6px;vertical-align:middle}
main{padding:8px 24px 24px;display:grid;gap:16px}
.empty-page{color:var(--muted);padding:24px;background:var(--card);border:1px solid var(--line);border-radius:8px}
.exp{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px 10px}
.head{display:flex;flex-wrap:wrap;align-items:baseline;gap:10px}
.head h2{font-size:17px;margin:0}
.sub{color:var(--muted)}
.state{font-size:12px;font-weight:600;padding:1px 8px;border-radius:10px;background:#eaeef2;color:#424a53}
.state.s-running{background:#dafbe1;color:#116329}
.state.s-waiting{background:#fff8c5;color:#7d4e00}
.state.s-tripped,.state.s-blocked{background:#ffebe9;color:#a40e26}
.state.s-done{background:#ddf4ff;color:#0550ae}
.reason{margin:4px 0 0;color:var(--muted);font-size:13px}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:8px 18px;margin:12px 0 6px}
.stats div{min-width:0}
.stats dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.stats dd{margin:0;font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}
.stats dd.good{color:var(--keep)}
.stats dd.bad{color:var(--crash)}
.stats small{display:block;color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin:6px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;vertical-align:-1px}
.legend i.k{background:var(--keep-fill);border:1px solid var(--keep)}
.legend i.d{background:var(--discard);opacity:.7}
.legend i.c{background:var(--crash)}
.legend i.o{border:1px solid var(--discard)}
.legend i.b{border-radius:0;height:3px;width:16px;background:var(--best);vertical-align:3px}
.chart{display:block;width:100%;height:auto;overflow:hidden;margin-top:4px}
.chart .grid{stroke:#eaeef2}
.chart .axis{stroke:#afb8c1}
.chart .tick{fill:var(--muted);font-size:11px}
.chart .title{fill:var(--muted);font-size:12px}
.chart .strip{fill:#f6f8fa}
.chart .best{fill:none;stroke:var(--best);stroke-width:2;stroke-opacity:.75}
.chart .dot.d{fill:var(--discard);fill-opacity:.55}
.chart .dot.c{fill:var(--crash);fill-opacity:.8}
.chart .dot.k{fill:var(--keep-fill);stroke:#0f3d1f;stroke-width:.8}
.chart .dot.out{fill-opacity:0;stroke:var(--discard);stroke-width:1}
.chart .dot:hover{stroke:#000;stroke-width:1.5}
.chart .label{fill:var(--label);font-size:10.5px}
.chart .empty{fill:var(--muted);font-size:14px}
.problems{color:var(--crash);font-size:13px;white-space:pre-wrap;margin:8px 0 0}
#tip{position:fixed;pointer-events:none;max-width:420px;background:#24292f;color:#fff;font-size:12px;padding:6px 8px;border-radius:6px;z-index:10}
`;

export const DASHBOARD_SCRIPT = String.raw`
(function () {
  'use strict';
  var W = 960, H = 400;
  var L = 70, R = 28, TOP = 24, BOTTOM = 312; // plot area
  var STRIP = 330, AXIS = 344;                // no-metric strip centre, x axis
  var ANGLE = 25, CHAR_W = 5.9;               // keep labels: slant, and the width of a character
  var POLL_MS = 5000;
  var current = null, currentKey = '';

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function num(v) {
    if (!isNum(v)) return '\u2014';
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(3);
    return String(Number(v.toPrecision(6)));
  }
  function dur(s) {
    if (!isNum(s)) return '\u2014';
    s = Math.round(s);
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }
  function usd(v) {
    if (!isNum(v)) return '\u2014';
    return '$' + (v >= 100 ? v.toFixed(0) : v >= 0.1 || v === 0 ? v.toFixed(2) : v.toFixed(4));
  }
  function pct(v) { return isNum(v) ? (v > 0 ? '+' : '') + v.toFixed(2) + '%' : '\u2014'; }
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }
  function soon(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var sameDay = d.toDateString() === new Date().toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function stat(key, name, value, note, cls) {
    return '<div data-stat="' + key + '"><dt>' + esc(name) + '</dt><dd' + (cls ? ' class="' + cls + '"' : '') + '>' +
      esc(value) + '</dd><small title="' + esc(note) + '">' + esc(note) + '</small></div>';
  }

  function etaStat(e) {
    if (!e.eta) return stat('eta', 'ETA', '\u2014', 'no max_experiments or max_runtime');
    var t = e.eta, notes = [];
    if (t.remainingIterations !== null) notes.push(plural(t.remainingIterations, 'iteration') + ' left');
    notes.push(t.by === 'max_experiments' ? 'max_experiments ' + e.maxExperiments : 'max_runtime ' + dur(e.maxRuntimeS));
    if (t.at && t.remainingS > 0) notes.push('at ' + soon(t.at));
    var value = t.remainingS === 0 ? 'reached' : t.remainingS === null ? 'unknown' : '~' + dur(t.remainingS);
    if (t.remainingS === null) notes.unshift('no iteration timed yet');
    // A halted experiment makes no progress: the estimate holds from when it is resumed.
    if (t.remainingS !== 0 && (e.state === 'paused' || e.state === 'tripped' || e.state === 'blocked')) notes.unshift('once resumed');
    return stat('eta', 'ETA', value, notes.join(' \u00b7 '));
  }

  function card(e, index) {
    var dirText = e.direction === 'higher' ? 'higher is better' : e.direction === 'lower' ? 'lower is better' : 'direction unknown';
    var head = '<div class="head"><h2>' + esc(e.id) + '</h2><span class="state s-' + esc(e.state) + '">' + esc(e.state) +
      (e.phase ? ' \u00b7 ' + esc(e.phase) : '') + '</span><span class="sub">' + esc(e.metric || 'metric ?') + ' \u00b7 ' + dirText +
      ' \u00b7 ' + esc(e.scope) + ' scope</span></div>';
    var reason = e.reason || e.waitUntil ? '<p class="reason">' + esc(e.reason || '') + (e.waitUntil ? ' (until ' + esc(when(e.waitUntil)) + ')' : '') + '</p>' : '';
    var gain = e.improvementPct;
    var stats = '<dl class="stats">' +
      stat('iterations', 'iterations', String(e.iterations), e.keeps + ' keep \u00b7 ' + e.discards + ' discard \u00b7 ' + e.crashes + ' crash') +
      stat('best', 'best vs baseline', pct(gain), num(e.best) + ' vs ' + num(e.baseline) + (e.bestDescription ? ' \u00b7 ' + e.bestDescription : ''),
        isNum(gain) && gain > 0 ? 'good' : isNum(gain) && gain < 0 ? 'bad' : '') +
      stat('time', 'time spent', dur(e.timeSpentS), isNum(e.avgIterationS) ? 'avg ' + dur(e.avgIterationS) + ' / iteration' : 'no durations recorded') +
      stat('cost', 'cost spent', usd(e.costUsd), isNum(e.costPerKeepUsd) ? usd(e.costPerKeepUsd) + ' per keep (' + plural(e.improvements, 'improvement') + ')' :
        e.costUsd === null ? 'no cost reported' : 'no improvement yet') +
      etaStat(e) + '</dl>';
    var legend = '<div class="legend"><span><i class="k"></i>keep</span><span><i class="d"></i>discard</span>' +
      '<span><i class="c"></i>crash</span><span><i class="b"></i>running best</span><span><i class="o"></i>off scale</span>' +
      '<span>no metric: bottom strip</span></div>';
    var problems = e.problems.length ? '<p class="problems">' + esc(e.problems.join('\n')) + '</p>' : '';
    return '<section class="exp" data-experiment="' + esc(e.id) + '">' + head + reason + stats + legend + chart(e, index) + problems + '</section>';
  }

  function niceTicks(lo, hi, count) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log(span / count) / Math.LN10));
    var err = span / count / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var first = Math.ceil(lo / step), out = [];
    // Bounded: past 2^53 an i++ may not move i, and a metric can be that large.
    for (var i = first; i * step <= hi + step * 1e-9 && out.length < 40; i++) out.push(Number((i * step).toPrecision(12)));
    return out;
  }

  // The y range: every metric, but zoomed towards the kept values when far-off discards would
  // flatten the interesting part (as progress.png does); points past the edge are drawn hollow on it.
  function yDomain(c, direction) {
    var lo = Infinity, hi = -Infinity, klo = Infinity, khi = -Infinity, any = false;
    for (var i = 0; i < c.y.length; i++) {
      var v = c.y[i];
      if (v === null) continue;
      any = true;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (c.s.charAt(i) === 'k') { if (v < klo) klo = v; if (v > khi) khi = v; }
    }
    if (!any) return null;
    if (klo <= khi) {
      var span = khi - klo || Math.abs(khi) * 0.05 || 1;
      lo = Math.max(lo, klo - 2 * span);
      hi = Math.min(hi, khi + 2 * span);
    }
    if (hi === lo) { var p = Math.abs(hi) * 0.05 || 1; lo -= p; hi += p; }
    // More room on the better side, where the labels of late keeps go.
    var span2 = hi - lo, lower = direction !== 'higher';
    return [lo - span2 * (lower ? 0.2 : 0.06), hi + span2 * (lower ? 0.06 : 0.2)];
  }

  function chart(e, index) {
    var c = e.chart, n = c.x.length, i;
    var open = '<svg class="chart" data-e="' + index + '" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' +
      esc(e.id + ': ' + n + ' iterations, running best') + '">';
    if (n === 0) {
      return '<svg class="chart" data-e="' + index + '" viewBox="0 0 ' + W + ' 60" role="img" aria-label="' + esc(e.id) + ': no results yet">' +
        '<rect class="strip" x="' + L + '" y="8" width="' + (W - L - R) + '" height="44" rx="6"/>' +
        '<text class="empty" x="' + W / 2 + '" y="30" dy="0.32em" text-anchor="middle">no results yet</text></svg>';
    }
    var x0 = Infinity, x1 = -Infinity;
    for (i = 0; i < n; i++) { if (c.x[i] < x0) x0 = c.x[i]; if (c.x[i] > x1) x1 = c.x[i]; }
    var xpad = (x1 - x0) * 0.02 || 0.5;
    var xa = x0 - xpad, xb = x1 + xpad;
    var dom = yDomain(c, e.direction) || [0, 1], ya = dom[0], yb = dom[1];
    function sx(v) { return L + (v - xa) / (xb - xa) * (W - L - R); }
    function sy(v) { return BOTTOM - (v - ya) / (yb - ya) * (BOTTOM - TOP); }
    function f(v) { return v.toFixed(1); }
    var out = [open];
    // Grid, y ticks, axes.
    var yt = niceTicks(ya, yb, 6);
    for (i = 0; i < yt.length; i++) {
      var y = f(sy(yt[i]));
      out.push('<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>' +
        '<text class="tick" x="' + (L - 6) + '" y="' + y + '" dy="0.32em" text-anchor="end">' + esc(num(yt[i])) + '</text>');
    }
    var xt = niceTicks(xa, xb, 10).filter(function (v) { return v === Math.round(v); });
    for (i = 0; i < xt.length; i++) {
      var x = f(sx(xt[i]));
      out.push('<line class="axis" x1="' + x + '" x2="' + x + '" y1="' + AXIS + '" y2="' + (AXIS + 4) + '"/>' +
        '<text class="tick" x="' + x + '" y="' + (AXIS + 16) + '" text-anchor="middle">' + xt[i] + '</text>');
    }
    out.push('<rect class="strip" x="' + L + '" y="' + (STRIP - 9) + '" width="' + (W - L - R) + '" height="18"/>' +
      '<text class="tick" x="' + (L - 6) + '" y="' + STRIP + '" dy="0.32em" text-anchor="end">no metric</text>' +
      '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + AXIS + '" y2="' + AXIS + '"/>' +
      '<line class="axis" x1="' + L + '" x2="' + L + '" y1="' + TOP + '" y2="' + AXIS + '"/>' +
      '<text class="title" x="' + (L + (W - L - R) / 2) + '" y="' + (H - 4) + '" text-anchor="middle">iteration</text>' +
      '<text class="title" transform="rotate(-90)" x="' + -(TOP + BOTTOM) / 2 + '" y="14" text-anchor="middle">' +
      esc((e.metric || 'metric') + (e.direction ? ' (' + e.direction + ' is better)' : '')) + '</text>');
    // Running best: a step line from each new best to the next, then on to the last iteration.
    if (c.best.length) {
      var d = 'M' + f(sx(c.best[0][0])) + ' ' + f(sy(c.best[0][1]));
      for (i = 1; i < c.best.length; i++) d += 'H' + f(sx(c.best[i][0])) + 'V' + f(sy(c.best[i][1]));
      d += 'H' + f(sx(x1));
      out.push('<path class="best" d="' + d + '"/>');
    }
    // Dots: discards under crashes under keeps, so the keeps stay visible in a dense chart.
    var big = n <= 2000, r = { d: big ? 3 : 1.7, c: big ? 3.2 : 2, k: big ? 4.5 : 3 };
    var order = 'dck';
    for (var pass = 0; pass < 3; pass++) {
      var s = order.charAt(pass);
      for (i = 0; i < n; i++) {
        if (c.s.charAt(i) !== s) continue;
        var v = c.y[i], cy, cls = 'dot ' + s;
        if (v === null) { cy = STRIP; cls += ' na'; }
        else if (v < ya || v > yb) { cy = sy(v < ya ? ya : yb); cls += ' out'; }
        else cy = sy(v);
        out.push('<circle class="' + cls + '" cx="' + f(sx(c.x[i])) + '" cy="' + f(cy) + '" r="' + r[s] + '" data-i="' + i + '"/>');
      }
    }
    // Keep labels, slanted as in progress.png, towards the worse side (up for lower is better),
    // where no later best can be. One that would run off the right edge goes left instead,
    // towards the better side: nothing was better than a best before it. Labels come most
    // important first; one that would overlap a label already placed tries the other side,
    // then is left out; one that would leave the plot is shortened.
    var up = e.direction !== 'higher', placed = [];
    var deg = up ? -ANGLE : ANGLE, th = deg * Math.PI / 180, cos = Math.cos(th), sin = Math.sin(th);
    function place(text, lx, ly, left) {
      // Room along the slant before the text leaves the plot (up: the chart's top; down: the strip).
      var goesUp = left ? !up : up;
      var roomY = (goesUp ? ly - 4 : BOTTOM + 4 - ly) / Math.abs(sin);
      var roomX = (left ? lx - L : W - 4 - lx) / cos;
      var fit = Math.floor((Math.min(roomX, roomY) - 8) / CHAR_W);
      if (fit < 8) return null;
      if (text.length > fit) text = text.slice(0, fit - 1) + '\u2026';
      var len = text.length * CHAR_W;
      var tx = lx + (left ? -7 : 7), ty = ly + (goesUp ? -5 : 11); // clear of the step line at the dot
      // The text box in the label's own (unrotated) frame, moved into one frame shared by every
      // label of this chart (they all have the same slant): there, overlap is a box test.
      var ox = lx * cos + ly * sin - lx, oy = -lx * sin + ly * cos - ly;
      var box = { x0: (left ? tx - len : tx) + ox, x1: (left ? tx : tx + len) + ox, y0: ty - 10 + oy, y1: ty + 3 + oy };
      for (var k = 0; k < placed.length; k++) {
        var q = placed[k];
        if (box.x0 < q.x1 && q.x0 < box.x1 && box.y0 < q.y1 && q.y0 < box.y1) return null;
      }
      placed.push(box);
      return '<text class="label" x="' + f(tx) + '" y="' + f(ty) + '" text-anchor="' + (left ? 'end' : 'start') +
        '" transform="rotate(' + deg + ' ' + f(lx) + ' ' + f(ly) + ')">' + esc(text) + '</text>';
    }
    for (i = 0; i < c.labels.length; i++) {
      var li = c.labels[i][0], lv = c.y[li];
      if (lv === null || lv < ya || lv > yb) continue;
      var text = c.labels[i][1], lx = sx(c.x[li]), ly = sy(lv);
      var left = lx + 8 + text.length * CHAR_W * cos > W - 4;
      var label = place(text, lx, ly, left) || place(text, lx, ly, !left);
      if (label) out.push(label);
    }
    out.push('</svg>');
    return out.join('');
  }

  function render(data) {
    current = data;
    var meta = document.getElementById('meta');
    var n = data.experiments.length;
    meta.innerHTML = (data.live ? '<span class="live-dot"></span>live \u00b7 ' : '') + esc(plural(n, 'experiment')) + ' \u00b7 ' +
      esc(data.root) + ' \u00b7 <span id="stamp">' + (data.live ? 'updated ' : 'generated ') + esc(when(data.generatedAt)) + '</span>';
    var main = document.getElementById('experiments');
    main.innerHTML = n === 0
      ? '<p class="empty-page">No experiments yet: create one with <code>autoresearch init &lt;domain&gt;/&lt;name&gt; --target FILE --eval CMD --metric NAME</code>.</p>'
      : data.experiments.map(card).join('');
  }

  function tooltip() {
    var tip = document.getElementById('tip');
    document.addEventListener('mouseover', function (ev) {
      var dot = ev.target && ev.target.closest ? ev.target.closest('circle.dot') : null;
      if (!dot || !current) { tip.hidden = true; return; }
      var e = current.experiments[Number(dot.parentNode.getAttribute('data-e'))];
      var i = Number(dot.getAttribute('data-i'));
      if (!e) return;
      var c = e.chart, s = c.s.charAt(i);
      tip.textContent = '#' + c.x[i] + ' \u00b7 ' + (s === 'k' ? 'keep' : s === 'd' ? 'discard' : 'crash') + ' \u00b7 ' +
        (c.y[i] === null ? 'no metric' : num(c.y[i])) + ' \u2014 ' + c.d[i];
      tip.style.left = Math.min(ev.clientX + 12, window.innerWidth - 430) + 'px';
      tip.style.top = ev.clientY + 14 + 'px';
      tip.hidden = false;
    });
  }

  function poll() {
    var conn = document.getElementById('conn');
    if (document.hidden) return;
    fetch('/api/dashboard', { cache: 'no-store' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(function (data) {
        conn.hidden = true;
        var key = JSON.stringify(data.experiments);
        if (key !== currentKey) { currentKey = key; render(data); }
        else document.getElementById('stamp').textContent = 'updated ' + when(data.generatedAt);
      }, function (err) {
        conn.textContent = 'The daemon did not answer (' + err.message + '); retrying every ' + POLL_MS / 1000 + ' s.';
        conn.hidden = false;
      });
  }

  var data = JSON.parse(document.getElementById('dashboard-data').textContent);
  currentKey = JSON.stringify(data.experiments);
  render(data);
  tooltip();
  document.documentElement.setAttribute('data-rendered', String(Math.round(performance.now())));
  if (data.live) setInterval(poll, POLL_MS);
})();
`;
