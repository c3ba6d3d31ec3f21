// Rounds field pages in the browser: what needs the device (its position) or changes data
// through the API (sign in and out, check in, check out). The pages are rendered by the
// server; this script only adds to them, found by their data-* attributes. No framework.
// Every page of the field staff loads it (templates/_fw.html); it loads issues.js on the
// pages of a signed-in person, and a visit's form page adds draft.js.
//
// The calls go through the forms engine's api.js (one for every page): each call that
// changes data sends the page's CSRF token (X-CSRF-Token), given in the page's config, so
// another site cannot make the browser check in. The page's words come in the config too
// (`text`, from rounds.runtime.fieldwork.texts).

import { problemErrors, problemText, request, setCsrfToken } from '/static/rounds/api.js'

export const config = JSON.parse(document.getElementById('fieldwork-config')?.textContent || '{}')
export const t = config.text || {}
const links = config.links || {}
setCsrfToken(config.csrf_token || null) // null: nobody signed in, nothing to ask for

export const fill = (text, values) => String(text || '').replace(/\{(\w+)\}/g,
  (m, k) => (k in values ? String(values[k]) : m))

export function withLang (url, extra = {}) {
  const u = new URL(url, window.location.origin)
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v)
  if (config.lang) u.searchParams.set('lang', config.lang)
  return u.pathname + u.search
}

export function say (el, text, kind = '') {
  if (!el) return
  el.textContent = text
  el.classList.toggle('is-error', kind === 'error')
}

// The status line that belongs to a control: the nearest one in its card.
function statusFor (el) {
  const box = el.closest('[data-stop], .fw-other, .fw-card, main')
  return box ? box.querySelector('[data-status]') : null
}

function position (options) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error(t.gps_unsupported))
      return
    }
    navigator.geolocation.getCurrentPosition(resolve, reject, options)
  })
}

const gps = (pos) => ({
  lat: pos.coords.latitude,
  lng: pos.coords.longitude,
  accuracy_m: Math.round(pos.coords.accuracy * 10) / 10
})

// A form field's mistake shown next to it (its `[data-error-for=name]` element), and the field
// marked invalid for assistive technology; an empty text clears both.
export function fieldError (form, name, text) {
  const el = form.querySelector(`[data-error-for="${name}"]`)
  if (el) {
    el.textContent = text
    el.hidden = !text
  }
  const input = form.elements[name]
  if (input && input.setAttribute) input.setAttribute('aria-invalid', text ? 'true' : 'false')
}

export function distanceText (metres) {
  if (metres === null || metres === undefined) return t.distance_unknown || ''
  if (metres < 1000) return fill(t.metres, { n: Math.round(metres) })
  return fill(t.kilometres, { n: Math.round(metres / 100) / 10 })
}

// -- sign in and out ----------------------------------------------------------------------

function bindSignIn (form) {
  const error = form.querySelector('[data-sign-in-error]')
  const button = form.querySelector('[type=submit]')
  const show = (text) => {
    error.textContent = text
    error.hidden = !text
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const username = form.elements.username.value.trim()
    const password = form.elements.password.value
    if (!username || !password) {
      show(t.fill_both)
      return
    }
    show('')
    button.disabled = true
    button.textContent = t.signing_in
    let result
    try {
      result = await request('POST', '/api/auth/sign-in', { username, password })
    } catch (e) {
      result = null
    }
    button.disabled = false
    button.textContent = t.sign_in
    if (!result) {
      show(t.network_error)
      return
    }
    const { response, data } = result
    if (response.ok) {
      window.location.assign(form.dataset.next || links.today || '/today')
      return
    }
    if (response.status === 429) {
      // the wait (it grows with each failure): the server's Retry-After, else its longest
      const after = Number(response.headers.get('Retry-After'))
      if (after > 0 && after < 90) show(fill(t.too_many_seconds, { seconds: Math.max(1, after) }))
      else {
        const minutes = after > 0 ? Math.ceil(after / 60) : Number(form.dataset.waitMinutes || 15)
        show(fill(t.too_many, { minutes }))
      }
    } else if (response.status === 401) {
      show(t.bad_credentials)
      form.elements.password.value = ''
      form.elements.password.focus()
    } else {
      show(`${t.sign_in_failed} (${response.status}): ${problemText(data, response.statusText)}`)
    }
  })
}

async function signOut (button) {
  button.disabled = true
  say(button, t.signing_out)
  try {
    await request('POST', '/api/auth/sign-out')
  } finally {
    window.location.assign(links.sign_in || '/sign-in')
  }
}

// -- my day: nearest first ------------------------------------------------------------------

// The server sorts and pages the whole list (nearest first, unknown distances last) from the
// position in the address (near=lat,lng): the browser finds the position, fetches that page
// and puts its list in place of this one (and its address in the history), so a person who
// has already tapped elsewhere is not taken back. Without a position the plan's order stays.
async function sortByDistance (status, { force = false } = {}) {
  const url = new URL(window.location.href)
  if (url.searchParams.has('near') && !force) return // sorted already (or a bad position)
  say(status, t.locating)
  let pos
  try {
    pos = await position({ enableHighAccuracy: true, timeout: 15000, maximumAge: force ? 0 : 60000 })
  } catch (e) {
    say(status, t.no_position)
    return
  }
  const here = gps(pos)
  url.searchParams.set('near', `${here.lat.toFixed(6)},${here.lng.toFixed(6)}`)
  url.searchParams.set('acc', String(Math.round(pos.coords.accuracy)))
  url.searchParams.delete('page') // another order: from its start
  const address = url.pathname + url.search
  let html
  try {
    const response = await fetch(address, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
    if (!response.ok) throw new Error(String(response.status))
    html = await response.text()
  } catch (e) {
    say(status, t.no_position)
    return
  }
  const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-round]')
  const shown = document.querySelector('[data-round]')
  if (!fresh || !shown) return
  shown.replaceWith(fresh)
  for (const form of fresh.querySelectorAll('[data-check-in-code]')) bindCodeForm(form)
  window.history.replaceState(null, '', address)
}

// -- check-in and check-out -----------------------------------------------------------------

// What a scanner (or a person) read from the shop's code: our payload, a check-in URL, or
// the bare token; as rounds.runtime.sites.service.parse_qr_payload reads it.
export function qrToken (text) {
  text = String(text || '').trim()
  if (text.startsWith('rounds:checkin:')) return text.slice('rounds:checkin:'.length)
  const at = text.indexOf('/checkin/')
  if (at >= 0) return text.slice(at + '/checkin/'.length).split('?')[0].replace(/^\/+|\/+$/g, '')
  return text
}

// An API call whose answer ({ response, data }) is awaited; null when the network failed,
// which is said on the status line.
async function call (status, method, url, body) {
  try {
    return await request(method, url, body)
  } catch (e) {
    say(status, t.network_error, 'error')
    return null
  }
}

// A button's action, the button disabled while it runs: enabled again unless the action
// answers true (done: the page is on its way elsewhere).
async function whileBusy (button, action) {
  button.disabled = true
  if (!(await action())) button.disabled = false
}

async function checkIn (body, control) {
  const status = statusFor(control)
  say(status, t.checking_in)
  const result = await call(status, 'POST', '/api/visits', body)
  if (!result) return false
  const { response, data } = result
  if (response.ok && data) {
    window.location.assign(withLang(`/visits/${data.id}`, { new: 'true' }))
    return true
  }
  if (response.status === 409 && data && data.open_visit) {
    say(status, fill(t.visit_open_conflict, { site: data.open_visit.site_name }), 'error')
    const a = document.createElement('a')
    a.href = withLang(`/visits/${data.open_visit.id}`)
    a.textContent = ` ${t.go_to_visit}`
    status.appendChild(a)
    return false
  }
  const errors = problemErrors(data)
  if (data && data.code === 'check_in_method' && errors[0]) {
    // the method this site or role wants (its pointer names it), in the reader's language
    const qr = errors[0].pointer === '/qr_token'
    say(status, qr ? t.check_in_method_qr : t.check_in_method_gps, 'error')
    return false
  }
  say(status, `${t.check_in_failed}: ${problemText(data, response.statusText)}`, 'error')
  return false
}

function checkInHere (button) {
  const status = statusFor(button)
  return whileBusy(button, async () => {
    say(status, t.getting_position)
    let pos
    try {
      pos = await position({ enableHighAccuracy: true, timeout: 20000, maximumAge: 0 })
    } catch (e) {
      say(status, navigator.geolocation ? fill(t.gps_failed, { reason: e.message || e.code }) : t.gps_unsupported, 'error')
      return false
    }
    return checkIn({ site_id: Number(button.dataset.siteId), gps: gps(pos) }, button)
  })
}

function bindCodeForm (form) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const token = qrToken(form.elements.code.value)
    const button = form.querySelector('[type=submit]')
    if (!token) {
      form.elements.code.focus()
      return
    }
    await whileBusy(button, async () => {
      const body = { qr_token: token }
      // with this shop's own button, another shop's code is refused rather than used
      if (form.dataset.siteId) body.site_id = Number(form.dataset.siteId)
      say(statusFor(form), t.getting_position)
      try { // a position makes the check-in stronger, but a code alone proves presence
        body.gps = gps(await position({ enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 }))
      } catch (e) { /* checked in by the code alone */ }
      return checkIn(body, form)
    })
  })
}

function checkOut (button) {
  const status = statusFor(button)
  return whileBusy(button, async () => {
    say(status, t.checking_out)
    const result = await call(status, 'POST', `/api/visits/${button.dataset.checkOut}/check-out`)
    if (!result) return false
    const { response, data } = result
    // checked out already (another tab, another device): the same place to go
    if (response.ok || (data && data.code === 'visit_closed')) {
      window.location.assign(links.today || '/today')
      return true
    }
    say(status, `${t.check_out_failed}: ${problemText(data, response.statusText)}`, 'error')
    return false
  })
}

// -- start ------------------------------------------------------------------------------------

// The top bar stays at the top of the screen, and the menu in it wraps to several lines on a
// narrow one: its height, as --topbar-height, keeps what is focused or scrolled into view
// clear of it (fieldwork.css: scroll-padding-top). A custom property set through the CSSOM,
// which the Content-Security-Policy allows (no style attribute in the markup).
function keepClearOfTopbar () {
  const bar = document.querySelector('.topbar')
  if (!bar || !('ResizeObserver' in window)) return
  const root = document.documentElement
  new ResizeObserver(() => root.style.setProperty('--topbar-height', `${Math.ceil(bar.getBoundingClientRect().height)}px`))
    .observe(bar)
}

function start () {
  for (const form of document.querySelectorAll('[data-sign-in-form]')) bindSignIn(form)
  for (const form of document.querySelectorAll('[data-check-in-code]')) bindCodeForm(form)
  document.addEventListener('click', (ev) => {
    const target = ev.target.closest('button')
    if (!target || target.disabled) return
    if (target.matches('[data-sign-out]')) signOut(target)
    else if (target.matches('[data-check-in-gps]')) checkInHere(target)
    else if (target.matches('[data-check-out]')) checkOut(target)
    else if (target.matches('[data-relocate]')) {
      target.disabled = true
      sortByDistance(document.querySelector('[data-day-status]'), { force: true })
        .finally(() => { target.disabled = false })
    }
  })
  // Bar lengths come as data: the Content-Security-Policy allows no inline style attribute.
  for (const bar of document.querySelectorAll('.fw-bar[data-percent]')) {
    bar.style.width = `${Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0))}%`
  }
  keepClearOfTopbar()
  const list = document.querySelector('[data-day]')
  if (list && list.querySelector('[data-stop]')) sortByDistance(document.querySelector('[data-day-status]'))
  document.body.dataset.fieldwork = 'ready'
  // Signed in: the bell, live notifications and the issue pages' actions (loaded apart, so
  // the sign-in page does not fetch them).
  if (!document.querySelector('[data-bell]')) return
  const issues = import('./issues.js')
  issues.then((m) => m.start())
  // An issue's action is taken over now, not when issues.js arrives: a button pressed while
  // it loads waits for it, instead of submitting the form natively (a GET that reloads the
  // page and does nothing).
  document.addEventListener('submit', (ev) => {
    const form = ev.target.closest('form[data-issue-action]')
    if (!form) return
    ev.preventDefault()
    issues.then((m) => m.act(form), () => say(form.querySelector('[data-status]'), t.network_error, 'error'))
  })
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
