// The closed loop in the browser: the bell and its live count, notifications pushed by the
// server (Server-Sent Events), and the actions of an issue (start, rectify with photos,
// verify, refuse, close, ...). The pages are rendered by the server; this only adds to them.
//
// Every action carries the version the page was rendered with (optimistic locking: a
// second person acting on the same issue gets a conflict, not a silent overwrite) and the
// page's CSRF token (the calls and the photo uploads go through the forms engine's api.js).

import { problemErrors, problemText, request, uploadPhoto } from '/static/rounds/api.js'
import { config, fieldError, fill, say, t } from './fieldwork.js'

const lang = config.lang || 'zh'
const ISSUE_LINK = /\/issues\/(\d+)(?:[/?#]|$)/
const MAX_NOTICES = 3

// -- the bell -------------------------------------------------------------------------------

function setUnread (n) {
  if (typeof n !== 'number' || n < 0) return
  for (const bell of document.querySelectorAll('[data-bell]')) {
    const badge = bell.querySelector('[data-unread]')
    badge.textContent = n > 99 ? '99+' : String(n)
    badge.hidden = n === 0
    bell.dataset.unread = String(n)
    bell.setAttribute('aria-label', fill(t.bell_label, { n }))
  }
}

async function refreshUnread () {
  const { response, data } = await request('GET', '/api/notifications/unread-count')
    .catch(() => ({ response: null, data: null }))
  if (!response || !response.ok || !data) return
  setUnread(typeof data === 'number' ? data : Number(data.unread ?? data.count ?? data.unread_count))
}

// -- a pushed notification ------------------------------------------------------------------

const messageText = (n) => (n.message && (n.message[lang] || n.message.zh || n.message.en)) || ''

function issueIdOf (n) {
  if (n.issue_id) return String(n.issue_id)
  const m = ISSUE_LINK.exec(n.link || '')
  return m ? m[1] : null
}

function withPageLang (link) {
  if (!link || !link.startsWith('/') || link.startsWith('//')) return '' // ours only
  const u = new URL(link, window.location.origin)
  u.searchParams.set('lang', lang)
  return u.pathname + u.search
}

// A notice on top of the page: what arrived, and what to do about it.
function notice (text, { link = '', action = null } = {}) {
  const box = document.querySelector('[data-live-notices]')
  if (!box) return null
  const p = document.createElement('p')
  p.className = 'fw-notice fw-live'
  p.dataset.liveNotice = ''
  p.append(text)
  if (withPageLang(link)) {
    const a = document.createElement('a')
    a.href = withPageLang(link)
    a.textContent = t.open_issue
    p.append(' ', a)
  }
  if (action) {
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'button secondary small'
    b.textContent = action.label
    b.addEventListener('click', action.run)
    p.append(' ', b)
  }
  box.prepend(p)
  // the latest few: a burst of pushes (a visit with many failed items) must not bury the page
  for (const old of [...box.querySelectorAll('[data-live-notice]')].slice(MAX_NOTICES)) old.remove()
  return p
}

// A row someone is filling in (a note typed, a photo chosen, a form unfolded).
function busy (row) {
  return [...row.querySelectorAll('textarea, select')].some((el) => el.value.trim()) ||
    Boolean(row.querySelector('[data-thumbs] figure, details[open]'))
}

// Reread the lists of this page from the server and put them in place (the same HTML a
// reload would give, without losing the page or its open connection). A row being filled
// in stays as it is while its issue has not changed, so a push never eats a half-typed fix.
async function refreshLists () {
  const response = await fetch(window.location.href, { credentials: 'same-origin',
    headers: { Accept: 'text/html' } }).catch(() => null)
  if (!response || !response.ok) return false
  const doc = new DOMParser().parseFromString(await response.text(), 'text/html')
  const before = new Set([...document.querySelectorAll('[data-issue-row]')].map((r) => r.dataset.issueRow))
  for (const fresh of doc.querySelectorAll('[data-live-region]')) {
    const here = document.querySelector(`[data-live-region="${fresh.dataset.liveRegion}"]`)
    if (!here) continue
    const node = document.importNode(fresh, true)
    for (const old of here.querySelectorAll('[data-issue-row]')) {
      const twin = node.querySelector(`[data-issue-row="${old.dataset.issueRow}"]`)
      if (twin && twin.dataset.version === old.dataset.version && busy(old)) twin.replaceWith(old)
    }
    here.replaceWith(node)
  }
  for (const row of document.querySelectorAll('[data-issue-row]')) {
    if (!before.has(row.dataset.issueRow)) row.dataset.new = 'true'
  }
  bindForms(document)
  document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1)
  return true
}

function onNotification (n) {
  if (typeof n.unread === 'number') setUnread(n.unread)
  else refreshUnread()
  const inbox = document.querySelector('[data-inbox]')
  if (inbox) {
    refreshLists()
    return
  }
  const text = messageText(n)
  const issueId = issueIdOf(n)
  const page = document.querySelector('[data-issue-page]')
  if (page) {
    if (issueId && issueId === page.dataset.issuePage) {
      notice(fill(t.live_changed, { message: text }),
        { action: { label: t.reload, run: () => window.location.reload() } })
    } else {
      notice(text, { link: n.link })
    }
    return
  }
  // my issues, the board: the new or changed issue shows in the list at once
  if (document.querySelector('[data-live-region]')) refreshLists()
  notice(text, { link: n.link })
}

function listen () {
  if (!('EventSource' in window)) return
  const source = new EventSource('/api/notifications/stream')
  const parse = (ev) => {
    try {
      const data = JSON.parse(ev.data)
      return data && typeof data === 'object' ? data : null
    } catch (e) {
      return null
    }
  }
  let connected = false
  // The stream begins with the unread count, sent once the server listens for this user:
  // from then on nothing new is missed. After a reconnection, catch up on what came while
  // the page was not listening (the server replays by Last-Event-ID; this covers the rest).
  source.addEventListener('unread', (ev) => {
    const data = parse(ev)
    if (data) setUnread(Number(data.unread))
    if (connected && document.querySelector('[data-live-region]')) refreshLists()
    connected = true
    document.body.dataset.live = 'open'
  })
  const onPushed = (ev) => {
    const n = parse(ev)
    if (n && n.type !== 'unread' && (n.message || n.kind)) onNotification(n)
    else if (n && typeof n.unread === 'number') setUnread(n.unread)
  }
  source.addEventListener('notification', onPushed)
  source.addEventListener('message', onPushed) // unnamed events, should a server send them
  source.addEventListener('error', () => { document.body.dataset.live = 'retrying' })
  window.addEventListener('pagehide', () => source.close())
}

// -- photos of a fix --------------------------------------------------------------------------

function bindPhotos (input) {
  if (input.dataset.bound) return
  input.dataset.bound = 'true'
  const form = input.closest('form')
  const thumbs = form.querySelector('[data-thumbs]')
  input.addEventListener('change', async () => {
    for (const file of [...input.files]) {
      const figure = document.createElement('figure')
      figure.dataset.upload = 'pending'
      const img = document.createElement('img')
      img.alt = file.name
      img.src = URL.createObjectURL(file)
      const caption = document.createElement('figcaption')
      caption.textContent = t.uploading
      figure.append(img, caption)
      thumbs.append(figure)
      try {
        const photo = await uploadPhoto(file)
        figure.dataset.upload = 'done'
        figure.dataset.photoId = photo.id
        caption.textContent = ''
      } catch (e) { // the server's problem, else the network
        figure.dataset.upload = 'failed'
        caption.textContent = `${t.upload_failed}: ${e.status ? e.message : t.network_error}`
      }
    }
    input.value = '' // the same photo can be chosen again after a failure
  })
}

// -- actions ---------------------------------------------------------------------------------


function collect (form) {
  const body = { version: Number(form.dataset.version) }
  const missing = []
  for (const el of form.querySelectorAll('[name]')) {
    if (el.type === 'file') continue
    const value = el.value.trim()
    fieldError(form, el.name, '')
    if (el.required && !value) missing.push([el.name, el.dataset.missing || t.reason_required])
    if (!value) continue
    body[el.name] = el.dataset.number ? Number(value) : value
  }
  const photos = form.querySelector('[data-thumbs]')
  if (photos) {
    if (photos.querySelector('figure[data-upload=pending]')) return { wait: true }
    body.photos = [...photos.querySelectorAll('figure[data-upload=done]')].map((f) => f.dataset.photoId)
    fieldError(form, 'photos', '')
    if (photos.dataset.required && !body.photos.length) missing.push(['photos', t.photo_required])
  }
  return { body, missing }
}

export async function act (form) {
  const status = form.querySelector('[data-status]')
  const { body, missing, wait } = collect(form)
  if (wait) {
    say(status, t.uploading)
    return
  }
  if (missing.length) {
    for (const [name, text] of missing) fieldError(form, name, text)
    say(status, '')
    return
  }
  const buttons = form.querySelectorAll('button')
  for (const b of buttons) b.disabled = true
  say(status, t.sending)
  let result
  try {
    result = await request('POST', `/api/issues/${form.dataset.issueId}/${form.dataset.issueAction}`, body)
  } catch (e) {
    result = null
  }
  for (const b of buttons) b.disabled = false
  if (!result) {
    say(status, t.network_error, 'error')
    return
  }
  const { response, data } = result
  if (response.ok) {
    say(status, t.done_ok)
    // the page as the server now sees the issue: its state, history and next actions
    if (document.querySelector('[data-issue-page]')) window.location.reload()
    else refreshLists()
    return
  }
  if (response.status === 409) {
    say(status, t.version_conflict, 'error')
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'button secondary small'
    b.textContent = t.reload
    b.addEventListener('click', () => window.location.reload())
    status.append(' ', b)
    return
  }
  // a 422 names the fields: each message goes next to its field
  for (const e of problemErrors(data)) {
    const name = e.pointer.split('/').filter(Boolean).shift()
    if (name && form.querySelector(`[data-error-for="${name}"]`)) fieldError(form, name, e.message)
  }
  say(status, `${t.action_failed}: ${problemText(data, response.statusText)}`, 'error')
}

function bindForms (root) {
  for (const input of root.querySelectorAll('form[data-issue-action] input[type=file]')) bindPhotos(input)
}

// -- the inbox --------------------------------------------------------------------------------

async function markRead (button) {
  button.disabled = true
  const url = button.dataset.markRead === 'all'
    ? '/api/notifications/read-all'
    : `/api/notifications/${button.dataset.markRead}/read`
  const { response } = await request('POST', url).catch(() => ({ response: null }))
  button.disabled = false
  if (!response || !response.ok) {
    say(document.querySelector('[data-inbox-status]'), t.action_failed, 'error')
    return
  }
  await refreshLists()
  refreshUnread()
}

// -- start ------------------------------------------------------------------------------------

export function start () {
  const known = document.querySelector('[data-bell]')?.dataset.unread
  if (known) setUnread(Number(known))
  else refreshUnread() // a page that did not count them
  bindForms(document)
  document.addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-mark-read]')
    if (button && !button.disabled) markRead(button)
  })
  listen()
  document.body.dataset.issues = 'ready'
}
