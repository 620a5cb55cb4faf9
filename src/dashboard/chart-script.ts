/**
 * The progress chart, as plain JavaScript in a string: pure functions from an ExperimentView
 * (model.ts) to SVG markup, with no DOM. The page's script (client.ts) includes it and draws
 * every card with it; `dashboard --svg` runs the same code in Node (svg-export.ts), so the
 * exported image is the chart of the page, not a second drawing of it.
 *
 * ES2017, no template literals (this is a TS template's content), and never the character
 * sequences that end or confuse an HTML script element: a test checks that.
 *
 * Points sit one per slot in ledger order (the model leaves out rows that were not evaluated),
 * so the x axis is labelled with the iteration numbers of the slots, and a run of rows left out
 * is a gap mark between two slots. Every position comes from scales() (both charts; the bars and
 * the noise band too): the one place that maps data to the plot.
 */

/** The chart's styles, with literal colours: they also go inside an exported SVG file. */
export const CHART_CSS = `
.chart text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
.chart .bg{fill:#fff}
.chart .grid{stroke:#eaeef2}
.chart .axis{stroke:#afb8c1}
.chart .tick{fill:#656d76;font-size:11px}
.chart .title{fill:#656d76;font-size:12px}
.chart .heading{fill:#1f2328;font-size:15px;font-weight:600}
.chart .note{fill:#656d76;font-size:11.5px}
.chart .strip{fill:#f6f8fa}
.chart .best{fill:none;stroke:#1a7f37;stroke-width:2;stroke-opacity:.75}
.chart .band{fill:#2da44e;fill-opacity:.12;stroke:none}
.chart .err{fill:none;stroke:#57606a;stroke-width:1;stroke-opacity:.7}
.chart .err.k{stroke:#1a7f37;stroke-opacity:.9}
.chart .dot.d{fill:#8c959f;fill-opacity:.55}
.chart .dot.c{fill:#cf222e;fill-opacity:.8}
.chart .dot.k{fill:#2da44e;stroke:#0f3d1f;stroke-width:.8}
.chart .dot.out{fill-opacity:0;stroke:#8c959f;stroke-width:1}
.chart .dot.k.undone{fill:#fff;fill-opacity:1;stroke:#2da44e;stroke-width:1.5;stroke-dasharray:2 1.5}
.chart .dot:hover{stroke:#000;stroke-width:1.5}
.chart .sus-ring{fill:none;stroke:#bc4c00;stroke-width:2;stroke-dasharray:3 2}
.chart .sus-mark{fill:#bc4c00;font-size:13px;font-weight:700}
.chart .gap line{stroke:#bc4c00;stroke-opacity:.55;stroke-dasharray:2 3}
.chart .gap path{fill:#bc4c00;fill-opacity:.8}
.chart .gap text{fill:#bc4c00;font-size:10px}
.chart .gap:hover path{fill-opacity:1}
.chart .label{fill:#116329;font-size:10.5px}
.chart .empty{fill:#656d76;font-size:14px}
.chart .series{fill:none;stroke-width:2}
.chart .swatch{stroke-width:3}
`;

export const CHART_SCRIPT = String.raw`
  var W = 960, H = 400;
  var L = 70, R = 28, TOP = 24, BOTTOM = 312; // plot area
  var STRIP = 330, AXIS = 344;                // no-metric strip centre, x axis
  var ANGLE = 25, CHAR_W = 5.9;               // keep labels: slant, and the width of a character
  var HEAD = 30, FOOT = 18;                   // a standalone chart's title, and each legend line
  var HEADING_W = 8.8, NOTE_W = 6.4;          // character widths of the title and the legend
  var PALETTE = ['#0969da', '#bf3989', '#1a7f37', '#bc4c00', '#8250df', '#1b7c83', '#57606a', '#cf222e'];

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
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }
  function f(v) { return v.toFixed(1); }

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
  function yDomain(ys, kept, direction) {
    var lo = Infinity, hi = -Infinity, klo = Infinity, khi = -Infinity, any = false;
    for (var i = 0; i < ys.length; i++) {
      var v = ys[i];
      if (v === null) continue;
      any = true;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (kept(i)) { if (v < klo) klo = v; if (v > khi) khi = v; }
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

  // The one mapping from data to the plot, for both charts: slot n (0-based, one per point) and
  // metric v to x and y; yc clamps v to the y range first, so bars and the band end at its edge.
  function scales(n, ya, yb) {
    var xpad = Math.max((n - 1) * 0.02, 0.5), xa = -xpad, xb = n - 1 + xpad;
    function sx(v) { return L + (v - xa) / (xb - xa) * (W - L - R); }
    function sy(v) { return BOTTOM - (v - ya) / (yb - ya) * (BOTTOM - TOP); }
    function yc(v) { return sy(v < ya ? ya : v > yb ? yb : v); }
    return { sx: sx, sy: sy, yc: yc };
  }

  // What a person reads off the legend about the rows the chart leaves out.
  function hiddenNote(c) {
    if (!c.hidden) return '';
    return plural(c.hidden, 'row') + ' not evaluated, not plotted (' +
      c.hiddenWhy.map(function (w) { return w[1] + ' ' + w[0]; }).join(', ') + '): marked \u25be on the axis';
  }

  // Issue 11's evidence: error bars on repeated measurements, the noise band, undone keeps.
  var BARS_NOTE = 'bars: mean \u00b1 spread of repeated samples';
  var UNDONE_NOTE = 'hollow green: keep undone by a failed re-validation';
  function hasBars(c) {
    for (var i = 0; i < c.ev.length; i++) if (c.ev[i][1] > 1 && isNum(c.ev[i][3])) return true;
    return false;
  }
  function hasBand(e) { return !!e.noise && isNum(e.noise.sigma) && e.noise.sigma > 0; }
  function bandNote(e) {
    var from = e.noise.source === 'config' ? 'noise in the config' : e.noise.source === 'state' ? 'estimated over ' + e.noise.df + ' df' :
      'pooled from the rows, ' + e.noise.df + ' df';
    return 'band: best \u00b1 \u03c3 (\u03c3 = ' + num(Number(e.noise.sigma.toPrecision(3))) + ', ' + from + ')';
  }

  // The frame shared by both charts: grid, y ticks, x ticks (iteration numbers of slots), axes.
  function frame(out, sx, sy, ya, yb, n, slotLabel, yTitle, xTitle, strip) {
    var i, yt = niceTicks(ya, yb, 6);
    for (i = 0; i < yt.length; i++) {
      var y = f(sy(yt[i]));
      out.push('<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>' +
        '<text class="tick" x="' + (L - 6) + '" y="' + y + '" dy="0.32em" text-anchor="end">' + esc(num(yt[i])) + '</text>');
    }
    var xt = niceTicks(0, Math.max(n - 1, 0), 10).filter(function (v) { return v === Math.round(v) && v >= 0 && v < n; });
    for (i = 0; i < xt.length; i++) {
      var x = f(sx(xt[i]));
      out.push('<line class="axis" x1="' + x + '" x2="' + x + '" y1="' + AXIS + '" y2="' + (AXIS + 4) + '"/>' +
        '<text class="tick" x="' + x + '" y="' + (AXIS + 16) + '" text-anchor="middle">' + esc(slotLabel(xt[i])) + '</text>');
    }
    if (strip) {
      out.push('<rect class="strip" x="' + L + '" y="' + (STRIP - 9) + '" width="' + (W - L - R) + '" height="18"/>' +
        '<text class="tick" x="' + (L - 6) + '" y="' + STRIP + '" dy="0.32em" text-anchor="end">no metric</text>');
    }
    out.push('<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + AXIS + '" y2="' + AXIS + '"/>' +
      '<line class="axis" x1="' + L + '" x2="' + L + '" y1="' + TOP + '" y2="' + AXIS + '"/>' +
      '<text class="title" x="' + (L + (W - L - R) / 2) + '" y="' + (H - 4) + '" text-anchor="middle">' + esc(xTitle) + '</text>' +
      '<text class="title" transform="rotate(-90)" x="' + -(TOP + BOTTOM) / 2 + '" y="14" text-anchor="middle">' + esc(yTitle) + '</text>');
  }

  // Opening and closing of a chart's svg: in the page, or standalone (xmlns, size, styles,
  // a white background, a title above and a legend below) for an exported file. opts.css and
  // opts.xmlns come from svg-export.ts: the page needs neither, and holds no URL.
  function shell(attrs, label, height, opts, heading, legend) {
    if (!opts || !opts.standalone) {
      return { open: '<svg class="chart"' + attrs + ' viewBox="0 0 ' + W + ' ' + height + '" role="img" aria-label="' + esc(label) + '">', close: '</svg>' };
    }
    // The legend in lines that fit the width, broken between its items.
    var lines = [], line = '', items = legend.split(' \u00b7 ');
    for (var k = 0; k < items.length; k++) {
      var next = line ? line + ' \u00b7 ' + items[k] : items[k];
      if (line && next.length * NOTE_W > W - 24) { lines.push(line); line = items[k]; } else line = next;
    }
    if (line) lines.push(line);
    var total = height + HEAD + FOOT * lines.length, notes = '';
    for (k = 0; k < lines.length; k++) notes += '<text class="note" x="12" y="' + (height + HEAD + FOOT * k + 14) + '">' + esc(lines[k]) + '</text>';
    var fits = Math.floor((W - 24) / HEADING_W);
    return {
      open: '<svg xmlns="' + opts.xmlns + '" class="chart"' + attrs + ' width="' + W + '" height="' + total + '" viewBox="0 0 ' + W + ' ' + total +
        '" role="img" aria-label="' + esc(label) + '"><style>' + opts.css + '</style><rect class="bg" width="' + W + '" height="' + total + '"/>' +
        '<text class="heading" x="12" y="20">' + esc(heading.length > fits ? heading.slice(0, fits - 1) + '\u2026' : heading) + '</text><g transform="translate(0,' + HEAD + ')">',
      close: '</g>' + notes + '</svg>'
    };
  }

  function chart(e, index, opts) {
    var c = e.chart, n = c.x.length, i;
    var attrs = ' data-e="' + index + '"';
    var legend = 'green: keep \u00b7 grey: discard \u00b7 red: crash \u00b7 line: running best' + (c.sus.length ? ' \u00b7 dashed ring: suspicious keep' : '') +
      (hasBars(c) ? ' \u00b7 ' + BARS_NOTE : '') + (hasBand(e) ? ' \u00b7 ' + bandNote(e) : '') + (c.undone.length ? ' \u00b7 ' + UNDONE_NOTE : '') +
      (c.hidden ? ' \u00b7 ' + hiddenNote(c) : '');
    var heading = e.id + ' \u00b7 ' + (e.metric || 'metric') + (e.direction ? ' (' + e.direction + ' is better)' : '') +
      ' \u00b7 ' + plural(e.experiments, 'experiment') + ' after the baseline' + (e.improvementPct !== null && isNum(e.improvementPct) ? ' \u00b7 best ' + (e.improvementPct > 0 ? '+' : '') + e.improvementPct.toFixed(2) + '%' : '');
    if (n === 0) {
      var empty = shell(attrs, e.id + ': no evaluated results yet', 60, opts, heading, legend);
      return empty.open + '<rect class="strip" x="' + L + '" y="8" width="' + (W - L - R) + '" height="44" rx="6"/>' +
        '<text class="empty" x="' + W / 2 + '" y="30" dy="0.32em" text-anchor="middle">' +
        (c.hidden ? esc('no evaluated results yet (' + hiddenNote(c).replace(/: marked.*$/, '') + ')') : 'no results yet') + '</text>' + empty.close;
    }
    var sh = shell(attrs, e.id + ': ' + plural(n, 'evaluated iteration') + ', running best', H, opts, heading, legend);
    var dom = yDomain(c.y, function (k) { return c.s.charAt(k) === 'k'; }, e.direction) || [0, 1], ya = dom[0], yb = dom[1];
    var sc = scales(n, ya, yb), sx = sc.sx, sy = sc.sy, yc = sc.yc;
    var big = n <= 2000;
    var out = [sh.open];
    frame(out, sx, sy, ya, yb, n, function (slot) { return c.x[slot]; }, (e.metric || 'metric') + (e.direction ? ' (' + e.direction + ' is better)' : ''),
      c.hidden ? 'iteration (evaluated only; \u25be rows not evaluated)' : 'iteration', true);
    // Rows left out: a mark on the axis between the two slots, and for a longer run a dashed line.
    for (i = 0; i < c.gaps.length; i++) {
      var g = c.gaps[i], gx = sx(g[0] - 0.5);
      out.push('<g class="gap" data-g="' + i + '">' + (g[1] >= 3 ? '<line x1="' + f(gx) + '" x2="' + f(gx) + '" y1="' + TOP + '" y2="' + AXIS + '"/>' : '') +
        '<path d="M' + f(gx - 4) + ' ' + (AXIS - 7) + 'h8l-4 7z"/>' + (g[1] >= 3 ? '<text x="' + f(gx) + '" y="' + (AXIS - 10) + '" text-anchor="middle">' + g[1] + '</text>' : '') + '</g>');
    }
    // The noise band: best ± σ along each step of the running best (one path, a box per step).
    if (hasBand(e) && c.best.length) {
      var band = '', sg = e.noise.sigma;
      for (i = 0; i < c.best.length; i++) {
        var bx0 = sx(c.best[i][0]), bx1 = sx(i + 1 < c.best.length ? c.best[i + 1][0] : n - 1);
        if (bx1 - bx0 < 4) bx1 = bx0 + 4; // a best found at the last slot still shows its band
        var by0 = yc(c.best[i][1] + sg), by1 = yc(c.best[i][1] - sg);
        if (by1 - by0 < 0.5) continue; // wholly off the plot
        band += 'M' + f(bx0) + ' ' + f(by0) + 'H' + f(bx1) + 'V' + f(by1) + 'H' + f(bx0) + 'Z';
      }
      if (band) out.push('<path class="band" d="' + band + '"/>');
    }
    // Running best: a step line from each new best to the next, then on to the last slot.
    if (c.best.length) {
      var d = 'M' + f(sx(c.best[0][0])) + ' ' + f(sy(c.best[0][1]));
      for (i = 1; i < c.best.length; i++) d += 'H' + f(sx(c.best[i][0])) + 'V' + f(sy(c.best[i][1]));
      d += 'H' + f(sx(n - 1));
      out.push('<path class="best" d="' + d + '"/>');
    }
    // Error bars under the dots: mean ± spread of a point measured more than once.
    var cap = big ? 3 : 1.5;
    for (i = 0; i < c.ev.length; i++) {
      var q = c.ev[i], k = q[0], m = isNum(q[2]) ? q[2] : c.y[k], sp = q[3];
      if (q[1] < 2 || !isNum(sp) || !isNum(m) || c.y[k] === null || m + sp < ya || m - sp > yb) continue;
      var ex = sx(k), hi = m + sp, lo = m - sp, ey0 = yc(hi), ey1 = yc(lo);
      out.push('<path class="err ' + c.s.charAt(k) + '" data-i="' + k + '" d="M' + f(ex) + ' ' + f(ey0) + 'V' + f(ey1) +
        (hi <= yb ? 'M' + f(ex - cap) + ' ' + f(ey0) + 'h' + 2 * cap : '') + (lo >= ya ? 'M' + f(ex - cap) + ' ' + f(ey1) + 'h' + 2 * cap : '') + '"/>');
    }
    // Dots: discards under crashes under keeps, so the keeps stay visible in a dense chart.
    var r = { d: big ? 3 : 1.7, c: big ? 3.2 : 2, k: big ? 4.5 : 3 };
    var order = 'dck', sus = {}, undone = {};
    for (i = 0; i < c.undone.length; i++) undone[c.undone[i]] = true;
    for (i = 0; i < c.sus.length; i++) sus[c.sus[i]] = true;
    for (var pass = 0; pass < 3; pass++) {
      var s = order.charAt(pass);
      for (i = 0; i < n; i++) {
        if (c.s.charAt(i) !== s) continue;
        var v = c.y[i], cy, cls = 'dot ' + s;
        if (v === null) { cy = STRIP; cls += ' na'; }
        else if (v < ya || v > yb) { cy = sy(v < ya ? ya : yb); cls += ' out'; }
        else cy = sy(v);
        if (undone[i]) cls += ' undone';
        if (sus[i]) {
          cls += ' sus';
          out.push('<circle class="sus-ring" cx="' + f(sx(i)) + '" cy="' + f(cy) + '" r="' + (r[s] + 4) + '"/>' +
            '<text class="sus-mark" x="' + f(sx(i) - r[s] - 6) + '" y="' + f(cy + 4) + '" text-anchor="end">!</text>');
        }
        out.push('<circle class="' + cls + '" cx="' + f(sx(i)) + '" cy="' + f(cy) + '" r="' + r[s] + '" data-i="' + i + '"/>');
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
      var text = c.labels[i][1], lx = sx(li), ly = sy(lv);
      var left = lx + 8 + text.length * CHAR_W * cos > W - 4;
      var label = place(text, lx, ly, left) || place(text, lx, ly, !left);
      if (label) out.push(label);
    }
    out.push(sh.close);
    return out.join('');
  }

  // Several experiments on one metric: each one's running best as a step line in its own
  // colour, its keeps as dots, over its evaluated iterations (slot n = its n-th evaluation).
  // exps: [[index in data.experiments, view], ...].
  function overlayChart(group, exps, opts) {
    var i, j, n = 0, ys = [];
    for (i = 0; i < exps.length; i++) {
      var c = exps[i][1].chart;
      if (c.x.length > n) n = c.x.length;
      for (j = 0; j < c.best.length; j++) ys.push(c.best[j][1]);
    }
    var title = group.metric + ' (' + group.direction + ' is better)';
    var legend = 'running best of each experiment over its evaluated iterations; dots: keeps';
    var sh = shell(' data-overlay="' + esc(group.metric + ':' + group.direction) + '"', title + ': ' + plural(exps.length, 'experiment') + ' overlaid', H, opts,
      title + ' \u00b7 ' + exps.map(function (x) { return x[1].id; }).join(' vs '), legend);
    var dom = yDomain(ys, function () { return true; }, group.direction) || [0, 1], ya = dom[0], yb = dom[1];
    var sc = scales(n, ya, yb), sx = sc.sx, sy = sc.sy;
    var out = [sh.open];
    frame(out, sx, sy, ya, yb, n, function (slot) { return slot + 1; }, title, 'evaluated iteration (n-th)', false);
    var keyX = L;
    for (i = 0; i < exps.length; i++) {
      var e = exps[i][1], cc = e.chart, colour = PALETTE[i % PALETTE.length];
      if (!cc.best.length) continue;
      var d = 'M' + f(sx(cc.best[0][0])) + ' ' + f(sy(cc.best[0][1]));
      for (j = 1; j < cc.best.length; j++) d += 'H' + f(sx(cc.best[j][0])) + 'V' + f(sy(cc.best[j][1]));
      d += 'H' + f(sx(cc.x.length - 1));
      out.push('<path class="series" data-series="' + esc(e.id) + '" stroke="' + colour + '" d="' + d + '"/>');
      for (j = 0; j < cc.x.length; j++) {
        var v = cc.y[j];
        if (cc.s.charAt(j) !== 'k' || v === null || v < ya || v > yb) continue;
        out.push('<circle class="dot k" style="fill:' + colour + '" data-e="' + exps[i][0] + '" data-i="' + j + '" cx="' + f(sx(j)) + '" cy="' + f(sy(v)) + '" r="3.5"/>');
      }
      // The key, in a row above the plot, clear of the lines.
      out.push('<line class="swatch" stroke="' + colour + '" x1="' + keyX + '" x2="' + (keyX + 16) + '" y1="10" y2="10"/>' +
        '<text class="tick" x="' + (keyX + 21) + '" y="14">' + esc(e.id) + '</text>');
      keyX += 21 + e.id.length * CHAR_W * 1.1 + 18;
    }
    out.push(sh.close);
    return out.join('');
  }
`;
