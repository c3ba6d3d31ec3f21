// Rounds forms in the browser: the server's rules, evaluated live, and a JSON submit.
//
// Rules are JsonLogic run by json-logic-engine (served from node_modules by the app). The
// server runs the same rules with rounds.rules (Python); both must give one answer, and
// tests/conformance/parity.json pins them together. json-logic-engine follows the 2024
// community spec, as our engine does, but the spec leaves room where rounds.rules made
// documented choices ({} is truthy, null vs a non-numeric string, "" counts as missing, walking
// something that is not an array, ...). So the operations whose answers could differ are
// replaced below by ports of platform/rounds/rules/semantics.py; the engine keeps parsing,
// dispatch, caching, `if`, `preserve` and `try`. The domain operations port
// platform/rounds/rules/operations.py.

import { LogicEngine } from '/static/vendor/json-logic-engine/index.js'

// -- values, as rounds.rules.semantics sees them ------------------------------------------

const NAN_ERROR = () => ({ type: 'NaN' })
const INVALID = () => ({ type: 'Invalid Arguments' })

const isNumber = (v) => typeof v === 'number'
const isList = Array.isArray
const isDict = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k)

export function truthy (v) {
  if (v === null || v === undefined) return false
  if (isList(v)) return v.length > 0
  if (typeof v === 'object') return true // an object, even {}, is true (semantics.truthy)
  return Boolean(v) // NaN, 0 and "" are false
}

function toNumber (v) {
  if (isNumber(v)) return v
  if (typeof v === 'boolean') return v ? 1 : 0
  if (v === null || v === undefined) return 0
  if (typeof v === 'string') return Number(v)
  if (isList(v)) return toNumber(toStr(v))
  return NaN
}

const toNumberStrict = (v) => (isList(v) || isDict(v)) ? NaN : toNumber(v)

function numberOrRaise (v) {
  const n = toNumberStrict(v)
  if (Number.isNaN(n)) throw NAN_ERROR()
  return n
}

function checked (n) {
  if (Number.isNaN(n)) throw NAN_ERROR()
  return n
}

// semantics.number_to_string: shortest round-trip digits like JavaScript, but whole numbers
// below 1e21 are written out exactly and below 1e-4 in exponent form, as Python's repr does.
function numberToString (n) {
  if (Number.isNaN(n)) return 'NaN'
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity'
  return String(n)
}

function toStr (v) {
  if (typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (v === null || v === undefined) return 'null'
  if (isNumber(v)) return numberToString(v)
  if (isList(v)) return v.map((x) => (x === null || x === undefined) ? '' : toStr(x)).join(',')
  return '[object Object]'
}

function numericPair (a, b) {
  const x = toNumberStrict(a)
  const y = toNumberStrict(b)
  if (Number.isNaN(x) || Number.isNaN(y)) throw NAN_ERROR()
  return [x, y]
}

function kind (v) {
  if (v === null || v === undefined) return 'null'
  if (isList(v)) return 'list'
  return typeof v === 'object' ? 'dict' : typeof v
}

function looseEq (a, b) {
  const ta = kind(a)
  const tb = kind(b)
  if (ta === 'number' && tb === 'number') return a === b
  if (ta === 'list' || ta === 'dict' || tb === 'list' || tb === 'dict') throw NAN_ERROR()
  if (ta === tb) return a === b || (ta === 'null')
  // null against a non-numeric string is false, not an error: "answer == 'yes'" when unanswered
  if ((ta === 'null' && tb === 'string') || (tb === 'null' && ta === 'string')) {
    if (Number.isNaN(toNumber(ta === 'null' ? b : a))) return false
  }
  const [x, y] = numericPair(a, b)
  return x === y
}

function strictEq (a, b) {
  const ta = kind(a)
  const tb = kind(b)
  if (ta !== tb) return false
  if (ta === 'null') return true
  return a === b // lists and objects by identity
}

function relational (a, b) {
  if (typeof a === 'string' && typeof b === 'string') return [a, b]
  return numericPair(a, b)
}

const PAIRS = {
  '<': (a, b) => { const [x, y] = relational(a, b); return x < y },
  '<=': (a, b) => { const [x, y] = relational(a, b); return x <= y },
  '>': (a, b) => { const [x, y] = relational(a, b); return x > y },
  '>=': (a, b) => { const [x, y] = relational(a, b); return x >= y },
  '==': looseEq,
  '!=': (a, b) => !looseEq(a, b),
  '===': strictEq,
  '!==': (a, b) => !strictEq(a, b)
}

// -- data access: var, val, exists, missing -----------------------------------------------

const NOT_FOUND = Symbol('not found')

function step (data, key) {
  if (isDict(data)) {
    const k = typeof key === 'string' ? key : toStr(key)
    return has(data, k) ? data[k] : NOT_FOUND
  }
  if (isList(data) || typeof data === 'string') {
    if (typeof key === 'boolean' || key === null || key === undefined) return NOT_FOUND
    let i
    if (typeof key === 'string') {
      i = Number(key)
      if (!Number.isInteger(i) || String(i) !== key) return NOT_FOUND
    } else if (isNumber(key)) {
      if (!Number.isFinite(key)) return NOT_FOUND
      i = Math.trunc(key)
    } else {
      return NOT_FOUND
    }
    // strings are indexed by code point, as Python does
    const seq = typeof data === 'string' ? Array.from(data) : data
    return (i >= 0 && i < seq.length) ? seq[i] : NOT_FOUND
  }
  return NOT_FOUND
}

function varPath (data, path, dflt = null) {
  if (path === null || path === undefined || path === '' || (isList(path) && !path.length)) {
    return data
  }
  const keys = typeof path === 'string' ? path.split('.') : [path]
  for (const k of keys) {
    if (data === null || data === undefined) return dflt
    data = step(data, k)
    if (data === NOT_FOUND) return dflt
  }
  return data === undefined ? null : data
}

function valPath (data, keys) {
  for (const k of keys) {
    data = step(data, k)
    if (data === NOT_FOUND) return null
  }
  return data === undefined ? null : data
}

function existsPath (data, keys) {
  for (const k of keys) {
    data = step(data, k)
    if (data === NOT_FOUND) return false
  }
  return true
}

// What `val` with [[n], ...] climbs: the frames around the current data, innermost first.
// Iterations pass above = [their context ({index} or {}), the data around, the above around].
function scope (context, above, up) {
  const frames = [context]
  let a = above
  while (isList(a) && a.length >= 2) {
    frames.push(a[0], a[1])
    a = a[2]
  }
  return frames[Math.min(up, frames.length - 1)]
}

const isKey = (k) => typeof k === 'string' || (isNumber(k) && Number.isInteger(k))

// The keys a val/exists reads: [frame, keys], resolved like the compiler's val_keys.
function valTarget (args, context, above, engine) {
  if (typeof args === 'string' || isNumber(args)) return [context, [args]]
  if (args === null || args === undefined) return [context, []]
  if (!isList(args)) return [context, spread(run(engine, args, context, above))]
  let up = 0
  let keys = args
  if (keys.length && isList(keys[0])) {
    up = Math.abs(keys[0][0])
    keys = keys.slice(1)
  }
  if (keys.every(isKey)) return [scope(context, above, up), keys]
  return [context, args.map((k) => run(engine, k, context, above))]
}

function missing (data, keys) {
  if (keys.length && isList(keys[0])) keys = keys[0]
  return keys.filter((k) => {
    const v = varPath(data, k, null)
    return v === null || v === ''
  })
}

// -- evaluation helpers -------------------------------------------------------------------

const run = (engine, rule, data, above) => engine.run(rule, data, { above })
const spread = (v) => isList(v) ? v : [v]

function lazy (method) {
  return { method, lazy: true }
}

// Operations whose arguments arrive evaluated, spread like the compiler's _spread.
function eager (fn) {
  return { method: (args, context) => fn(spread(args), context), lazy: false }
}

function iteration (name) {
  return lazy((args, context, above, engine) => {
    if (!isList(args)) throw INVALID()
    const [seqRule, body] = args
    const seq = run(engine, seqRule, context, above)
    let arr = isList(seq) ? seq : []
    if (name === 'all' || name === 'some' || name === 'none') {
      if (!isList(seq)) throw INVALID() // walking what is not an array is an error here
      arr = seq
    }
    const each = (item, index) => run(engine, body, item, [{ index }, context, above])
    if (name === 'map') return arr.map(each)
    if (name === 'filter') return arr.filter((item, i) => truthy(each(item, i)))
    if (name === 'some') return arr.some((item, i) => truthy(each(item, i)))
    if (name === 'none') return !arr.some((item, i) => truthy(each(item, i)))
    return arr.length > 0 && arr.every((item, i) => truthy(each(item, i)))
  })
}

// -- arithmetic and the other data operations (semantics.py) ------------------------------

function add (args) {
  let total = 0
  for (const a of args) total += isNumber(a) ? a : numberOrRaise(a)
  return checked(total)
}

function multiply (args) {
  let total = 1
  for (const a of args) total *= isNumber(a) ? a : numberOrRaise(a)
  return checked(total)
}

function subtract (args) {
  if (!args.length) throw INVALID()
  let first = numberOrRaise(args[0])
  if (args.length === 1) return checked(-first)
  for (const a of args.slice(1)) first -= numberOrRaise(a)
  return checked(first)
}

function divide (args) {
  if (!args.length) throw INVALID()
  const nums = args.map(numberOrRaise)
  if (nums.length === 1) nums.unshift(1)
  let result = nums[0]
  for (const n of nums.slice(1)) {
    if (n === 0) throw NAN_ERROR()
    result /= n
  }
  return checked(result)
}

function modulo (args) {
  if (args.length < 2) throw INVALID()
  const nums = args.map(numberOrRaise)
  let result = nums[0]
  for (const n of nums.slice(1)) {
    if (n === 0) throw NAN_ERROR()
    result %= n // like math.fmod: the sign of the dividend
  }
  return checked(result)
}

function extreme (args, better) {
  if (!args.length || !args.every(isNumber)) throw INVALID()
  let best = args[0]
  for (const a of args.slice(1)) if (better(a, best)) best = a
  return best
}

function contains (needle, haystack) {
  if (typeof haystack === 'string') return haystack.includes(toStr(needle))
  if (isList(haystack)) return haystack.some((x) => strictEq(needle, x))
  return false
}

function substr (args) {
  const [source = null, start = 0, length = null] = args
  const s = Array.from(toStr(source))
  const n = s.length
  let b = Math.trunc(toNumber(start) || 0)
  if (b < 0) b = Math.max(0, n + b)
  if (length === null || length === undefined) return s.slice(b).join('')
  const ln = Math.trunc(toNumber(length) || 0)
  const end = ln < 0 ? n + ln : b + ln
  return s.slice(b, end).join('') // a negative end counts from the end, as in Python
}

function merge (args) {
  const out = []
  for (const a of args) {
    if (isList(a)) out.push(...a)
    else out.push(a)
  }
  return out
}

// -- the domain operations (rounds.rules.operations) --------------------------------------

export const EARTH_RADIUS_M = 6371008.8 // mean Earth radius (IUGG), as operations.py

// Python's round(x, digits): correctly rounded in decimal, ties to even. Math.round and
// toFixed round ties up, so the exact decimal expansion of the double is rounded here.
export function pyRound (x, digits) {
  if (!Number.isFinite(x) || x === 0) return x
  const negative = x < 0 || Object.is(x, -0)
  const ax = Math.abs(x)
  let intPart
  let frac
  if (ax < 1e21) {
    // toFixed(100) is exact for every double that can round to a tie here
    [intPart, frac] = ax.toFixed(100).split('.')
  } else {
    intPart = BigInt(ax).toString()
    frac = ''
  }
  if (intPart === '0') intPart = ''
  const all = intPart + frac
  const cut = intPart.length + digits // how many leading digits are kept
  if (cut < 0) return negative ? -0 : 0
  if (cut >= all.length) return x // more digits asked for than the double has
  const kept = all.slice(0, cut)
  const rest = all.slice(cut)
  let units = BigInt(kept || '0')
  const first = rest.charCodeAt(0) - 48
  const tail = /[1-9]/.test(rest.slice(1))
  if (first > 5 || (first === 5 && (tail || units % 2n === 1n))) units += 1n
  const result = Number(`${units}e${-digits}`)
  return negative ? -result : result
}

function point (v) {
  let lat, lng
  if (isDict(v)) {
    lat = has(v, 'lat') ? v.lat : null
    lng = has(v, 'lng') ? v.lng : (has(v, 'lon') ? v.lon : null)
  } else if (isList(v) && v.length >= 2) {
    [lat, lng] = v
  } else {
    return null
  }
  if (!isNumber(lat) || !isNumber(lng)) return null
  return [lat, lng]
}

export function distanceM (a, b) {
  const p = point(a)
  const q = point(b)
  if (p === null || q === null) return null
  const rad = (d) => d * (Math.PI / 180) // as math.radians
  const [lat1, lng1, lat2, lng2] = [...p, ...q].map(rad)
  const s1 = Math.sin((lat2 - lat1) / 2)
  const s2 = Math.sin((lng2 - lng1) / 2)
  const h = s1 * s1 + Math.cos(lat1) * Math.cos(lat2) * s2 * s2
  return pyRound(2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h))), 3)
}

function civil (y, m, d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return null
  const days = [31, (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28,
    31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
  if (d > days) return null
  const t = new Date(0)
  t.setUTCFullYear(y, m - 1, d) // setUTCFullYear: no 19xx mapping of years below 100
  return Math.round(t.getTime() / 86400000)
}

function isoWeekDay (y, w, d) {
  if (y < 1 || y > 9999 || w < 1 || d < 1 || d > 7) return null
  const jan4 = civil(y, 1, 4)
  const weekday = ((jan4 + 3) % 7 + 7) % 7 // 0 = Monday (1970-01-01 was a Thursday)
  const week1 = jan4 - weekday
  const nextJan4 = civil(y + 1, 1, 4) ?? jan4 + 365 + 7
  const weeks = Math.round((nextJan4 - (((nextJan4 + 3) % 7 + 7) % 7) - week1) / 7)
  if (w > weeks) return null
  return week1 + (w - 1) * 7 + (d - 1)
}

function datePart (s) {
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s) || /^(\d{4})(\d{2})(\d{2})$/.exec(s)
  if (m) return civil(+m[1], +m[2], +m[3])
  m = /^(\d{4})-W(\d{2})(?:-(\d))?$/.exec(s) || /^(\d{4})W(\d{2})(\d)?$/.exec(s)
  if (m) return isoWeekDay(+m[1], +m[2], m[3] ? +m[3] : 1)
  return null
}

const TIME = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?(?: ?([+-])(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.\d+)?)?)?)?$/

// Whole days of an ISO date or timestamp, as operations._day reads them: the date as written
// (a timestamp's own offset, never converted), null for anything else.
function day (v) {
  if (typeof v !== 'string') return null
  if (v.length === 10) return datePart(v)
  v = v.replace(/Z/g, '+00:00') // as operations._day does, everywhere in the string
  // any one character (not a digit) may separate the date and the time, as in Python 3.11
  const m = /^(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}-W\d{2}(?:-\d)?|\d{4}W\d{2}\d?)(?:[^0-9](.+))?$/u.exec(v)
  if (!m) return null
  const date = datePart(m[1])
  if (date === null || m[2] === undefined) return date
  const t = TIME.exec(m[2])
  if (!t) return null
  if (+t[1] > 23 || +(t[2] || 0) > 59 || +(t[3] || 0) > 59) return null
  if (t[5] !== undefined && (+t[5] > 23 || +(t[6] || 0) > 59)) return null
  return date
}

export function daysBetween (a, b) {
  const x = day(a)
  const y = day(b)
  if (x === null || y === null) return null
  return y - x
}

function count (args) {
  const [values = null, ...more] = args
  if (more.length || !isList(values)) return [values, ...more].filter(truthy).length
  return values.length
}

function countTruthy (args) {
  const [values = null] = args
  return isList(values) ? values.filter(truthy).length : 0
}

function sum (args) {
  const [values = null, ...more] = args
  const items = isList(values) && !more.length ? values : [values, ...more]
  return add(items.filter((v) => v !== null && v !== undefined))
}

function percentage (args) {
  const [part = null, whole = null, digits = 1] = args
  const p = toNumber(part)
  const w = toNumber(whole)
  if (Number.isNaN(p) || Number.isNaN(w) || w === 0) return null
  const nd = isNumber(digits) ? Math.trunc(digits) : 1
  return pyRound(100 * p / w, nd)
}

// -- the engine -------------------------------------------------------------------------

export class RuleEvaluationError extends Error {
  constructor (error) {
    super(String(error.type))
    this.error = error
  }
}

function asRuleError (e) {
  if (e instanceof RuleEvaluationError) return e
  if (typeof e === 'number' && Number.isNaN(e)) return new RuleEvaluationError(NAN_ERROR())
  if (isDict(e) && !(e instanceof Error) && 'type' in e) return new RuleEvaluationError(e)
  if (e instanceof Error) return new RuleEvaluationError({ type: e.message })
  return new RuleEvaluationError({ type: e })
}

export function createEngine () {
  // Interpreted, not optimized: the optimizer rewrites some shapes (reduce of "+") without
  // asking the methods below, and these rules are small enough not to need it.
  const engine = new LogicEngine(undefined, { disableInterpretedOptimization: true })
  engine.truthy = truthy // `if`, `??` and friends ask the engine what is true
  const ops = {
    var: eager((args, context) => varPath(context, args[0], args.length > 1 ? args[1] : null)),
    val: lazy((args, context, above, engine) => {
      const [data, keys] = valTarget(args, context, above, engine)
      return valPath(data, keys)
    }),
    exists: lazy((args, context, above, engine) => {
      const [data, keys] = valTarget(args, context, above, engine)
      return existsPath(data, keys)
    }),
    missing: eager((args, context) => missing(context, args)),
    missing_some: eager((args, context) => {
      const [need = 0, keys = []] = args
      const list = isList(keys) ? keys : []
      const absent = missing(context, list)
      return list.length - absent.length >= toNumber(need) ? [] : absent
    }),
    and: lazy((args, context, above, engine) => andOr(args, context, above, engine, false)),
    or: lazy((args, context, above, engine) => andOr(args, context, above, engine, true)),
    '!': lazy((args, context, above, engine) => !truthy(unary(args, context, above, engine))),
    '!!': lazy((args, context, above, engine) => truthy(unary(args, context, above, engine))),
    '??': lazy((args, context, above, engine) => {
      // the first value that is not null; later arguments are not evaluated
      const values = isList(args) ? args : spread(run(engine, args, context, above))
      for (const a of values) {
        const v = isList(args) ? run(engine, a, context, above) : a
        if (v !== null && v !== undefined) return v
      }
      return null
    }),
    map: iteration('map'),
    filter: iteration('filter'),
    all: iteration('all'),
    some: iteration('some'),
    none: iteration('none'),
    reduce: lazy((args, context, above, engine) => {
      if (!isList(args)) throw INVALID()
      const [seqRule, body, init = null] = args
      const seq = run(engine, seqRule, context, above)
      let acc = run(engine, init, context, above)
      for (const current of isList(seq) ? seq : []) {
        acc = run(engine, body, { current, accumulator: acc }, [{}, context, above])
      }
      return acc === undefined ? null : acc
    }),
    '+': eager(add),
    '*': eager(multiply),
    '-': eager(subtract),
    '/': eager(divide),
    '%': eager(modulo),
    max: eager((args) => extreme(args, (a, b) => a > b)),
    min: eager((args) => extreme(args, (a, b) => a < b)),
    cat: eager((args) => args.filter((a) => a !== null && a !== undefined).map(toStr).join('')),
    substr: eager(substr),
    in: eager((args) => contains(args[0] ?? null, args[1] ?? null)),
    merge: eager(merge),
    // domain operations
    distance_m: eager((args) => distanceM(args[0] ?? null, args[1] ?? null)),
    days_between: eager((args) => daysBetween(args[0] ?? null, args[1] ?? null)),
    count: eager(count),
    count_truthy: eager(countTruthy),
    sum: eager(sum),
    percentage: eager(percentage)
  }
  for (const op of Object.keys(PAIRS)) ops[op] = lazy(comparison(op))
  for (const [name, method] of Object.entries(ops)) engine.addMethod(name, method)
  return engine
}

function unary (args, context, above, engine) {
  const node = isList(args) ? (args.length ? args[0] : null) : args
  return run(engine, node, context, above)
}

function andOr (args, context, above, engine, isOr) {
  if (!isList(args)) throw INVALID()
  if (!args.length) return false
  let value = null
  for (const a of args) {
    value = run(engine, a, context, above)
    if (truthy(value) === isOr) return value
  }
  return value
}

// a < b < c: each operand evaluated once, in order, stopping at the first false pair
function comparison (op) {
  const pair = PAIRS[op]
  return (args, context, above, engine) => {
    if (!isList(args) || args.length < 2) throw INVALID()
    let prev = run(engine, args[0], context, above)
    for (const a of args.slice(1)) {
      const current = run(engine, a, context, above)
      if (!pair(prev, current)) return false
      prev = current
    }
    return true
  }
}

const engine = createEngine()

/** Evaluate a rule; throws RuleEvaluationError ({type}) where the server's rule would raise. */
export function evaluate (rule, data = null) {
  try {
    const result = engine.run(rule, data === undefined ? null : data)
    return result === undefined ? null : result
  } catch (e) {
    throw asRuleError(e)
  }
}

if (typeof window !== 'undefined') window.roundsRules = { evaluate, truthy, RuleEvaluationError }

// =========================================================================================
// The form: what is shown, required and calculated follows the rules as answers change.
// =========================================================================================

const escapePointer = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1')

class RoundsForm {
  constructor (form, config) {
    this.form = form
    this.config = config
    this.t = config.text || {}
    this.rules = config.items || {}
    this.levels = new Map() // scope element → the data its items' rules see
    this.uploads = new Set() // photo uploads still running (submit waits for them)
    if (config.csrf_token) this.csrf = config.csrf_token
  }

  start () {
    this.form.addEventListener('input', () => this.refresh())
    this.form.addEventListener('change', () => this.refresh())
    this.form.addEventListener('submit', (ev) => this.submit(ev))
    this.form.addEventListener('click', (ev) => this.click(ev))
    for (const el of this.form.querySelectorAll('[data-type="photo"], [data-evidence-photos]')) this.bindPhotos(el)
    for (const el of this.form.querySelectorAll('[data-type="signature"]')) this.bindSignature(el)
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

  rulesOf (el) {
    const path = [el.dataset.item]
    let cur = el.parentElement.closest('[data-item]')
    while (cur) {
      path.unshift(cur.dataset.item)
      cur = cur.parentElement.closest('[data-item]')
    }
    return this.rules[path.join('.')] || {}
  }

  // A rule that raises counts as null, as on the server (rounds.rules.scoring).
  test (rule, data) {
    return truthy(this.value(rule, data))
  }

  value (rule, data) {
    try {
      return evaluate(rule, data)
    } catch (e) {
      console.warn('rounds: a rule raised; it counts as null', rule, e.error || e)
      return null
    }
  }

  allItems () {
    return [...this.form.querySelectorAll('[data-item]')]
  }

  scopeOf (el) {
    return el.parentElement.closest('[data-scope]')
  }

  // The data the rules of one level (the form, or a group entry) see, built as
  // rounds.rules.scoring._settle does: the level above with this level's ids removed, then
  // this level's kept answers (hidden items dropped, a hidden group as [], an unticked check
  // as false) and its calculated values (null ones left out). Records each level's data in
  // this.levels for the rules of its items.
  levelData (scope, base) {
    const data = { ...base }
    const items = this.ownItems(scope)
    for (const el of items) delete data[el.dataset.item]
    const groups = []
    const calcs = []
    for (const el of items) {
      const id = el.dataset.item
      if (el.dataset.calculated === 'true') {
        if (!el.hidden) calcs.push(el)
      } else if (el.dataset.type === 'group') {
        data[id] = []
        if (!el.hidden) groups.push(el)
      } else if (!el.hidden) {
        const v = this.valueOf(el)
        if (v !== undefined) data[id] = v
      }
    }
    // Entries read the data around them and calculated values may read entries: repeat
    // until nothing changes (the definition's validation rules out cycles).
    for (let round = 0; round <= groups.length + calcs.length; round++) {
      const before = JSON.stringify(data)
      for (const g of groups) {
        data[g.dataset.item] = this.entries(g).map((entry) => {
          const inner = this.levelData(entry, data)
          const values = {} // the entry's own values, as later rules see its entries
          for (const el of this.ownItems(entry)) {
            const id = el.dataset.item
            if (id in inner) values[id] = inner[id]
          }
          return values
        })
      }
      for (const el of calcs) {
        const value = this.value(this.rulesOf(el).calculate, data)
        if (value === null || value === undefined) delete data[el.dataset.item]
        else data[el.dataset.item] = value
      }
      if (JSON.stringify(data) === before) break
    }
    this.levels.set(scope, data)
    return data
  }

  refresh () {
    const base = { ctx: this.config.ctx || {} }
    // Hiding an item drops its answer, which may change what else is shown: repeat until
    // nothing changes. The server settles items in dependency order; for a definition
    // without cycles (validation rejects them) both arrive at the same state.
    for (let pass = 0; pass < 10; pass++) {
      this.levels = new Map()
      this.levelData(this.form, base)
      let changed = false
      for (const el of this.allItems()) {
        const rules = this.rulesOf(el)
        const data = this.levels.get(this.scopeOf(el))
        if (!('visible_if' in rules) || !data) continue // no data: inside a hidden group
        const visible = this.test(rules.visible_if, data)
        if (visible === el.hidden) {
          el.hidden = !visible
          changed = true
        }
      }
      if (!changed) break
    }
    for (const el of this.allItems()) {
      const rules = this.rulesOf(el)
      const data = this.levels.get(this.scopeOf(el))
      if (!data) continue
      const calculated = el.dataset.calculated === 'true'
      if (calculated) this.showCalculated(el, data[el.dataset.item] ?? null)
      // required only while shown, and never a calculated value
      const required = !calculated && (Boolean(rules.required) ||
        ('required_if' in rules && this.test(rules.required_if, data)))
      this.setRequired(el, required)
      if ('evidence_if' in rules) {
        const box = el.querySelector('[data-evidence]')
        if (box) box.hidden = !this.test(rules.evidence_if, data)
      }
    }
    // A hidden item's inputs are disabled: they are not sent and the browser skips them.
    for (const c of this.form.querySelectorAll('input, textarea, select, button')) {
      if (c.type === 'submit') continue
      c.disabled = Boolean(c.closest('[hidden]')) || c.dataset.limit === 'true'
    }
    for (const el of this.form.querySelectorAll('[data-type="group"]')) this.updateGroup(el)
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
    else if (btn.dataset.action === 'locate') this.locate(btn.closest('[data-item]'))
    else if (btn.dataset.action === 'clear-signature') this.clearSignature(btn.closest('[data-item]'))
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
    for (const el of entry.querySelectorAll('[data-type="photo"], [data-evidence-photos]')) this.bindPhotos(el)
    for (const el of entry.querySelectorAll('[data-type="signature"]')) this.bindSignature(el)
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

  // -- photos, position, signature ------------------------------------------------------

  bindPhotos (el) {
    const input = el.querySelector('input[type=file]')
    const thumbs = el.querySelector('[data-thumbs]')
    if (!input || input.dataset.bound) return
    input.dataset.bound = 'true'
    if (this.config.photo_upload) {
      input.addEventListener('change', () => this.uploadChosen(el, input, thumbs))
      return
    }
    input.addEventListener('change', () => {
      const files = [...input.files]
      thumbs.replaceChildren()
      for (const file of files) {
        const fig = document.createElement('figure')
        const img = document.createElement('img')
        img.alt = file.name
        img.src = URL.createObjectURL(file)
        img.onload = () => URL.revokeObjectURL(img.src)
        const cap = document.createElement('figcaption')
        cap.textContent = file.name
        fig.append(img, cap)
        thumbs.appendChild(fig)
      }
      // Until photos are uploaded, an answer refers to each photo by its file name.
      el.dataset.photos = JSON.stringify(files.map((f) => f.name))
      this.refresh()
    })
  }

  // A photo's thumbnail in ``thumbs`` with its caption and a button that removes it from
  // the answer of ``holder`` (an upload under way, or a stored photo restored from a draft).
  photoFigure (thumbs, holder, name, src, state, caption, ...extra) {
    const fig = document.createElement('figure')
    fig.className = 'upload'
    fig.dataset.upload = state
    const img = document.createElement('img')
    img.alt = name
    img.src = src
    const cap = document.createElement('figcaption')
    cap.textContent = caption
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'remove-photo'
    remove.textContent = '×'
    remove.setAttribute('aria-label', `${this.t.remove_photo || 'Remove'}: ${name}`)
    remove.addEventListener('click', () => {
      fig.remove()
      this.syncPhotos(holder)
    })
    fig.append(img, ...extra, cap, remove)
    thumbs.appendChild(fig)
    return fig
  }

  // Each photo goes to the server as soon as it is chosen, so submitting sends only ids and
  // a weak connection is spent while the user is still filling in. Photos chosen later are
  // added to those already there; each can be removed.
  uploadChosen (el, input, thumbs) {
    const files = [...input.files]
    input.value = '' // the same photo can be chosen again after a failure
    for (const file of files) {
      const bar = document.createElement('progress')
      bar.max = 100
      bar.value = 0
      const fig = this.photoFigure(thumbs, el, file.name, URL.createObjectURL(file), 'running',
        this.t.uploading || '…', bar)
      const img = fig.querySelector('img')
      const cap = fig.querySelector('figcaption')
      cap.setAttribute('role', 'status')
      fig.querySelector('.remove-photo').addEventListener('click', () => URL.revokeObjectURL(img.src))
      const job = this.sendPhoto(file, (pct) => { bar.value = pct }).then((photo) => {
        fig.dataset.upload = 'done'
        fig.dataset.photoId = photo.id
        bar.value = 100
        cap.textContent = this.t.uploaded || '✓'
      }, (err) => {
        fig.dataset.upload = 'failed'
        cap.textContent = `${this.t.upload_failed || 'Upload failed'} ${err.message || ''}`.trim()
      }).finally(() => {
        this.uploads.delete(job)
        this.syncPhotos(el)
      })
      this.uploads.add(job)
    }
  }

  // The answer (or evidence) is the ids of the photos uploaded, in the order shown.
  syncPhotos (el) {
    const ids = [...el.querySelectorAll('[data-thumbs] figure[data-photo-id]')]
      .filter((f) => f.closest('[data-item], [data-evidence-photos]') === el)
      .map((f) => f.dataset.photoId)
    el.dataset.photos = JSON.stringify(ids)
    this.refresh()
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  async sendPhoto (file, progress) {
    const csrf = await this.csrfToken()
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      xhr.open('POST', this.config.photo_upload)
      xhr.setRequestHeader('Accept', 'application/json')
      if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf)
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) progress(Math.round(100 * ev.loaded / ev.total))
      }
      xhr.onload = () => {
        let body = null
        try { body = JSON.parse(xhr.responseText) } catch (e) { body = null }
        if (xhr.status >= 200 && xhr.status < 300 && body && body.id) resolve(body)
        else {
          // the server says the code; the reader's language says what to do
          const known = body && body.code && this.t[`upload_error_${body.code}`]
          reject(new Error(known || String(xhr.status)))
        }
      }
      xhr.onerror = () => reject(new Error(this.t.network_error || ''))
      const data = new FormData()
      data.append('file', file, file.name)
      xhr.send(data)
    })
  }

  locate (el) {
    const status = el.querySelector('[data-gps-status]')
    const show = (text) => { status.textContent = text }
    if (!navigator.geolocation) {
      show(this.t.gps_unsupported)
      return
    }
    show(this.t.gps_locating)
    navigator.geolocation.getCurrentPosition((pos) => {
      const { latitude, longitude, accuracy } = pos.coords
      const set = (name, v) => { el.querySelector(`[data-gps="${name}"]`).value = String(v) }
      set('lat', latitude)
      set('lng', longitude)
      set('accuracy_m', Math.round(accuracy * 10) / 10)
      el.querySelector('[data-gps-value]').textContent = (this.t.gps_value || '{lat}, {lng} ±{accuracy} m')
        .replace('{lat}', latitude.toFixed(6)).replace('{lng}', longitude.toFixed(6))
        .replace('{accuracy}', String(Math.round(accuracy)))
      show(this.t.gps_done)
      this.refresh()
    }, (err) => {
      show(`${this.t.gps_failed} ${err.message || ''}`.trim())
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 })
  }

  bindSignature (el) {
    const canvas = el.querySelector('canvas')
    const hidden = el.querySelector('input[type=hidden]')
    if (!canvas || canvas.dataset.bound) return
    canvas.dataset.bound = 'true'
    const ctx = canvas.getContext('2d')
    const fit = () => {
      // draw in device pixels so lines are sharp; keep what was drawn
      const ratio = window.devicePixelRatio || 1
      const rect = canvas.getBoundingClientRect()
      if (!rect.width) return
      const saved = el.dataset.drawn
      canvas.width = Math.round(rect.width * ratio)
      canvas.height = Math.round(rect.height * ratio)
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
      ctx.lineWidth = 2.5
      ctx.lineCap = 'round'
      ctx.lineJoin = 'round'
      ctx.strokeStyle = '#1a1a2e'
      if (saved) {
        const img = new Image()
        img.onload = () => ctx.drawImage(img, 0, 0, rect.width, rect.height)
        img.src = saved
      }
    }
    let sized = false
    const ensure = () => {
      if (!sized && canvas.getBoundingClientRect().width) {
        fit()
        sized = true
      }
    }
    ensure()
    window.addEventListener('resize', () => { if (sized) fit() })
    let drawing = false
    const at = (ev) => {
      const r = canvas.getBoundingClientRect()
      return [ev.clientX - r.left, ev.clientY - r.top]
    }
    canvas.addEventListener('pointerdown', (ev) => {
      if (canvas.closest('[hidden]')) return
      ensure()
      drawing = true
      canvas.setPointerCapture(ev.pointerId)
      ctx.beginPath()
      ctx.moveTo(...at(ev))
      ev.preventDefault()
    })
    canvas.addEventListener('pointermove', (ev) => {
      if (!drawing) return
      ctx.lineTo(...at(ev))
      ctx.stroke()
    })
    const end = () => {
      if (!drawing) return
      drawing = false
      el.dataset.drawn = canvas.toDataURL('image/png') // to draw it again after a resize
      this.signatureChanged(el)
    }
    canvas.addEventListener('pointerup', end)
    canvas.addEventListener('pointercancel', end)
  }

  // A signature is the PNG drawn on the pad, uploaded like a photo; the answer is its id.
  // Strokes come in bursts: the upload waits until the pen has rested a moment (or the
  // form is submitted), and only the latest drawing's upload counts.
  signatureChanged (el) {
    const hidden = el.querySelector('input[type=hidden]')
    const status = el.querySelector('[data-signature-status]')
    if (!this.config.photo_upload) { // a preview: nothing is stored, the form is only checked
      hidden.value = 'signature.png'
      status.textContent = this.t.signature_done
      this.refresh()
      return
    }
    hidden.value = ''
    status.textContent = this.t.signature_saving || '…'
    this.refresh()
    clearTimeout(el.signatureTimer)
    el.signatureSeq = (el.signatureSeq || 0) + 1
    el.signatureTimer = setTimeout(() => this.uploadSignature(el), 800)
  }

  uploadSignature (el) {
    clearTimeout(el.signatureTimer)
    el.signatureTimer = null
    const seq = el.signatureSeq
    const canvas = el.querySelector('canvas')
    const hidden = el.querySelector('input[type=hidden]')
    const status = el.querySelector('[data-signature-status]')
    const job = new Promise((resolve) => canvas.toBlob(resolve, 'image/png'))
      .then((blob) => this.sendPhoto(new File([blob], 'signature.png', { type: 'image/png' }), () => {}))
      .then((photo) => {
        if (seq !== el.signatureSeq) return // drawn on (or cleared) since: not this one
        hidden.value = photo.id
        el.dataset.photoId = photo.id
        status.textContent = this.t.signature_done
      }, (err) => {
        if (seq !== el.signatureSeq) return
        status.textContent = `${this.t.signature_failed || ''} ${err.message || ''}`.trim()
      })
      .finally(() => {
        this.uploads.delete(job)
        this.refresh()
      })
    this.uploads.add(job)
  }

  // Before sending: signatures still waiting for the pen to rest are uploaded now.
  flushSignatures () {
    for (const el of this.form.querySelectorAll('[data-type="signature"]')) {
      if (el.signatureTimer) this.uploadSignature(el)
    }
  }

  clearSignature (el) {
    const canvas = el.querySelector('canvas')
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height)
    clearTimeout(el.signatureTimer)
    el.signatureTimer = null
    el.signatureSeq = (el.signatureSeq || 0) + 1
    delete el.dataset.drawn
    delete el.dataset.photoId
    el.querySelector('input[type=hidden]').value = ''
    el.querySelector('[data-signature-status]').textContent = ''
    this.refresh()
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
    this.clearErrors()
    const action = this.form.getAttribute('action')
    const result = this.form.querySelector('[data-result]')
    if (!action) {
      this.showMessage(result, this.t.preview_only)
      return
    }
    const button = this.form.querySelector('[type=submit]')
    button.disabled = true
    this.flushSignatures()
    if (this.uploads.size) {
      this.showMessage(result, this.t.wait_uploads)
      await Promise.allSettled([...this.uploads])
    }
    this.showMessage(result, this.t.sending)
    const env = this.config.envelope
    const body = env ? this.envelope() : this.payload()
    let response
    let answer = null
    try {
      const headers = { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' }
      const csrf = await this.csrfToken()
      if (csrf) headers['X-CSRF-Token'] = csrf
      response = await fetch(action, {
        method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body)
      })
      answer = await response.json().catch(() => null)
    } catch (e) {
      this.showMessage(result, this.t.network_error) // the id is kept: a retry reuses it
      button.disabled = false
      return
    }
    button.disabled = false
    if (env && response.ok) {
      this.forgetSubmissionId()
      this.form.dispatchEvent(new CustomEvent('rounds:submitted', { detail: { id: body.id } }))
      this.showMessage(result, this.t.submitted)
      this.form.dataset.submitted = body.id
      if (env.result_url) window.location.assign(env.result_url.replace('{id}', encodeURIComponent(body.id)))
    } else if (env && response.status === 409 && answer && answer.code === 'submission_id_conflict') {
      // stored earlier (its answer was lost), and the answers changed since: show that one
      this.forgetSubmissionId()
      this.form.dispatchEvent(new CustomEvent('rounds:submitted', { detail: { id: body.id } }))
      this.showConflict(result, body.id)
    } else if (response.ok && answer) {
      this.showScore(result, answer)
    } else if (answer && Array.isArray(answer.errors) && answer.errors.length) {
      this.showErrors(answer.errors)
      this.showMessage(result, '')
    } else {
      const detail = (answer && (answer.detail || answer.title)) || response.statusText
      this.showMessage(result, `${this.t.submit_failed} (${response.status}) ${detail}`.trim())
    }
  }

  // A signed-in page (session cookie) must send its CSRF token with a POST; anonymous
  // visitors have none, and the API answers for itself whether it needs one.
  async csrfToken () {
    if (this.csrf === undefined) {
      this.csrf = null
      try {
        const r = await fetch('/api/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        if (r.ok) this.csrf = (await r.json()).csrf_token || null
      } catch (e) {
        this.csrf = null
      }
    }
    return this.csrf
  }

  showConflict (result, id) {
    result.replaceChildren()
    result.hidden = false
    const p = document.createElement('p')
    p.textContent = `${this.t.id_conflict} ${this.t.new_submission}`
    result.appendChild(p)
    const url = this.config.envelope.result_url
    if (url) {
      const a = document.createElement('a')
      a.href = url.replace('{id}', encodeURIComponent(id))
      a.textContent = this.t.view_result
      result.appendChild(a)
    }
    result.focus()
  }

  showMessage (result, text) {
    result.replaceChildren()
    result.hidden = !text
    if (!text) return
    const p = document.createElement('p')
    p.textContent = text
    result.appendChild(p)
  }

  titleOf (id) {
    const el = this.form.querySelector(`[data-item="${CSS.escape(id)}"] [data-title]`)
    return el ? el.textContent.trim() : id
  }

  localized (v) {
    if (v && typeof v === 'object' && !Array.isArray(v)) return v[this.config.lang] ?? v.en ?? v.zh ?? ''
    return v === null || v === undefined ? '' : String(v)
  }

  showScore (result, answer) {
    result.replaceChildren()
    result.hidden = false
    const h = document.createElement('h2')
    h.textContent = this.t.result_title
    result.appendChild(h)
    const score = answer.score || {}
    const line = (className, text) => {
      const p = document.createElement('p')
      p.className = className
      p.textContent = text
      result.appendChild(p)
      return p
    }
    if (score.percentage !== undefined && score.percentage !== null) {
      const p = line('score', (this.t.score_line || '{percentage}%')
        .replace('{percentage}', String(score.percentage))
        .replace('{total}', String(score.points ?? score.total ?? ''))
        .replace('{max}', String(score.max ?? '')))
      p.dataset.score = String(score.percentage)
      if (typeof score.passed === 'boolean') {
        line(score.passed ? 'verdict passed' : 'verdict not-passed',
          score.passed ? this.t.passed : this.t.not_passed)
      }
    } else {
      line('verdict', this.t.valid)
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
    list(this.t.failed_items, (answer.failed || []).map((f) => typeof f === 'string'
      ? this.titleOf(f)
      : ((f.problem && this.localized(f.problem)) || this.titleOf(f.item || f.id || ''))))
    list(this.t.alerts, (answer.alerts || []).map((a) => this.localized(a.message) || a.code || ''))
    if (typeof answer.explanation === 'string' && answer.explanation) {
      const details = document.createElement('details')
      const summary = document.createElement('summary')
      summary.textContent = this.t.explanation
      const pre = document.createElement('pre')
      pre.textContent = answer.explanation
      details.append(summary, pre)
      result.appendChild(details)
    }
    result.focus()
  }

  // -- errors by JSON pointer -----------------------------------------------------------

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

  targets () {
    const out = []
    for (const el of this.allItems()) {
      out.push([this.pointerOf(el), el])
      const box = el.querySelector('[data-evidence]')
      if (box && box.closest('[data-item]') === el) {
        out.push(['/evidence/' + escapePointer(this.evidenceKey(el)), el])
      }
    }
    return out
  }

  clearErrors () {
    for (const e of this.form.querySelectorAll('[data-error]')) e.remove()
    for (const c of this.form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid')
    const summary = this.form.querySelector('[data-summary]')
    summary.replaceChildren()
    summary.hidden = true
  }

  // Each error next to its field (the deepest item its pointer falls in), and a summary at
  // the top linking to every one; the summary takes the focus so it is read first.
  showErrors (errors) {
    const targets = this.targets()
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
      for (const c of this.controls(el)) {
        c.setAttribute('aria-invalid', 'true')
        const ids = new Set((c.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean))
        ids.add(p.id)
        c.setAttribute('aria-describedby', [...ids].join(' '))
      }
      listed.push([err.message, el])
    }
    const summary = this.form.querySelector('[data-summary]')
    summary.hidden = false
    const h = document.createElement('h2')
    h.textContent = (this.t.errors_title || '{n}').replace('{n}', String(errors.length))
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
          const first = this.controls(el).find((c) => c.type !== 'hidden' && !c.disabled) ||
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

// -- start (last, so that everything above is defined) --------------------------------------

function onReady (fn) {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn)
  else fn()
}

if (typeof document !== 'undefined') {
  onReady(() => {
    const form = document.querySelector('form[data-rounds-form]')
    const block = document.getElementById('rounds-rules')
    if (!form || !block) return
    const rounds = new RoundsForm(form, JSON.parse(block.textContent))
    rounds.start()
    window.roundsForm = rounds // for tests and the console: roundsForm.payload()
  })
}
