// Notices: publishing one (every mistake shown next to its field, the server's as well as
// the empty required fields) and withdrawing one, through the notices API with the page's
// CSRF token (api.js).

import { problemErrors, problemText, request, setCsrfToken } from '/static/rounds/api.js'
import { fieldError } from '/static/fieldwork/fieldwork.js'

const config = JSON.parse(document.getElementById('portals-config').textContent)
const fw = JSON.parse(document.getElementById('fieldwork-config').textContent)
const t = config.text
setCsrfToken(fw.csrf_token)

function say (status, text, kind = '') {
  status.textContent = text
  status.className = `status ${kind}`
}


// A local date and time (datetime-local) as an instant the server reads.
const instant = (value) => new Date(value).toISOString()

const form = document.querySelector('[data-notice-form]')
if (form) {
  const status = form.querySelector('[data-status]')
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const body = {}
    const missing = []
    for (const el of form.querySelectorAll('[name]')) {
      fieldError(form, el.name, '')
      const value = el.value.trim()
      if (el.required && !value) missing.push(el.name)
      if (!value) continue
      body[el.name] = el.dataset.number ? Number(value) : el.type === 'datetime-local' ? instant(value) : value
    }
    if (missing.length) {
      for (const name of missing) fieldError(form, name, t.field_required)
      form.elements[missing[0]].focus()
      say(status, '')
      return
    }
    const button = form.querySelector('[data-send]')
    button.disabled = true
    say(status, t.sending)
    try {
      const { response, data } = await request('POST', '/api/notices', body)
      if (response.ok) {
        say(status, t.sent, 'ok')
        window.location.assign(form.dataset.done)
        return
      }
      let first = null
      for (const e of problemErrors(data)) {
        const name = e.pointer.split('/').filter(Boolean).shift()
        if (name && form.querySelector(`[data-error-for="${name}"]`)) {
          fieldError(form, name, t[`err_${e.code}`] || t.field_invalid)
          first = first || name
        }
      }
      if (first && form.elements[first]) form.elements[first].focus()
      say(status, first ? t.failed : `${t.failed}: ${problemText(data, response.statusText)}`, 'error')
    } catch (e) {
      say(status, t.network_error, 'error')
    } finally {
      button.disabled = false
    }
  })
}

for (const button of document.querySelectorAll('[data-withdraw]')) {
  button.addEventListener('click', async () => {
    if (!window.confirm(t.withdraw_confirm)) return
    const status = button.parentElement.querySelector('[data-status]')
    button.disabled = true
    say(status, t.sending)
    try {
      const { response, data } = await request('POST', `/api/notices/${button.dataset.withdraw}/withdraw`, {})
      if (response.ok) {
        say(status, t.withdrawn, 'ok')
        button.remove()
        return
      }
      say(status, `${t.failed}: ${problemText(data, response.statusText)}`, 'error')
    } catch (e) {
      say(status, t.network_error, 'error')
    }
    button.disabled = false
  })
}
