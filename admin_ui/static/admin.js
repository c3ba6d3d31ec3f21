// The admin pages in the browser: forms marked data-admin-form are sent with the page's
// CSRF token (the app's CSRF check reads the X-CSRF-Token header, which a plain form post
// cannot carry; file uploads go as multipart), and the answer is put in place: the page a
// 303 leads to, or a 422 page with the mistakes (its error summary focused).

import { config as fw } from '/static/fieldwork/fieldwork.js'

const config = JSON.parse(document.getElementById('admin-config')?.textContent || '{}')
const text = config.text || {}

async function send (form, event) {
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

export function setUp (root) {
  root.querySelectorAll('form[data-admin-form]').forEach((form) => {
    form.addEventListener('submit', (event) => send(form, event))
  })
}

setUp(document)
