// The campaign pages in the browser: the forms are sent with the page's CSRF token and the
// answer put in place (the field chrome's send_form.js). Sortable tables, and the strata
// chart (ECharts from node_modules, served under /static/vendor: offline); the table after
// it has its figures.

import { sendForm } from '/static/fieldwork/send_form.js'

const config = JSON.parse(document.getElementById('campaigns-config')?.textContent || '{}')
const text = config.text || {}
const locale = config.lang === 'en' ? 'en-GB' : 'zh-CN'

// -- sortable tables ---------------------------------------------------------------------------

function cellValue (row, index, numeric) {
  const raw = row.children[index]?.getAttribute('data-value') ?? ''
  if (!numeric) return raw
  return raw === '' ? null : Number(raw)
}

function sortTable (table, index, numeric) {
  const headers = table.querySelectorAll('thead th')
  const th = headers[index]
  const ascending = th.getAttribute('aria-sort') !== 'ascending'
  headers.forEach((h) => h.setAttribute('aria-sort', 'none'))
  th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending')
  const body = table.tBodies[0]
  const rows = [...body.rows].filter((r) => !r.querySelector('td.empty'))
  const collator = new Intl.Collator(locale, { numeric: true })
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric)
    const y = cellValue(b, index, numeric)
    if (numeric) {
      if (x === null && y === null) return 0
      if (x === null) return 1
      if (y === null) return -1
      return ascending ? x - y : y - x
    }
    return ascending ? collator.compare(x, y) : collator.compare(y, x)
  })
  rows.forEach((r) => body.appendChild(r))
  const live = document.getElementById('cp-sort-status')
  if (live) {
    live.textContent = (text[ascending ? 'sorted_ascending' : 'sorted_descending'] || '')
      .replace('{column}', th.textContent.trim())
  }
}

// -- the chart ---------------------------------------------------------------------------------

async function drawChart (root) {
  const el = root.querySelector('[data-chart=strata]')
  const data = JSON.parse(root.querySelector('#campaigns-chart')?.textContent || 'null')
  if (!el || !data) return
  const echarts = await import('/static/vendor/echarts/echarts.esm.min.js')
  const chart = echarts.init(el, null, { renderer: 'svg' })
  // An unscored survey's work has no verdict: its first part is "submitted".
  const colors = { passed: '#1e7a3c', failed: '#b3261e', submitted: '#1e7a3c' }
  const parts = [...(data.parts || ['passed', 'failed']).map((k) => [k, colors[k]]),
    ['visited', '#d08c00'], ['not_visited', '#9aa3ae'], ['no_team', '#5a6270']]
  el.style.height = `${Math.max(200, 120 + 36 * data.labels.length)}px`
  chart.setOption({
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: data.labels, inverse: true },
    series: parts.map(([key, color]) => ({
      name: text[`chart_${key}`] || key, type: 'bar', stack: 'all', data: data[key],
      itemStyle: { color } }))
  })
  el.setAttribute('data-drawn', 'true')
  let pending = 0
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending)
    pending = requestAnimationFrame(() => chart.resize())
  })
}

// A survey's answers: a small horizontal bar chart per question (counts per choice, or the
// mean per stratum); the figures are in the table beside it.
async function drawBars (root) {
  const charts = [...root.querySelectorAll('[data-chart=bars]')]
  if (!charts.length) return
  const echarts = await import('/static/vendor/echarts/echarts.esm.min.js')
  const made = charts.map((el) => {
    const data = JSON.parse(el.querySelector('script')?.textContent || 'null')
    if (!data) return null
    const mean = el.hasAttribute('data-mean')
    el.style.height = `${Math.max(120, 40 + 32 * data.labels.length)}px`
    const chart = echarts.init(el, null, { renderer: 'svg' })
    chart.setOption({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: mean ? 0 : 1 },
      yAxis: { type: 'category', data: data.labels, inverse: true },
      series: [{ name: text[mean ? 'chart_mean' : 'chart_count'] || '', type: 'bar',
        data: data.values, itemStyle: { color: mean ? '#1f5fa8' : '#1e7a3c' },
        label: { show: true, position: 'right' } }]
    })
    el.setAttribute('data-drawn', 'true')
    return chart
  }).filter(Boolean)
  let pending = 0
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending)
    pending = requestAnimationFrame(() => made.forEach((c) => c.resize()))
  })
}

// The text answers' filter: the items whose site or text hold what is typed stay; how many
// is said in the live region.
function filterTexts (box) {
  const input = box.querySelector('[data-text-filter]')
  const shown = box.querySelector('[data-texts-shown]')
  const items = [...box.querySelectorAll('[data-text]')]
  input.addEventListener('input', () => {
    const q = input.value.trim().toLocaleLowerCase(locale)
    let n = 0
    items.forEach((li) => {
      const hit = !q || li.textContent.toLocaleLowerCase(locale).includes(q)
      li.hidden = !hit
      if (hit) n += 1
    })
    if (shown) {
      shown.textContent = (text.texts_shown || '{shown}/{total}')
        .replace('{shown}', String(n)).replace('{total}', String(items.length))
    }
  })
}

function setUp (root) {
  root.querySelectorAll('[data-texts]').forEach(filterTexts)
  drawBars(root).catch(() => {})
  root.querySelectorAll('form[data-campaign-form]').forEach((form) => {
    form.addEventListener('submit', (event) => sendForm(form, event, text, setUp))
  })
  root.querySelectorAll('table[data-sortable]').forEach((table) => {
    table.querySelectorAll('thead button[data-sort]').forEach((button) => {
      button.addEventListener('click', () => sortTable(
        table, Number(button.dataset.sort), button.hasAttribute('data-numeric')))
    })
  })
  if (!document.getElementById('cp-sort-status')) {
    const live = document.createElement('p')
    live.id = 'cp-sort-status'
    live.className = 'visually-hidden'
    live.setAttribute('aria-live', 'polite')
    document.body.appendChild(live)
  }
  drawChart(root).catch(() => {})
  document.body.dataset.campaignsReady = 'true'
}

setUp(document)
