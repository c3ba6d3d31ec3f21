// The values of JsonLogic as rounds.rules.semantics sees them, ported to the browser: what
// is true, numbers and strings, comparisons, arithmetic and the other data operations, and
// reading the data (var, val, exists, missing). Each function follows its namesake in
// platform/rounds/rules/semantics.py; tests/conformance/parity.json pins the two together.
//
// Pure functions of already-evaluated values: no engine, no page. A rule that must raise
// throws {type} (NAN_ERROR, INVALID), as the server's rule would.

// -- values, as rounds.rules.semantics sees them ------------------------------------------

export const NAN_ERROR = () => ({ type: 'NaN' })
export const INVALID = () => ({ type: 'Invalid Arguments' })

export const isNumber = (v) => typeof v === 'number'
export const isList = Array.isArray
export const isDict = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
export const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k)

export function truthy (v) {
  if (v === null || v === undefined) return false
  if (isList(v)) return v.length > 0
  if (typeof v === 'object') return true // an object, even {}, is true (semantics.truthy)
  return Boolean(v) // NaN, 0 and "" are false
}

export function toNumber (v) {
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

export function toStr (v) {
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

export const PAIRS = {
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

export function varPath (data, path, dflt = null) {
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

export function valPath (data, keys) {
  for (const k of keys) {
    data = step(data, k)
    if (data === NOT_FOUND) return null
  }
  return data === undefined ? null : data
}

export function existsPath (data, keys) {
  for (const k of keys) {
    data = step(data, k)
    if (data === NOT_FOUND) return false
  }
  return true
}

export function missing (data, keys) {
  if (keys.length && isList(keys[0])) keys = keys[0]
  return keys.filter((k) => {
    const v = varPath(data, k, null)
    return v === null || v === ''
  })
}

// -- arithmetic and the other data operations (semantics.py) ------------------------------

export function add (args) {
  let total = 0
  for (const a of args) total += isNumber(a) ? a : numberOrRaise(a)
  return checked(total)
}

export function multiply (args) {
  let total = 1
  for (const a of args) total *= isNumber(a) ? a : numberOrRaise(a)
  return checked(total)
}

export function subtract (args) {
  if (!args.length) throw INVALID()
  let first = numberOrRaise(args[0])
  if (args.length === 1) return checked(-first)
  for (const a of args.slice(1)) first -= numberOrRaise(a)
  return checked(first)
}

export function divide (args) {
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

export function modulo (args) {
  if (args.length < 2) throw INVALID()
  const nums = args.map(numberOrRaise)
  let result = nums[0]
  for (const n of nums.slice(1)) {
    if (n === 0) throw NAN_ERROR()
    result %= n // like math.fmod: the sign of the dividend
  }
  return checked(result)
}

export function extreme (args, better) {
  if (!args.length || !args.every(isNumber)) throw INVALID()
  let best = args[0]
  for (const a of args.slice(1)) if (better(a, best)) best = a
  return best
}

export function contains (needle, haystack) {
  if (typeof haystack === 'string') return haystack.includes(toStr(needle))
  if (isList(haystack)) return haystack.some((x) => strictEq(needle, x))
  return false
}

export function substr (args) {
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

export function merge (args) {
  const out = []
  for (const a of args) {
    if (isList(a)) out.push(...a)
    else out.push(a)
  }
  return out
}
