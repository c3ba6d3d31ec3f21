// A page's form sent with the page's CSRF token (the app's CSRF check reads the
// X-CSRF-Token header, which a plain form post cannot carry; file uploads go as multipart),
// and the answer put in place: the page a 303 leads to, or a 422 page with the mistakes,
// its error summary (or first invalid field) focused. Used by the pages drawn in the field
// chrome that post forms (the campaigns' and the admin app's).

import { config as fw } from '/static/fieldwork/fieldwork.js'

// `text`: the page's words `sending` and `send_failed`; `setUp(main)`: wires the new content.
export async function sendForm (form, event, text, setUp) {
  event.preventDefault()
  const status = form.querySelector('[data-status]')
  const button = form.querySelector('button[type=submit]')
  if (button) button.disabled = true
  if (status) { status.textContent = text.sending || ''; status.classList.remove('is-error') }
  const multipart = form.enctype === 'multipart/form-data'
  const headers = { 'X-CSRF-Token': fw.csrf_token || '', Accept: 'text/html' }
  if (!multipart) headers['Content-Type'] = 'application/x-www-form-urlencoded'
  let response = null
  try {
    response = await fetch(form.action, {
      method: 'POST', credentials: 'same-origin', redirect: 'follow', headers,
      body: multipart ? new FormData(form) : new URLSearchParams(new FormData(form)).toString() })
  } catch (e) { response = null }
  if (!response || (!response.ok && response.status !== 422)) {
    if (button) button.disabled = false
    if (status) { status.textContent = text.send_failed || ''; status.classList.add('is-error') }
    return
  }
  if (response.redirected) { window.location.assign(response.url); return }
  const doc = new DOMParser().parseFromString(await response.text(), 'text/html')
  const fresh = doc.querySelector('main')
  const main = document.querySelector('main')
  if (!fresh || !main) { window.location.reload(); return }
  document.title = doc.title
  main.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)))
  setUp(main)
  const focus = main.querySelector('[data-error-summary]') ||
    main.querySelector('[aria-invalid=true]') || main
  focus.focus()
  document.body.dataset.answers = String(Number(document.body.dataset.answers || 0) + 1)
}
