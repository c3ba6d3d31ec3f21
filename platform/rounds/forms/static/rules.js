// The rule engine in the browser: JsonLogic evaluation with the semantics of rounds.rules,
// so that a form shows, requires and calculates what the server will (visible_if,
// required_if, evidence_if, calculate).
//
// Rules are JsonLogic run by json-logic-engine (served from node_modules by the app). The
// server runs the same rules with rounds.rules (Python); both must give one answer, and
// tests/conformance/parity.json pins them together. json-logic-engine follows the 2024
// community spec, as our engine does, but the spec leaves room where rounds.rules made
// documented choices ({} is truthy, null vs a non-numeric string, "" counts as missing, walking
// something that is not an array, ...). So the operations whose answers could differ are
// replaced here by ports of platform/rounds/rules/semantics.py (rules-semantics.js); the
// engine keeps parsing, dispatch, caching, `if`, `preserve` and `try`. The domain operations
// port platform/rounds/rules/operations.py (rules-operations.js).
//
// evaluate(rule, data) is all a page needs.

import { LogicEngine } from '/static/vendor/json-logic-engine/index.js'
import {
  INVALID, NAN_ERROR, PAIRS, add, contains, divide, existsPath, extreme, isDict, isList,
  isNumber, merge, missing, modulo, multiply, substr, subtract, toNumber, toStr, truthy,
  valPath, varPath
} from './rules-semantics.js'
import { count, countTruthy, daysBetween, distanceM, percentage, sum } from './rules-operations.js'
// The enabled extensions' operations (rounds.extensions), served by the app.
import { operations as extensionOperations } from '/static/extensions/operations.js'

export { truthy }

// -- val and exists: which data, which keys ---------------------------------------------------

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
  for (const [name, fn] of Object.entries(extensionOperations)) {
    if (!(name in ops)) ops[name] = eager((args) => fn(...args.map((a) => a ?? null)))
  }
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
