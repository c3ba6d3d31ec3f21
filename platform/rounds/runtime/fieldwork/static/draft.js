// A visit's form kept on this device until it is submitted: a reload by mistake, a crash or
// a dead battery must not cost the answers, the photos or the retailer's signature.
//
// The draft lives in localStorage under a key of the user, the visit, the form and its
// version (rounds:draft:<user>:<visit>:<definition>:<version hash>), so another person on the
// same phone, another visit or a new version of the form never gets it. It holds the state
// of the form's controls (answers, group entries), the ids of the photos already uploaded
// (the photos themselves are on the server) and each signature as the canvas's PNG data URL.
// It is removed once the server has the submission (the form says so with a
// "rounds:submitted" event) or when the person discards it.
//
// It starts once the page's form has (rounds-form.js's `started`), and restores into it with
// the form's own means: its entries (addEntry), its photo thumbnails (form-media.js) and
// refresh.

import { photoFigure, syncPhotos } from '/static/rounds/form-media.js'
import { started } from '/static/rounds/rounds-form.js'

const config = JSON.parse(document.getElementById('form-draft')?.textContent || 'null')
const SKIP = new Set(['file', 'submit', 'button', 'reset'])
const PREFIX = '-entry-'

function read (key) {
  try {
    const raw = localStorage.getItem(key)
    return raw ? JSON.parse(raw) : null
  } catch (e) {
    return null
  }
}

function write (key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value))
    return true
  } catch (e) { // full or forbidden (private mode): the form works on without a draft
    return false
  }
}

function forget (key) {
  try { localStorage.removeItem(key) } catch (e) { /* nothing kept */ }
}

const controlKey = (c) => c.id || c.name

function snapshot (form) {
  const groups = []
  for (const g of form.querySelectorAll('[data-type="group"]')) {
    const list = g.querySelector('[data-entries]')
    if (!g.id || !list) continue
    const serials = [...list.children].filter((c) => c.matches('[data-entry]'))
      .map((e) => e.id.slice(e.id.lastIndexOf(PREFIX) + PREFIX.length))
    groups.push({ id: g.id, serials, next: g.dataset.nextSerial || '' })
  }
  const fields = {}
  for (const c of form.querySelectorAll('input, textarea, select')) {
    if (SKIP.has(c.type) || !controlKey(c) || c.closest('template')) continue
    fields[controlKey(c)] = (c.type === 'checkbox' || c.type === 'radio') ? c.checked : c.value
  }
  const photos = {}
  for (const holder of form.querySelectorAll('[data-type="photo"], [data-evidence-photos]')) {
    const input = holder.querySelector('input[type=file]')
    if (!input || !input.id) continue
    const figures = [...holder.querySelectorAll('[data-thumbs] figure[data-photo-id]')]
      .filter((f) => f.closest('[data-item], [data-evidence-photos]') === holder)
    if (figures.length) {
      photos[input.id] = figures.map((f) => ({
        id: f.dataset.photoId, name: f.querySelector('img')?.alt || ''
      }))
    }
  }
  const signatures = {}
  for (const canvas of form.querySelectorAll('canvas.signature-pad')) {
    const item = canvas.closest('[data-item]')
    const hidden = item && item.querySelector('input[type=hidden]')
    if (canvas.id && hidden && hidden.value) signatures[canvas.id] = canvas.toDataURL('image/png')
  }
  return { saved_at: new Date().toISOString(), groups, fields, photos, signatures }
}

function restoreGroups (rounds, groups) {
  for (const saved of groups) { // document order: an outer group's entries come first
    const g = document.getElementById(saved.id)
    if (!g) continue
    const list = g.querySelector('[data-entries]')
    const have = new Set([...list.children].filter((c) => c.matches('[data-entry]'))
      .map((e) => e.id.slice(e.id.lastIndexOf(PREFIX) + PREFIX.length)))
    for (const serial of saved.serials) {
      if (have.has(serial)) continue
      g.dataset.nextSerial = serial // the same serial: the same ids and names as before
      rounds.addEntry(g)
    }
    if (saved.next) g.dataset.nextSerial = saved.next
  }
}

function restoreFields (form, fields) {
  for (const [key, value] of Object.entries(fields)) {
    const c = document.getElementById(key) || form.querySelector(`[name="${CSS.escape(key)}"]`)
    if (!c || !form.contains(c)) continue
    if (c.type === 'checkbox' || c.type === 'radio') c.checked = Boolean(value)
    else c.value = String(value)
  }
}

function restorePhotos (rounds, photos) {
  for (const [inputId, list] of Object.entries(photos)) {
    const input = document.getElementById(inputId)
    const holder = input && input.closest('[data-evidence-photos], [data-item]')
    const thumbs = holder && holder.querySelector('[data-thumbs]')
    if (!thumbs) continue
    for (const photo of list) {
      if (thumbs.querySelector(`figure[data-photo-id="${CSS.escape(photo.id)}"]`)) continue
      const fig = photoFigure(rounds, thumbs, holder, photo.name,
        `/api/photos/${encodeURIComponent(photo.id)}`, 'done', rounds.t.uploaded || '✓')
      fig.dataset.photoId = photo.id
    }
    syncPhotos(rounds, holder)
  }
}

function restoreSignatures (rounds, signatures) {
  for (const [canvasId, url] of Object.entries(signatures)) {
    const canvas = document.getElementById(canvasId)
    if (!canvas) continue
    const item = canvas.closest('[data-item]')
    const img = new Image()
    img.onload = () => {
      const ctx = canvas.getContext('2d')
      // the saved PNG is the pad's pixels: drawn over the whole pad, whatever its scale
      ctx.save()
      ctx.setTransform(1, 0, 0, 1, 0, 0)
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height)
      ctx.restore()
    }
    img.src = url
    const status = item && item.querySelector('[data-signature-status]')
    if (status) status.textContent = rounds.t.signature_done || ''
  }
}

function notice (form, text, discardLabel, onDiscard) {
  const box = document.createElement('div')
  box.className = 'fw-notice fw-draft'
  box.dataset.draftRestored = 'true'
  box.setAttribute('role', 'status')
  const p = document.createElement('p')
  p.textContent = text
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'button link'
  button.dataset.draftDiscard = 'true'
  button.textContent = discardLabel
  button.addEventListener('click', onDiscard)
  box.append(p, button)
  form.prepend(box)
}

function start (form, rounds) {
  const key = config.key
  let restoring = false
  let done = false
  let timer = null
  const save = () => {
    clearTimeout(timer)
    timer = null
    if (restoring || done || form.dataset.submitted) return
    write(key, snapshot(form))
  }
  const later = () => {
    if (restoring || done) return
    clearTimeout(timer)
    timer = setTimeout(save, 300)
  }

  const draft = read(key)
  if (draft) {
    restoring = true
    try {
      restoreGroups(rounds, draft.groups || [])
      restoreFields(form, draft.fields || {})
      rounds.refresh()
      restorePhotos(rounds, draft.photos || {})
      restoreSignatures(rounds, draft.signatures || {})
      rounds.refresh()
    } finally {
      restoring = false
    }
    notice(form, config.text.restored, config.text.discard, () => {
      done = true
      forget(key)
      window.location.reload()
    })
    form.dataset.draft = 'restored'
  }

  form.addEventListener('input', later)
  form.addEventListener('change', later)
  form.addEventListener('pointerup', later) // the end of a signature stroke
  form.addEventListener('click', later) // a photo removed, an entry added, a pad cleared
  // photos finishing their upload, a position found: no input event, but the page changes
  new MutationObserver(later).observe(form, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['data-photos', 'data-photo-id']
  })
  window.addEventListener('pagehide', () => { if (timer) save() })
  form.addEventListener('rounds:submitted', () => {
    done = true
    clearTimeout(timer)
    forget(key)
  })
  form.dataset.draftKey = key
}

if (config && config.key) started.then((rounds) => start(rounds.form, rounds))
