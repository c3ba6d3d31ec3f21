// The structured editor of a definition. One working copy (`doc`) is the truth; the
// structured form, the JSON view (CodeMirror 6), the preview (the phone form rendered by
// the server) and the test bench are drawn from it. Every change is validated by the
// server (debounced; /api/editor/check, in the reader's words), each problem shown at the
// field its JSON pointer names and in a list.
// Sections and items move by dragging (SortableJS) or by their up / down buttons.

import Sortable from 'sortablejs'
import { EditorView, basicSetup } from 'codemirror'
import { json, jsonLanguage, jsonParseLinter } from '@codemirror/lang-json'
import { linter, lintGutter } from '@codemirror/lint'
import { config as fw } from '/static/fieldwork/fieldwork.js'
import { schemaCompletion } from './complete.js'

const cfg = JSON.parse(document.getElementById('editor-config').textContent)
const T = cfg.text
const t = (key, fields = {}) => (T['editor_' + key] || key).replace(/\{(\w+)\}/g, (_, k) => fields[k] ?? '')
const root = document.querySelector('[data-editor]')
const $ = (sel, el = root) => el.querySelector(sel)

let doc = structuredClone(cfg.content)
let definitionId = cfg.definition_id
let number = cfg.number
let dirty = false
let problems = []
let previewLang = cfg.lang
let lastRun = null
let cases = []
const ops = []
let uid = 0
const opened = new Set() // the sub-parts (conditions, issue) left open, across redraws

function sub (key, open, summary, ...children) {
  const d = el('details', { class: 'ed-sub', 'data-sub': key, open: opened.has(key) || open }, el('summary', { text: summary }), ...children)
  d.addEventListener('toggle', () => { if (d.open) opened.add(key); else opened.delete(key) })
  return d
}

// -- talking to the server ---------------------------------------------------------------

async function call (method, url, body) {
  const headers = { Accept: 'application/json, application/problem+json, text/html' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET') headers['X-CSRF-Token'] = fw.csrf_token || ''
  const response = await fetch(url, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const type = response.headers.get('content-type') || ''
  const data = type.includes('json') ? await response.json().catch(() => null) : await response.text()
  return { response, data }
}

function status (text, error = false) {
  const el = $('[data-status]')
  el.textContent = text
  el.classList.toggle('is-error', error)
}

// -- JSON pointers -------------------------------------------------------------------------

const esc = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1')
const ptr = (...parts) => parts.length ? '/' + parts.map(esc).join('/') : ''

function getAt (pointer) {
  if (!pointer) return doc
  return pointer.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((o, k) => (o == null ? undefined : o[k]), doc)
}

function setAt (pointer, value) {
  const keys = pointer.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'))
  let o = doc
  for (const k of keys.slice(0, -1)) {
    if (o[k] == null || typeof o[k] !== 'object') o[k] = {}
    o = o[k]
  }
  const last = keys[keys.length - 1]
  if (value === undefined || value === '' || value === null) delete o[last]
  else o[last] = value
  changed()
  if (/\/(id|title\/(zh|en))$/.test(pointer)) renamed()
}

// an item's id or title changed: the rule builders' field lists and the summaries follow
function renamed () {
  const fields = formFields()
  root.querySelectorAll('select[data-rule-field]').forEach((sel) => {
    const value = sel.value
    sel.replaceChildren(el('option', { value: '', text: '—' }))
    fields.forEach((x) => sel.append(el('option', { value: x.id, text: `${x.title} (${x.id})`, selected: x.id === value })))
  })
  root.querySelectorAll('[data-item-at]').forEach((d) => {
    const item = getAt(d.dataset.itemAt)
    const title = d.querySelector(':scope > summary > .ed-item-title')
    if (item && title) title.textContent = (item.title || {})[cfg.lang] || item.id
  })
}

// -- the structured form -----------------------------------------------------------------

function el (tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
    else if (k === 'text') e.textContent = v
    else e.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children.flat()) if (c != null) e.append(c)
  return e
}

function field (label, pointer, { type = 'text', options = null, parse = null, help = null, wide = false } = {}) {
  const id = 'f' + (++uid)
  const value = getAt(pointer)
  let input
  if (options) {
    input = el('select', { id, 'data-pointer': pointer })
    input.append(el('option', { value: '', text: '—' }))
    for (const [v, text] of options) input.append(el('option', { value: v, text, selected: String(value ?? '') === String(v) }))
  } else if (type === 'checkbox') {
    input = el('input', { id, type: 'checkbox', 'data-pointer': pointer, checked: value === true })
  } else if (type === 'textarea') {
    input = el('textarea', { id, rows: 2, 'data-pointer': pointer })
    input.value = value ?? ''
  } else {
    input = el('input', { id, type, 'data-pointer': pointer, step: type === 'number' ? 'any' : null, autocomplete: 'off' })
    input.value = value ?? ''
  }
  const read = () => {
    if (type === 'checkbox') return input.checked ? true : undefined
    const raw = input.value
    if (raw === '') return undefined
    if (parse) return parse(raw)
    if (type === 'number') return Number(raw)
    return raw
  }
  input.addEventListener(options || type === 'checkbox' ? 'change' : 'input', () => setAt(pointer, read()))
  const box = el('div', { class: 'ed-field' + (type === 'checkbox' ? ' ed-check' : '') + (wide ? ' ed-wide' : '') })
  if (type === 'checkbox') box.append(input, el('label', { for: id, text: label }))
  else box.append(el('label', { for: id, text: label }), input)
  if (help) box.append(el('p', { class: 'ed-help', text: help }))
  box.append(el('p', { class: 'ed-error', 'data-error-for': pointer, hidden: true }))
  return box
}

function localized (label, pointer, opts = {}) {
  return el('fieldset', { class: 'ed-pair' }, el('legend', { text: label }),
    field(t('lang_zh'), pointer + '/zh', opts), field(t('lang_en'), pointer + '/en', opts),
    el('p', { class: 'ed-error', 'data-error-for': pointer, hidden: true }))
}

const ITEM_TYPES = ['check', 'yes_no', 'scale', 'number', 'text', 'single_choice', 'multiple_choice', 'date', 'photo', 'gps', 'signature', 'group']
const SEVERITIES = ['low', 'medium', 'high', 'critical']
const typeOptions = () => ITEM_TYPES.map((v) => [v, t('type_' + v)])
const sevOptions = () => SEVERITIES.map((v) => [v, t('severity_' + v)])
const partyOf = () => ['site', 'org_unit', 'submitter'].map((v) => [v, t('of_' + v)])

// the form's own fields, for the rule builder
function formFields () {
  const out = []
  const walk = (items) => (items || []).forEach((it) => {
    if (it && it.id) out.push({ id: it.id, type: it.type, title: (it.title || {})[cfg.lang] || it.id, choices: it.choices || [] })
    if (it && it.type !== 'group') walk(it.items)
  })
  ;(doc.sections || []).forEach((s) => walk(s.items))
  return out
}

function moveButtons (list, index, pointerOfList, what) {
  const move = (by) => {
    const arr = getAt(pointerOfList)
    const to = index + by
    if (to < 0 || to >= arr.length) return
    arr.splice(to, 0, arr.splice(index, 1)[0])
    changed(true)
    requestAnimationFrame(() => {
      const b = root.querySelector(`[data-move="${by < 0 ? 'up' : 'down'}"][data-at="${pointerOfList}/${to}"]`) ||
        root.querySelector(`[data-at="${pointerOfList}/${to}"]`)
      if (b) b.focus()
    })
  }
  const copy = () => {
    const arr = getAt(pointerOfList)
    const twin = structuredClone(arr[index])
    twin.id = uniqueId(twin.id)
    if (Array.isArray(twin.items)) twin.items.forEach((it) => { it.id = uniqueId(it.id) })
    arr.splice(index + 1, 0, twin)
    changed(true)
  }
  const remove = () => {
    const arr = getAt(pointerOfList)
    if (!window.confirm(t('confirm_delete', { what }))) return
    arr.splice(index, 1)
    changed(true)
  }
  const at = `${pointerOfList}/${index}`
  return el('div', { class: 'ed-tools' },
    el('button', { type: 'button', class: 'ed-handle', 'aria-hidden': 'true', tabindex: '-1', title: t('drag'), text: '⠿' }),
    el('button', { type: 'button', 'data-move': 'up', 'data-at': at, 'aria-label': t('move_up', { what }), disabled: index === 0, onclick: () => move(-1), text: '↑' }),
    el('button', { type: 'button', 'data-move': 'down', 'data-at': at, 'aria-label': t('move_down', { what }), disabled: index === list.length - 1, onclick: () => move(1), text: '↓' }),
    el('button', { type: 'button', 'data-copy': at, 'aria-label': t('duplicate', { what }), onclick: copy, text: t('duplicate_short') }),
    el('button', { type: 'button', 'data-delete': at, class: 'ed-danger', 'aria-label': t('delete', { what }), onclick: remove, text: t('delete_short') }))
}

function uniqueId (base) {
  const taken = new Set()
  ;(doc.sections || []).forEach((s) => { taken.add(s.id); (s.items || []).forEach((i) => { taken.add(i.id); (i.items || []).forEach((j) => taken.add(j.id)) }) })
  const stem = String(base || 'item').replace(/_\d+$/, '')
  let n = 1
  while (taken.has(`${stem}_${n}`)) n++
  return `${stem}_${n}`
}

function sortable (list, pointerOfList) {
  Sortable.create(list, {
    handle: '.ed-handle',
    animation: 120,
    onEnd: (e) => {
      if (e.oldIndex === e.newIndex) return
      const arr = getAt(pointerOfList)
      arr.splice(e.newIndex, 0, arr.splice(e.oldIndex, 1)[0])
      changed(true)
    }
  })
}

// -- conditions: the rule builder and its JSON ---------------------------------------------

const COMPARE = ['==', '!=', '<', '<=', '>', '>=']

// A rule the builder can show: one comparison of a field with a value, or all / any of them.
function rows (rule) {
  const one = (r) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) return null
    const [op] = Object.keys(r)
    if (Object.keys(r).length !== 1) return null
    if (op === '!!' || op === '!') {
      const a = Array.isArray(r[op]) ? r[op][0] : r[op]
      return a && typeof a === 'object' && 'var' in a ? { field: a.var, op, value: '' } : null
    }
    if (!COMPARE.includes(op) && !ops.some((o) => o.name === op)) return null
    const args = r[op]
    if (!Array.isArray(args) || args.length !== 2 || !args[0] || typeof args[0] !== 'object' || !('var' in args[0])) return null
    if (args[1] !== null && typeof args[1] === 'object') return null
    return { field: args[0].var, op, value: args[1] }
  }
  if (rule == null || rule === false) return { join: 'and', rows: [] } // false: never, as an empty builder
  const k = rule && typeof rule === 'object' ? Object.keys(rule)[0] : null
  if ((k === 'and' || k === 'or') && Array.isArray(rule[k])) {
    const found = rule[k].map(one)
    return found.every(Boolean) ? { join: k, rows: found } : null
  }
  const r = one(rule)
  return r ? { join: 'and', rows: [r] } : null
}

function build (join, list) {
  const typed = (row) => {
    const f = formFields().find((x) => x.id === row.field)
    let v = row.value
    if (f && ['number', 'scale'].includes(f.type) && v !== '' && !isNaN(Number(v))) v = Number(v)
    if (f && f.type === 'check') v = v === 'true' || v === true
    if (row.op === '!!' || row.op === '!') return { [row.op]: [{ var: row.field }] }
    return { [row.op]: [{ var: row.field }, v] }
  }
  const made = list.filter((r) => r.field && r.op).map(typed)
  if (!made.length) return undefined
  return made.length === 1 ? made[0] : { [join]: made }
}

function opOptions (fieldType) {
  const numeric = ['number', 'scale'].includes(fieldType)
  return [...COMPARE, '!!', '!'].filter((o) => numeric || !['<', '<=', '>', '>='].includes(o))
    .map((o) => [o, (ops.find((x) => x.name === o) || { label: {} }).label[cfg.lang] || o])
}

function ruleEditor (label, pointer, help) {
  const box = el('fieldset', { class: 'ed-rule', 'data-rule': pointer })
  box.append(el('legend', { text: label }))
  if (help) box.append(el('p', { class: 'ed-help', text: help }))
  const body = el('div')
  box.append(body, el('p', { class: 'ed-error', 'data-error-for': pointer, hidden: true }))
  const draw = (asJson) => {
    body.replaceChildren()
    const rule = getAt(pointer)
    const shape = asJson ? null : rows(rule)
    if (!shape) {
      const id = 'f' + (++uid)
      const area = el('textarea', { id, class: 'ed-json', rows: 3, 'data-pointer': pointer, spellcheck: 'false' })
      area.value = rule === undefined ? '' : JSON.stringify(rule)
      const note = el('p', { class: 'ed-error', hidden: true })
      area.addEventListener('input', () => {
        if (area.value.trim() === '') { note.hidden = true; setAt(pointer, undefined); return }
        try { setAt(pointer, JSON.parse(area.value)); note.hidden = true } catch (e) { note.hidden = false; note.textContent = t('json_bad') }
      })
      body.append(el('label', { for: id, text: t('rule_json') }), area, note,
        el('button', { type: 'button', class: 'ed-link', onclick: () => { if (rows(getAt(pointer))) draw(false); else status(t('rule_too_complex'), true) }, text: t('rule_builder') }))
      return
    }
    const list = shape.rows.length ? shape.rows : [{ field: '', op: '==', value: '' }]
    const update = () => setAt(pointer, build(shape.join, list))
    if (list.length > 1) {
      const jid = 'f' + (++uid)
      const join = el('select', { id: jid, 'data-join': pointer, onchange: (e) => { shape.join = e.target.value; update() } },
        el('option', { value: 'and', text: t('join_all'), selected: shape.join === 'and' }),
        el('option', { value: 'or', text: t('join_any'), selected: shape.join === 'or' }))
      body.append(el('div', { class: 'ed-field' }, el('label', { for: jid, text: t('join') }), join))
    }
    list.forEach((row, n) => {
      const fields = formFields()
      const f = fields.find((x) => x.id === row.field)
      const ids = ['f' + (++uid), 'f' + (++uid), 'f' + (++uid)]
      const pick = el('select', { id: ids[0], 'data-rule-field': n })
      pick.append(el('option', { value: '', text: '—' }))
      fields.forEach((x) => pick.append(el('option', { value: x.id, text: `${x.title} (${x.id})`, selected: x.id === row.field })))
      const op = el('select', { id: ids[1], 'data-rule-op': n })
      opOptions(f && f.type).forEach(([v, text]) => op.append(el('option', { value: v, text, selected: v === row.op })))
      let value
      if (f && (f.type === 'single_choice' || f.type === 'multiple_choice' || f.type === 'yes_no' || f.type === 'check')) {
        value = el('select', { id: ids[2], 'data-rule-value': n })
        const choices = f.type === 'yes_no' ? [['yes', t('yes')], ['no', t('no')], ['na', t('na')]]
          : f.type === 'check' ? [['true', t('ticked')], ['false', t('not_ticked')]]
            : f.choices.map((c) => [c.value, (c.label || {})[cfg.lang] || c.value])
        choices.forEach(([v, text]) => value.append(el('option', { value: v, text, selected: String(row.value) === String(v) })))
        if (row.value === '' || row.value === undefined) row.value = choices.length ? choices[0][0] : ''
      } else {
        value = el('input', { id: ids[2], 'data-rule-value': n, autocomplete: 'off', inputmode: f && ['number', 'scale'].includes(f.type) ? 'decimal' : null })
        value.value = row.value ?? ''
      }
      pick.addEventListener('change', () => { row.field = pick.value; row.value = ''; update(); draw(false) })
      op.addEventListener('change', () => { row.op = op.value; update(); draw(false) })
      value.addEventListener(value.tagName === 'SELECT' ? 'change' : 'input', () => { row.value = value.value; update() })
      const unary = row.op === '!!' || row.op === '!'
      body.append(el('div', { class: 'ed-rule-row' },
        el('div', { class: 'ed-field' }, el('label', { for: ids[0], text: t('rule_field') }), pick),
        el('div', { class: 'ed-field' }, el('label', { for: ids[1], text: t('rule_op') }), op),
        unary ? null : el('div', { class: 'ed-field' }, el('label', { for: ids[2], text: t('rule_value') }), value),
        el('button', { type: 'button', class: 'ed-danger ed-small', 'aria-label': t('rule_remove'), onclick: () => { list.splice(n, 1); update(); draw(false) }, text: '×' })))
    })
    body.append(el('div', { class: 'ed-row-tools' },
      el('button', { type: 'button', class: 'ed-link', 'data-rule-add': pointer, onclick: () => { list.push({ field: '', op: '==', value: '' }); draw(false) }, text: t('rule_add') }),
      el('button', { type: 'button', class: 'ed-link', 'data-rule-json': pointer, onclick: () => draw(true), text: t('rule_as_json') })))
  }
  draw(false)
  return box
}

function party (label, pointer) {
  return el('fieldset', { class: 'ed-pair' }, el('legend', { text: label }),
    field(t('party_role'), pointer + '/role'),
    field(t('party_of'), pointer + '/of', { options: partyOf() }),
    el('p', { class: 'ed-error', 'data-error-for': pointer, hidden: true }))
}

function choicesEditor (pointer, scored) {
  const list = getAt(pointer) || []
  const box = el('fieldset', { class: 'ed-choices' }, el('legend', { text: t('choices') }))
  list.forEach((c, n) => {
    const p = `${pointer}/${n}`
    box.append(el('div', { class: 'ed-choice' },
      field(t('choice_value'), p + '/value'),
      field(t('lang_zh'), p + '/label/zh'), field(t('lang_en'), p + '/label/en'),
      scored ? field(t('choice_points'), p + '/points', { type: 'number' }) : null,
      el('button', { type: 'button', class: 'ed-danger ed-small', 'aria-label': t('delete', { what: c.value || n + 1 }), onclick: () => { list.splice(n, 1); changed(true) }, text: '×' })))
  })
  box.append(el('button', { type: 'button', class: 'ed-link', onclick: () => { const arr = getAt(pointer) || []; arr.push({ value: `c${arr.length + 1}`, label: { zh: `选项${arr.length + 1}`, en: `Choice ${arr.length + 1}` } }); setAt(pointer, arr); changed(true) }, text: t('choice_add') }),
  el('p', { class: 'ed-error', 'data-error-for': pointer, hidden: true }))
  return box
}

function itemEditor (item, list, n, base) {
  const p = `${base}/${n}`
  const title = (item.title || {})[cfg.lang] || item.id
  const details = el('details', { class: 'ed-item', 'data-item-at': p, open: item.__open })
  details.addEventListener('toggle', () => { Object.defineProperty(item, '__open', { value: details.open, enumerable: false, configurable: true, writable: true }) })
  details.append(el('summary', {}, el('span', { class: 'ed-item-title', text: title }), el('span', { class: 'ad-muted', text: ` · ${t('type_' + item.type)} · ${item.id}` }), el('span', { class: 'ed-flag', 'data-flag': p, hidden: true, text: '!' })))
  const standard = doc.kind === 'standard'
  const body = el('div', { class: 'ed-item-body' },
    el('div', { class: 'ed-grid' },
      field(t('item_id'), p + '/id'),
      field(t('item_type'), p + '/type', { options: typeOptions() }),
      field(t('required'), p + '/required', { type: 'checkbox' }),
      field(t('weight'), p + '/weight', { type: 'number', help: t('weight_help') })),
    localized(t('item_title'), p + '/title'),
    localized(t('item_help'), p + '/help', { type: 'textarea' }))
  const typed = el('div', { class: 'ed-grid' })
  if (item.type === 'scale' || item.type === 'number') typed.append(field(t('min'), p + '/min', { type: 'number' }), field(t('max'), p + '/max', { type: 'number' }))
  if (item.type === 'number') typed.append(field(t('integer'), p + '/integer', { type: 'checkbox' }))
  if (item.type === 'yes_no') typed.append(field(t('good'), p + '/good', { options: [['yes', t('yes')], ['no', t('no')]] }), field(t('allow_na'), p + '/allow_na', { type: 'checkbox' }))
  if (item.type === 'text') typed.append(field(t('max_length'), p + '/max_length', { type: 'number' }), field(t('multiline'), p + '/multiline', { type: 'checkbox' }))
  if (['multiple_choice', 'photo', 'group'].includes(item.type)) typed.append(field(t('min_count'), p + '/min_count', { type: 'number' }), field(t('max_count'), p + '/max_count', { type: 'number' }))
  body.append(typed)
  if (item.type === 'single_choice' || item.type === 'multiple_choice') body.append(choicesEditor(p + '/choices', item.type === 'single_choice'))
  const cond = sub(p + '#conditions', !!(item.visible_if || item.required_if || item.fail_if || item.evidence_if || item.score), t('conditions'),
    ruleEditor(t('visible_if'), p + '/visible_if', t('visible_if_help')),
    ruleEditor(t('required_if'), p + '/required_if'),
    standard ? ruleEditor(t('fail_if'), p + '/fail_if', t('fail_if_help')) : null,
    ruleEditor(t('evidence_if'), p + '/evidence_if'),
    ruleEditor(t('score_rule'), p + '/score', t('score_rule_help')))
  body.append(cond)
  if (standard) {
    body.append(sub(p + '#issue', !!(item.assign_to || item.problem || item.severity), t('item_issue'),
      el('div', { class: 'ed-grid' }, field(t('severity'), p + '/severity', { options: sevOptions() })),
      localized(t('problem'), p + '/problem'),
      party(t('assign_to'), p + '/assign_to'), party(t('verify_by'), p + '/verify_by')))
  }
  details.append(body)
  return el('li', { class: 'ed-li' }, moveButtons(list, n, base, title), details)
}

function sectionEditor (section, n) {
  const p = `/sections/${n}`
  const title = (section.title || {})[cfg.lang] || section.id
  const items = section.items || []
  const list = el('ol', { class: 'ed-items', 'data-items': p + '/items' })
  items.forEach((it, i) => list.append(itemEditor(it, items, i, p + '/items')))
  sortable(list, p + '/items')
  const add = el('div', { class: 'ed-add' })
  const sel = el('select', { id: 'f' + (++uid), 'data-add-type': p })
  typeOptions().forEach(([v, text]) => sel.append(el('option', { value: v, text, selected: v === 'yes_no' })))
  add.append(el('label', { for: sel.id, text: t('item_new_type') }), sel,
    el('button', { type: 'button', class: 'button secondary small', 'data-add-item': p, onclick: () => addItem(n, sel.value), text: t('item_add') }))
  return el('li', { class: 'ed-li ed-section' }, moveButtons(doc.sections, n, '/sections', title),
    el('div', { class: 'ed-section-body' },
      el('h3', { text: t('section_n', { n: n + 1 }) + ' · ' + title }),
      el('div', { class: 'ed-grid' }, field(t('section_id'), p + '/id')),
      localized(t('section_title'), p + '/title'),
      list, add, el('p', { class: 'ed-error', 'data-error-for': p + '/items', hidden: true })))
}

function addItem (sectionIndex, type) {
  const items = doc.sections[sectionIndex].items
  const item = { id: uniqueId('item'), type, title: { zh: t('new_item_zh'), en: t('new_item_en') } }
  if (type === 'scale') Object.assign(item, { min: 1, max: 5 })
  if (type === 'single_choice' || type === 'multiple_choice') item.choices = [{ value: 'a', label: { zh: '甲', en: 'A' } }, { value: 'b', label: { zh: '乙', en: 'B' } }]
  if (type === 'group') item.items = [{ id: uniqueId('item') + '_1', type: 'text', title: { zh: t('new_item_zh'), en: t('new_item_en') } }]
  if (['check', 'yes_no'].includes(type) && doc.kind === 'standard') item.weight = 1
  Object.defineProperty(item, '__open', { value: true, enumerable: false, configurable: true, writable: true })
  items.push(item)
  changed(true)
  requestAnimationFrame(() => { const f = root.querySelector(`[data-pointer="/sections/${sectionIndex}/items/${items.length - 1}/title/zh"]`); if (f) f.focus() })
}

function alertsEditor () {
  const list = doc.alerts || []
  const box = el('section', { class: 'fw-card ed-block' }, el('h2', { text: t('alerts') }), el('p', { class: 'ad-muted', text: t('alerts_help') }))
  const ol = el('ol', { class: 'ed-items' })
  list.forEach((a, n) => {
    const p = `/alerts/${n}`
    ol.append(el('li', { class: 'ed-li' }, moveButtons(list, n, '/alerts', a.code),
      el('div', { class: 'ed-item-body' },
        el('div', { class: 'ed-grid' }, field(t('alert_code'), p + '/code'), field(t('severity'), p + '/severity', { options: sevOptions() })),
        ruleEditor(t('alert_when'), p + '/when'),
        localized(t('alert_message'), p + '/message', { type: 'textarea' }))))
  })
  box.append(ol, el('button', { type: 'button', class: 'button secondary small', 'data-add-alert': '', onclick: () => { doc.alerts = list; list.push({ code: `alert_${list.length + 1}`, severity: 'medium', when: false, message: { zh: t('new_alert_zh'), en: t('new_alert_en') } }); changed(true) }, text: t('alert_add') }))
  return box
}

function drawForm () {
  const panel = $('[data-panel="form"]')
  if (!panel || !cfg.form_kind) return
  const scroll = window.scrollY
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.pointer : null
  panel.replaceChildren()
  const head = el('section', { class: 'fw-card ed-block' }, el('h2', { text: t('basics') }))
  if (cfg.is_new && !definitionId) head.append(field(t('definition_id'), '/id', { help: t('definition_id_help') }))
  head.append(localized(t('def_title'), '/title'), localized(t('description'), '/description', { type: 'textarea' }))
  if (doc.kind === 'standard') {
    head.append(field(t('site_kinds'), '/site_kinds', { parse: (v) => v.split(/[,，\s]+/).filter(Boolean), help: t('site_kinds_help') }))
    const sk = head.querySelector('[data-pointer="/site_kinds"]')
    sk.value = (doc.site_kinds || []).join(', ')
  } else {
    head.append(field(t('audience'), '/audience', { options: ['retailer', 'consumer', 'industry'].map((v) => [v, t('audience_' + v)]) }))
  }
  head.append(el('div', { class: 'ed-grid' },
    field(t('scoring_model'), '/scoring/model', { options: ['percentage', 'sum', 'mean'].map((v) => [v, t('model_' + v)]) }),
    field(t('pass_percentage'), '/pass_percentage', { type: 'number' })))
  panel.append(head)
  const sections = el('section', { class: 'fw-card ed-block' }, el('h2', { text: t('sections') }))
  const ol = el('ol', { class: 'ed-sections', 'data-sections': '' })
  ;(doc.sections || []).forEach((s, n) => ol.append(sectionEditor(s, n)))
  sortable(ol, '/sections')
  sections.append(ol, el('button', { type: 'button', class: 'button secondary small', 'data-add-section': '', onclick: () => { doc.sections.push({ id: uniqueId('section'), title: { zh: t('new_section_zh'), en: t('new_section_en') }, items: [{ id: uniqueId('item'), type: 'yes_no', title: { zh: t('new_item_zh'), en: t('new_item_en') }, weight: 1 }] }); changed(true) }, text: t('section_add') }))
  panel.append(sections)
  if (doc.kind === 'standard') {
    panel.append(alertsEditor())
    panel.append(el('section', { class: 'fw-card ed-block' }, el('h2', { text: t('issues') }), el('p', { class: 'ad-muted', text: t('issues_help') }),
      el('div', { class: 'ed-grid' },
        field(t('issues_per'), '/issues/per', { options: [['item', t('per_item')], ['submission', t('per_submission')]] }),
        field(t('default_severity'), '/issues/default_severity', { options: sevOptions() }),
        field(t('due_days'), '/issues/due_days', { type: 'number', parse: (v) => parseInt(v, 10) })),
      party(t('assign_to'), '/issues/assign_to'), party(t('verify_by'), '/issues/verify_by')))
  }
  showProblems()
  if (focused) { const f = panel.querySelector(`[data-pointer="${CSS.escape(focused)}"]`); if (f) f.focus() }
  window.scrollTo(0, scroll)
}

// -- the JSON view ----------------------------------------------------------------------------

let code = null
let fromCode = false

function serverLint () {
  return linter((view) => {
    const text = view.state.doc.toString()
    const found = []
    for (const p of problems) {
      const at = locate(text, p.pointer)
      found.push({ from: at, to: Math.min(text.length, at + 1), severity: 'error', message: `${p.pointer || '/'}: ${p.text || p.message}` })
    }
    return found
  }, { delay: 600 })
}

// where a pointer's value starts in the pretty JSON text (its key's line)
function locate (text, pointer) {
  if (!pointer) return 0
  const keys = pointer.slice(1).split('/')
  let at = 0
  let depthText = text
  for (const k of keys) {
    const m = /^\d+$/.test(k) ? null : depthText.indexOf(`"${k.replace(/~1/g, '/').replace(/~0/g, '~')}"`, at)
    if (m !== null && m >= 0) at = m
  }
  return at
}

function setUpCode () {
  const host = $('[data-code]')
  code = new EditorView({
    parent: host,
    doc: JSON.stringify(doc, null, 2),
    extensions: [EditorView.cspNonce.of(cfg.style_nonce || ''), basicSetup, json(), linter(jsonParseLinter()), serverLint(), lintGutter(),
      // Ctrl-Space (or a typed quote) offers what the kind's meta-schema allows here;
      // the descriptions are English, so only the English page shows them
      jsonLanguage.data.of({ autocomplete: schemaCompletion(cfg.schema_url, { words: t, describe: cfg.lang === 'en' }) }),
      EditorView.contentAttributes.of({ 'aria-label': t('tab_json') }),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged || fromCode) return
        try {
          doc = JSON.parse(u.state.doc.toString())
          changed(false, true)
        } catch (e) { status(t('json_bad'), true) }
      })]
  })
}

function syncCode () {
  if (!code) return
  const text = JSON.stringify(doc, null, 2)
  if (code.state.doc.toString() === text) return
  fromCode = true
  code.dispatch({ changes: { from: 0, to: code.state.doc.length, insert: text } })
  fromCode = false
}

// -- changes, validation, preview --------------------------------------------------------------

let validateTimer = null
let previewTimer = null
let previewGen = 0 // which preview the frame shows: only the latest one counts as fresh

function changed (redraw = false, fromJson = false) {
  dirty = true
  status(t('unsaved'))
  if (redraw) drawForm()
  if (!fromJson) syncCode()
  else if (!$('[data-panel="form"]')?.hidden) drawForm()
  clearTimeout(validateTimer)
  validateTimer = setTimeout(validate, 350)
  clearTimeout(previewTimer)
  root.dataset.previewing = 'true' // a fresh preview is coming (tests wait for it)
  previewTimer = setTimeout(() => { previewTimer = null; preview() }, 700)
}

async function validate () {
  const sent = JSON.stringify(doc)
  let answer
  try { answer = await call('POST', `/api/editor/check?lang=${cfg.lang}`, JSON.parse(sent)) } catch (e) { return }
  if (JSON.stringify(doc) !== sent) return // changed again since: the next answer counts
  problems = (answer.data && answer.data.errors) || []
  showProblems()
  if (code) code.dispatch({}) // the linter reads problems again
}

function showProblems () {
  root.querySelectorAll('.ed-error[data-error-for]').forEach((e) => { e.hidden = true; e.textContent = '' })
  root.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'))
  root.querySelectorAll('[data-flag]').forEach((e) => { e.hidden = true })
  const box = $('[data-problems]')
  const list = $('[data-problem-list]')
  list.replaceChildren()
  for (const p of problems) {
    const target = placeOf(fieldOf(p))
    if (target) {
      const note = target.note
      note.hidden = false
      note.textContent = (note.textContent ? note.textContent + ' ' : '') + (p.text || p.message)
      if (target.input) { target.input.setAttribute('aria-invalid', 'true'); target.input.setAttribute('aria-describedby', note.id || (note.id = 'e' + (++uid))) }
      const item = note.closest('[data-item-at]')
      if (item) { const flag = item.querySelector('[data-flag]'); if (flag) flag.hidden = false }
    }
    const link = el('a', { href: '#', 'data-problem': p.pointer, text: `${p.pointer || '/'} — ${p.text || p.message}` })
    link.addEventListener('click', (e) => { e.preventDefault(); goTo(fieldOf(p)) })
    list.append(el('li', {}, link))
  }
  box.hidden = problems.length === 0
  $('[data-problems-title]').textContent = t('problems', { n: problems.length })
  const publish = $('[data-publish]')
  if (publish) publish.setAttribute('aria-disabled', problems.length ? 'true' : 'false')
  root.dataset.problems = String(problems.length)
}

// "'en' is required here" at /title: the problem is the missing field's, /title/en
function fieldOf (problem) {
  const m = /'([^']+)' is required/.exec(problem.message || '')
  const inner = m ? `${problem.pointer}/${esc(m[1])}` : null
  return inner && root.querySelector(`.ed-error[data-error-for="${CSS.escape(inner)}"]`) ? inner : problem.pointer
}

// the field a pointer names, or the nearest one above it that has a place for errors
function placeOf (pointer) {
  let p = pointer
  for (;;) {
    const note = root.querySelector(`.ed-error[data-error-for="${CSS.escape(p)}"]`)
    if (note) return { note, input: root.querySelector(`[data-pointer="${CSS.escape(p)}"]`) }
    const zh = root.querySelector(`[data-pointer="${CSS.escape(p + '/zh')}"]`)
    if (zh && !p) return null
    if (!p) return null
    p = p.slice(0, p.lastIndexOf('/'))
  }
}

function goTo (pointer) {
  const place = placeOf(pointer)
  if (!place || $('[data-panel="form"]').hidden) { showTab('json'); return }
  let d = place.note.closest('details')
  while (d) { d.open = true; d = d.parentElement.closest('details') }
  const target = place.input || place.note.parentElement.querySelector('input, select, textarea') || place.note
  target.scrollIntoView({ block: 'center' })
  target.focus()
}

async function preview () {
  const frame = $('[data-preview]')
  if (!frame) return
  root.dataset.previewing = 'true'
  const mine = ++previewGen
  const { response, data } = await call('POST', '/admin/definitions/preview', { content: doc, lang: previewLang })
  if (mine !== previewGen) return // a later preview was asked for meanwhile
  if (!response.ok || typeof data !== 'string') { root.dataset.previewing = 'false'; return }
  frame.dataset.gen = String(mine)
  frame.srcdoc = data
}

// The preview's form posts its answers to the dry run; the working copy goes with them
// (the form knows only its answers), and the answer is shown on the bench too.
function wire (frame) {
  frame.addEventListener('load', () => {
    if (!previewTimer && Number(frame.dataset.gen) === previewGen) root.dataset.previewing = 'false'
    const w = frame.contentWindow
    if (!w) return
    const original = w.fetch.bind(w)
    w.fetch = async (url, options = {}) => {
      if (String(url).startsWith('/api/editor/dry-run') && options.body) {
        const body = JSON.parse(options.body)
        body.content = doc
        const site = ($('[data-bench-site]')?.value || '').trim()
        if (site) body.site_code = site // the issues' persons, as at that site
        options = { ...options, body: JSON.stringify(body) }
        const response = await original(url, options)
        response.clone().json().then((answer) => bench(response.ok ? answer : null, body, answer)).catch(() => {})
        return response
      }
      return original(url, options)
    }
  })
}

// -- the test bench and the test cases ----------------------------------------------------------

// a rule's words, and at a sample site the person it finds there ("— nobody" if none)
function named (rule, found) {
  if (found === undefined) return rule
  return found ? t('bench_person', { rule, name: found.name }) : t('bench_nobody', { rule })
}

function bench (result, body, problem) {
  const out = $('[data-bench-result]')
  out.replaceChildren()
  lastRun = result ? { body: { answers: body.answers || {}, evidence: body.evidence || {} }, result } : null
  $('[data-case-save]').disabled = !lastRun || !definitionId
  if (!result) {
    out.append(el('p', { class: 'is-error', text: t('bench_invalid') }))
    const ul = el('ul')
    for (const e of (problem && problem.errors) || []) ul.append(el('li', { text: `${e.pointer}: ${e.message}` }))
    out.append(ul)
    return
  }
  const s = result.shown || {}
  out.append(el('p', { class: 'ed-score', 'data-bench-score': '' }, el('strong', { text: t('bench_score') + ' ' }), (s.total && s.total.line) || '—', s.verdict ? ` · ${s.verdict}` : ''))
  out.append(el('details', {}, el('summary', { text: t('bench_explanation') }), el('pre', { class: 'ed-explain', text: result.explanation || '' })))
  const failed = result.failed || []
  out.append(el('h3', { text: t('bench_failed', { n: failed.length }) }))
  const fl = el('ul', { 'data-bench-failed': '' })
  failed.forEach((f) => fl.append(el('li', { text: `${(f.problem || {})[previewLang] || f.item} (${t('severity_' + f.severity)})` })))
  out.append(fl)
  const alerts = result.alerts || []
  out.append(el('h3', { text: t('bench_alerts', { n: alerts.length }) }))
  const al = el('ul', { 'data-bench-alerts': '' })
  alerts.forEach((a) => al.append(el('li', { text: `${(a.message || {})[previewLang] || a.code} (${t('severity_' + a.severity)})` })))
  out.append(al)
  const issues = result.issues || []
  out.append(el('h3', { text: t('bench_issues', { n: issues.length }) }))
  const il = el('ul', { 'data-bench-issues': '' })
  issues.forEach((i) => il.append(el('li', { text: t('bench_issue_line', { title: i.title, severity: t('severity_' + i.severity), who: named(i.assign_text, i.assignee), verify: named(i.verify_text, i.assigner), due: i.due.days ? t('due_days_n', { n: i.due.days }) : t('due_hours_n', { n: i.due.hours }) }) })))
  out.append(il)
}

async function loadCases () {
  if (!definitionId || !cfg.form_kind) { drawCases([]); return }
  const { response, data } = await call('GET', `/api/editor/${encodeURIComponent(definitionId)}/test-cases`)
  cases = response.ok ? data : []
  drawCases([])
}

function drawCases (ran) {
  const box = $('[data-cases]')
  if (!box) return
  box.replaceChildren()
  if (!cases.length) { box.append(el('p', { class: 'ad-muted', text: t('cases_none') })); return }
  const ul = el('ul', { class: 'ed-cases' })
  cases.forEach((c, n) => {
    const r = ran.find((x) => x.name === c.name)
    const state = r ? (r.passed ? t('case_passed') : t('case_failed', { got: r.error || `${r.got.score ?? '—'} / ${(r.got.failed || []).join(', ') || '—'}` })) : ''
    ul.append(el('li', { 'data-case': c.name, 'data-passed': r ? String(r.passed) : null },
      el('strong', { text: c.name }), ' ', el('span', { class: 'ad-muted', text: t('case_expected', { score: c.expected.score ?? '—', failed: (c.expected.failed || []).join(', ') || '—' }) }),
      state ? el('span', { class: r.passed ? 'ed-ok' : 'is-error', text: ' ' + state }) : null,
      el('button', { type: 'button', class: 'ed-danger ed-small', 'aria-label': t('delete', { what: c.name }), onclick: () => saveCases(cases.filter((_, i) => i !== n)), text: '×' })))
  })
  box.append(ul)
}

async function saveCases (list) {
  const { response, data } = await call('PUT', `/api/editor/${encodeURIComponent(definitionId)}/test-cases`, list.map((c) => ({ name: c.name, body: c.body, expected: c.expected })))
  if (!response.ok) { status(problemText(data), true); return false }
  cases = data
  drawCases([])
  return true
}

async function runCases () {
  if (!definitionId) return []
  const { response, data } = await call('POST', `/api/editor/${encodeURIComponent(definitionId)}/test-cases/run?lang=${cfg.lang}`, { content: doc })
  const ran = response.ok ? data : []
  drawCases(ran)
  return ran
}

function problemText (data) {
  if (!data || typeof data !== 'object') return t('failed')
  const errs = (data.errors || []).map((e) => `${e.pointer}: ${e.message}`).join('; ')
  return [data.detail || data.title, errs].filter(Boolean).join(' — ')
}

// -- save and publish ------------------------------------------------------------------------------

async function save () {
  if (!definitionId) {
    if (!doc.id) { status(t('id_first'), true); goTo('/id'); return false }
    definitionId = doc.id
  }
  status(t('saving'))
  const { response, data } = await call('PUT', `/api/definitions/${encodeURIComponent(definitionId)}/draft`, doc)
  if (!response.ok) {
    if (cfg.is_new && !number) definitionId = null
    status(t('save_failed', { why: problemText(data) }), true)
    return false
  }
  number = data.number
  dirty = false
  status(t('saved', { n: number }))
  if (cfg.is_new) { history.replaceState(null, '', `/admin/definitions/${encodeURIComponent(definitionId)}/edit?lang=${cfg.lang}`); cfg.is_new = false; drawForm(); loadCases() }
  $('[data-case-save]') && ($('[data-case-save]').disabled = !lastRun)
  meta('draft')
  return true
}

async function publish () {
  if (problems.length) { status(t('publish_has_problems', { n: problems.length }), true); $('[data-problems]').focus(); return }
  if ((dirty || !number) && !(await save())) return
  status(t('publishing'))
  const { response, data } = await call('POST', `/api/editor/${encodeURIComponent(definitionId)}/versions/${number}/publish?lang=${cfg.lang}`)
  if (!response.ok) {
    status(t('publish_refused', { why: problemText(data) }), true)
    if (definitionId) runCases()
    return
  }
  drawCases(data.test_cases || [])
  status(t('published', { n: data.number }))
  meta('published')
}

function meta (state) {
  const m = $('[data-meta]')
  if (!definitionId) { m.textContent = t('meta_new'); return }
  m.textContent = t('meta', { id: definitionId, n: number ?? '—', state: t('state_' + (state || cfg.status || 'draft')) })
}

function showTab (name) {
  root.querySelectorAll('[data-tab]').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === name)))
  root.querySelectorAll('[data-panel]').forEach((p) => { p.hidden = p.dataset.panel !== name })
  if (name === 'json') { if (!code) setUpCode(); syncCode() } else drawForm()
}

// -- start -------------------------------------------------------------------------------------------

async function start () {
  try {
    const { data } = await call('GET', '/api/rules/operations')
    if (Array.isArray(data)) ops.push(...data)
  } catch (e) { /* the builder offers the comparisons it knows */ }
  root.querySelectorAll('[data-tab]').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)))
  $('[data-save]').addEventListener('click', save)
  $('[data-publish]')?.addEventListener('click', publish)
  root.querySelectorAll('[data-preview-lang]').forEach((b) => b.addEventListener('click', () => {
    previewLang = b.dataset.previewLang
    root.querySelectorAll('[data-preview-lang]').forEach((x) => x.setAttribute('aria-pressed', String(x === b)))
    preview()
  }))
  const frame = $('[data-preview]')
  if (frame) wire(frame)
  $('[data-case-save]')?.addEventListener('click', async () => {
    const name = $('[data-case-name]').value.trim()
    if (!name) { status(t('case_name_first'), true); $('[data-case-name]').focus(); return }
    if (!lastRun) return
    const expected = { score: lastRun.result.score ? lastRun.result.score.value ?? null : null, failed: (lastRun.result.failed || []).map((f) => f.item).sort() }
    if (await saveCases([...cases.filter((c) => c.name !== name), { name, body: lastRun.body, expected }])) {
      status(t('case_saved', { name }))
      $('[data-case-name]').value = ''
    }
  })
  $('[data-cases-run]')?.addEventListener('click', runCases)
  window.addEventListener('beforeunload', (e) => { if (dirty) { e.preventDefault(); e.returnValue = '' } })
  meta()
  if (cfg.form_kind) drawForm(); else { setUpCode() }
  loadCases()
  validate()
  preview()
  root.dataset.ready = 'true'
}

start()
