// A standard or survey evaluated in the browser: what the server's rounds.rules gives for the
// same answers, so that a form can show the score, the outcome and the failed checks as the
// answers change, before anything is sent.
//
// evaluateDefinition(definition, answers, ctx, options) gives the JSON of
// compile_standard(definition).evaluate(answers, ctx) (msgspec.to_builtins of an Evaluation):
// kept answers, calculated values, visibility, required-ness, evidence, group entries, failed
// checks between fields, failed items, the score in its model with its line per item,
// outcomes, alerts, and the rules that raised. Numbers are the server's to the bit: nothing is
// rounded, and sums add the same floats in the same order (scoring.py). Each function
// below follows its namesake in platform/rounds/rules (evaluation.py, scoring.py,
// standards.py, analysis.py, alerts.py); tests/browser/test_standard_parity.py compares the
// two on random answers, to the bit.
//
// Pure: no page, no DOM. Rules run through rules.js's evaluate. What only depends on the
// definition (the order items settle in, which items read the score, weights and points,
// outcomes' levels) is worked out once per definition object and kept in a WeakMap.
//
// Words a filled message uses (true/false, the list separator, yes/no/N/A) come from the
// server's scoring catalogue: options.words = {zh: {"value.true": ...}, en: {...}} (the form
// page's config has it). Without them a message shows the catalogue keys.

import { evaluate } from './rules.js'
import { has, isDict, isList, isNumber, truthy, varPath } from './rules-semantics.js'

const DEFAULT_WEIGHTED = new Set(['check', 'yes_no', 'scale', 'single_choice'])
const NA_TYPES = new Set(['yes_no', 'scale'])
const RULE_FIELDS = ['visible_if', 'required_if', 'evidence_if', 'fail_if', 'score', 'calculate']
const MISSING = '—' // what a placeholder shows when the data has no value there
const LANGUAGES = ['zh', 'en'] // rounds.i18n.LANGUAGES: the default language first

// -- Python's values, where JSON alone does not say ---------------------------------------

// An own value of a JSON object (never one of Object.prototype's), or undefined.
const own = (o, k) => (isDict(o) && has(o, k)) ? o[k] : undefined

// Python's str() of a JSON value used as an id or a key (ids are strings in a valid
// definition; this keeps the odd one from breaking the page).
function pyStr (v) {
  if (v === null || v === undefined) return 'None'
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  return String(v)
}

// structure.as_number: a JSON number as a float; null for anything else (booleans included).
const asNumber = (v) => isNumber(v) ? v : null

// Python's max(a, b) and min(a, b): the first argument unless the second is strictly beyond
// it (Math.max would give NaN for NaN, and +0 for max(-0, 0)).
const pyMax = (a, b) => b > a ? b : a
const pyMin = (a, b) => b < a ? b : a

// alerts.round_half_up: round the shortest decimal form of the float half away from zero, as
// Python's Decimal(repr(x)).quantize(..., ROUND_HALF_UP) does. String(x) has the same
// shortest digits as Python's repr, written differently (1e-7, 1e+21), so digits and exponent
// are read from it and the rounding is done on the digits.
export function roundHalfUp (x, digits) {
  if (!Number.isFinite(x)) return x
  const negative = x < 0 || Object.is(x, -0)
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(Math.abs(x)))
  const mantissa = m[1] + (m[2] || '')
  const point = m[1].length + Number(m[3] || 0) // digits before the decimal point
  const cut = point + digits // how many leading digits are kept
  let units = 0n
  if (cut > 0) {
    const kept = mantissa.slice(0, cut).padEnd(cut, '0')
    units = BigInt(kept)
    if (cut < mantissa.length && mantissa.charCodeAt(cut) >= 53) units += 1n // '5' or more
  } else if (cut === 0 && mantissa.charCodeAt(0) >= 53) {
    units = 1n
  }
  const result = Number(`${units}e${-digits}`)
  return negative ? -result : result
}

// -- analysis.reads: which items a rule reads ---------------------------------------------

// Only what the settle order needs: the dotted paths a rule reads, whether each is computed
// when the rule runs (dynamic), and whether it lies under a sequence that is not a data path
// (a leading '?'). Frames as analysis.py's: ['data', base], ['reduce', base], ['none'].
const UNKNOWN = '?'
const ITERATIONS = new Set(['map', 'filter', 'all', 'some', 'none'])
const ROOT = ['data', '']
const NONE = ['none', null]

const isKey = (k) => typeof k === 'string' || (isNumber(k) && Number.isInteger(k))
const isScalarKey = (k) => typeof k === 'string' || isNumber(k)
const isOp = (node) => isDict(node) && Object.keys(node).length === 1

function join (base, keys) {
  const parts = base === '' ? [] : [base === null ? UNKNOWN : base]
  return parts.concat(keys.map(String)).join('.')
}

function pathIn ([kind, base], keys) {
  if (kind === 'data') return join(base, keys)
  if (kind === 'reduce' && keys.length && keys[0] === 'current') return join(base, keys.slice(1))
  return null // the accumulator, an index, an error: not the submitted data
}

const scopeOf = (frames, up) => frames[Math.max(0, frames.length - 1 - up)]

function valSpec (args) {
  if (isScalarKey(args)) return [0, [args]]
  if (args === null) return [0, []]
  if (!isList(args)) return null
  let keys = args
  let up = 0
  if (keys.length && isList(keys[0])) {
    const level = keys[0]
    if (level.length !== 1 || !isNumber(level[0]) || !Number.isInteger(level[0])) return null
    up = Math.abs(level[0])
    keys = keys.slice(1)
  }
  return keys.every(isKey) ? [up, keys] : null
}

export function reads (rule) {
  const out = []
  const read = (frame, keys, dynamic = false) => {
    const path = pathIn(frame, keys)
    if (path !== null) out.push({ path, dynamic })
  }

  const staticPath = (node, frames) => {
    if (!isOp(node)) return null
    const [[op, args]] = Object.entries(node)
    if (op === 'var') {
      let path = isList(args) && args.length ? args[0] : args
      if (isList(args) && !args.length) path = null
      if (path === null || path === '') return pathIn(frames.at(-1), [])
      if (typeof path === 'string') return pathIn(frames.at(-1), path.split('.'))
      if (isNumber(path)) return pathIn(frames.at(-1), [path])
      return null
    }
    if (op === 'val') {
      const spec = valSpec(args)
      return spec === null ? null : pathIn(scopeOf(frames, spec[0]), spec[1])
    }
    return null
  }

  const element = (seq, frames) => {
    const path = staticPath(seq, frames)
    if (path !== null) return join(path, ['*'])
    if (isOp(seq)) {
      const [[op, args]] = Object.entries(seq)
      if (op === 'filter' && isList(args) && args.length === 2) return element(args[0], frames)
    }
    return null
  }

  const key = (node, here, frames) => {
    if (typeof node === 'string') read(here, node.split('.'))
    else if (isNumber(node)) read(here, [node])
    else if (isDict(node) && Object.keys(node).length) {
      walk(node, frames)
      read(here, [], true)
    }
  }

  const walkVar = (args, frames) => {
    let path = args
    if (isList(args)) {
      if (!args.length) return read(frames.at(-1), [])
      path = args[0]
      if (!(isDict(path) || isList(path)) && args.length > 1) walk(args[1], frames)
    }
    if (isDict(path) || isList(path)) {
      walk(args, frames)
      return read(frames.at(-1), [], true)
    }
    if (path === null || path === '') return read(frames.at(-1), [])
    if (!isScalarKey(path)) return
    read(frames.at(-1), typeof path === 'string' ? path.split('.') : [path])
  }

  const walkVal = (args, frames) => {
    const spec = valSpec(args)
    if (spec !== null) return read(scopeOf(frames, spec[0]), spec[1])
    if (isList(args) && args.length && isList(args[0])) return // the compiler rejects it
    walk(args, frames)
    const prefix = []
    for (const k of isList(args) ? args : []) {
      if (!isKey(k)) break
      prefix.push(k)
    }
    read(frames.at(-1), prefix, true)
  }

  const walkMissing = (op, args, frames) => {
    const here = frames.at(-1)
    if (isDict(args) && Object.keys(args).length) { // the key list is computed
      walk(args, frames)
      return read(here, [], true)
    }
    const nodes = isList(args) ? args.map((n, i) => [i, n]) : [[null, args]]
    if (op === 'missing_some') {
      for (const [i, node] of nodes) {
        if (i === 1 && isList(node)) {
          for (const k of node) key(k, here, frames)
        } else {
          walk(node, frames)
          if (i === 1 && isDict(node)) read(here, [], true)
        }
      }
      return
    }
    if (nodes.length && isList(nodes[0][1])) { // {"missing": [["a", "b"]]}
      for (const k of nodes[0][1]) key(k, here, frames)
      for (const [, node] of nodes.slice(1)) walk(node, frames)
      return
    }
    for (const [, node] of nodes) key(node, here, frames)
  }

  const walk = (node, frames) => {
    if (isList(node)) {
      for (const x of node) walk(x, frames)
      return
    }
    if (!isOp(node)) return // a literal
    const [[op, args]] = Object.entries(node)
    if (op === 'var') walkVar(args, frames)
    else if (op === 'val' || op === 'exists') walkVal(args, frames)
    else if (op === 'missing' || op === 'missing_some') walkMissing(op, args, frames)
    else if (op === 'preserve') return
    else if (ITERATIONS.has(op) && isList(args) && args.length === 2) {
      walk(args[0], frames)
      walk(args[1], [...frames, NONE, ['data', element(args[0], frames)]])
    } else if (op === 'reduce' && isList(args) && (args.length === 2 || args.length === 3)) {
      walk(args[0], frames)
      if (args.length === 3) walk(args[2], frames)
      walk(args[1], [...frames, NONE, ['reduce', element(args[0], frames)]])
    } else if (op === 'try' && isList(args)) {
      args.forEach((a, i) => walk(a, i === 0 ? frames : [...frames, NONE, NONE]))
    } else {
      walk(args, frames)
    }
  }

  walk(rule, [ROOT])
  return out
}

// -- compiling: standards.py ----------------------------------------------------------------

const localized = (v) => isDict(v)
  ? Object.fromEntries(Object.entries(v).filter(([, t]) => typeof t === 'string'))
  : {}

function subItems (item, ptr) {
  const subs = item.items
  if (item.type !== 'group' || !isList(subs)) return null
  return subs.map((s, j) => [s, `${ptr}/items/${j}`]).filter(([s]) => isDict(s))
}

// The settle order of one level (standards._plan), into plans[key]: each item after the
// items its visible_if or calculate reads, ties in document order. A group waits for what its
// entries read outside it. Returns the reads that name no item of this level (the level
// above orders its group by them). Cycles are the validator's to report: their items go last.
function plan (entries, key, plans) {
  const index = new Map()
  entries.forEach(([item], n) => { if (!index.has(item.id)) index.set(item.id, n) })
  const deps = entries.map(() => new Set())
  const external = []
  const edge = (x, root, kind) => {
    const y = index.get(root)
    if (y === undefined) external.push([kind, root])
    else if (y !== x || kind === 'calculate') deps[x].add(y) // visible_if may read its own answer
  }
  entries.forEach(([item, ptr], x) => {
    for (const kind of ['visible_if', 'calculate']) {
      const rule = own(item, kind)
      if (rule === null || rule === undefined) continue
      for (const r of reads(rule)) {
        if (r.path && !r.dynamic && !r.path.startsWith(UNKNOWN)) edge(x, r.path.split('.')[0], kind)
      }
    }
    const subs = subItems(item, ptr)
    if (subs !== null) {
      for (const [kind, root] of plan(subs, ptr, plans)) {
        if (index.get(root) !== x) edge(x, root, kind) // an entry reading its own group
      }
    }
  })
  const waiting = deps.map((d) => d.size)
  const users = entries.map(() => [])
  deps.forEach((d, x) => { for (const y of d) users[y].push(x) })
  const ready = waiting.flatMap((w, x) => w === 0 ? [x] : [])
  const order = []
  while (ready.length) {
    ready.sort((a, b) => a - b) // among items ready together, document order
    const y = ready.shift()
    order.push(y)
    for (const x of users[y]) if (--waiting[x] === 0) ready.push(x)
  }
  plans.set(key, order.concat(waiting.flatMap((w, x) => w > 0 ? [x] : [])))
  return external
}

// alerts.param_rule: a template param as [its rule, the item path whose labels show].
function paramRule (spec) {
  const isLabels = isDict(spec) && has(spec, 'labels') &&
    Object.keys(spec).every((k) => k === 'labels' || k === 'value')
  if (!isLabels) return [spec, null, '']
  const path = pyStr(spec.labels)
  if (has(spec, 'value')) return [spec.value, path, '/value']
  const dot = path.indexOf('.')
  const rule = dot >= 0
    ? { map: [{ var: path.slice(0, dot) }, { var: path.slice(dot + 1) }] }
    : { var: path }
  return [rule, path, '/labels']
}

// alerts.item_labels: the labels of an item's answers by code; null for an item without.
function itemLabels (item, words) {
  if (!isDict(item)) return null
  const kind = item.type
  if (kind === 'single_choice' || kind === 'multiple_choice') {
    return Object.fromEntries((item.choices || []).filter(isDict).map(
      (c) => [pyStr(c.value), isDict(c.label) ? { ...c.label } : {}]))
  }
  if (kind === 'yes_no') {
    return Object.fromEntries(['yes', 'no', 'na'].map((a) => [a, Object.fromEntries(
      LANGUAGES.map((lang) => [lang, word(words, lang, `answer.${a}`)]))]))
  }
  if (kind === 'scale' && isDict(item.labels)) {
    return Object.fromEntries(Object.entries(item.labels).filter(([, v]) => isDict(v)).map(
      ([k, v]) => [k, { ...v }]))
  }
  return null
}

function itemsByPath (definition) {
  const out = new Map()
  for (const sec of isList(definition.sections) ? definition.sections : []) {
    for (const it of isDict(sec) && isList(sec.items) ? sec.items : []) {
      if (!isDict(it)) continue
      out.set(pyStr(it.id), it)
      if (it.type === 'group') {
        for (const sub of isList(it.items) ? it.items : []) {
          if (isDict(sub)) out.set(`${it.id}.${sub.id}`, sub)
        }
      }
    }
  }
  return out
}

function template (v, base, paths, words) {
  const params = []
  const raw = isDict(v) ? v.params : undefined
  for (const [name, spec] of isDict(raw) ? Object.entries(raw) : []) {
    const [rule, labelsOf, below] = paramRule(spec)
    const labels = labelsOf === null ? null : (itemLabels(paths.get(labelsOf), words) || {})
    params.push({ name, rule: placed(rule, `${base}/params/${name}${below}`), labels })
  }
  const texts = Object.fromEntries(
    Object.entries(localized(v)).filter(([lang]) => LANGUAGES.includes(lang)))
  return { texts, params }
}

const placed = (rule, pointer) => ({ rule: rule === undefined ? null : rule, pointer })

const MODELS = ['percentage', 'sum', 'mean']
const DIRECTIONS = ['higher_better', 'lower_better']
const NUMERIC_VALUE = /^-?[0-9]+(\.[0-9]+)?$/ // a choice value that is a number: "2", "1.5"

// scoring.score_model: a `scoring` object (of the definition, or of a section over `base`);
// fields missing or of the wrong kind keep the default (the validator reports them).
function scoreModel (spec, base = { model: 'percentage', direction: 'higher_better', min_answered: 0, digits: 1 }) {
  const s = isDict(spec) ? spec : {}
  const n = asNumber(s.min_answered)
  const d = asNumber(s.digits)
  return {
    model: MODELS.includes(s.model) ? s.model : base.model,
    direction: DIRECTIONS.includes(s.direction) ? s.direction : base.direction,
    min_answered: n !== null && n >= 0 ? Math.trunc(n) : base.min_answered,
    digits: d !== null && d >= 0 && d <= 4 ? Math.trunc(d) : base.digits
  }
}

// scoring.item_scoring: how one item scores. `weight` is the most it can give (its weight,
// or for absolute points the highest it can give, `least` the lowest); `choices` maps each
// choice value to its fraction of the weight, or for an absolute item to its points (null:
// scores nothing); `scores`: listed in the explanation; `numbers`: for a single_choice with
// points: "value", each choice's number → its value string (an answer sent as a number).
function itemScoring (item, kind, rules, scored, top) {
  const choices = (isList(item.choices) ? item.choices : []).filter(
    (c) => isDict(c) && typeof c.value === 'string')
  const byValue = item.points === 'value' && (kind === 'scale' || kind === 'single_choice')
  const absolute = byValue || (kind === 'single_choice' && choices.some((c) => has(c, 'points')))
  const good = (kind === 'yes_no' && (item.good === 'yes' || item.good === 'no')) ||
    (kind === 'check' && typeof item.good === 'boolean')
    ? item.good
    : null
  const reverse = item.reverse === true && (kind === 'scale' || kind === 'single_choice')
  const eligible = scored && top && kind !== 'group'
  if (!absolute) {
    const fractions = new Map(choices.map((c) => [c.value, asNumber(c.score)]))
    const w = asNumber(item.weight)
    let weight = 0
    if (eligible) weight = w !== null && w >= 0 ? w : (DEFAULT_WEIGHTED.has(kind) ? 1 : 0)
    const canScore = 'score' in rules || ['check', 'yes_no', 'scale'].includes(kind) ||
      (kind === 'single_choice' && [...fractions.values()].some((f) => f !== null))
    return { weight, scores: weight > 0 && canScore && eligible, choices: fractions, absolute, least: 0, reverse, good, numbers: null }
  }
  const points = new Map()
  let numbers = null
  let most = null
  let least = null
  if (kind === 'scale') {
    const lo = asNumber(item.min)
    const hi = asNumber(item.max)
    if (lo !== null && hi !== null) [most, least] = [hi, lo]
  } else {
    if (byValue) {
      numbers = new Map(choices.filter((c) => NUMERIC_VALUE.test(c.value)).map((c) => [Number(c.value), c.value]))
    }
    for (const c of choices) { // an explicit choice's points win, null scoring nothing
      if (has(c, 'points')) points.set(c.value, asNumber(c.points))
      else points.set(c.value, byValue && NUMERIC_VALUE.test(c.value) ? Number(c.value) : null)
    }
    const given = [...points.values()].filter((p) => p !== null)
    if (given.length) [most, least] = [given.reduce(pyMax), given.reduce(pyMin)]
  }
  if (most === null || least === null) {
    return { weight: 0, scores: false, choices: points, absolute, least: 0, reverse: false, good, numbers }
  }
  const off = asNumber(item.weight) === 0 // "weight": 0 still says: this does not score
  return { weight: most, scores: eligible && !off, choices: points, absolute, least, reverse, good, numbers }
}

// standards._forces: the outcome levels an item forces when it fails.
const forcesOf = (v) => isDict(v)
  ? Object.fromEntries(Object.entries(v).filter(([, t]) => typeof t === 'string'))
  : {}

// The items of one level; `late` (top level only): ids of the items settled after scoring.
function buildLevel (entries, key, sections, c, top, late = new Set()) {
  const items = entries.map(([item, ptr], n) => {
    const kind = pyStr(item.type ?? '')
    const rules = {}
    for (const name of RULE_FIELDS) {
      const rule = own(item, name)
      if (rule !== null && rule !== undefined) rules[name] = placed(rule, `${ptr}/${name}`)
    }
    const lo = asNumber(item.min)
    const hi = asNumber(item.max)
    const sc = itemScoring(item, kind, rules, c.scored, top)
    const ev = isDict(item.evidence) ? item.evidence : {}
    const subs = subItems(item, ptr)
    return {
      id: pyStr(item.id),
      type: kind,
      section: sections[n],
      pointer: ptr,
      title: localized(item.title),
      required: item.required === true,
      ...sc, // weight, scores, choices, absolute, least, reverse, good, numbers
      scale: lo !== null && hi !== null ? [lo, hi] : null,
      evidence: { photo_min: Math.trunc(Number(has(ev, 'photo_min') ? ev.photo_min : 1)), note: ev.note === true },
      severity: pyStr(item.severity || c.severity),
      rules,
      sub: subs === null ? null : buildLevel(subs, ptr, subs.map(() => sections[n]), c, false),
      problem: isDict(item.problem) ? template(item.problem, `${ptr}/problem`, c.paths, c.words) : null,
      forces: forcesOf(item.forces)
    }
  })
  const order = (c.plans.get(key) || items.map((_, i) => i)).map((i) => items[i])
  return {
    items,
    order: order.filter((it) => !late.has(it.id)),
    ids: new Set(items.map((it) => it.id)),
    late: order.filter((it) => late.has(it.id))
  }
}

// -- reading the score: what settles after scoring (standards._late) --------------------------

// The roots a top-level item's settling reads through `calculate`: its own, or for a group
// every calculate inside its entries (the group's own item ids left out).
function calcRoots (item) {
  const rules = []
  const inner = new Set()
  const walk = (it) => {
    if (it.calculate !== null && it.calculate !== undefined) rules.push(it.calculate)
    for (const sub of it.type === 'group' && isList(it.items) ? it.items : []) {
      if (isDict(sub)) {
        inner.add(pyStr(sub.id))
        walk(sub)
      }
    }
  }
  walk(item)
  const roots = new Set()
  for (const rule of rules) {
    for (const r of reads(rule)) {
      if (r.path && !r.dynamic && !r.path.startsWith(UNKNOWN)) roots.add(r.path.split('.')[0])
    }
  }
  for (const id of inner) roots.delete(id)
  return roots
}

// The top-level items that settle after scoring: a calculate reading `score`, or reading an
// item that does (the validator rules out everything else reading them: score_cycle).
function lateItems (top) {
  const roots = new Map(top.map(([item]) => [pyStr(item.id), calcRoots(item)]))
  const late = new Set()
  let changed = true
  while (changed) {
    changed = false
    for (const [id, rs] of roots) {
      if (late.has(id)) continue
      if (rs.has('score') || [...rs].some((r) => late.has(r))) {
        late.add(id)
        changed = true
      }
    }
  }
  return late
}

// standards._outcomes: each outcome's levels; a level without criteria is the fallback,
// unless some item forces it (then it is reached only by force).
function outcomesOf (definition, level, c) {
  const forced = new Set()
  const collect = (lv) => {
    for (const it of lv.items) {
      for (const [o, l] of Object.entries(it.forces)) forced.add(JSON.stringify([o, l]))
      if (it.sub) collect(it.sub)
    }
  }
  collect(level)
  const out = []
  ;(isList(definition.outcomes) ? definition.outcomes : []).forEach((o, oi) => {
    if (!isDict(o)) return
    const oid = pyStr(o.id)
    const levels = []
    ;(isList(o.levels) ? o.levels : []).forEach((lv, li) => {
      if (!isDict(lv)) return
      const base = `/outcomes/${oi}/levels/${li}`
      const low = asNumber(lv.min)
      const high = asNumber(lv.max)
      const hasWhen = lv.when !== null && lv.when !== undefined
      const lid = pyStr(lv.id)
      levels.push({
        id: lid,
        pointer: base,
        label: localized(lv.label),
        low,
        high,
        when: hasWhen ? placed(lv.when, `${base}/when`) : null,
        passed: typeof lv.passed === 'boolean' ? lv.passed : null,
        message: isDict(lv.message) ? template(lv.message, `${base}/message`, c.paths, c.words) : null,
        forcedOnly: low === null && high === null && !hasWhen && forced.has(JSON.stringify([oid, lid]))
      })
    })
    out.push({
      id: oid,
      title: localized(o.title),
      of: o.of === null || o.of === undefined || o.of === 'total' ? null : pyStr(o.of),
      levels
    })
  })
  return out
}

// StandardRules._forces: every item's forces by its id, at any depth.
function forcesById (level) {
  const out = new Map()
  const todo = [level]
  while (todo.length) {
    const lv = todo.pop()
    for (const it of lv.items) {
      if (Object.keys(it.forces).length) out.set(it.id, it.forces)
      if (it.sub) todo.push(it.sub)
    }
  }
  return out
}

function compile (definition, words) {
  const top = []
  const topSections = []
  const sections = isList(definition.sections) ? definition.sections : []
  sections.forEach((sec, si) => {
    if (!isDict(sec)) return
    ;(isList(sec.items) ? sec.items : []).forEach((item, j) => {
      if (isDict(item)) {
        top.push([item, `/sections/${si}/items/${j}`])
        topSections.push(pyStr(sec.id))
      }
    })
  })
  const plans = new Map()
  plan(top, '', plans)
  const issues = isDict(definition.issues) ? definition.issues : {}
  const scored = definition.kind !== 'survey' || definition.scored === true
  const c = {
    plans,
    scored,
    severity: pyStr(issues.default_severity || 'medium'),
    paths: itemsByPath(definition),
    words
  }
  const level = buildLevel(top, '', topSections, c, true, lateItems(top))
  const model = scoreModel(definition.scoring)
  const byPointer = new Map(level.items.map((it) => [it.pointer, it]))
  const secs = []
  sections.forEach((sec, si) => {
    if (!isDict(sec)) return
    const n = isList(sec.items) ? sec.items.length : 0
    const items = []
    for (let j = 0; j < n; j++) {
      const it = byPointer.get(`/sections/${si}/items/${j}`)
      if (it) items.push(it)
    }
    secs.push({ id: pyStr(sec.id), title: localized(sec.title), items, model: scoreModel(sec.scoring, model) })
  })
  const alerts = (isList(definition.alerts) ? definition.alerts : []).flatMap((a, ai) => isDict(a)
    ? [{
        code: pyStr(a.code),
        severity: pyStr(a.severity || 'medium'),
        when: a.when === null || a.when === undefined ? null : placed(a.when, `/alerts/${ai}/when`),
        message: template(a.message, `/alerts/${ai}/message`, c.paths, words),
        items: (isList(a.items) ? a.items : []).map(pyStr)
      }]
    : [])
  const checks = (isList(definition.checks) ? definition.checks : []).flatMap((ch, ci) => isDict(ch)
    ? [{
        id: pyStr(ch.id),
        item: pyStr(ch.item),
        when: ch.when === null || ch.when === undefined ? null : placed(ch.when, `/checks/${ci}/when`),
        message: template(ch.message, `/checks/${ci}/message`, c.paths, words)
      }]
    : [])
  return {
    id: pyStr(definition.id || 'definition'),
    scored,
    passPercentage: asNumber(definition.pass_percentage),
    model,
    hasTotal: !(isDict(definition.scoring) && definition.scoring.total === false),
    sections: secs,
    // the decimals a score shows in a message (evaluation.StandardRules._digits)
    digits: Object.fromEntries([['score', model.digits],
      ...secs.map((sec) => [`score.sections.${sec.id}`, sec.model.digits])]),
    level,
    alerts,
    checks,
    outcomes: outcomesOf(definition, level, c),
    forces: forcesById(level)
  }
}

// A compiled definition per definition object and words table.
const compiledCache = new WeakMap()

export function compileDefinition (definition, words = {}) {
  let byWords = compiledCache.get(definition)
  if (!byWords) {
    byWords = new WeakMap()
    compiledCache.set(definition, byWords)
  }
  let c = byWords.get(words)
  if (!c) {
    c = compile(definition, words)
    byWords.set(words, c)
  }
  return c
}

// -- one evaluation: structure.Run ------------------------------------------------------------

class Run {
  // digits: the decimals a score shows in a message ('score', 'score.sections.<id>')
  constructor (words, digits = {}) {
    this.errors = []
    this.words = words
    this.digits = digits
  }

  // A rule that raises counts as `failed` (null) and is listed in errors.
  call (rule, data, entry, failed = null) {
    try {
      return evaluate(rule.rule, data)
    } catch (e) {
      this.errors.push({ pointer: rule.pointer, error: { ...(e.error || { type: String(e) }) }, entry: entry || null })
      return failed
    }
  }

  test (rule, data, entry) {
    return Boolean(rule) && truthy(this.call(rule, data, entry))
  }
}

const RAISED = Symbol('raised') // what a raising rule gives where null would be wrong

// -- templates: alerts.py ---------------------------------------------------------------------

function word (words, lang, key) {
  const table = isDict(words) ? (words[lang] || words.en) : null
  return (table && table[key]) || key
}

function pick (label, lang, fallback) {
  if (label === null || label === undefined) return fallback
  if (typeof label === 'string') return label || fallback
  for (const candidate of [lang, ...LANGUAGES.filter((l) => l !== lang)]) {
    if (own(label, candidate)) return pyStr(label[candidate])
  }
  for (const value of Object.values(label)) if (value) return pyStr(value)
  return fallback
}

// json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
function dumpSorted (v) {
  if (isList(v)) return `[${v.map(dumpSorted).join(',')}]`
  if (isDict(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${dumpSorted(v[k])}`).join(',')}}`
  }
  return JSON.stringify(v ?? null)
}

// alerts.format_number: at most `digits` decimals, rounded half up; whole numbers without a
// point. Also how the page shows a score, rounded to the definition's digits.
export function formatNumber (value, digits = 2) {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : (value > 0 ? 'Infinity' : '-Infinity')
  if (Number.isInteger(value)) return BigInt(value).toString()
  const r = roundHalfUp(value, digits)
  if (Number.isInteger(r)) return BigInt(r).toString()
  return r.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '')
}

function formatValue (value, lang, words) {
  if (value === null || value === undefined) return MISSING
  if (typeof value === 'boolean') return word(words, lang, value ? 'value.true' : 'value.false')
  if (isNumber(value)) return formatNumber(value)
  if (typeof value === 'string') return value
  if (isList(value)) return value.map((v) => formatValue(v, lang, words)).join(word(words, lang, 'value.list_separator'))
  return dumpSorted(value)
}

function formatLabels (values, labels, lang, words) {
  const seq = isList(values) ? values : (values === null || values === undefined ? [] : [values])
  const shown = []
  for (const v of seq) {
    let text
    if (isList(v)) {
      text = formatLabels(v, labels, lang, words)
    } else {
      const isKeyLike = typeof v === 'string' || typeof v === 'boolean' || (isNumber(v) && Number.isInteger(v))
      const label = isKeyLike ? own(labels, pyStr(v)) : undefined
      text = label && (typeof label === 'string' || Object.keys(label).length)
        ? pick(label, lang, pyStr(v))
        : formatValue(v, lang, words)
    }
    if (text && text !== MISSING && !shown.includes(text)) shown.push(text)
  }
  return shown.length ? shown.join(word(words, lang, 'value.list_separator')) : MISSING
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}/g

// alerts.fill: a score's shown figure ({score.value}, {score.percentage}...) has as many
// decimals as the score line (the total's or its section's digits); other numbers at most 2.
const SHOWN_FIGURES = new Set(['value', 'percentage', 'section_max', 'section_min'])
function fillText (text, data, lang, params, words, digits = {}) {
  return text.replace(PLACEHOLDER, (whole, name) => {
    if (has(params, name)) return params[name]
    const value = varPath(data, name, null)
    if (name.startsWith('score.') && SHOWN_FIGURES.has(name.split('.').pop()) && isNumber(value)) {
      const parts = name.split('.')
      const where = parts[1] === 'sections' ? parts.slice(0, 3).join('.') : 'score'
      if (has(digits, where)) return formatNumber(value, digits[where])
    }
    return formatValue(value, lang, words)
  })
}

// evaluation._fill: a template filled in both languages; each param's rule runs once.
function fill (run, tpl, data) {
  const params = {}
  for (const p of tpl.params) {
    const value = p.rule.rule !== null ? run.call(p.rule, data, '') : null
    params[p.name] = Object.fromEntries(LANGUAGES.map((lang) => [lang, p.labels !== null
      ? formatLabels(value, p.labels, lang, run.words)
      : formatValue(value, lang, run.words)]))
  }
  const out = {}
  for (const [lang, text] of Object.entries(tpl.texts)) {
    const mine = Object.fromEntries(Object.entries(params).map(([n, v]) => [n, v[lang] ?? MISSING]))
    out[lang] = fillText(text, data, lang, mine, run.words, run.digits)
  }
  return out
}

// -- settling: evaluation._settle ----------------------------------------------------------

// Visibility and calculated values of one level, in dependency order (the top level's late
// items, which read the score, are left for settleItems after scoring). `base` is the data
// around the level (ctx; for a group entry, the level above, whose ids its items shadow).
function settle (run, level, raw, base, where) {
  const data = { ...base }
  for (const it of level.items) {
    delete data[it.id]
    if (!it.rules.calculate) { // calculated values are never taken from a client
      let v = own(raw, it.id)
      if (v !== null && v !== undefined) {
        if (it.numbers && typeof v !== 'string') {
          const n = asNumber(v) // a number sent for a numeric choice: its value string
          if (n !== null && it.numbers.has(n)) v = it.numbers.get(n)
        }
        data[it.id] = v
      }
    }
    if (it.sub && !isList(data[it.id])) data[it.id] = [] // some/all/none over null: an error
  }
  const s = { data, answers: {}, calculated: {}, visible: {}, entries: {} }
  settleItems(run, level.order, s, raw, where)
  return s
}

// Settle `items` (in settle order) into `s`: visibility, calculated values, group entries,
// kept answers. A hidden item's answer is dropped before any later rule reads it.
function settleItems (run, items, s, raw, where) {
  const data = s.data
  for (const it of items) {
    const rule = it.rules.visible_if
    const shown = rule ? truthy(run.call(rule, data, where)) : true
    s.visible[it.id] = shown
    if (!shown) {
      if (it.sub) data[it.id] = []
      else delete data[it.id]
      continue
    }
    const calc = it.rules.calculate
    if (calc) {
      const value = run.call(calc, data, where)
      s.calculated[it.id] = value
      if (value === null) delete data[it.id]
      else data[it.id] = value
      continue
    }
    if (it.sub) {
      const settled = data[it.id].map((entry, i) =>
        settle(run, it.sub, isDict(entry) ? entry : {}, data, `${where}/${it.id}/${i}`))
      s.entries[it.id] = settled
      // Later rules see each entry's kept answers and calculated values.
      data[it.id] = settled.map((e) => ({ ...e.answers, ...nonNull(e.calculated) }))
      const sent = own(raw, it.id)
      if (sent !== null && sent !== undefined) s.answers[it.id] = settled.map((e) => e.answers)
      continue
    }
    if (it.type === 'check' && (data[it.id] === null || data[it.id] === undefined)) {
      data[it.id] = false // an unticked check may simply not be sent
    }
    if (has(data, it.id)) s.answers[it.id] = data[it.id]
  }
}

const nonNull = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null))

// An entry's data over the final data of the level above (the entry's ids shadow it).
function entryData (parent, level, entry) {
  const data = { ...parent }
  for (const id of level.ids) {
    delete data[id]
    if (has(entry.data, id)) data[id] = entry.data[id]
  }
  return data
}

function required (run, items, s, data, where) {
  const out = {}
  for (const it of items) {
    out[it.id] = s.visible[it.id] && !it.rules.calculate &&
      (it.required || run.test(it.rules.required_if, data, where))
  }
  return out
}

function evidence (run, level, s, data, where) {
  const out = {}
  for (const it of level.items) {
    if (s.visible[it.id] && run.test(it.rules.evidence_if, data, where)) out[it.id] = { ...it.evidence }
  }
  return out
}

// How the item failed (rule:<pointer> or the type's default), null if it did not.
function fails (run, it, data, where, defaults = true) {
  const rule = it.rules.fail_if
  if (rule) return run.test(rule, data, where) ? `rule:${rule.pointer}` : null
  if (!defaults) return null
  const v = has(data, it.id) ? data[it.id] : null
  // yes_no fails on the bad answer (not `good`); a check only when `good` says which answer
  // is good (an unticked check is often what staff did not need to do, evaluation._fails).
  if (it.type === 'yes_no' && (v === 'yes' || v === 'no')) return v !== (it.good || 'yes') ? 'default:yes_no' : null
  if (it.type === 'check' && typeof it.good === 'boolean' && truthy(v) !== it.good) return 'default:check'
  return null
}

// Per-entry results of a visible group (appended to out): the failing entries and the rule
// that failed first. Inside a group only an explicit fail_if fails.
function groupEntries (run, group, settled, parent, where, out) {
  const level = group.sub
  const failing = []
  let first = null
  settled.forEach((s, i) => {
    const here = `${where}/${group.id}/${i}`
    const data = entryData(parent, level, s)
    const failed = []
    for (const it of level.items) {
      if (!s.visible[it.id]) continue
      let decided
      if (it.sub) {
        const [bad, rule] = groupEntries(run, it, s.entries[it.id] || [], data, here, out)
        decided = bad.length ? rule : null
      } else {
        decided = fails(run, it, data, here, false)
      }
      if (decided !== null) {
        failed.push(it.id)
        first = first || decided
      }
    }
    out.push({
      group: group.id,
      index: i,
      pointer: here,
      calculated: s.calculated,
      visible: s.visible,
      required: required(run, level.items, s, data, here),
      evidence: evidence(run, level, s, data, here),
      failed
    })
    if (failed.length) failing.push(i)
  })
  return [failing, first]
}

// -- the score: scoring.score_of ---------------------------------------------------------------

// A required item left unanswered scores 0; an optional one is left out.
const missingScore = (req) => req ? [0, true, 'missing', false] : [null, false, 'missing', false]

// [points, counted, decided_by, reversed] of a visible scoring item (scoring._points).
function itemPoints (run, it, data, req, direction) {
  const v = has(data, it.id) ? data[it.id] : null
  if (NA_TYPES.has(it.type) && v === 'na') return [null, false, 'na', false]
  if (v === null && it.type !== 'check') return missingScore(req)
  const rule = it.rules.score
  if (rule) {
    const label = `rule:${rule.pointer}`
    const r = run.call(rule, data, '', RAISED)
    if (r === null) return [null, false, label, false] // the rule says: not applicable
    let f = 0
    if (typeof r === 'boolean') {
      f = r ? 1 : 0
    } else if (isNumber(r) && !Number.isNaN(r)) {
      f = pyMin(1, pyMax(0, r))
    } else if (r !== RAISED) {
      run.errors.push({
        pointer: rule.pointer,
        error: { type: 'Invalid score', message: 'a score rule gives 0 to 1 or null', value: r },
        entry: null
      })
    }
    return [f * it.weight, true, label, false]
  }
  if (it.absolute) return absolutePoints(it, v, req)
  // The counted answer is the good one, or in a lower_better section the bad one (demerits).
  const lower = direction === 'lower_better'
  if (it.type === 'check') {
    const good = typeof it.good === 'boolean' ? it.good : true
    const counted = (truthy(v) === good) !== lower
    return [counted ? it.weight : 0, true, 'default:check', false]
  }
  if (it.type === 'yes_no') {
    if (v !== 'yes' && v !== 'no') return missingScore(req)
    const goodAnswer = it.good === 'yes' || it.good === 'no' ? it.good : 'yes'
    const counted = (v === goodAnswer) !== lower
    return [counted ? it.weight : 0, true, 'default:yes_no', false]
  }
  if (it.type === 'scale') {
    const n = asNumber(v)
    if (n === null || it.scale === null) return missingScore(req)
    const [lo, hi] = it.scale
    let f = hi <= lo ? 1 : pyMin(1, pyMax(0, (n - lo) / (hi - lo)))
    if (it.reverse) f = 1 - f
    return [f * it.weight, true, 'default:scale', it.reverse]
  }
  if (it.type === 'single_choice' && typeof v === 'string' && it.choices.has(v)) {
    let f = it.choices.get(v)
    if (f === null) return [null, false, `choice:${v}`, false]
    if (it.reverse) f = 1 - f
    return [f * it.weight, true, `choice:${v}`, it.reverse]
  }
  return missingScore(req)
}

// Points of an item with absolute points: a choice's, or a scale's value (scoring._absolute).
function absolutePoints (it, v, req) {
  let p
  let decided
  if (it.type === 'scale') {
    const n = asNumber(v)
    if (n === null) return missingScore(req)
    p = pyMin(it.weight, pyMax(it.least, n))
    decided = 'value'
  } else if (it.type === 'single_choice' && typeof v === 'string' && it.choices.has(v)) {
    p = it.choices.get(v)
    if (p === null) return [null, false, `choice:${v}`, false]
    decided = `choice:${v}`
  } else {
    return missingScore(req)
  }
  if (it.reverse) p = (it.weight + it.least) - p
  return [p, true, decided, it.reverse]
}

// Running sums of counted items, added left to right in document order as scoring._Tally
// does: the same additions in the same order give the same bits.
class Tally {
  constructor () {
    this.points = 0
    this.most = 0
    this.answered = 0
    this.scoring = false // has any scoring item at all
  }

  add (points, most) {
    this.points = this.points + points
    this.most = this.most + most
    this.answered += 1
  }
}

// What a model makes of a tally (scoring._value); never rounded.
function modelValue (t, m) {
  if (!t.scoring || t.answered < m.min_answered) return null
  if (m.model === 'sum') return t.points
  if (m.model === 'mean') return t.answered === 0 ? null : t.points / t.answered
  return t.most === 0 ? null : 100 * t.points / t.most
}

function scoreOf (run, c, s, req) {
  const lines = []
  const sectionScores = []
  const total = new Tally()
  for (const sec of c.sections) {
    const tally = new Tally()
    for (const it of sec.items) {
      if (!it.scores) continue
      tally.scoring = total.scoring = true
      let [pts, counted, decided, rev] = s.visible[it.id]
        ? itemPoints(run, it, s.data, req[it.id], sec.model.direction)
        : [null, false, 'hidden', false]
      if (counted && pts !== null) {
        tally.add(pts, it.weight)
        total.add(pts, it.weight)
      } else {
        pts = null
      }
      lines.push({
        item: it.id,
        section: sec.id,
        title: it.title,
        weight: it.weight,
        fraction: pts === null || it.weight === 0 ? null : pts / it.weight,
        points: pts,
        counted: pts !== null,
        decided_by: decided,
        reversed: rev
      })
    }
    const value = modelValue(tally, sec.model)
    sectionScores.push({
      section: sec.id,
      title: sec.title,
      model: sec.model.model,
      direction: sec.model.direction,
      digits: sec.model.digits,
      points: tally.points,
      max: tally.most,
      answered: tally.answered,
      value,
      percentage: sec.model.model === 'percentage' ? value : null
    })
  }
  const value = c.hasTotal ? modelValue(total, c.model) : null
  const pct = c.model.model === 'percentage' ? value : null
  let passed = null
  if (c.scored && c.passPercentage !== null && pct !== null) passed = pct >= c.passPercentage
  const values = sectionScores.map((sec) => sec.value).filter((v) => v !== null)
  return {
    scored: c.scored,
    model: c.model.model,
    direction: c.model.direction,
    digits: c.model.digits,
    has_total: c.hasTotal,
    points: total.points,
    max: total.most,
    answered: total.answered,
    value,
    percentage: pct,
    pass_percentage: c.scored ? c.passPercentage : null,
    passed,
    section_max: values.length ? values.reduce(pyMax) : null,
    section_min: values.length ? values.reduce(pyMin) : null,
    sections: sectionScores,
    items: lines
  }
}

// What rules read as `score` (scoring.score_data); `total` is `points` for older alerts.
function scoreData (score) {
  return {
    value: score.value,
    total: score.points,
    points: score.points,
    max: score.max,
    percentage: score.percentage,
    answered: score.answered,
    section_max: score.section_max,
    section_min: score.section_min,
    sections: Object.fromEntries(score.sections.map((sec) => [sec.section, {
      value: sec.value, points: sec.points, max: sec.max, percentage: sec.percentage, answered: sec.answered
    }]))
  }
}

// -- checks, outcomes, alerts: evaluation.StandardRules -------------------------------------

// JSON pointer of an item's answer (rounds.pointer.join): ~ and / escaped.
const answerPointer = (id) => `/answers/${id.replace(/~/g, '~0').replace(/\//g, '~1')}`

// The checks between fields that fail (their `when` holds) on items that are shown. A check
// whose rule raises does not fail (the rule counts as null).
function runChecks (run, c, s) {
  const out = []
  for (const ch of c.checks) {
    if (!ch.when || s.visible[ch.item] === false) continue
    if (run.test(ch.when, s.data, '')) {
      out.push({ check: ch.id, item: ch.item, pointer: answerPointer(ch.item), code: 'check_failed', message: fill(run, ch.message, s.data) })
    }
  }
  return out
}

// [item id, its forces] of the failed items that force levels, in document order; a failed
// group's entries' failed items after it, entry by entry.
function forcedBy (c, failed, entries) {
  if (!c.forces.size) return []
  const out = []
  for (const f of failed) {
    if (c.forces.has(f.item)) out.push([f.item, c.forces.get(f.item)])
    if (f.entries.length) {
      const below = answerPointer(f.item).slice('/answers'.length) + '/'
      for (const e of entries) {
        if (!e.pointer.startsWith(below)) continue
        for (const id of e.failed) if (c.forces.has(id)) out.push([id, c.forces.get(id)])
      }
    }
  }
  return out
}

// An outcome's level and why: the forced level that comes first, else the first level whose
// criteria all hold (a band never holds on null), else none.
function choose (run, o, value, seen, forced) {
  const by = new Map() // level id → the first failed item forcing it
  for (const [item, forces] of forced) {
    if (has(forces, o.id) && !by.has(forces[o.id])) by.set(forces[o.id], item)
  }
  for (const lv of o.levels) {
    if (by.has(lv.id)) return [lv, `forced:${by.get(lv.id)}`]
  }
  for (const lv of o.levels) {
    if (lv.forcedOnly) continue
    const banded = lv.low !== null || lv.high !== null
    if (banded && (value === null || (lv.low !== null && value < lv.low) || (lv.high !== null && value > lv.high))) continue
    if (lv.when && !run.test(lv.when, seen, '')) continue
    if (banded) return [lv, `band:${lv.pointer}`]
    if (lv.when) return [lv, `rule:${lv.when.pointer}`]
    return [lv, `fallback:${lv.pointer}`]
  }
  return [null, 'none']
}

function decide (run, c, seen, score, forced) {
  const values = new Map(score.sections.map((sec) => [sec.section, sec.value]))
  return c.outcomes.map((o) => {
    const value = o.of === null ? score.value : (values.has(o.of) ? values.get(o.of) : null)
    const [level, decided] = choose(run, o, value, seen, forced)
    return {
      outcome: o.id,
      title: o.title,
      level: level ? level.id : null,
      label: level ? { ...level.label } : {},
      passed: level ? level.passed : null,
      value,
      decided_by: decided,
      message: level && level.message ? fill(run, level.message, seen) : {}
    }
  })
}

// Alerts read what outcomes read, plus score.passed and outcome ({outcome id: level id}).
function raiseAlerts (run, c, seen, score, outcomes) {
  if (!c.alerts.length) return []
  const data = { ...seen }
  data.score = { ...seen.score, passed: score.passed }
  data.outcome = Object.fromEntries(outcomes.map((o) => [o.outcome, o.level]))
  const raised = []
  for (const a of c.alerts) {
    if (run.test(a.when, data, '')) {
      raised.push({ code: a.code, severity: a.severity, message: fill(run, a.message, data), items: [...a.items] })
    }
  }
  return raised
}

// -- the entry point --------------------------------------------------------------------------

/**
 * Everything the server's evaluate gives, as its JSON: answers, calculated, visible,
 * required, evidence, entries, errors, checks, definition, failed, score, alerts, outcomes.
 * `answers`: item id → answer, as a client sends them; `ctx`: what rules see as ctx.
 * `options.words`: the message words by language (see the top of this file).
 *
 * In the server's order (evaluation.py): settle what does not read the score, the checks
 * between fields, required-ness, the score (then rules see it as `score`), the late items
 * that read it, evidence, failed items, outcomes, passed, alerts.
 */
export function evaluateDefinition (definition, answers, ctx = null, options = {}) {
  const words = options.words || {}
  const c = compileDefinition(definition, words)
  const run = new Run(words, c.digits)
  const raw = isDict(answers) ? answers : {}
  const base = { ctx: isDict(ctx) && Object.keys(ctx).length ? { ...ctx } : {} }
  const s = settle(run, c.level, raw, base, '')
  const data = s.data
  const checks = runChecks(run, c, s)
  let req = required(run, c.level.items.filter((it) => has(s.visible, it.id)), s, data, '')
  let score = scoreOf(run, c, s, req)
  data.score = scoreData(score)
  if (c.level.late.length) {
    settleItems(run, c.level.late, s, raw, '')
    const late = required(run, c.level.late, s, data, '')
    req = Object.fromEntries(c.level.items.map((it) => [it.id, has(req, it.id) ? req[it.id] : late[it.id]]))
  }
  const ev = evidence(run, c.level, s, data, '')
  const entries = []
  const failed = []
  for (const it of c.level.items) {
    if (!s.visible[it.id]) continue
    let bad = []
    let decided
    if (it.sub) [bad, decided] = groupEntries(run, it, s.entries[it.id] || [], data, '', entries)
    else decided = fails(run, it, data, '')
    if (decided !== null) {
      const problem = it.problem ? fill(run, it.problem, data) : {}
      failed.push({ item: it.id, section: it.section, severity: it.severity, decided_by: decided, entries: bad, problem })
    }
  }
  const seen = { ...data }
  seen.failed = failed.map((f) => f.item)
  const outcomes = decide(run, c, seen, score, forcedBy(c, failed, entries))
  const said = outcomes.find((o) => o.passed !== null) // the first outcome that says
  if (said) score = { ...score, passed: said.passed }
  const alerts = raiseAlerts(run, c, seen, score, outcomes)
  return {
    answers: s.answers,
    calculated: s.calculated,
    visible: s.visible,
    required: req,
    evidence: ev,
    entries,
    errors: run.errors,
    checks,
    definition: c.id,
    failed,
    score,
    alerts,
    outcomes
  }
}
