/**
 * The page's inline stylesheet and script. The script reads DashboardData from the
 * `#dashboard-data` JSON block, renders one card per experiment with an SVG progress chart
 * (chart-script.ts), one overlay chart per metric shared by several experiments, and, when
 * the daemon serves the page (data.live), polls /api/dashboard and re-renders. A one-second
 * timer moves the elapsed time of a running phase and the countdown of a quota wait.
 *
 * Plain ES2017 in a string, no template literals (this is a TS template's content), and never
 * the character sequences that end or confuse an HTML script element: a test checks that.
 * SVG is built as one string per chart and set with innerHTML: 10,000 dots in one parse.
 */
import { CHART_CSS, CHART_SCRIPT } from './chart-script.js';

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
.problems{color:var(--crash);font-size:13px;white-space:pre-wrap;margin:8px 0 0}
#tip{position:fixed;pointer-events:none;max-width:420px;background:#24292f;color:#fff;font-size:12px;padding:6px 8px;border-radius:6px;z-index:10;white-space:pre-line}
.live,.draft{margin:4px 0 0;font-size:13px;font-variant-numeric:tabular-nums}
.live .bar{display:inline-block;width:120px;height:6px;border-radius:3px;background:#eaeef2;vertical-align:middle;margin:0 8px;overflow:hidden}
.live .bar i{display:block;height:100%;background:var(--keep-fill)}
.live.over .bar i{background:#bf8700}
.live.over .elapsed{color:#9a6700;font-weight:600}
.countdown{font-weight:600;font-variant-numeric:tabular-nums}
.suspicious,.warnings{margin:6px 0 0;color:#bc4c00;font-size:13px}
.legend i.g{border-radius:0;width:0;height:0;border-left:5px solid transparent;border-right:5px solid transparent;border-top:7px solid #bc4c00}
.legend i.s{border:2px dashed #bc4c00;background:transparent}
.legend i.e{border-radius:0;width:7px;height:12px;vertical-align:-2px;border:solid #57606a;border-width:1px 0;background:linear-gradient(#57606a,#57606a) center/1px 100% no-repeat}
.legend i.n{border-radius:2px;width:16px;background:rgba(45,164,78,.18)}
.legend i.u{border:1.5px dashed #2da44e;background:#fff}
.overlay{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px 10px}
.overlay h2{font-size:16px;margin:0}
` + CHART_CSS;

export const DASHBOARD_SCRIPT = String.raw`
(function () {
  'use strict';
` + CHART_SCRIPT + String.raw`
  var POLL_MS = 5000;
  var current = null, currentKey = '';

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
  // A ticking clock: seconds always shown, two digits after the first unit.
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    function two(v) { return (v < 10 ? '0' : '') + v; }
    return h > 0 ? h + 'h ' + two(m) + 'm ' + two(sec) + 's' : m > 0 ? m + 'm ' + two(sec) + 's' : sec + 's';
  }
  function usd(v) {
    if (!isNum(v)) return '\u2014';
    return '$' + (v >= 100 ? v.toFixed(0) : v >= 0.1 || v === 0 ? v.toFixed(2) : v.toFixed(4));
  }
  function pct(v) { return isNum(v) ? (v > 0 ? '+' : '') + v.toFixed(2) + '%' : '\u2014'; }
  // Times in the reader's zone, the zone named (07:43 CET).
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString([], { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
  }
  function soon(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var sameDay = d.toDateString() === new Date().toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
      : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
  }

  function stat(key, name, value, note, cls) {
    return '<div data-stat="' + key + '"><dt>' + esc(name) + '</dt><dd' + (cls ? ' class="' + cls + '"' : '') + '>' +
      esc(value) + '</dd><small title="' + esc(note) + '">' + esc(note) + '</small></div>';
  }

  function paceNote(p) {
    if (!p) return '';
    if (p.source === 'budget') return 'per iteration \u2265 time_budget ' + dur(p.perIterationS) + ' (nothing measured yet)';
    if (p.lowerBound) return 'per iteration \u2265 ' + dur(p.perIterationS) + ' (the baseline; no agent turn measured yet)';
    if (p.source === 'ledger') return 'per iteration ' + dur(p.perIterationS) + ' (duration_s, last ' + p.sample + ')';
    return 'per iteration ' + dur(p.perIterationS) + ': agent ' + dur(p.agentS) + ' + eval ' + dur(p.evalS) +
      (p.evalShare < 1 ? ' \u00d7 ' + Math.round(p.evalShare * 100) + '% evaluated' : '') + ' (last ' + p.sample + ')';
  }

  function etaStat(e) {
    if (!e.eta) return stat('eta', 'ETA', '\u2014', 'no max_experiments or max_runtime');
    var t = e.eta, notes = [];
    if (t.remainingIterations !== null) {
      notes.push(t.by === 'max_experiments' ? plural(t.remainingIterations, 'experiment') + ' left' + (e.iterations === 0 && t.remainingIterations > 0 ? ' (and the baseline)' : '')
        : (e.pace && e.pace.lowerBound ? '\u2264 ' : '~') + plural(t.remainingIterations, 'iteration') + ' fit');
    }
    notes.push(t.by === 'max_experiments' ? 'max_experiments ' + e.maxExperiments : 'max_runtime ' + dur(e.maxRuntimeS));
    if (t.at && t.remainingS > 0) notes.push('at ' + soon(t.at));
    var pace = paceNote(e.pace);
    if (pace && t.remainingS !== 0) notes.push(pace);
    var bound = e.pace && e.pace.lowerBound && t.by === 'max_experiments';
    var value = t.remainingS === 0 ? 'reached' : t.remainingS === null ? 'unknown' : (bound ? '\u2265 ' : '~') + dur(t.remainingS);
    if (t.remainingS === null) notes.unshift('no iteration timed yet');
    // A halted experiment makes no progress: the estimate holds from when it is resumed.
    if (t.remainingS !== 0 && (e.state === 'paused' || e.state === 'tripped' || e.state === 'blocked')) notes.unshift('once resumed');
    return stat('eta', 'ETA', value, notes.join(' \u00b7 '));
  }

  // The running iteration: its phase, and how long it has run against the phase's budget.
  function liveLine(e) {
    var lv = e.live;
    if (!lv) return '';
    var what = (lv.iteration !== null ? '#' + lv.iteration + ' ' : '') + (lv.phase || 'running') + (lv.job ? ' (' + lv.job + ')' : '');
    if (!lv.since) return '<p class="live" data-live="' + esc(lv.phase || '') + '">' + esc(what) + '</p>';
    var cap = lv.budgetS || lv.limitS;
    var limits = (lv.budgetS ? ' of ' + dur(lv.budgetS) + ' budget' : '') + (lv.limitS ? (lv.budgetS ? ', limit ' : ' of limit ') + dur(lv.limitS) : '');
    return '<p class="live" data-live="' + esc(lv.phase || '') + '" data-since="' + esc(lv.since) + '"' + (cap ? ' data-cap="' + cap + '"' : '') + '>' + esc(what) +
      ' \u00b7 <span class="elapsed">' + esc(clock((Date.now() - Date.parse(lv.since)) / 1000)) + '</span>' + esc(limits) +
      (cap ? '<span class="bar"><i style="width:0"></i></span>' : '') + '</p>';
  }

  // pipeline: the next iteration drafted beside the running one (its agent's turn ticking, or ready).
  function draftLine(e) {
    var d = e.draft;
    if (!d) return '';
    if (d.phase === 'agent') {
      return '<p class="draft" data-draft="agent"' + (d.started_at ? ' data-since="' + esc(d.started_at) + '"' : '') + '>drafting #' + d.iteration + ' (agent' +
        (d.started_at ? ' \u00b7 <span class="elapsed">' + esc(clock((Date.now() - Date.parse(d.started_at)) / 1000)) + '</span>' : '') + ')</p>';
    }
    if (d.phase === 'ready') return '<p class="draft" data-draft="ready">#' + d.iteration + ' drafted, ready (' + esc((d.commit || '').slice(0, 7)) + ')</p>';
    return '<p class="draft" data-draft="interrupted">the draft of #' + d.iteration + ' was interrupted (no row; recovered at the next start)</p>';
  }

  function reasonLine(e) {
    if (!e.reason && !e.waitUntil) return '';
    var wait = '';
    if (e.waitUntil) {
      wait = (e.reason ? ' \u00b7 ' : '') + 'resumes in <span class="countdown" data-until="' + esc(e.waitUntil) + '">' +
        esc(clock((Date.parse(e.waitUntil) - Date.now()) / 1000)) + '</span> (at ' + esc(soon(e.waitUntil)) + ')';
    }
    return '<p class="reason">' + esc(e.reason || '') + wait + '</p>';
  }

  function card(e, index) {
    var dirText = e.direction === 'higher' ? 'higher is better' : e.direction === 'lower' ? 'lower is better' : 'direction unknown';
    var head = '<div class="head"><h2>' + esc(e.id) + '</h2><span class="state s-' + esc(e.state) + '">' + esc(e.state) +
      (e.phase ? ' \u00b7 ' + esc(e.phase) : '') + '</span><span class="sub">' + esc(e.metric || 'metric ?') + ' \u00b7 ' + dirText +
      ' \u00b7 ' + esc(e.scope) + ' scope</span></div>';
    var gain = e.improvementPct;
    var after = e.experiments;
    var stats = '<dl class="stats">' +
      stat('experiments', 'experiments', String(after) + (e.maxExperiments !== null ? ' / ' + e.maxExperiments : ''),
        'after the baseline (as max_experiments counts) \u00b7 ' + e.improvements + ' keep \u00b7 ' + (e.discards) + ' discard \u00b7 ' + e.crashes + ' crash') +
      stat('best', 'best vs baseline', pct(gain), num(e.best) + ' vs ' + num(e.baseline) + (e.bestDescription ? ' \u00b7 ' + e.bestDescription : ''),
        isNum(gain) && gain > 0 ? 'good' : isNum(gain) && gain < 0 ? 'bad' : '') +
      stat('time', 'time spent', dur(e.timeSpentS), isNum(e.avgIterationS) ? 'avg ' + dur(e.avgIterationS) + ' / iteration' : 'no durations recorded') +
      stat('cost', 'cost spent', usd(e.costUsd), isNum(e.costPerKeepUsd) ? usd(e.costPerKeepUsd) + ' per keep (' + plural(e.improvements, 'improvement') + ')' :
        e.costUsd === null ? 'no cost reported' : 'no improvement yet') +
      etaStat(e) + '</dl>';
    var c = e.chart;
    var legend = '<div class="legend"><span><i class="k"></i>keep</span><span><i class="d"></i>discard</span>' +
      '<span><i class="c"></i>crash</span><span><i class="b"></i>running best</span><span><i class="o"></i>off scale</span>' +
      '<span>no metric: bottom strip</span>' + (c.sus.length ? '<span><i class="s"></i>suspicious keep</span>' : '') +
      (hasBars(c) ? '<span class="bars-note"><i class="e"></i>' + esc(BARS_NOTE.replace(/^bars: /, '')) + '</span>' : '') +
      (hasBand(e) ? '<span class="band-note"><i class="n"></i>' + esc(bandNote(e).replace(/^band: /, 'noise band: ')) + '</span>' : '') +
      (c.undone.length ? '<span><i class="u"></i>' + esc(UNDONE_NOTE.replace(/^hollow green: /, '')) + '</span>' : '') +
      (c.hidden ? '<span class="hidden-note"><i class="g"></i>' + esc(hiddenNote(c).replace(/: marked.*$/, '')) + '</span>' : '') + '</div>';
    var suspicious = e.suspicious.length ? '<p class="suspicious">' + e.suspicious.map(function (s) { return '\u26a0 #' + s.iteration + ' ' + esc(s.detail); }).join('<br>') + '</p>' : '';
    var warnings = e.warnings && e.warnings.length ? '<p class="warnings">' + e.warnings.map(function (w) { return '\u26a0 ' + esc(w); }).join('<br>') + '</p>' : '';
    var problems = e.problems.length ? '<p class="problems">' + esc(e.problems.join('\n')) + '</p>' : '';
    return '<section class="exp" data-experiment="' + esc(e.id) + '">' + head + liveLine(e) + draftLine(e) + reasonLine(e) + warnings + suspicious + stats + legend + chart(e, index) + problems + '</section>';
  }

  function overlays(data) {
    return (data.overlays || []).map(function (g) {
      var exps = [];
      data.experiments.forEach(function (e, i) { if (g.ids.indexOf(e.id) >= 0) exps.push([i, e]); });
      return '<section class="overlay" data-overlay="' + esc(g.metric + ':' + g.direction) + '"><h2>' + esc(g.metric) + ': ' + exps.length +
        ' experiments compared</h2>' + overlayChart(g, exps) + '</section>';
    }).join('');
  }

  function tick() {
    var now = Date.now(), i, el;
    var lives = document.querySelectorAll('.live[data-since]');
    for (i = 0; i < lives.length; i++) {
      el = lives[i];
      var secs = (now - Date.parse(el.getAttribute('data-since'))) / 1000, cap = Number(el.getAttribute('data-cap'));
      el.querySelector('.elapsed').textContent = clock(secs);
      if (cap > 0) {
        el.querySelector('.bar i').style.width = Math.min(100, secs / cap * 100).toFixed(1) + '%';
        el.classList.toggle('over', secs > cap);
      }
    }
    var drafts = document.querySelectorAll('.draft[data-since]');
    for (i = 0; i < drafts.length; i++) {
      el = drafts[i];
      el.querySelector('.elapsed').textContent = clock((now - Date.parse(el.getAttribute('data-since'))) / 1000);
    }
    var waits = document.querySelectorAll('.countdown[data-until]');
    for (i = 0; i < waits.length; i++) {
      el = waits[i];
      var left = (Date.parse(el.getAttribute('data-until')) - now) / 1000;
      el.textContent = left > 0 ? clock(left) : 'any moment';
    }
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
      : overlays(data) + data.experiments.map(card).join('');
    tick();
  }

  // A point's evidence for its tooltip: samples, mean \u00b1 spread, p-value; its guard values.
  function evidenceText(c, i) {
    var text = '', k, q;
    for (k = 0; k < c.ev.length; k++) {
      if (c.ev[k][0] !== i) continue;
      q = c.ev[k];
      text += '\n' + plural(q[1], 'sample') + (isNum(q[2]) ? ' \u00b7 mean ' + num(q[2]) + (isNum(q[3]) ? ' \u00b1 ' + num(q[3]) : '') : '') +
        (isNum(q[4]) ? ' \u00b7 p = ' + (q[4] < 1e-4 ? '< 0.0001' : String(Number(q[4].toPrecision(2)))) : '');
    }
    for (k = 0; k < c.guards.length; k++) {
      if (c.guards[k][0] !== i) continue;
      text += '\nguards: ' + c.guards[k][1].map(function (g) { return g[0] + ' ' + (g[1] === null ? 'not found' : num(g[1])); }).join(' \u00b7 ');
    }
    return text;
  }

  function tooltip() {
    var tip = document.getElementById('tip');
    document.addEventListener('mouseover', function (ev) {
      var t = ev.target && ev.target.closest ? ev.target : null;
      var dot = t ? t.closest('circle.dot') : null, gap = t ? t.closest('g.gap') : null;
      if ((!dot && !gap) || !current) { tip.hidden = true; return; }
      var holder = (dot || gap).closest('[data-e]');
      var e = current.experiments[Number(holder ? holder.getAttribute('data-e') : NaN)];
      if (!e) return;
      var c = e.chart, text;
      if (dot) {
        var i = Number(dot.getAttribute('data-i')), s = c.s.charAt(i);
        text = (holder !== dot.parentNode ? e.id + ' ' : '') + '#' + c.x[i] + ' \u00b7 ' + (s === 'k' ? 'keep' : s === 'd' ? 'discard' : 'crash') +
          (c.undone.indexOf(i) >= 0 ? ' (undone by a re-validation)' : '') + ' \u00b7 ' +
          (c.y[i] === null ? 'no metric' : num(c.y[i])) + ' \u2014 ' + c.d[i] + evidenceText(c, i) + (c.why[i] ? '\nwhy: ' + c.why[i] : '');
      } else {
        var g = c.gaps[Number(gap.getAttribute('data-g'))];
        text = plural(g[1], 'row') + ' not evaluated' + (g[1] > 1 ? ' (#' + g[2] + '\u2013#' + g[3] + ')' : ' (#' + g[2] + ')') + ': ' + g[4];
      }
      tip.textContent = text;
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
        var key = JSON.stringify([data.experiments, data.overlays]);
        if (key !== currentKey) { currentKey = key; render(data); }
        else document.getElementById('stamp').textContent = 'updated ' + when(data.generatedAt);
      }, function (err) {
        conn.textContent = 'The daemon did not answer (' + err.message + '); retrying every ' + POLL_MS / 1000 + ' s.';
        conn.hidden = false;
      });
  }

  var data = JSON.parse(document.getElementById('dashboard-data').textContent);
  currentKey = JSON.stringify([data.experiments, data.overlays]);
  render(data);
  tooltip();
  setInterval(tick, 1000);
  document.documentElement.setAttribute('data-rendered', String(Math.round(performance.now())));
  if (data.live) setInterval(poll, POLL_MS);
})();
`;
