// The domain operations of the rules (rounds.rules.operations), ported to the browser:
// distance_m, days_between, count, count_truthy, sum, percentage, and Python's round() that
// they answer with. Each gives what platform/rounds/rules/operations.py gives for the same
// arguments (tests/conformance/parity.json); rules.js registers them with the engine.

import { add, has, isDict, isList, isNumber, toNumber, truthy } from './rules-semantics.js'

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

export function count (args) {
  const [values = null, ...more] = args
  if (more.length || !isList(values)) return [values, ...more].filter(truthy).length
  return values.length
}

export function countTruthy (args) {
  const [values = null] = args
  return isList(values) ? values.filter(truthy).length : 0
}

export function sum (args) {
  const [values = null, ...more] = args
  const items = isList(values) && !more.length ? values : [values, ...more]
  return add(items.filter((v) => v !== null && v !== undefined))
}

export function percentage (args) {
  const [part = null, whole = null, digits = 1] = args
  const p = toNumber(part)
  const w = toNumber(whole)
  if (Number.isNaN(p) || Number.isNaN(w) || w === 0) return null
  const nd = isNumber(digits) ? Math.trunc(digits) : 1
  return pyRound(100 * p / w, nd)
}
