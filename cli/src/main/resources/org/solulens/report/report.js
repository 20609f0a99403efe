/*
 * SoluLens report: draws each <figure class="chart"> from the JSON beside it with Apache ECharts.
 * No inline script or handler anywhere (the page's Content-Security-Policy allows only this file and echarts.min.js);
 * every text that came from a model or corpus is set with textContent, never as markup.
 */
(function () {
  'use strict';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined) { return 'n/a'; }
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) { return v.toExponential(3); }
    return String(Number(v.toPrecision(4)));
  }

  /* Symmetric log: sign(v) log10(1 + |v|/c), linear near 0 (|v| << c) and logarithmic in the tails. */
  function symlogConstant(arrays) {
    var abs = [];
    arrays.forEach(function (a) { a.forEach(function (v) { if (v !== null && v !== 0) { abs.push(Math.abs(v)); } }); });
    if (abs.length === 0) { return 1; }
    abs.sort(function (p, q) { return p - q; });
    return Math.max(abs[Math.floor(abs.length * 0.1)], 1e-12);
  }
  function symlog(c) { return function (v) { return v === null ? null : Math.sign(v) * Math.log10(1 + Math.abs(v) / c); }; }
  function symexp(c) { return function (t) { return Math.sign(t) * c * (Math.pow(10, Math.abs(t)) - 1); }; }
  function identity(v) { return v; }

  /* The y values drawn for a series: its own, or its alternative ones when the reader asked for them. */
  function ys(s, state) { return state.alternative && s.alt ? s.alt : s.y; }

  function axisValues(spec, axis, state) {
    var out = [];
    spec.series.forEach(function (s) {
      out.push(axis === 'y' ? ys(s, state) : s.x);
      if (axis === 'y' && s.lo && !state.alternative) { out.push(s.lo, s.hi); }
    });
    return out;
  }

  /* The chart's option for the current toggles; meta maps each drawn series back to the spec's series. */
  function option(spec, state, meta) {
    var categorical = spec.kind === 'CATEGORY_BARS', histogram = spec.kind === 'BARS';
    var fx = identity, fy = identity, labelX = null, labelY = null;
    if (state.symlogX) {
      var cx = symlogConstant(axisValues(spec, 'x', state));
      fx = symlog(cx);
      labelX = function (t) { return fmt(symexp(cx)(t)); };
    }
    if (state.symlogY) {
      var cy = symlogConstant(axisValues(spec, 'y', state));
      fy = symlog(cy);
      labelY = function (t) { return fmt(symexp(cy)(t)); };
    }
    var series = [], n = spec.series.length;
    meta.length = 0;
    spec.series.forEach(function (s, k) {
      var one = { name: s.name, animation: false, emphasis: { focus: 'none' } };
      if (categorical) {
        var data = spec.categories.map(function () { return null; }), index = spec.categories.map(function () { return -1; });
        s.x.forEach(function (x, i) { data[x] = fy(ys(s, state)[i]); index[x] = i; });
        one.type = 'bar'; one.data = data; one.barGap = '0%'; one.barCategoryGap = '30%';
        meta.push({ s: k, index: index });
      } else if (histogram) {
        one.type = 'bar'; one.data = ys(s, state).map(fy); one.barCategoryGap = '5%';
        meta.push({ s: k, index: null });
      } else {
        var y = ys(s, state), line = spec.kind === 'LINES' && s.connected;
        one.type = line ? 'line' : 'scatter';
        one.data = s.x.map(function (x, i) { return [fx(x), fy(y[i])]; });
        one.symbolSize = line ? 6 : (s.x.length > 5000 ? 4 : 6);
        meta.push({ s: k, index: null });
      }
      var ref = !spec.reference ? null : state.alternative ? spec.alternativeReference : spec.reference.y;
      if (k === 0 && ref !== null) {
        var ry = fy(ref);
        one.markLine = { silent: true, symbol: 'none', animation: false, lineStyle: { type: 'dashed', color: '#888' },
          label: { formatter: spec.reference.name, position: 'insideEndTop' }, data: [{ yAxis: ry }] };
      }
      series.push(one);
    });
    spec.series.forEach(function (s, k) {
      if (!s.lo || state.alternative) { return; }
      var data = [];
      s.x.forEach(function (x, i) {
        if (s.lo[i] !== null && s.hi[i] !== null) {
          var a = fy(s.lo[i]), b = fy(s.hi[i]);
          data.push([categorical ? x : fx(x), Math.min(a, b), Math.max(a, b), i]);
        }
      });
      series.push({ type: 'custom', name: s.name, data: data, z: 10, animation: false, encode: { x: 0, y: [1, 2] },
        renderItem: function (params, api) {
          var x = api.value(0), lo = api.coord([x, api.value(1)]), hi = api.coord([x, api.value(2)]), dx = 0;
          if (categorical) {
            var band = api.size([1, 0])[0], width = band * 0.7 / n;
            dx = -band * 0.35 + width * (k + 0.5);
          }
          var style = { stroke: '#222', lineWidth: 1.3 }, cap = 5, px = lo[0] + dx;
          return { type: 'group', children: [
            { type: 'line', shape: { x1: px, y1: lo[1], x2: px, y2: hi[1] }, style: style },
            { type: 'line', shape: { x1: px - cap, y1: lo[1], x2: px + cap, y2: lo[1] }, style: style },
            { type: 'line', shape: { x1: px - cap, y1: hi[1], x2: px + cap, y2: hi[1] }, style: style }] };
        } });
      meta.push({ s: k, errors: data.map(function (d) { return d[3]; }) });
    });
    var xAxis = categorical ? { type: 'category', data: spec.categories }
      : histogram ? { type: 'category', data: spec.series[0].x.map(fmt) }
        : { type: 'value', scale: true, axisLabel: labelX ? { formatter: labelX } : {} };
    xAxis.name = spec.xLabel + (state.symlogX ? ' (symmetric log)' : '');
    xAxis.nameLocation = 'middle';
    xAxis.nameGap = 30;
    var yName = (state.alternative ? spec.alternativeY : spec.yLabel) + (state.symlogY ? ' (symmetric log)' : '');
    return {
      animation: false,
      title: { text: spec.title, textStyle: { fontSize: 14 }, left: 'center' },
      legend: { type: 'scroll', top: 26, show: spec.series.length > 1 },
      grid: { left: 80, right: 40, top: 70, bottom: 60, containLabel: true },
      toolbox: { feature: { dataZoom: {}, restore: {} } },
      tooltip: { trigger: 'item', confine: true, enterable: false, formatter: function (p) { return tip(spec, meta, p); } },
      xAxis: xAxis,
      yAxis: { type: 'value', scale: !(categorical || histogram), name: yName, nameLocation: 'middle', nameGap: 55,
        axisLabel: labelY ? { formatter: labelY } : {} },
      series: series
    };
  }

  /* The hover box: the series, the point's plotted values, its interval and everything the figure says it is. */
  function tip(spec, meta, p) {
    var m = meta[p.seriesIndex];
    if (!m) { return ''; }
    var s = spec.series[m.s];
    var i = m.errors ? m.errors[p.dataIndex] : (m.index ? m.index[p.dataIndex] : p.dataIndex);
    if (i === undefined || i < 0) { return ''; }
    var box = el('div', 'tip'), table = el('table');
    box.appendChild(el('div', 'name', s.name));
    function row(k, v) {
      var tr = el('tr');
      tr.appendChild(el('td', 'k', k));
      tr.appendChild(el('td', 'v', v));
      table.appendChild(tr);
    }
    var x = spec.kind === 'CATEGORY_BARS' ? spec.categories[s.x[i]] : fmt(s.x[i]);
    row(spec.kind === 'BARS' ? spec.xLabel + ' (bin centre)' : spec.xLabel, x);
    row(spec.yLabel, fmt(s.y[i]));
    if (s.alt) { row(spec.alternativeY, fmt(s.alt[i])); }
    if (s.lo) { row('interval', '[' + fmt(s.lo[i]) + ', ' + fmt(s.hi[i]) + ']'); }
    s.columns.forEach(function (c, j) { row(c, s.values[j][i]); });
    box.appendChild(table);
    if (s.links && s.links[i]) { box.appendChild(el('div', 'hint', 'click to open ' + s.links[i])); }
    return box;
  }

  function draw(figure) {
    var spec = JSON.parse(document.getElementById(figure.getAttribute('data-spec')).textContent);
    var plot = figure.querySelector('.plot');
    figure.querySelector('.notes').textContent = spec.notes.join(' ');
    var state = { symlogX: false, symlogY: false, alternative: false }, meta = [];
    var chart = echarts.init(plot, null, { renderer: 'canvas' });
    function render() { chart.setOption(option(spec, state, meta), true); }
    var controls = el('div', 'controls');
    function toggle(text, key) {
      var label = el('label'), box = el('input');
      box.type = 'checkbox';
      box.setAttribute('data-toggle', key);
      box.addEventListener('change', function () { state[key] = box.checked; render(); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(' ' + text));
      controls.appendChild(label);
    }
    if (spec.symlogX) { toggle('symmetric-log x axis', 'symlogX'); }
    if (spec.symlogY) { toggle('symmetric-log y axis', 'symlogY'); }
    if (spec.alternativeY) { toggle('show ' + spec.alternativeY, 'alternative'); }
    if (controls.childNodes.length > 0) { figure.insertBefore(controls, plot); }
    render();
    chart.on('click', function (p) {
      var m = meta[p.seriesIndex];
      if (!m) { return; }
      var s = spec.series[m.s], i = m.errors ? m.errors[p.dataIndex] : (m.index ? m.index[p.dataIndex] : p.dataIndex);
      if (s.links && s.links[i]) { window.location.href = s.links[i]; }
    });
    window.addEventListener('resize', function () { chart.resize(); });
  }

  var figures = document.querySelectorAll('figure.chart');
  for (var i = 0; i < figures.length; i++) {
    try {
      draw(figures[i]);
      figures[i].setAttribute('data-drawn', 'true');
    } catch (e) {
      var caption = figures[i].querySelector('figcaption');
      caption.insertBefore(el('span', 'error', 'This chart could not be drawn: ' + e + ' '), caption.firstChild);
      throw e;
    }
  }
}());
