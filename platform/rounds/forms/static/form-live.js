// What the form says while it is filled in, from the browser's own evaluation of the answers
// (standard.js, rounds.evaluation): the score so far in the definition's model, pass or
// fail, each section's figure and each outcome's level in the status area at the bottom of
// the form ([data-live], beside the submit button), and each failed check between fields
// beside its item, with the words of the server's 422. Functions of a RoundsForm
// (form.js, `rounds` here), called after every refresh.
//
// Numbers are rounded for display only (the definition's `digits`, half up, as the server's
// pages do); the words are the page's (`rounds.t`): the results catalogue's, which the
// result page and the check API use too (`results.*`), and the forms catalogue's page.live_*.

import { formatNumber } from './standard.js'

// A page word with its {fields} filled in.
function say (rounds, key, fields = {}) {
  return (rounds.t[key] ?? '').replace(/\{(\w+)\}/g, (whole, name) =>
    name in fields ? String(fields[name]) : whole)
}

function localized (rounds, v) {
  if (!v || typeof v !== 'object') return v ? String(v) : ''
  return v[rounds.config.lang] || Object.values(v).find(Boolean) || ''
}

// A score's short figure in its model: "83.3%", "27 分", "均分 3.4"; '' without a value.
function figure (rounds, part) {
  if (part.value === null || part.value === undefined) return ''
  const value = formatNumber(part.value, part.digits)
  if (part.model === 'sum') return say(rounds, value === '1' ? 'results.figure.sum_one' : 'results.figure.sum', { value })
  return say(rounds, part.model === 'mean' ? 'results.figure.mean' : 'results.figure.percentage', { value })
}

// The total's line: the figure with what it is made of, or why there is none.
function totalLine (rounds, score) {
  if (!score.has_total) return say(rounds, 'results.no_total')
  if (score.value === null) return say(rounds, 'live_no_value')
  const value = formatNumber(score.value, score.digits)
  if (score.model === 'percentage') {
    return say(rounds, 'results.line.percentage', { value, points: formatNumber(score.points), max: formatNumber(score.max) })
  }
  if (score.model === 'mean') return say(rounds, 'results.line.mean', { value, answered: score.answered })
  return figure(rounds, score)
}

function element (tag, className, text) {
  const el = document.createElement(tag)
  if (className) el.className = className
  if (text !== undefined) el.textContent = text
  return el
}

export function showLive (rounds) {
  const box = rounds.form.querySelector('[data-live]')
  const ev = rounds.evaluation
  if (!box || !ev) return
  const score = ev.score
  const outcomes = ev.outcomes || []
  // Sections that have scoring items (the others have nothing to show).
  const scoring = new Set(score.items.map((line) => line.section))
  if (!(score.scored && scoring.size) && !outcomes.length) {
    box.hidden = true
    return
  }
  const wasOpen = Boolean(box.querySelector('details[open]'))
  box.replaceChildren()
  box.hidden = false
  if (score.scored && scoring.size) {
    const total = element('p', 'live-total')
    total.append(element('span', 'live-label', say(rounds, 'live_title')), ' ')
    const strong = element('strong', 'live-score', totalLine(rounds, score))
    strong.dataset.liveScore = ''
    strong.dataset.value = JSON.stringify(score.value)
    strong.dataset.model = score.model
    total.append(strong)
    if (typeof score.passed === 'boolean') {
      total.append(' ', element('span', score.passed ? 'verdict passed' : 'verdict not-passed',
        score.passed ? say(rounds, 'results.passed') : say(rounds, 'results.not_passed')))
    }
    if (score.direction === 'lower_better') total.append(' ', element('span', 'live-note', say(rounds, 'live_lower_better')))
    box.append(total)
  }
  if (outcomes.length) { // one line, each outcome a piece of it (they wrap on a phone)
    const line = element('p', 'live-outcomes')
    for (const o of outcomes) {
      const label = o.level === null ? say(rounds, 'results.no_level') : (localized(rounds, o.label) || o.level)
      const span = element('span', 'live-outcome', say(rounds, 'results.outcome_heading', { title: localized(rounds, o.title) || o.outcome, label }))
      span.dataset.outcome = o.outcome
      span.dataset.level = o.level ?? ''
      const message = localized(rounds, o.message)
      if (message) span.append(' ', element('span', 'live-note', message))
      line.append(span, ' ')
    }
    box.append(line)
  }
  const sections = score.sections.filter((s) => scoring.has(s.section))
  if (score.scored && sections.length > 1) {
    const details = element('details', 'live-sections')
    details.open = wasOpen // kept open while the answers change
    details.append(element('summary', '', say(rounds, 'results.sections_title')))
    const ul = element('ul')
    for (const s of sections) {
      const li = element('li', '', say(rounds, 'live_section', {
        title: localized(rounds, s.title) || s.section,
        figure: figure(rounds, s) || say(rounds, 'live_no_value')
      }))
      li.dataset.section = s.section
      li.dataset.value = JSON.stringify(s.value)
      if (s.direction === 'lower_better' && score.direction !== 'lower_better') {
        li.append(' ', element('span', 'live-note', say(rounds, 'live_lower_better')))
      }
      ul.append(li)
    }
    details.append(ul)
    box.append(details)
  }
  keepFocusClear(box.closest('.actions'))
}

// The sticky bar at the bottom grows with the score so far: what is focused or scrolled into
// view keeps clear of it (WCAG 2.4.11), by its height as it is now. Where the screen is too
// short for a sticky bar (a phone on its side, 200% zoom) the stylesheet unsticks it.
function keepFocusClear (bar) {
  if (!bar) return
  const sticky = getComputedStyle(bar).position === 'sticky'
  document.documentElement.style.scrollPaddingBottom = sticky ? `${bar.offsetHeight + 8}px` : ''
}

// -- checks between fields, beside their items --------------------------------------------

// Each failed check's message in its item's error slot, as the server's 422 would put it
// (pointer /answers/<item>, code check_failed). Earlier ones go first, the server's too:
// the answers have changed since, and this evaluation is the newer word.
export function showChecks (rounds) {
  for (const old of rounds.form.querySelectorAll('[data-error][data-code="check_failed"]')) {
    for (const c of rounds.form.querySelectorAll(`[aria-describedby~="${CSS.escape(old.id)}"]`)) {
      const ids = (c.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && id !== old.id)
      if (ids.length) c.setAttribute('aria-describedby', ids.join(' '))
      else c.removeAttribute('aria-describedby')
    }
    old.remove()
  }
  const ev = rounds.evaluation
  if (!ev || !ev.checks || !ev.checks.length) return
  const byPointer = new Map(rounds.allItems().map((el) => [rounds.pointerOf(el), el]))
  for (const check of ev.checks) {
    const el = byPointer.get(check.pointer)
    if (!el) continue
    const slot = [...el.querySelectorAll('[data-errors]')].find((s) => s.closest('[data-item]') === el)
    if (!slot) continue
    // "<item>：<message>", the words of the server's 422 (forms.messages)
    const title = el.querySelector('[data-title]')
    const text = (title ? title.textContent.trim() : check.item) + (rounds.t.check_separator || ': ') +
      (localized(rounds, check.message) || rounds.t.check_failed || '')
    const p = element('p', 'error', text)
    p.id = `check-${el.id}-${check.check}`
    p.dataset.error = check.pointer
    p.dataset.code = check.code || 'check_failed'
    p.dataset.check = check.check
    slot.append(p)
    for (const c of rounds.controls(el)) {
      const ids = new Set((c.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean))
      ids.add(p.id)
      c.setAttribute('aria-describedby', [...ids].join(' '))
    }
  }
}
