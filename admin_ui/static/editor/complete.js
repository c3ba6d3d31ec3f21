// Completion in the JSON view from the kind's meta-schema (JSON Schema 2020-12, as served by
// GET /api/schemas/{kind}): the property names valid where the cursor is, and a property's
// enum / const / boolean values. A small source on @codemirror/autocomplete rather than
// codemirror-json-schema, whose dependencies (shiki, markdown-it, json-schema-library, ...)
// do not load unbundled through the import map.
//
// The JSON path at the cursor comes from a scan of the text before it, not from the syntax
// tree: half-typed JSON ("{ "ti") is exactly when completion is asked for, and a plain scan
// reads it the same way every time.

import { insertCompletionText, pickedCompletion } from '@codemirror/autocomplete'

// -- the JSON path at a position ----------------------------------------------------------------

// What the cursor is in: `path` to the container, `at` = 'key' (a property name of the
// object at path) or 'value' (the value at path + step), `from` where the typed token starts,
// `present` the keys the object already has (not offered twice).
export function placeAt (text, pos) {
  const stack = []
  let i = 0
  let token = null // the string or word the cursor is in: its start
  while (i < pos) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      let s = ''
      while (j < pos && text[j] !== '"') {
        if (text[j] === '\\') { s += text[j + 1] ?? ''; j += 2 } else { s += text[j]; j += 1 }
      }
      if (j >= pos) { token = i; break } // the cursor is inside this string
      const top = stack[stack.length - 1]
      if (top && top.type === 'obj' && !top.afterColon) { top.key = s; top.present.add(s) }
      i = j + 1
      continue
    }
    const top = stack[stack.length - 1]
    if (c === '{') stack.push({ type: 'obj', key: null, afterColon: false, present: new Set() })
    else if (c === '[') stack.push({ type: 'arr', index: 0 })
    else if (c === '}' || c === ']') stack.pop()
    else if (c === ':' && top && top.type === 'obj') top.afterColon = true
    else if (c === ',' && top) { if (top.type === 'obj') { top.key = null; top.afterColon = false } else top.index += 1 }
    else if (/[\w.+-]/.test(c)) {
      let j = i
      while (j < pos && /[\w.+-]/.test(text[j])) j += 1
      if (j >= pos) { token = i; break } // a bare word being typed (true, a key without quotes)
      i = j
      continue
    }
    i += 1
  }
  if (!stack.length) return null
  const path = []
  for (const e of stack.slice(0, -1)) path.push(e.type === 'obj' ? e.key : e.index)
  const top = stack[stack.length - 1]
  const from = token ?? pos
  if (top.type === 'arr') return { path, at: 'value', step: top.index, from, present: new Set() }
  if (top.afterColon) return { path, at: 'value', step: top.key, from, present: new Set() }
  // keys after the cursor are there too (the completed property's own closing quote skipped)
  const rest = token !== null && text[token] === '"' ? text.indexOf('"', pos) + 1 : pos
  for (const key of keysAfter(text, rest || pos)) top.present.add(key)
  return { path, at: 'key', from, present: top.present }
}

// The property names of the object the position is in, from there to its closing brace.
function keysAfter (text, pos) {
  const keys = []
  let depth = 0
  for (let i = pos; i < text.length; i += 1) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (depth === 0 && /^\s*:/.test(text.slice(j + 1, j + 40))) {
        try { keys.push(JSON.parse(text.slice(i, j + 1))) } catch (e) { /* a key still being typed */ }
      }
      i = j
    } else if (c === '{' || c === '[') depth += 1
    else if (c === '}' || c === ']') { depth -= 1; if (depth < 0) break }
  }
  return keys
}

// -- the schema along a path -----------------------------------------------------------------------

// Schemas are fetched once per URL; a $ref "common.json#/$defs/id" is read against the
// referring document's $id, so it names the sibling /api/schemas/common.json.
export class SchemaWalker {
  constructor (url) {
    this.base = url.replace(/[^/]*$/, '')
    this.docs = new Map()
    this.root = url
  }

  async load (url) {
    if (!this.docs.has(url)) {
      this.docs.set(url, fetch(url, { headers: { Accept: 'application/json' } })
        .then((r) => (r.ok ? r.json() : {})).catch(() => ({})))
    }
    return this.docs.get(url)
  }

  // Every schema the document at `url` lets `schema` be: $ref followed, allOf / anyOf / oneOf
  // and if/then/else merged (completion offers what any branch allows).
  async expand (schema, url, seen = new Set(), out = []) {
    if (!schema || typeof schema !== 'object') return out
    if (seen.has(schema)) return out
    seen.add(schema)
    out.push({ schema, url })
    if (typeof schema.$ref === 'string') {
      const [file, pointer = ''] = schema.$ref.split('#')
      const target = file ? this.base + file.replace(/\.json$/, '') : url
      const doc = await this.load(target)
      await this.expand(walkPointer(doc, pointer), target, seen, out)
    }
    for (const key of ['allOf', 'anyOf', 'oneOf']) {
      for (const s of schema[key] || []) await this.expand(s, url, seen, out)
    }
    for (const key of ['then', 'else']) await this.expand(schema[key], url, seen, out)
    return out
  }

  // The schemas of the value at `path` (object keys and array indexes).
  async at (path) {
    let here = await this.expand(await this.load(this.root), this.root)
    for (const step of path) {
      const next = []
      for (const { schema, url } of here) {
        for (const s of childSchemas(schema, step)) next.push(...await this.expand(s, url))
      }
      here = next
      if (!here.length) break
    }
    return here
  }
}

function walkPointer (doc, pointer) {
  let node = doc
  for (const raw of pointer.split('/').slice(1)) {
    if (node == null) return null
    node = node[raw.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return node
}

function childSchemas (schema, step) {
  const found = []
  if (typeof step === 'number') {
    if (Array.isArray(schema.prefixItems) && step < schema.prefixItems.length) found.push(schema.prefixItems[step])
    else if (schema.items && typeof schema.items === 'object') found.push(schema.items)
    return found
  }
  if (step == null) return found
  if (schema.properties && step in schema.properties) found.push(schema.properties[step])
  for (const [pattern, s] of Object.entries(schema.patternProperties || {})) {
    try { if (new RegExp(pattern, 'u').test(step)) found.push(s) } catch (e) { /* a pattern the browser cannot read */ }
  }
  if (!found.length && schema.additionalProperties && typeof schema.additionalProperties === 'object') found.push(schema.additionalProperties)
  return found
}

// -- the completion source ------------------------------------------------------------------------

// `words(key)` gives the page's text for a label (required / optional / a JSON type);
// `describe` says whether the schema's (English) descriptions may be shown as info.
export function schemaCompletion (url, { words, describe }) {
  const walker = new SchemaWalker(url)
  walker.load(url) // fetched before the first Ctrl-Space
  return async (context) => {
    const text = context.state.doc.toString()
    const place = placeAt(text, context.pos)
    if (!place) return null
    const typed = text.slice(place.from, context.pos)
    if (!context.explicit && !typed) return null // typing opens it once a quote or letter is there
    const options = place.at === 'key'
      ? await keyOptions(walker, place, words, describe)
      : await valueOptions(walker, place)
    if (!options.length) return null
    return {
      from: place.from,
      options: options.map((o) => ({ ...o, apply: replacing(o.apply ?? o.label) })),
      validFor: /^"?[\w.+-]*$/ // a closing quote ends it (the name or value was typed out)
    }
  }
}

// The text typed so far is replaced, and the closing quote the editor put in with the opening
// one too (left out of the range itself: the typed text is what the options are matched on).
function replacing (insert) {
  return (view, completion, from, to) => {
    const closing = view.state.sliceDoc(from, from + 1) === '"' && view.state.sliceDoc(to, to + 1) === '"'
    view.dispatch({
      ...insertCompletionText(view.state, insert, from, closing ? to + 1 : to),
      annotations: pickedCompletion.of(completion)
    })
  }
}

async function keyOptions (walker, place, words, describe) {
  const seen = new Map()
  const required = new Set()
  for (const { schema, url } of await walker.at(place.path)) {
    for (const r of schema.required || []) required.add(r)
    for (const [name, sub] of Object.entries(schema.properties || {})) {
      if (place.present.has(name)) continue
      const known = seen.get(name)
      const info = describe ? await description(walker, sub, url) : null
      if (!known) seen.set(name, { name, info })
      else if (!known.info && info) known.info = info
    }
  }
  return [...seen.values()].map(({ name, info }) => ({
    label: `"${name}"`,
    displayLabel: name,
    type: 'property',
    detail: words(required.has(name) ? 'complete_required' : 'complete_optional'),
    info: info || undefined,
    boost: required.has(name) ? 1 : 0,
    apply: `"${name}": `
  }))
}

async function valueOptions (walker, place) {
  const values = new Map()
  for (const { schema } of await walker.at([...place.path, place.step])) {
    const add = (v) => { if (v !== null && typeof v === 'object') return; values.set(JSON.stringify(v), v) }
    if ('const' in schema) add(schema.const)
    for (const v of schema.enum || []) add(v)
    const types = [].concat(schema.type || [])
    if (types.includes('boolean')) { add(true); add(false) }
    if (types.includes('null')) add(null)
  }
  return [...values.keys()].map((label) => ({ label, type: label.startsWith('"') ? 'enum' : 'keyword' }))
}

async function description (walker, schema, url) {
  for (const { schema: s } of await walker.expand(schema, url)) {
    if (typeof s.description === 'string') return s.description
  }
  return null
}
