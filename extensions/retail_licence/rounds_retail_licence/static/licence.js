// Licence applications: applying (the documents uploaded first, then the application; every
// mistake shown at its field) and the steps of an application, through the API with the
// page's CSRF token (api.js).

import { problemErrors, problemText, request, setCsrfToken, uploadPhoto } from '/static/rounds/api.js'
import { fieldError } from '/static/fieldwork/fieldwork.js'

const config = JSON.parse(document.getElementById('licence-config').textContent)
const fw = JSON.parse(document.getElementById('fieldwork-config').textContent)
const t = config.text
setCsrfToken(fw.csrf_token)

function say (status, text, kind = '') {
  if (!status) return
  status.textContent = text
  status.className = `status ${kind}`
}

// The field a problem's pointer is about: "/documents/id_card" → "documents/id_card".
function fieldOf (form, pointer) {
  const parts = pointer.split('/').filter(Boolean)
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join('/')
    if (form.querySelector(`[data-error-for="${name}"]`)) return name
  }
  return null
}

function showProblems (form, data, response, status) {
  let first = null
  const rest = []
  for (const e of problemErrors(data)) {
    const name = fieldOf(form, e.pointer)
    if (name) {
      fieldError(form, name, t[`err_${e.code}`] || t.field_invalid)
      first = first || name
    } else rest.push(e.message)
  }
  const focus = first && (form.elements[first] || form.querySelector(`[name="${first}"]`))
  if (focus && focus.focus) focus.focus()
  const detail = data && data.code && t[`err_${data.code}`]
  say(status, first && !rest.length ? t.failed : `${t.failed}: ${detail || rest.join(' ') || problemText(data, response.statusText)}`, 'error')
}

function clear (form) {
  for (const el of form.querySelectorAll('[data-error-for]')) fieldError(form, el.dataset.errorFor, '')
}

// -- applying -------------------------------------------------------------------------------

const apply = document.querySelector('[data-apply-form]')
if (apply) {
  const status = apply.querySelector('[data-status]')
  const locate = apply.querySelector('[data-locate]')
  const locateStatus = apply.querySelector('[data-locate-status]')
  locate.addEventListener('click', () => {
    if (!navigator.geolocation) { say(locateStatus, t.locate_failed, 'error'); return }
    say(locateStatus, t.locating)
    navigator.geolocation.getCurrentPosition((p) => {
      apply.elements.lat.value = p.coords.latitude.toFixed(6)
      apply.elements.lng.value = p.coords.longitude.toFixed(6)
      fieldError(apply, 'position', '')
      say(locateStatus, t.located, 'ok')
    }, () => say(locateStatus, t.locate_failed, 'error'), { enableHighAccuracy: true, timeout: 15000 })
  })
  apply.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    clear(apply)
    const missing = []
    const body = { documents: [] }
    for (const name of ['shop_name', 'address', 'owner_name', 'phone', 'business_type', 'market_area']) {
      const el = apply.elements[name]
      body[name] = el.value.trim()
      if (el.required && !body[name]) missing.push(name)
    }
    const lat = apply.elements.lat.value.trim()
    const lng = apply.elements.lng.value.trim()
    if (lat && lng) { body.lat = Number(lat); body.lng = Number(lng) } else missing.push('position')
    const files = [...apply.querySelectorAll('[data-document]')]
    for (const input of files) {
      if (input.required && !input.files.length) missing.push(`documents/${input.dataset.document}`)
    }
    if (missing.length) {
      for (const name of missing) fieldError(apply, name, t.field_required)
      const el = apply.querySelector(`[name="${missing[0]}"]`) || apply.elements.lat
      if (el) el.focus()
      say(status, t.failed, 'error')
      return
    }
    const button = apply.querySelector('[data-send]')
    button.disabled = true
    try {
      say(status, t.uploading)
      for (const input of files) {
        if (!input.files.length) continue
        try {
          const photo = await uploadPhoto(input.files[0])
          body.documents.push({ kind: input.dataset.document, photo_id: photo.id })
        } catch (e) {
          fieldError(apply, `documents/${input.dataset.document}`, t.upload_failed)
          input.focus()
          say(status, t.failed, 'error')
          return
        }
      }
      say(status, t.sending)
      const { response, data } = await request('POST', '/api/licence-applications', body)
      if (response.ok) {
        say(status, t.sent, 'ok')
        window.location.assign(apply.dataset.done.replace('{id}', data.id))
        return
      }
      showProblems(apply, data, response, status)
    } catch (e) {
      say(status, t.network_error, 'error')
    } finally {
      button.disabled = false
    }
  })
}

// -- the steps of an application --------------------------------------------------------------

for (const form of document.querySelectorAll('[data-step]')) {
  const status = form.querySelector('[data-status]')
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    clear(form)
    if (form.hasAttribute('data-confirm') && !window.confirm(t.withdraw_confirm)) return
    const body = { version: Number(form.dataset.version) }
    const missing = []
    for (const el of form.querySelectorAll('[name]')) {
      if (el.type === 'radio') {
        if (el.checked) body[el.name] = el.value
        else if (el.required && !form.querySelector(`[name="${el.name}"]:checked`)) missing.push(el.name)
        continue
      }
      const value = el.value.trim()
      if (el.required && !value) missing.push(el.name)
      if (value) body[el.name] = el.dataset.number ? Number(value) : value
    }
    if (missing.length) {
      for (const name of new Set(missing)) fieldError(form, name, t.field_required)
      const el = form.querySelector(`[name="${missing[0]}"]`)
      if (el) el.focus()
      say(status, t.failed, 'error')
      return
    }
    const button = form.querySelector('[data-send]')
    button.disabled = true
    say(status, t.sending)
    try {
      const { response, data } = await request('POST', form.dataset.step, body)
      if (response.ok) {
        say(status, t.sent, 'ok')
        window.location.reload()
        return
      }
      showProblems(form, data, response, status)
    } catch (e) {
      say(status, t.network_error, 'error')
    } finally {
      button.disabled = false
    }
  })
}
