// The retailer's complaint or suggestion (工作建议): posted to /api/issues/feedback with the
// page's CSRF token (api.js), photos uploaded first; every mistake shown next to its field,
// then on to the shop's own feedback, where it now is.

import { problemErrors, problemText, request, setCsrfToken, uploadPhoto } from '/static/rounds/api.js'
import { fieldError } from '/static/fieldwork/fieldwork.js'

const config = JSON.parse(document.getElementById('portals-config').textContent)
const fw = JSON.parse(document.getElementById('fieldwork-config').textContent)
const t = config.text
setCsrfToken(fw.csrf_token)

const form = document.querySelector('[data-feedback-form]')
const status = form.querySelector('[data-status]')


function say (text, kind = '') {
  status.textContent = text
  status.className = `status ${kind}`
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault()
  for (const name of ['kind', 'title', 'text', 'photos']) fieldError(form, name, '')
  const text = form.elements.text.value.trim()
  if (!text) {
    fieldError(form, 'text', t.text_required)
    form.elements.text.focus()
    return
  }
  const button = form.querySelector('[data-send]')
  button.disabled = true
  try {
    const photos = []
    const files = form.querySelector('[data-photos]').files
    if (files.length) say(t.uploading)
    for (const file of files) photos.push((await uploadPhoto(file)).id)
    say(t.sending)
    const body = { kind: form.elements.kind.value, text, photos }
    const title = form.elements.title.value.trim()
    if (title) body.title = title
    const { response, data } = await request('POST', '/api/issues/feedback', body)
    if (response.ok) {
      say(t.sent, 'ok')
      window.location.assign(form.dataset.done)
      return
    }
    let named = false
    for (const e of problemErrors(data)) {
      const name = e.pointer.split('/').filter(Boolean).shift()
      if (name && form.querySelector(`[data-error-for="${name}"]`)) {
        fieldError(form, name, name === 'text' && e.code === 'required' ? t.text_required : t.failed)
        named = true
      }
    }
    say(named ? t.failed : `${t.failed}: ${problemText(data, response.statusText)}`, 'error')
  } catch (e) {
    say(t.network_error, 'error')
  } finally {
    button.disabled = false
  }
})
