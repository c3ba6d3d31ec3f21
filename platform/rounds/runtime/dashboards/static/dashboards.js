// The dashboards' browser side: sortable tables (every page), ECharts charts and the
// Leaflet map (drawn from the page's own figures in #dashboards-config: no extra request).
// Each chart has its table on the page; the page reads whole without this script.
// ECharts and Leaflet come from the npm lock file, served under /static/vendor: offline.

const config = JSON.parse(document.getElementById("dashboards-config")?.textContent || "{}");
const text = config.text || {};
const say = (key, fields = {}) =>
  (text[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(fields[name] ?? ""));
const locale = config.lang === "en" ? "en-GB" : "zh-CN";
const number = (v, digits = 1) => (v == null ? "—" : Number(v).toLocaleString(locale, {
  maximumFractionDigits: digits }));
const percent = (ratio) => (ratio == null ? "—" : say("percent", { n: number(ratio * 100) }));

// -- sortable tables --------------------------------------------------------------------------

function cellValue(row, index, numeric) {
  const cell = row.children[index];
  const raw = cell ? cell.getAttribute("data-value") : "";
  if (!numeric) return raw || "";
  return raw === "" || raw == null ? null : Number(raw);
}

function sortTable(table, index, numeric) {
  const headers = table.querySelectorAll("thead th");
  const th = headers[index];
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  headers.forEach((h) => h.setAttribute("aria-sort", "none"));
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows).filter((r) => !r.querySelector("td.empty"));
  const collator = new Intl.Collator(locale, { numeric: true });
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric);
    const y = cellValue(b, index, numeric);
    if (numeric) {
      if (x === null && y === null) return 0;
      if (x === null) return 1; // no value last, either way
      if (y === null) return -1;
      return ascending ? x - y : y - x;
    }
    return ascending ? collator.compare(x, y) : collator.compare(y, x);
  });
  rows.forEach((r) => body.appendChild(r));
  const live = document.getElementById("dash-sort-status");
  if (live) {
    live.textContent = say(ascending ? "sorted_ascending" : "sorted_descending", {
      column: th.textContent.trim() });
  }
}

function setUpTables() {
  if (!document.getElementById("dash-sort-status")) {
    const live = document.createElement("p");
    live.id = "dash-sort-status";
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    document.querySelector("main")?.appendChild(live);
  }
  document.querySelectorAll("table[data-sortable]").forEach((table) => {
    table.querySelectorAll("thead button[data-sort]").forEach((button) => {
      button.addEventListener("click", () => sortTable(
        table, Number(button.dataset.sort), button.hasAttribute("data-numeric")));
    });
  });
}

// -- charts ---------------------------------------------------------------------------------------

const PALETTE = ["#1f4e79", "#c0504d", "#4f8a3c", "#d08c00", "#6d4c9f", "#2a8c8c", "#8c5a2a"];

function barChart(echarts, el, data) {
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    color: PALETTE,
    tooltip: { trigger: "axis", valueFormatter: percent },
    legend: { top: 0, type: "scroll" },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 4 ? 30 : 0 } },
    yAxis: { type: "value", max: 1, axisLabel: { formatter: (v) => percent(v) } },
    series: data.series.map((s) => ({ name: s.name, type: "bar", data: s.data })),
  });
  return chart;
}

function trendChart(echarts, el, data) {
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    color: PALETTE,
    title: { text: data.metric, textStyle: { fontSize: 13 }, left: 0, top: 0 },
    tooltip: { trigger: "axis", valueFormatter: percent },
    legend: { bottom: 0, type: "scroll" },
    grid: { left: 8, right: 16, top: 36, bottom: 36, containLabel: true },
    xAxis: { type: "category", data: data.months },
    yAxis: { type: "value", max: 1, axisLabel: { formatter: (v) => percent(v) } },
    series: data.series.map((s, i) => ({
      name: s.name, type: "line", data: s.data, connectNulls: false,
      lineStyle: { width: i === 0 ? 3 : 1.5 }, symbolSize: i === 0 ? 7 : 4 })),
  });
  return chart;
}

function heatChart(echarts, el, data) {
  const chart = echarts.init(el, null, { renderer: "svg" });
  const max = Math.max(1, ...data.cells.map((c) => c[2]));
  el.style.height = `${Math.max(220, 90 + 44 * data.items.length)}px`;
  // characters of an item's name on the axis (a Chinese one is twice as wide)
  const room = (el.clientWidth < 560 ? 8 : 16) * (config.lang === "zh" ? 1 : 2);
  const short = (s) => (s.length > room ? `${s.slice(0, room - 1)}…` : s);
  chart.setOption({
    tooltip: { formatter: (p) => `${data.items[p.value[1]]}<br>${data.units[p.value[0]]}: ${p.value[2]}` },
    grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
    xAxis: { type: "category", data: data.units, axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "category", data: data.items, inverse: true, axisLabel: { formatter: short } },
    visualMap: { min: 0, max, calculable: false, orient: "horizontal", left: "center", bottom: 0,
      itemHeight: 80, inRange: { color: ["#f4f8fb", "#f2c14e", "#c0504d"] } },
    series: [{ type: "heatmap", data: data.cells, label: { show: true } }],
  });
  return chart;
}

function funnelChart(echarts, el, rows) {
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    color: ["#1f4e79"],
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: rows.map((r) => r.label) },
    series: [{ type: "bar", data: rows.map((r) => r.count), label: { show: true, position: "right" } }],
  });
  return chart;
}

async function drawCharts() {
  const charts = config.charts || {};
  const wanted = Array.from(document.querySelectorAll("[data-chart]"));
  if (!wanted.length) return;
  const echarts = await import("/static/vendor/echarts/echarts.esm.min.js");
  const drawn = [];
  for (const el of wanted) {
    const name = el.dataset.chart;
    const data = charts[name];
    if (!data) continue;
    if (name === "units") drawn.push(barChart(echarts, el, data));
    else if (name === "trend" || name.startsWith("grades_trend")) {
      drawn.push(trendChart(echarts, el, data));
    }
    else if (name === "items") drawn.push(heatChart(echarts, el, data));
    else if (name === "funnel") drawn.push(funnelChart(echarts, el, data));
    el.setAttribute("data-drawn", "true");
  }
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => drawn.forEach((c) => c.resize()));
  });
}

// -- the map --------------------------------------------------------------------------------------

async function drawMap() {
  const el = document.querySelector("[data-map]");
  const data = (config.charts || {}).map;
  if (!el || !data) return;
  const L = await import("/static/vendor/leaflet/leaflet-src.esm.js");
  const map = L.map(el, { preferCanvas: true, attributionControl: Boolean(data.tiles),
    keyboard: true, scrollWheelZoom: false });
  if (data.tiles) L.tileLayer(data.tiles, { maxZoom: 18 }).addTo(map);
  const points = [];
  for (const s of data.sites) {
    const today = s.checkins > 0;
    const color = s.flagged > 0 ? "#c0504d" : today ? "#d08c00" : "#1f4e79";
    L.circleMarker([s.lat, s.lng], { radius: today ? 6 : 3, color, weight: 1,
      fillColor: color, fillOpacity: today ? 0.9 : 0.5 })
      .bindTooltip(today ? `${s.name} · ${say("checkins_n", { n: s.checkins })}` : s.name)
      .addTo(map);
    points.push([s.lat, s.lng]);
  }
  if (points.length) map.fitBounds(points, { padding: [16, 16] });
  else map.setView([30.4, 114.9], 9);
  el.setAttribute("data-drawn", "true");
}

setUpTables();
drawCharts().catch((e) => console.error(e));
drawMap().catch((e) => console.error(e));
