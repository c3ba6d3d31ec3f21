// What a form shows once it is sent: a line of text (sending, sent, failed), the result of a
// check (score, verdict, failed items, alerts, the explanation), the notice for a submission
// stored earlier, and the server's errors (a 422's problem details) each next to the field
// its JSON pointer falls in, with a summary at the top. Functions of a RoundsForm (form.js,
// `rounds` here); `result` is the form's [data-result] box.

import { escapePointer } from './api.js'

export function showConflict (rounds, result, id) {
  result.replaceChildren()
  result.hidden = false
  const p = document.createElement('p')
  p.textContent = `${rounds.t.id_conflict} ${rounds.t.new_submission}`
  result.appendChild(p)
  const url = rounds.config.envelope.result_url
  if (url) {
    const a = document.createElement('a')
    a.href = url.replace('{id}', encodeURIComponent(id))
    a.textContent = rounds.t.view_result
    result.appendChild(a)
  }
  result.focus()
}

export function showMessage (result, text) {
  result.replaceChildren()
  result.hidden = !text
  if (!text) return
  const p = document.createElement('p')
  p.textContent = text
  result.appendChild(p)
}

function titleOf (rounds, id) {
  const el = rounds.form.querySelector(`[data-item="${CSS.escape(id)}"] [data-title]`)
  return el ? el.textContent.trim() : id
}

function localized (rounds, v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v[rounds.config.lang] ?? v.en ?? v.zh ?? ''
  return v === null || v === undefined ? '' : String(v)
}

// The score and outcomes as the server words them (`shown`, in the page's language, the
// result page's words): the score in its model ("83.3%", "27 分", "均分 3.4") or why there
// is none, "lower is better", pass / fail, each section's figure, each outcome with why.
function showShown (result, shown, line) {
  const total = shown.total
  if (!shown.scored) return
  const p = line('score', total.line)
  p.dataset.score = total.value === null ? '' : String(total.value)
  p.dataset.model = total.model
  if (total.note) line('direction', total.note)
  if (typeof shown.passed === 'boolean') {
    const v = line(shown.passed ? 'verdict passed' : 'verdict not-passed', shown.verdict)
    if (shown.pass_mark) {
      const small = document.createElement('small')
      small.textContent = ` ${shown.pass_mark}`
      v.appendChild(small)
    }
  }
  const block = (title, rows, className, attr) => {
    if (!rows.length) return
    const h3 = document.createElement('h3')
    h3.textContent = title
    const ul = document.createElement('ul')
    ul.className = className
    for (const [key, parts] of rows) {
      const li = document.createElement('li')
      li.dataset[attr] = key
      for (const [cls, text] of parts) {
        if (!text) continue
        const span = document.createElement('span')
        span.className = cls
        span.textContent = text
        li.append(span, ' ')
      }
      ul.appendChild(li)
    }
    result.append(h3, ul)
  }
  block(shown.outcomes_title, shown.outcomes.map((o) => [o.outcome, [
    ['outcome-heading', o.heading], ['why', o.why], ['message', o.message]]]),
  'outcomes', 'outcome')
  block(shown.sections_title, shown.sections.map((s) => [s.section, [
    ['section-title', s.title], ['section-score', s.score.line], ['direction', s.note]]]),
  'sections', 'section')
}

export function showScore (rounds, result, answer) {
  result.replaceChildren()
  result.hidden = false
  const h = document.createElement('h2')
  h.textContent = rounds.t.result_title
  result.appendChild(h)
  const score = answer.score || {}
  const line = (className, text) => {
    const p = document.createElement('p')
    p.className = className
    p.textContent = text
    result.appendChild(p)
    return p
  }
  const shown = answer.shown
  if (shown) {
    showShown(result, shown, line)
  } else if (score.percentage !== undefined && score.percentage !== null) {
    const p = line('score', (rounds.t.score_line || '{percentage}%')
      .replace('{percentage}', String(score.percentage))
      .replace('{total}', String(score.points ?? score.total ?? ''))
      .replace('{max}', String(score.max ?? '')))
    p.dataset.score = String(score.percentage)
    if (typeof score.passed === 'boolean') {
      line(score.passed ? 'verdict passed' : 'verdict not-passed',
        score.passed ? rounds.t.passed : rounds.t.not_passed)
    }
  } else {
    line('verdict', rounds.t.valid)
  }
  const list = (title, items) => {
    if (!items.length) return
    const h3 = document.createElement('h3')
    h3.textContent = title
    const ul = document.createElement('ul')
    for (const text of items) {
      const li = document.createElement('li')
      li.textContent = text
      ul.appendChild(li)
    }
    result.append(h3, ul)
  }
  // A failed item is named as its problem (the item's problem title, filled in by the
  // server in both languages), else by its title.
  list(rounds.t.failed_items, (answer.failed || []).map((f) => typeof f === 'string'
    ? titleOf(rounds, f)
    : ((f.problem && localized(rounds, f.problem)) || titleOf(rounds, f.item || f.id || ''))))
  list(rounds.t.alerts, (answer.alerts || []).map((a) => localized(rounds, a.message) || a.code || ''))
  if (typeof answer.explanation === 'string' && answer.explanation) {
    const details = document.createElement('details')
    const summary = document.createElement('summary')
    summary.textContent = rounds.t.explanation
    const pre = document.createElement('pre')
    pre.textContent = answer.explanation
    details.append(summary, pre)
    result.appendChild(details)
  }
  result.focus()
}

// -- errors by JSON pointer -------------------------------------------------------------------

// Each item's answer and evidence by the JSON pointer the server's errors use.
function errorTargets (rounds) {
  const out = []
  for (const el of rounds.allItems()) {
    out.push([rounds.pointerOf(el), el])
    const box = el.querySelector('[data-evidence]')
    if (box && box.closest('[data-item]') === el) {
      out.push(['/evidence/' + escapePointer(rounds.evidenceKey(el)), el])
    }
  }
  return out
}

export function clearErrors (rounds) {
  for (const e of rounds.form.querySelectorAll('[data-error]')) e.remove()
  for (const c of rounds.form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid')
  const summary = rounds.form.querySelector('[data-summary]')
  summary.replaceChildren()
  summary.hidden = true
}

// Each error next to its field (the deepest item its pointer falls in), and a summary at
// the top linking to every one; the summary takes the focus so it is read first.
export function showErrors (rounds, errors) {
  const targets = errorTargets(rounds)
  const listed = []
  let n = 0
  for (const err of errors) {
    const pointer = String(err.pointer || '')
    let best = null
    for (const [p, el] of targets) {
      if ((pointer === p || pointer.startsWith(p + '/')) && (!best || p.length > best[0].length)) best = [p, el]
    }
    if (!best) {
      listed.push([err.message, null])
      continue
    }
    const el = best[1]
    const p = document.createElement('p')
    p.className = 'error'
    p.setAttribute('role', 'alert')
    p.dataset.error = pointer
    p.id = `error-${el.id}-${n++}`
    p.textContent = err.message
    const slot = [...el.querySelectorAll('[data-errors]')].find((s) => s.closest('[data-item]') === el)
    slot.appendChild(p)
    for (const c of rounds.controls(el)) {
      c.setAttribute('aria-invalid', 'true')
      const ids = new Set((c.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean))
      ids.add(p.id)
      c.setAttribute('aria-describedby', [...ids].join(' '))
    }
    listed.push([err.message, el])
  }
  const summary = rounds.form.querySelector('[data-summary]')
  summary.hidden = false
  const h = document.createElement('h2')
  h.textContent = (rounds.t.errors_title || '{n}').replace('{n}', String(errors.length))
  const ul = document.createElement('ul')
  for (const [message, el] of listed) {
    const li = document.createElement('li')
    if (el) {
      const a = document.createElement('a')
      a.href = `#${el.id}`
      a.textContent = message
      a.addEventListener('click', (ev) => {
        ev.preventDefault()
        el.scrollIntoView({ block: 'center' })
        const first = rounds.controls(el).find((c) => c.type !== 'hidden' && !c.disabled) ||
          el.querySelector('button:not([disabled])')
        if (first) first.focus({ preventScroll: true })
      })
      li.appendChild(a)
    } else {
      li.textContent = message
    }
    ul.appendChild(li)
  }
  summary.append(h, ul)
  summary.scrollIntoView({ block: 'start' })
  summary.focus({ preventScroll: true })
}
