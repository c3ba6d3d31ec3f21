// The survey results pages' charts (ECharts from node_modules, served under /static/vendor:
// offline). Each chart's figures are in a JSON script inside it; the same figures are in
// the table beside it, which is what a screen reader reads (the chart is role=img).
const config = JSON.parse(document.getElementById('results-config')?.textContent || '{}')
const text = config.text || {}
const palette = ['#1e7a3c', '#d08c00', '#b3261e', '#1f5fa8', '#6a3d9a', '#5a6270', '#0f7b7b']
// Outcome levels from worst to best (a level's tone, 0 to 1, is worked out on the server
// from the bands): red, orange, light green, green.
const tones = ['#b3261e', '#e07b00', '#7ea83a', '#1e7a3c']

function toneColor (tone, i) {
  if (typeof tone !== 'number') return palette[i % palette.length]
  return tones[Math.round(tone * (tones.length - 1))]
}

function dataOf (el) {
  return JSON.parse(el.querySelector('script')?.textContent || 'null')
}

function bars (echarts, el) {
  const data = dataOf(el)
  if (!data) return null
  el.style.height = `${Math.max(120, 40 + 32 * data.labels.length)}px`
  const chart = echarts.init(el, null, { renderer: 'svg' })
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: data.labels, inverse: true, axisLabel: { width: 140, overflow: 'truncate' } },
    series: [{ name: text.chart_count || '', type: 'bar', data: data.values,
      itemStyle: { color: '#1f5fa8' }, label: { show: true, position: 'right' } }]
  })
  return chart
}

function stacked (echarts, el) {
  const data = dataOf(el)
  if (!data) return null
  el.style.height = `${Math.max(160, 80 + 36 * data.labels.length)}px`
  const chart = echarts.init(el, null, { renderer: 'svg' })
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: data.labels, inverse: true, axisLabel: { width: 120, overflow: 'truncate' } },
    series: data.series.map((s, i) => ({ name: s.name, type: 'bar', stack: 'all', data: s.values,
      itemStyle: { color: toneColor(s.tone, i) } }))
  })
  return chart
}

function lines (echarts, el) {
  const data = dataOf(el)
  if (!data) return null
  el.style.height = '260px'
  const chart = echarts.init(el, null, { renderer: 'svg' })
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: data.labels },
    yAxis: { type: 'value', min: data.percent ? 0 : null, max: data.percent ? 100 : null },
    series: data.series.map((s, i) => ({ name: s.name, type: 'line', data: s.values,
      connectNulls: false, itemStyle: { color: palette[i % palette.length] } }))
  })
  return chart
}

async function draw () {
  const els = [...document.querySelectorAll('[data-chart]')]
  if (!els.length) return
  const echarts = await import('/static/vendor/echarts/echarts.esm.min.js')
  const kinds = { bars, levels: stacked, lines }
  const made = els.map((el) => {
    const chart = (kinds[el.dataset.chart] || bars)(echarts, el)
    if (chart) el.setAttribute('data-drawn', 'true')
    return chart
  }).filter(Boolean)
  let pending = 0
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending)
    pending = requestAnimationFrame(() => made.forEach((c) => c.resize()))
  })
}

draw()
