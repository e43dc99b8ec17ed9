// The interactive report: draws a run's data (report/data.rs) with uPlot.
// Every plot of a run shares one time axis (seconds of virtual time): a drag zooms,
// the wheel zooms about the cursor, shift+wheel or the arrow buttons pan, a double
// click or "reset" shows everything; the cursor is synchronised across the plots and
// the readout gives every lane's state at the cursor's instant. Accelerometer signals
// are unpacked once, decimated to min/max per pixel column for wide ranges and drawn
// sample by sample when zoomed in. The timeline table filters by layer and kind, and a
// click on a row centres the plots on its time. `#selftest` in the address makes the
// page check itself and write the result into #selftest-result (the browser test).
(function () {
  'use strict';

  var errors = [];
  var marks = {};
  function mark(name) { marks[name] = Math.round(performance.now()); }
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });
  window.addEventListener('unhandledrejection', function (e) { errors.push(String(e.reason)); });
  var consoleError = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };

  var COLORS = { x: '#d93025', y: '#188038', z: '#1a73e8', m: '#202124' };
  var LANES = [
    { id: 'press', label: 'presses', span: 'press', color: '#9334e6' },
    { id: 'gesture', label: 'gestures', kinds: ['gesture'], color: '#9334e6' },
    { id: 'fall', label: 'falls', kinds: ['fall_detected', 'fall_refractory'], color: '#d93025' },
    { id: 'connection', label: 'link', span: 'connection', color: '#188038',
      kinds: ['link_phone_connects', 'link_attempt_failed', 'link_supervision_lost', 'link_closed_by_phone'] },
    { id: 'outage', label: 'outages', span: 'outage', color: '#5f6368' },
    { id: 'countdown', label: 'countdown', span: 'countdown', color: '#f9ab00',
      kinds: ['countdown_cancelled', 'countdown_over'] },
    { id: 'vibration', label: 'vibrations', kinds: ['vibration', 'cannot_vibrate'], color: '#a142f4' },
    { id: 'sms', label: 'SMS', kinds: ['sms_sent', 'sms_refused', 'sms_delivered', 'sms_not_sent'], color: '#1a73e8' },
    { id: 'call', label: 'calls', span: 'call', kinds: ['call_state', 'call_unanswered'], color: '#188038' },
    { id: 'siren', label: 'siren', span: 'siren', color: '#d93025' },
    { id: 'recording', label: 'recording', span: 'recording', kinds: ['recording_stored'], color: '#e37400' },
    { id: 'warning', label: 'warnings', kinds: ['warning', 'battery_low'], color: '#a142f4' },
    { id: 'rejected', label: 'rejected frames', kinds: ['frame_rejected', 'write_refused'], color: '#5f6368' },
    { id: 'fault', label: 'faults', layer: 'harness', color: '#000000' }
  ];

  // ---- data ----------------------------------------------------------------------

  function b64bytes(s) {
    var bin = atob(s), a = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
    return a;
  }

  function inflate(bytes) {
    var ds = new DecompressionStream('deflate');
    return new Response(new Blob([bytes]).stream().pipeThrough(ds)).arrayBuffer();
  }

  // A packed signal -> {t (s), x, y, z, m (mg)} typed arrays, and coarse levels.
  function unpack(sig) {
    if (!sig) return Promise.resolve(null);
    return inflate(b64bytes(sig.zlib_b64)).then(function (buf) {
      var n = sig.n, d = new Uint8Array(buf), t = new Float64Array(n), k = 0;
      sig.runs.forEach(function (r) {
        for (var j = 0; j < r[2]; j++) t[k++] = (r[0] + j * r[1]) / 1e6;
      });
      var ax = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      for (var a = 0; a < 3; a++) {
        // Delta-coded, low bytes then high bytes of each axis.
        var v = 0, out = ax[a], lo = 2 * a * n, hi = lo + n;
        for (var i = 0; i < n; i++) { v = (v + (d[lo + i] | (d[hi + i] << 8))) << 16 >> 16; out[i] = v; }
      }
      var m = new Float32Array(n), X = ax[0], Y = ax[1], Z = ax[2];
      for (var i2 = 0; i2 < n; i2++) {
        var x = X[i2], y = Y[i2], z = Z[i2];
        m[i2] = Math.round(Math.sqrt(x * x + y * y + z * z));
      }
      var s = { t: t, v: [ax[0], ax[1], ax[2], m], n: n };
      s.levels = [level0(s)];
      while (s.levels[s.levels.length - 1].t.length > 20000) s.levels.push(coarsen(s.levels[s.levels.length - 1], 16));
      return s;
    });
  }

  function level0(s) { return { t: s.t, lo: s.v, hi: s.v }; }

  // Every `f` points -> one (min, max) point, at the first point's time.
  function coarsen(l, f) {
    var N = l.t.length, n = Math.ceil(N / f), t = new Float64Array(n), lo = [], hi = [];
    for (var b = 0; b < n; b++) t[b] = l.t[b * f];
    for (var a = 0; a < l.lo.length; a++) {
      var L = l.lo[a], H = l.hi[a], mn = new Float32Array(n), mx = new Float32Array(n), i = 0;
      for (var k = 0; k < n; k++) {
        var e = Math.min(N, i + f), vmin = L[i], vmax = H[i];
        for (i = i + 1; i < e; i++) {
          var u = L[i], w = H[i];
          if (u < vmin) vmin = u;
          if (w > vmax) vmax = w;
        }
        mn[k] = vmin; mx[k] = vmax;
      }
      lo.push(mn); hi.push(mx);
    }
    return { t: t, lo: lo, hi: hi };
  }

  function lowerBound(t, v) {
    var a = 0, b = t.length;
    while (a < b) { var m = (a + b) >> 1; if (t[m] < v) a = m + 1; else b = m; }
    return a;
  }

  // The points to draw of a signal between lo and hi (s) on `px` columns: every sample
  // when there are few enough, else min and max per column from the finest level.
  function view(s, lo, hi, px) {
    var want = Math.max(100, px * 2), li = 0;
    for (var k = s.levels.length - 1; k >= 0; k--) {
      var L = s.levels[k], c = lowerBound(L.t, hi) - lowerBound(L.t, lo);
      if (c >= want || k === 0) { li = k; break; }
    }
    var lv = s.levels[li];
    var i0 = Math.max(0, lowerBound(lv.t, lo) - 1), i1 = Math.min(lv.t.length, lowerBound(lv.t, hi) + 1);
    var n = i1 - i0, series = lv.lo.length;
    if (li === 0 && n <= want) {
      var out = [Array.prototype.slice.call(lv.t, i0, i1)];
      for (var a = 0; a < series; a++) out.push(Array.prototype.slice.call(lv.lo[a], i0, i1));
      return { data: out, per: 1 };
    }
    var buckets = Math.max(1, Math.floor(want / 2)), f = Math.ceil(n / buckets);
    var xs = [], ys = [];
    for (var a1 = 0; a1 < series; a1++) ys.push([]);
    for (var b = i0; b < i1; b += f) {
      var e = Math.min(i1, b + f);
      xs.push(lv.t[b], lv.t[Math.min(e - 1, b + Math.max(1, (f >> 1)))]);
      for (var a2 = 0; a2 < series; a2++) {
        var mn = Infinity, mx = -Infinity, LO = lv.lo[a2], HI = lv.hi[a2];
        for (var i = b; i < e; i++) { if (LO[i] < mn) mn = LO[i]; if (HI[i] > mx) mx = HI[i]; }
        ys[a2].push(mn, mx);
      }
    }
    var per = Math.round(f * Math.pow(16, li));
    return { data: [xs].concat(ys), per: per };
  }

  // ---- formatting ------------------------------------------------------------------

  function fmtT(s) { return s == null ? '' : s.toFixed(3) + ' s'; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fieldsHtml(kind, fields, text) {
    var rows = '<tr><th>kind</th><td>' + esc(kind) + '</td></tr>';
    Object.keys(fields || {}).forEach(function (k) {
      rows += '<tr><th>' + esc(k) + '</th><td>' + esc(JSON.stringify(fields[k])) + '</td></tr>';
    });
    if (text) rows += '<tr><th>text</th><td>' + esc(text) + '</td></tr>';
    return '<table>' + rows + '</table>';
  }

  // ---- one run's plots -------------------------------------------------------------

  function Run(root, data) {
    this.root = root;
    this.data = data;
    this.charts = [];
    this.syncing = false;
    this.end = Math.max(data.end_us / 1e6, 1e-3);
    this.syncKey = 'sync-' + Math.random().toString(36).slice(2);
    this.tip = root.querySelector('.tooltip');
    this.readout = root.querySelector('.readout');
  }

  Run.prototype.width = function () {
    return Math.max(400, (this.root.querySelector('.plots') || this.root).clientWidth - 10);
  };

  Run.prototype.opts = function (title, series, height, extra) {
    var self = this;
    var o = {
      title: title,
      width: this.width(),
      height: height,
      scales: { x: { time: false, min: 0, max: this.end } },
      axes: [{ label: 'virtual time (s)' }, {}],
      series: [{ label: 't (s)', value: function (u, v) { return v == null ? '' : v.toFixed(3); } }].concat(series),
      cursor: { sync: { key: this.syncKey, setSeries: false }, drag: { x: true, y: false } },
      hooks: {
        setScale: [function (u, key) { if (key === 'x') self.onScale(u); }],
        setCursor: [function (u) { self.onCursor(u); }],
        ready: [function (u) {
          u.over.addEventListener('wheel', function (e) { self.wheel(u, e); }, { passive: false });
          u.over.addEventListener('dblclick', function () { self.zoom(0, self.end); });
        }]
      }
    };
    Object.keys(extra || {}).forEach(function (k) { o[k] = extra[k]; });
    return o;
  };

  Run.prototype.add = function (figure, opts, data, refresh) {
    var u = new uPlot(opts, data, figure);
    u.refresh = refresh || null;
    figure.setAttribute('data-plot', opts.title);
    this.charts.push(u);
    return u;
  };

  // One chart's x range changed (a drag, the wheel, a button): every other chart takes
  // it and the signals are re-sampled once. uPlot commits scales asynchronously, so the
  // other charts' own setScale hooks arrive later with the same range: ignored.
  Run.prototype.onScale = function (u) {
    var lo = u.scales.x.min, hi = u.scales.x.max;
    if (this.syncing || (this.shown && this.shown[0] === lo && this.shown[1] === hi)) return;
    this.shown = [lo, hi];
    this.syncing = true;
    this.charts.forEach(function (c) {
      if (c !== u) c.setScale('x', { min: lo, max: hi });
    });
    this.charts.forEach(function (c) { if (c.refresh) c.refresh(lo, hi); });
    this.syncing = false;
  };

  Run.prototype.zoom = function (lo, hi) {
    var c = this.charts[0];
    if (!c) return;
    var span = hi - lo;
    if (span < 1e-4) { lo -= 5e-5; hi += 5e-5; }
    c.setScale('x', { min: lo, max: hi });
  };

  Run.prototype.range = function () {
    var c = this.charts[0];
    return c ? [c.scales.x.min, c.scales.x.max] : [0, this.end];
  };

  Run.prototype.wheel = function (u, e) {
    e.preventDefault();
    var r = this.range(), lo = r[0], hi = r[1], w = hi - lo;
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      var d = (e.shiftKey ? e.deltaY : e.deltaX) > 0 ? w * 0.15 : -w * 0.15;
      this.zoom(lo + d, hi + d);
      return;
    }
    var at = u.posToVal(e.offsetX != null ? e.clientX - u.over.getBoundingClientRect().left : 0, 'x');
    var f = e.deltaY > 0 ? 1.25 : 0.8;
    this.zoom(at - (at - lo) * f, at + (hi - at) * f);
  };

  Run.prototype.pan = function (dir) {
    var r = this.range(), d = (r[1] - r[0]) * 0.5 * dir;
    this.zoom(r[0] + d, r[1] + d);
  };

  // Markers on the acceleration and detector plots: falls, candidates' impacts, gestures.
  Run.prototype.markers = function () {
    var m = [];
    this.data.entries.forEach(function (e) {
      if (e[2] === 'fall_detected') m.push({ t: e[0] / 1e6, color: '#d93025', label: 'fall detected', dash: [], strong: true });
      if (e[2] === 'gesture') m.push({ t: e[0] / 1e6, color: '#9334e6', label: e[3].gesture, dash: [4, 3], strong: true });
    });
    var det = this.data.detector;
    if (det) det.explanation.candidates.forEach(function (c) {
      m.push({ t: c.peak_ms / 1e3, color: '#f9ab00', label: 'impact (' + c.stage + ')', dash: [2, 2], strong: c.fall });
    });
    return m;
  };

  // Markers and bands in view; when crowded (a long capture zoomed out) only the strong
  // ones (detections, accepted candidates, gestures) are drawn, and labels only when few.
  var CROWDED = 150, LABELLED = 30;
  function inView(u, list, key) {
    var lo = u.scales.x.min, hi = u.scales.x.max;
    var v = list.filter(function (x) { var a = x[key], b = x.t1 == null ? a : x.t1; return b >= lo && a <= hi; });
    return v.length > CROWDED ? v.filter(function (x) { return x.strong; }) : v;
  }

  function markerPlugin(marks, bands) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
          var mk = inView(u, marks, 't'), labels = mk.length <= LABELLED;
          ctx.save();
          inView(u, bands || [], 't0').forEach(function (b) {
            var x0 = u.valToPos(b.t0, 'x', true), x1 = u.valToPos(b.t1, 'x', true);
            ctx.fillStyle = b.color;
            ctx.fillRect(x0, top, Math.max(1, x1 - x0), h);
          });
          mk.forEach(function (m) {
            var x = u.valToPos(m.t, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = m.color; ctx.setLineDash(m.dash); ctx.lineWidth = 1.5;
            ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
            ctx.setLineDash([]);
            if (labels) { ctx.fillStyle = m.color; ctx.font = '11px sans-serif'; ctx.fillText(m.label, x + 3, top + 12); }
          });
          ctx.restore();
        }]
      }
    };
  }

  function thresholdPlugin(ths) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ths.forEach(function (t) {
            var y = u.valToPos(t.value, 'y', true);
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
            ctx.strokeStyle = '#d93025'; ctx.setLineDash([3, 3]); ctx.lineWidth = 1;
            ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
            ctx.fillStyle = '#d93025'; ctx.font = '10px sans-serif'; ctx.textAlign = 'right';
            ctx.fillText(t.name + ' ' + t.value, u.bbox.left + u.bbox.width - 4, y - 3);
          });
          ctx.restore();
        }]
      }
    };
  }

  Run.prototype.accelPlot = function (fig, sig, title) {
    var self = this, note = fig.querySelector('.note') || document.createElement('p');
    note.className = 'note';
    var series = [
      { label: 'x', stroke: COLORS.x, width: 1, show: false },
      { label: 'y', stroke: COLORS.y, width: 1, show: false },
      { label: 'z', stroke: COLORS.z, width: 1, show: false },
      { label: '|a|', stroke: COLORS.m, width: 1 }
    ].map(function (s) { s.value = function (u, v) { return v == null ? '' : Math.round(v) + ' mg'; }; return s; });
    var px = this.width();
    var v = view(sig, 0, this.end, px);
    var u = this.add(fig, this.opts(title, series, 220, { plugins: [markerPlugin(this.markers())] }), v.data,
      function (lo, hi) {
        var w = view(sig, lo, hi, px);
        u.setData(w.data, false);
        note.textContent = describe(w.per, sig);
      });
    note.textContent = describe(v.per, sig);
    fig.appendChild(note);
    return u;
  };

  function describe(per, sig) {
    return sig.n + ' samples; ' + (per <= 1 ? 'every sample drawn' : 'min and max of ' + per + ' samples per point (zoom in for every sample)') +
      '. Click a legend entry to show or hide x, y, z, |a|.';
  }

  Run.prototype.detectorPlot = function (fig, spec, sig) {
    var sources = sig.signals, self = this;
    var xsrc = spec.series[spec.series.length - 1].source;
    // Each source has its own times; plot them on one x by merging (sorted union).
    var srcs = [];
    spec.series.forEach(function (s) { if (srcs.indexOf(s.source) < 0) srcs.push(s.source); });
    var ts = [];
    srcs.forEach(function (src) { sources[src].forEach(function (p) { ts.push(p.t_ms); }); });
    ts = Array.from(new Set(ts)).sort(function (a, b) { return a - b; });
    var idx = new Map(ts.map(function (t, i) { return [t, i]; }));
    var data = [ts.map(function (t) { return t / 1e3; })];
    var series = spec.series.map(function (s, k) {
      var col = new Array(ts.length).fill(null);
      sources[s.source].forEach(function (p) { col[idx.get(p.t_ms)] = p[s.field]; });
      data.push(col);
      var palette = ['#9aa0a6', '#1a73e8', '#7baaf7', '#e37400', '#188038'];
      return { label: s.label, stroke: palette[k % palette.length], width: 1, spanGaps: true,
        value: function (u, v) { return v == null ? '' : v + ' ' + spec.unit; } };
    });
    var candBands = this.data.detector.explanation.candidates.map(function (c) {
      return { t0: c.opened_ms / 1e3, t1: c.judged_ms / 1e3, strong: c.fall,
        color: c.fall ? 'rgba(217,48,37,0.10)' : 'rgba(249,171,0,0.15)' };
    });
    var o = this.opts(spec.title, series, 170, {
      plugins: [markerPlugin(this.markers(), candBands), thresholdPlugin(spec.thresholds)]
    });
    fig.setAttribute('data-source', xsrc);
    return this.add(fig, o, data);
  };

  Run.prototype.stepPlot = function (fig, title, pts, label, unit, range) {
    var xs = [0], ys = [pts.length ? null : null];
    xs = []; ys = [];
    pts.forEach(function (p) { xs.push(p[0] / 1e6); ys.push(typeof p[1] === 'boolean' ? (p[1] ? 1 : 0) : p[1]); });
    if (xs.length) { xs.push(this.end); ys.push(ys[ys.length - 1]); }
    var o = this.opts(title, [{ label: label, stroke: '#e37400', width: 2, paths: uPlot.paths.stepped({ align: 1 }),
      value: function (u, v) { return v == null ? '' : v + unit; } }], 120, {});
    o.scales.y = { range: range };
    return this.add(fig, o, [xs, ys]);
  };

  // The lanes: spans as bars, instants as ticks; hover shows an item's typed fields.
  Run.prototype.lanes = function (fig) {
    var self = this, data = this.data, items = [];
    var lanes = LANES.filter(function (l) {
      return (l.span && data.spans.some(function (s) { return s.kind === l.span; })) ||
        data.entries.some(function (e) { return self.laneOf(e) === l; });
    });
    if (!lanes.length) lanes = LANES.slice(0, 1);
    data.spans.forEach(function (s) {
      var li = lanes.findIndex(function (l) { return l.span === s.kind; });
      if (li >= 0) items.push({ lane: li, t0: s.start_us / 1e6, t1: s.end_us / 1e6, kind: s.kind, name: s.name, fields: s.args, open: s.open });
    });
    data.entries.forEach(function (e) {
      var l = self.laneOf(e), li = lanes.indexOf(l);
      if (li >= 0) items.push({ lane: li, t0: e[0] / 1e6, t1: null, kind: e[2], name: e[2], fields: e[3], text: e[4] });
    });
    this.items = items; this.laneList = lanes;
    var h = lanes.length * 24 + 70;
    var o = this.opts('events (hover for details)', [{ label: 'lanes', show: false }], h, {
      legend: { show: false },
      plugins: [{ hooks: { draw: [function (u) { self.drawLanes(u, lanes, items); }] } }]
    });
    o.scales.y = { range: [0, lanes.length] };
    o.axes[1] = {
      size: 110, splits: function () { return lanes.map(function (_, i) { return i + 0.5; }); },
      values: function () { return lanes.map(function (l) { return l.label; }); }, grid: { show: false }
    };
    var u = this.add(fig, o, [[0, this.end], [null, null]]);
    u.over.addEventListener('mousemove', function (e) { self.hover(u, e); });
    u.over.addEventListener('mouseleave', function () { self.tip.style.display = 'none'; });
    return u;
  };

  Run.prototype.laneOf = function (e) {
    for (var i = 0; i < LANES.length; i++) {
      var l = LANES[i];
      if (l.kinds && l.kinds.indexOf(e[2]) >= 0) return l;
      if (l.layer && e[1] === l.layer && e[2] !== 'seed' && e[2] !== 'outage') return l;
    }
    return null;
  };

  Run.prototype.drawLanes = function (u, lanes, items) {
    var ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = '#e3e6ec';
    lanes.forEach(function (l, i) {
      var y = u.valToPos(i, 'y', true);
      ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
    });
    items.forEach(function (it) {
      var l = lanes[it.lane], yc = u.valToPos(it.lane + 0.5, 'y', true), x0 = u.valToPos(it.t0, 'x', true);
      ctx.fillStyle = l.color; ctx.strokeStyle = l.color;
      if (it.t1 != null) {
        var x1 = u.valToPos(it.t1, 'x', true);
        ctx.globalAlpha = 0.45; ctx.fillRect(x0, yc - 6, Math.max(2, x1 - x0), 12); ctx.globalAlpha = 1;
      } else {
        ctx.fillRect(x0 - 1, yc - 7, 3, 14);
      }
    });
    ctx.restore();
  };

  Run.prototype.hover = function (u, e) {
    var rect = u.over.getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top;
    var lane = Math.floor(u.posToVal(y, 'y')), t = u.posToVal(x, 'x'), tol = (u.scales.x.max - u.scales.x.min) / u.bbox.width * 4 * devicePixelRatio;
    var best = null, bd = Infinity;
    this.items.forEach(function (it) {
      if (it.lane !== lane) return;
      var d = it.t1 != null ? (t >= it.t0 && t <= it.t1 ? 0 : Math.min(Math.abs(t - it.t0), Math.abs(t - it.t1))) : Math.abs(t - it.t0);
      if (d <= tol && d < bd) { bd = d; best = it; }
    });
    if (!best) { this.tip.style.display = 'none'; return; }
    var head = esc(best.name) + ' at ' + fmtT(best.t0) + (best.t1 != null ? ' to ' + fmtT(best.t1) + (best.open ? ' (still going at the end)' : '') : '');
    this.tip.innerHTML = '<b>' + head + '</b>' + fieldsHtml(best.kind, best.fields, best.text);
    this.tip.style.display = 'block';
    this.tip.style.left = (e.pageX + 12) + 'px';
    this.tip.style.top = (e.pageY + 12) + 'px';
  };

  // What every lane is at time t (s).
  Run.prototype.stateAt = function (t) {
    var d = this.data, us = t * 1e6, out = [];
    var last = function (pts) { var v = null; for (var i = 0; i < pts.length && pts[i][0] <= us; i++) v = pts[i][1]; return v; };
    var link = last(d.link), bat = last(d.battery);
    out.push('link ' + (link == null ? '?' : link ? 'up' : 'down'));
    out.push('battery ' + (bat == null ? '?' : bat + ' %'));
    var active = {};
    d.spans.forEach(function (s) { if (s.start_us <= us && us <= s.end_us) active[s.kind] = s.name; });
    ['press', 'outage', 'countdown', 'call', 'recording', 'siren'].forEach(function (k) {
      if (active[k]) out.push(active[k]);
    });
    this.charts.forEach(function (c) {
      if (c.cursor.idx == null || !c.series[4] || c.series[4].label !== '|a|') return;
      var v = c.data[4][c.cursor.idx];
      if (v != null) out.push(c.root.getAttribute('data-short') + ' |a| ' + Math.round(v) + ' mg');
    });
    var prev = null;
    for (var i = 0; i < d.entries.length && d.entries[i][0] <= us; i++) prev = d.entries[i];
    if (prev) out.push('last: ' + prev[4] + ' (' + fmtT(prev[0] / 1e6) + ')');
    return out;
  };

  Run.prototype.onCursor = function (u) {
    if (!this.readout || u.cursor.left == null || u.cursor.left < 0) return;
    var t = u.posToVal(u.cursor.left, 'x');
    this.readout.textContent = 'at ' + fmtT(t) + ': ' + this.stateAt(t).join(' · ');
  };

  Run.prototype.build = function () {
    var self = this, d = this.data, plots = this.root.querySelector('.plots');
    var fig = function (cls, short) {
      var f = document.createElement('figure');
      f.className = cls;
      if (short) f.setAttribute('data-short', short);
      plots.appendChild(f);
      return f;
    };
    this.shown = [0, this.end];
    this.lanes(fig('fig-lanes'));
    mark('lanes');
    return Promise.all([unpack(d.accel.raw), unpack(d.accel.front_end)]).then(function (sigs) {
      mark('unpacked');
      if (sigs[0]) self.accelPlot(fig('fig-accel-raw', 'raw'), sigs[0], 'raw acceleration (the trace, mg)').root.setAttribute('data-short', 'raw');
      if (sigs[1]) self.accelPlot(fig('fig-accel-fe', 'front end'), sigs[1], 'acceleration after the front end (the sensor\'s output, mg)').root.setAttribute('data-short', 'front end');
      if (d.detector) d.detector.plots.forEach(function (p) { self.detectorPlot(fig('fig-detector ' + p.id), p, d.detector.explanation); });
      if (d.link.length) self.stepPlot(fig('fig-link'), 'link state (1 = connected)', d.link, 'link', '', [-0.1, 1.1]);
      if (d.battery.length) self.stepPlot(fig('fig-battery'), 'battery level (%)', d.battery, 'battery', ' %', [0, 100]);
      self.bindTable();
      mark('built');
      return self;
    });
  };

  // ---- the timeline table ------------------------------------------------------------

  Run.prototype.bindTable = function () {
    var self = this, table = this.root.querySelector('table.timeline');
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var boxes = Array.prototype.slice.call(this.root.querySelectorAll('.filters input[type=checkbox]'));
    var search = this.root.querySelector('.filters input[type=search]');
    var apply = function () {
      var on = {};
      boxes.forEach(function (b) { on[b.value] = b.checked; });
      var q = search && search.value.toLowerCase();
      rows.forEach(function (r) {
        var show = on[r.getAttribute('data-layer')] !== false && (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
        r.style.display = show ? '' : 'none';
      });
    };
    boxes.forEach(function (b) { b.addEventListener('change', apply); });
    if (search) search.addEventListener('input', apply);
    rows.forEach(function (r) {
      r.addEventListener('click', function () {
        var t = Number(r.getAttribute('data-t-us')) / 1e6, w = self.range(), half = Math.min((w[1] - w[0]) / 2, 5);
        self.zoom(t - half, t + half);
        rows.forEach(function (x) { x.classList.remove('selected'); });
        r.classList.add('selected');
        self.root.querySelector('.plots').scrollIntoView({ behavior: 'auto', block: 'start' });
      });
    });
  };

  // ---- self test ---------------------------------------------------------------------

  function drawn(u) {
    var c = u.ctx.canvas, ctx = u.ctx, img = ctx.getImageData(0, 0, c.width, c.height).data, n = 0;
    for (var i = 3; i < img.length; i += 4 * 7) if (img[i] !== 0) n++;
    return n;
  }

  function selftest(runs) {
    var res = { errors: errors.slice(), plots: 0, blank: [], empty: [], zoom: null, ok: false,
      ready_ms: Math.round(performance.now()), marks: marks };
    runs.forEach(function (r) {
      r.charts.forEach(function (u) {
        res.plots++;
        var name = u.root.parentNode.className;
        if (drawn(u) < 50) res.blank.push(name);
        var pts = name === 'fig-lanes' ? r.items.length : u.data.slice(1).reduce(function (n, col) {
          return n + Array.prototype.filter.call(col, function (v) { return v != null; }).length;
        }, 0);
        if (pts === 0) res.empty.push(name);
      });
    });
    var r0 = runs[0];
    if (!r0 || !r0.charts.length) return finish(res);
    var before = r0.charts.map(function (u) { return [u.scales.x.min, u.scales.x.max]; });
    var lo = before[0][0], hi = before[0][1];
    var t0 = performance.now();
    r0.zoom(lo + (hi - lo) * 0.25, lo + (hi - lo) * 0.5);
    // uPlot commits scale changes in a microtask: read them a frame later.
    requestAnimationFrame(function () {
      res.zoom_ms = Math.round(performance.now() - t0);
      var after = r0.charts.map(function (u) { return [u.scales.x.min, u.scales.x.max]; });
      res.zoom = { before: before[0], after: after[0],
        all_changed: after.every(function (a, i) { return a[0] !== before[i][0] && a[1] !== before[i][1]; }),
        all_same: after.every(function (a) { return Math.abs(a[0] - after[0][0]) < 1e-9 && Math.abs(a[1] - after[0][1]) < 1e-9; }) };
      r0.zoom(lo, hi);
      finish(res);
    });
  }

  function finish(res) {
    res.errors = errors.slice();
    res.ok = res.errors.length === 0 && res.plots > 0 && res.blank.length === 0 && res.empty.length === 0 && !!res.zoom && res.zoom.all_changed && res.zoom.all_same;
    var pre = document.getElementById('selftest-result') || document.body.appendChild(document.createElement('pre'));
    pre.id = 'selftest-result';
    pre.textContent = JSON.stringify(res);
    document.title = (res.ok ? 'SELFTEST PASS ' : 'SELFTEST FAIL ') + document.title;
  }

  // ---- pages -------------------------------------------------------------------------

  function start() {
    var runs = [], pending = [];
    var replay = document.getElementById('report-data');
    mark('start');
    if (replay) {
      var parsed = JSON.parse(replay.textContent);
      mark('parsed');
      var r = new Run(document.querySelector('.run'), parsed);
      runs.push(r);
      pending.push(r.build());
    }
    var sections = Array.prototype.slice.call(document.querySelectorAll('details.scenario-run'));
    var open = function (d) {
      if (d.run) return d.run.ready;
      var run = new Run(d, JSON.parse(d.querySelector('script.run-data').textContent));
      d.run = run;
      run.ready = run.build();
      return run.ready;
    };
    sections.forEach(function (d) {
      d.addEventListener('toggle', function () { if (d.open) open(d); });
      if (d.open) pending.push(open(d).then(function (r) { return r; }));
    });
    var failedOnly = document.getElementById('failed-only');
    if (failedOnly) failedOnly.addEventListener('change', function () {
      document.body.classList.toggle('failed-only', failedOnly.checked);
    });
    if (location.hash.indexOf('selftest') >= 0) {
      if (!replay && sections.length) {
        var first = sections.find(function (d) { return d.closest('.scenario.failed'); }) || sections[0];
        first.open = true;
        // The screenshot shows the header and this scenario only.
        document.body.classList.add('focus');
        var sec = first.closest('section.scenario');
        if (sec) sec.classList.add('focused');
        pending.push(open(first));
      }
      Promise.all(pending).then(function (rs) {
        var all = rs.filter(Boolean);
        requestAnimationFrame(function () { requestAnimationFrame(function () { selftest(all); }); });
      }, function (e) { errors.push(String(e)); selftest([]); });
    }
    var nav = document.querySelectorAll('.zoom-controls button');
    Array.prototype.forEach.call(nav, function (b) {
      b.addEventListener('click', function () {
        var det = b.closest('details.scenario-run'), r = det ? det.run : runs[0];
        if (!r) return;
        var a = b.getAttribute('data-act');
        if (a === 'reset') r.zoom(0, r.end);
        else if (a === 'in') { var g = r.range(), c = (g[0] + g[1]) / 2, w = (g[1] - g[0]) / 4; r.zoom(c - w, c + w); }
        else if (a === 'out') { var g2 = r.range(), c2 = (g2[0] + g2[1]) / 2, w2 = g2[1] - g2[0]; r.zoom(c2 - w2, c2 + w2); }
        else r.pan(a === 'left' ? -1 : 1);
      });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
