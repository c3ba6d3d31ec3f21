// The form in the browser: what is shown, required and calculated follows the rules as the
// answers change, and the answers go to the server as JSON.
//
// A RoundsForm holds the page's form (`form`, rendered by rounds.forms.render with every
// item's data-* attributes) and its config (the definition, ctx, the page's words `t`, the
// message words, and for a visit's form the submission envelope and the photo upload
// address). It reads the answers in the JSON shape the server reads (collect, payload),
// evaluates the definition on them as the server will (refresh, with standard.js), keeps
// group entries, and submits. Beside it: form-media.js (photos, signature, position),
// form-result.js (the result and the errors by JSON pointer), form-live.js (the score so far
// and failed checks while the form is filled in), standard.js and rules.js (the rule
// engine), api.js (the calls). A draft kept on the
// phone (fieldwork's draft.js) uses refresh, addEntry and the 'rounds:submitted' event.

import { escapePointer, problemErrors, problemText, request, setCsrfToken } from './api.js'
import {
  bindPhotos, bindSignature, clearSignature, flushSignatures, locate
} from './form-media.js'
import { showChecks, showLive } from './form-live.js'
import { clearErrors, showConflict, showErrors, showMessage, showScore } from './form-result.js'
import { evaluateDefinition } from './standard.js'

export class RoundsForm {
  constructor (form, config) {
    this.form = form
    this.config = config
    this.t = config.text || {}
    this.evaluation = null // the last evaluation of the answers (standard.js)
    this.uploads = new Set() // photo uploads still running (submit waits for them)
    if (config.csrf_token) setCsrfToken(config.csrf_token) // a signed-in page gives it
  }

  start () {
    this.form.addEventListener('input', () => this.refresh())
    this.form.addEventListener('change', () => this.refresh())
    this.form.addEventListener('submit', (ev) => this.submit(ev))
    this.form.addEventListener('click', (ev) => this.click(ev))
    for (const el of this.form.querySelectorAll('[data-type="photo"], [data-evidence-photos]')) bindPhotos(this, el)
    for (const el of this.form.querySelectorAll('[data-type="signature"]')) bindSignature(this, el)
    for (const el of this.form.querySelectorAll('[data-type="group"]')) this.updateGroup(el)
    this.form.dataset.ready = 'true'
    this.refresh()
  }

  // -- reading answers ----------------------------------------------------------------

  // The items directly in a scope (the form, or one entry of a group).
  ownItems (scope) {
    return [...scope.querySelectorAll('[data-item]')].filter(
      (el) => el.parentElement.closest('[data-scope]') === scope)
  }

  // The answers of a scope in the JSON shape the server reads; hidden items are left out.
  collect (scope) {
    const answers = {}
    for (const el of this.ownItems(scope)) {
      if (el.hidden || el.dataset.calculated === 'true') continue
      const value = this.valueOf(el)
      if (value !== undefined) answers[el.dataset.item] = value
    }
    return answers
  }

  controls (el) {
    return [...el.querySelectorAll('input, textarea, select')].filter(
      (c) => c.closest('[data-item]') === el && !c.closest('[data-evidence]'))
  }

  valueOf (el) {
    const type = el.dataset.type
    const inputs = this.controls(el)
    const chosen = () => inputs.find((c) => c.checked)
    switch (type) {
      case 'check':
        return inputs[0].checked
      case 'yes_no':
      case 'single_choice': {
        const c = chosen()
        return c ? c.value : undefined
      }
      case 'scale': {
        const c = chosen()
        if (!c) return undefined
        return c.value === 'na' ? 'na' : Number(c.value)
      }
      case 'number': {
        const raw = inputs[0].value.trim()
        if (raw === '') return undefined
        const n = Number(raw)
        return Number.isNaN(n) ? raw : n
      }
      case 'multiple_choice': {
        const values = inputs.filter((c) => c.checked).map((c) => c.value)
        return values.length ? values : undefined
      }
      case 'photo': {
        const refs = JSON.parse(el.dataset.photos || '[]')
        return refs.length ? refs : undefined
      }
      case 'gps': {
        const field = (name) => el.querySelector(`[data-gps="${name}"]`).value
        if (field('lat') === '') return undefined
        const out = { lat: Number(field('lat')), lng: Number(field('lng')) }
        if (field('accuracy_m') !== '') out.accuracy_m = Number(field('accuracy_m'))
        return out
      }
      case 'group': { // no entries is no answer, as [] is to the server
        const entries = this.entries(el).map((entry) => this.collect(entry))
        return entries.length ? entries : undefined
      }
      case 'signature': { // an object: other ways to sign can be added as other fields
        const v = inputs[0] ? inputs[0].value : ''
        return v === '' ? undefined : { photo: v }
      }
      default: { // text, date
        const v = inputs[0] ? inputs[0].value : ''
        return v === '' ? undefined : v
      }
    }
  }

  entries (groupEl) {
    const list = groupEl.querySelector('[data-entries]')
    return [...list.children].filter((c) => c.matches('[data-entry]'))
  }

  evidence () {
    const out = {}
    for (const box of this.form.querySelectorAll('[data-evidence]')) {
      if (box.hidden || box.closest('[hidden]')) continue
      const item = box.closest('[data-item]')
      const key = this.evidenceKey(item)
      const photosEl = box.querySelector('[data-evidence-photos]')
      const note = box.querySelector('textarea')
      const one = {}
      if (photosEl) one.photos = JSON.parse(photosEl.dataset.photos || '[]')
      if (note && note.value.trim() !== '') one.note = note.value
      out[key] = one
    }
    return out
  }

  // -- rules --------------------------------------------------------------------------

  allItems () {
    return [...this.form.querySelectorAll('[data-item]')]
  }

  // Where the engine reports on an item's level: '' for the form, '/group/0' for an entry
  // (an EntryResult's pointer).
  levelOf (el) {
    const pointer = this.pointerOf(el).slice('/answers'.length)
    return pointer.slice(0, pointer.lastIndexOf('/'))
  }

  // Everything entered, hidden items too, as the engine reads a body: it drops what its
  // rules hide, exactly as the server will (payload() leaves hidden items out already).
  entered (scope) {
    const answers = {}
    for (const el of this.ownItems(scope)) {
      if (el.dataset.calculated === 'true') continue
      const value = el.dataset.type === 'group'
        ? this.entries(el).map((entry) => this.entered(entry))
        : this.valueOf(el)
      if (value !== undefined) answers[el.dataset.item] = value
    }
    return answers
  }

  // The definition evaluated on what is entered (standard.js, the server's rules in the
  // browser): each item shown, required, asked for evidence and calculated as the server
  // will judge it, with the score and failed items of this.evaluation for the page to show.
  refresh () {
    const ev = evaluateDefinition(this.config.definition || {}, this.entered(this.form),
      this.config.ctx || {}, { words: this.config.words })
    this.evaluation = ev
    const levels = new Map([['', ev]]) // level → its visible/required/evidence/calculated
    for (const entry of ev.entries) levels.set(entry.pointer, entry)
    for (const el of this.allItems()) {
      const level = levels.get(this.levelOf(el))
      if (!level) continue // inside a hidden group: its entries were not evaluated
      const id = el.dataset.item
      el.hidden = level.visible[id] === false
      if (el.dataset.calculated === 'true') this.showCalculated(el, level.calculated[id] ?? null)
      this.setRequired(el, level.required[id] === true)
      const box = el.querySelector('[data-evidence]')
      if (box && box.closest('[data-item]') === el) box.hidden = !(id in level.evidence)
    }
    // A hidden item's inputs are disabled: they are not sent and the browser skips them.
    for (const c of this.form.querySelectorAll('input, textarea, select, button')) {
      if (c.type === 'submit') continue
      c.disabled = Boolean(c.closest('[hidden]')) || c.dataset.limit === 'true'
    }
    for (const el of this.form.querySelectorAll('[data-type="group"]')) this.updateGroup(el)
    showLive(this) // the score so far, the outcomes
    showChecks(this) // checks between fields, beside their items
  }

  showCalculated (el, value) {
    const out = el.querySelector('[data-calc]')
    if (!out) return
    let text = this.t.not_calculated || '—'
    if (typeof value === 'number') {
      text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '')
    } else if (value !== null && value !== undefined) {
      text = typeof value === 'string' ? value : JSON.stringify(value)
    }
    out.value = text
    out.textContent = text
    out.dataset.value = JSON.stringify(value ?? null)
  }

  setRequired (el, required) {
    el.classList.toggle('is-required', required)
    el.dataset.required = String(required)
    for (const m of el.querySelectorAll('[data-req]')) {
      if (m.closest('[data-item]') === el) m.hidden = !required
    }
    for (const c of el.querySelectorAll('[data-control]')) {
      if (c.closest('[data-item]') !== el) continue
      if (required) c.setAttribute('aria-required', 'true')
      else c.removeAttribute('aria-required')
    }
  }

  // -- groups -------------------------------------------------------------------------

  click (ev) {
    const btn = ev.target.closest('button[data-action]')
    if (!btn || !this.form.contains(btn)) return
    const groupEl = btn.closest('[data-type="group"]')
    if (btn.dataset.action === 'add-entry') this.addEntry(btn.closest('[data-item]'))
    else if (btn.dataset.action === 'remove-entry') this.removeEntry(groupEl, btn.closest('[data-entry]'))
    else if (btn.dataset.action === 'locate') locate(this, btn.closest('[data-item]'))
    else if (btn.dataset.action === 'clear-signature') clearSignature(this, btn.closest('[data-item]'))
  }

  addEntry (groupEl) {
    const max = Number(groupEl.dataset.maxCount || Infinity)
    if (this.entries(groupEl).length >= max) return
    const template = [...groupEl.querySelectorAll('template[data-entry-template]')].find(
      (t) => t.closest('[data-item]') === groupEl)
    const serial = Number(groupEl.dataset.nextSerial || 0)
    groupEl.dataset.nextSerial = String(serial + 1)
    const html = template.innerHTML.split(template.dataset.token).join(String(serial))
    const holder = document.createElement('div')
    holder.innerHTML = html
    const entry = holder.firstElementChild
    groupEl.querySelector('[data-entries]').appendChild(entry)
    for (const el of entry.querySelectorAll('[data-type="photo"], [data-evidence-photos]')) bindPhotos(this, el)
    for (const el of entry.querySelectorAll('[data-type="signature"]')) bindSignature(this, el)
    this.refresh()
    const first = entry.querySelector('input:not([type=hidden]), textarea, select')
    if (first) first.focus()
  }

  removeEntry (groupEl, entry) {
    if (!entry) return
    const next = entry.nextElementSibling || entry.previousElementSibling
    entry.remove()
    this.refresh()
    const focus = next ? next.querySelector('input, textarea, select, button') : groupEl.querySelector('[data-action="add-entry"]')
    if (focus) focus.focus()
  }

  updateGroup (groupEl) {
    const entries = this.entries(groupEl)
    const max = Number(groupEl.dataset.maxCount || Infinity)
    const min = groupEl.dataset.required === 'true' ? Number(groupEl.dataset.minCount || 0) : 0
    entries.forEach((entry, i) => {
      for (const n of entry.querySelectorAll('[data-entry-number]')) {
        if (n.closest('[data-entry]') === entry) n.textContent = String(i + 1)
      }
      const remove = [...entry.querySelectorAll('[data-action="remove-entry"]')].find(
        (b) => b.closest('[data-entry]') === entry)
      if (remove) this.limit(remove, entries.length <= min)
    })
    const add = [...groupEl.querySelectorAll('[data-action="add-entry"]')].find(
      (b) => b.closest('[data-item]') === groupEl)
    if (add) this.limit(add, entries.length >= max)
    const count = groupEl.querySelector('[data-entry-count]')
    if (count) count.textContent = String(entries.length)
  }

  limit (button, atLimit) {
    button.dataset.limit = String(atLimit)
    button.disabled = atLimit || Boolean(button.closest('[hidden]'))
  }

  // -- submitting ---------------------------------------------------------------------

  payload () {
    const body = { answers: this.collect(this.form) }
    const evidence = this.evidence()
    if (Object.keys(evidence).length) body.evidence = evidence
    return body
  }

  // -- a submission: {id, definition_id, version, visit_id, answers, evidence} ----------

  // The id is made once per visit and form and kept (sessionStorage: it survives a reload)
  // until the server has stored the submission, so a retry after a lost connection sends the
  // same id and gets the stored result instead of making a second submission.
  idKey () {
    const env = this.config.envelope
    return `rounds:submission:${env.visit_id ?? ''}:${env.definition_id}`
  }

  submissionId () {
    const key = this.idKey()
    let id = null
    try { id = sessionStorage.getItem(key) } catch (e) { id = this.memoryId || null }
    if (!id) {
      id = newUuid()
      try { sessionStorage.setItem(key, id) } catch (e) { this.memoryId = id }
    }
    return id
  }

  forgetSubmissionId () {
    try { sessionStorage.removeItem(this.idKey()) } catch (e) { /* nothing kept */ }
    this.memoryId = null
  }

  envelope () {
    const env = this.config.envelope
    const body = this.payload()
    if (env.kind === 'survey_response') {
      // a survey campaign's response (POST /api/survey-campaigns/{id}/responses): the
      // campaign names the survey version; visit_id is the visit it is about, if any
      const response = { id: this.submissionId(), answers: body.answers }
      if (env.visit_id != null) response.about_visit_id = env.visit_id
      return response
    }
    return {
      id: this.submissionId(),
      definition_id: env.definition_id,
      version: env.version,
      visit_id: env.visit_id ?? null,
      answers: body.answers,
      evidence: body.evidence || {}
    }
  }

  async submit (ev) {
    ev.preventDefault()
    this.refresh()
    clearErrors(this)
    const action = this.form.getAttribute('action')
    const result = this.form.querySelector('[data-result]')
    if (!action) {
      showMessage(result, this.t.preview_only)
      return
    }
    const button = this.form.querySelector('[type=submit]')
    button.disabled = true
    flushSignatures(this)
    if (this.uploads.size) {
      showMessage(result, this.t.wait_uploads)
      await Promise.allSettled([...this.uploads])
    }
    showMessage(result, this.t.sending)
    const env = this.config.envelope
    const body = env ? this.envelope() : this.payload()
    let response
    let answer = null
    try {
      ({ response, data: answer } = await request('POST', action, body))
    } catch (e) {
      showMessage(result, this.t.network_error) // the id is kept: a retry reuses it
      button.disabled = false
      return
    }
    button.disabled = false
    const errors = problemErrors(answer) // a 422: each with the pointer of its field
    if (env && response.ok) {
      this.forgetSubmissionId()
      this.form.dispatchEvent(new CustomEvent('rounds:submitted', { detail: { id: body.id } }))
      showMessage(result, this.t.submitted)
      this.form.dataset.submitted = body.id
      if (env.result_url) window.location.assign(env.result_url.replace('{id}', encodeURIComponent(body.id)))
    } else if (env && response.status === 409 && answer && (answer.code === 'submission_id_conflict' || answer.code === 'survey_response_id_conflict')) {
      // stored earlier (its answer was lost), and the answers changed since: show that one
      this.forgetSubmissionId()
      this.form.dispatchEvent(new CustomEvent('rounds:submitted', { detail: { id: body.id } }))
      showConflict(this, result, body.id)
    } else if (response.ok && answer) {
      showScore(this, result, answer)
    } else if (errors.length) {
      showErrors(this, errors)
      showMessage(result, '')
    } else {
      const detail = problemText(answer, response.statusText)
      showMessage(result, `${this.t.submit_failed} (${response.status}) ${detail}`.trim())
    }
  }

  // -- JSON pointers: where the server's errors point -----------------------------------

  // Evidence is keyed by the item's id, or "<group id>/<entry index>/<item id>" in an entry.
  evidenceKey (el) {
    return this.pointerOf(el).slice('/answers/'.length).split('/').map(
      (k) => k.replace(/~1/g, '/').replace(/~0/g, '~')).join('/')
  }

  // The JSON pointer the server uses for an item's answer: /answers/group/0/item.
  pointerOf (el) {
    const parts = []
    let cur = el
    for (;;) {
      parts.unshift(cur.dataset.item)
      const entry = cur.parentElement.closest('[data-entry]')
      if (!entry) break
      const groupEl = entry.closest('[data-item]')
      parts.unshift(String(this.entries(groupEl).indexOf(entry)))
      cur = groupEl
    }
    return '/answers/' + parts.map(escapePointer).join('/')
  }
}

// A version 4 UUID; crypto.randomUUID exists only on secure pages (https or localhost), and
// a field team's server may be reached over plain http inside a company network.
export function newUuid () {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
