// The answers of a form that are more than a control's value: photos (each uploaded as soon
// as it is chosen, shown as a thumbnail that can be removed), the signature pad (its PNG
// uploaded like a photo) and the position (the device's GPS). Functions of a RoundsForm
// (form.js, `rounds` here): they read its config and words and tell it to refresh when an answer changes;
// running uploads are kept in form.uploads, which submitting waits for.
//
// On a preview (no photo_upload address in the config) nothing is uploaded: an answer
// names the chosen files, and a signature is only checked.

import { uploadPhoto } from './api.js'

export function bindPhotos (rounds, el) {
  const input = el.querySelector('input[type=file]')
  const thumbs = el.querySelector('[data-thumbs]')
  if (!input || input.dataset.bound) return
  input.dataset.bound = 'true'
  if (rounds.config.photo_upload) {
    input.addEventListener('change', () => uploadChosen(rounds, el, input, thumbs))
    return
  }
  input.addEventListener('change', () => {
    const files = [...input.files]
    thumbs.replaceChildren()
    for (const file of files) {
      const fig = document.createElement('figure')
      const img = document.createElement('img')
      img.alt = file.name
      img.src = URL.createObjectURL(file)
      img.onload = () => URL.revokeObjectURL(img.src)
      const cap = document.createElement('figcaption')
      cap.textContent = file.name
      fig.append(img, cap)
      thumbs.appendChild(fig)
    }
    // Until photos are uploaded, an answer refers to each photo by its file name.
    el.dataset.photos = JSON.stringify(files.map((f) => f.name))
    rounds.refresh()
  })
}

// A photo's thumbnail in ``thumbs`` with its caption and a button that removes it from
// the answer of ``holder`` (an upload under way, or a stored photo restored from a draft).
export function photoFigure (rounds, thumbs, holder, name, src, state, caption, ...extra) {
  const fig = document.createElement('figure')
  fig.className = 'upload'
  fig.dataset.upload = state
  const img = document.createElement('img')
  img.alt = name
  img.src = src
  const cap = document.createElement('figcaption')
  cap.textContent = caption
  const remove = document.createElement('button')
  remove.type = 'button'
  remove.className = 'remove-photo'
  remove.textContent = '×'
  remove.setAttribute('aria-label', `${rounds.t.remove_photo || 'Remove'}: ${name}`)
  remove.addEventListener('click', () => {
    fig.remove()
    syncPhotos(rounds, holder)
  })
  fig.append(img, ...extra, cap, remove)
  thumbs.appendChild(fig)
  return fig
}

// Each photo goes to the server as soon as it is chosen, so submitting sends only ids and
// a weak connection is spent while the user is still filling in. Photos chosen later are
// added to those already there; each can be removed.
function uploadChosen (rounds, el, input, thumbs) {
  const files = [...input.files]
  input.value = '' // the same photo can be chosen again after a failure
  for (const file of files) {
    const bar = document.createElement('progress')
    bar.max = 100
    bar.value = 0
    const fig = photoFigure(rounds, thumbs, el, file.name, URL.createObjectURL(file), 'running',
      rounds.t.uploading || '…', bar)
    const img = fig.querySelector('img')
    const cap = fig.querySelector('figcaption')
    cap.setAttribute('role', 'status')
    fig.querySelector('.remove-photo').addEventListener('click', () => URL.revokeObjectURL(img.src))
    const job = sendPhoto(rounds, file, (pct) => { bar.value = pct }).then((photo) => {
      fig.dataset.upload = 'done'
      fig.dataset.photoId = photo.id
      bar.value = 100
      cap.textContent = rounds.t.uploaded || '✓'
    }, (err) => {
      fig.dataset.upload = 'failed'
      cap.textContent = `${rounds.t.upload_failed || 'Upload failed'} ${err.message || ''}`.trim()
    }).finally(() => {
      rounds.uploads.delete(job)
      syncPhotos(rounds, el)
    })
    rounds.uploads.add(job)
  }
}

// The answer (or evidence) is the ids of the photos uploaded, in the order shown.
export function syncPhotos (rounds, el) {
  const ids = [...el.querySelectorAll('[data-thumbs] figure[data-photo-id]')]
    .filter((f) => f.closest('[data-item], [data-evidence-photos]') === el)
    .map((f) => f.dataset.photoId)
  el.dataset.photos = JSON.stringify(ids)
  rounds.refresh()
}

// The photo to the form's upload address; a failure's message is in the reader's language
// (the server says the code, the page's words say what to do).
function sendPhoto (rounds, file, progress) {
  return uploadPhoto(file, { url: rounds.config.photo_upload, onProgress: progress }).catch((err) => {
    if (!err.status) throw new Error(rounds.t.network_error || '')
    const known = err.problem && err.problem.code && rounds.t[`upload_error_${err.problem.code}`]
    throw new Error(known || String(err.status))
  })
}

export function locate (rounds, el) {
  const status = el.querySelector('[data-gps-status]')
  const show = (text) => { status.textContent = text }
  if (!navigator.geolocation) {
    show(rounds.t.gps_unsupported)
    return
  }
  show(rounds.t.gps_locating)
  navigator.geolocation.getCurrentPosition((pos) => {
    const { latitude, longitude, accuracy } = pos.coords
    const set = (name, v) => { el.querySelector(`[data-gps="${name}"]`).value = String(v) }
    set('lat', latitude)
    set('lng', longitude)
    set('accuracy_m', Math.round(accuracy * 10) / 10)
    el.querySelector('[data-gps-value]').textContent = (rounds.t.gps_value || '{lat}, {lng} ±{accuracy} m')
      .replace('{lat}', latitude.toFixed(6)).replace('{lng}', longitude.toFixed(6))
      .replace('{accuracy}', String(Math.round(accuracy)))
    show(rounds.t.gps_done)
    rounds.refresh()
  }, (err) => {
    show(`${rounds.t.gps_failed} ${err.message || ''}`.trim())
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 })
}

export function bindSignature (rounds, el) {
  const canvas = el.querySelector('canvas')
  if (!canvas || canvas.dataset.bound) return
  canvas.dataset.bound = 'true'
  const ctx = canvas.getContext('2d')
  const fit = () => {
    // draw in device pixels so lines are sharp; keep what was drawn
    const ratio = window.devicePixelRatio || 1
    const rect = canvas.getBoundingClientRect()
    if (!rect.width) return
    const saved = el.dataset.drawn
    canvas.width = Math.round(rect.width * ratio)
    canvas.height = Math.round(rect.height * ratio)
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
    ctx.lineWidth = 2.5
    ctx.lineCap = 'round'
    ctx.lineJoin = 'round'
    ctx.strokeStyle = '#1a1a2e'
    if (saved) {
      const img = new Image()
      img.onload = () => ctx.drawImage(img, 0, 0, rect.width, rect.height)
      img.src = saved
    }
  }
  let sized = false
  const ensure = () => {
    if (!sized && canvas.getBoundingClientRect().width) {
      fit()
      sized = true
    }
  }
  ensure()
  window.addEventListener('resize', () => { if (sized) fit() })
  let drawing = false
  const at = (ev) => {
    const r = canvas.getBoundingClientRect()
    return [ev.clientX - r.left, ev.clientY - r.top]
  }
  canvas.addEventListener('pointerdown', (ev) => {
    if (canvas.closest('[hidden]')) return
    ensure()
    drawing = true
    canvas.setPointerCapture(ev.pointerId)
    ctx.beginPath()
    ctx.moveTo(...at(ev))
    ev.preventDefault()
  })
  canvas.addEventListener('pointermove', (ev) => {
    if (!drawing) return
    ctx.lineTo(...at(ev))
    ctx.stroke()
  })
  const end = () => {
    if (!drawing) return
    drawing = false
    el.dataset.drawn = canvas.toDataURL('image/png') // to draw it again after a resize
    signatureChanged(rounds, el)
  }
  canvas.addEventListener('pointerup', end)
  canvas.addEventListener('pointercancel', end)
}

// A signature is the PNG drawn on the pad, uploaded like a photo; the answer is its id.
// Strokes come in bursts: the upload waits until the pen has rested a moment (or the
// form is submitted), and only the latest drawing's upload counts.
function signatureChanged (rounds, el) {
  const hidden = el.querySelector('input[type=hidden]')
  const status = el.querySelector('[data-signature-status]')
  if (!rounds.config.photo_upload) { // a preview: nothing is stored, the rounds is only checked
    hidden.value = 'signature.png'
    status.textContent = rounds.t.signature_done
    rounds.refresh()
    return
  }
  hidden.value = ''
  status.textContent = rounds.t.signature_saving || '…'
  rounds.refresh()
  clearTimeout(el.signatureTimer)
  el.signatureSeq = (el.signatureSeq || 0) + 1
  el.signatureTimer = setTimeout(() => uploadSignature(rounds, el), 800)
}

function uploadSignature (rounds, el) {
  clearTimeout(el.signatureTimer)
  el.signatureTimer = null
  const seq = el.signatureSeq
  const canvas = el.querySelector('canvas')
  const hidden = el.querySelector('input[type=hidden]')
  const status = el.querySelector('[data-signature-status]')
  const job = new Promise((resolve) => canvas.toBlob(resolve, 'image/png'))
    .then((blob) => sendPhoto(rounds, new File([blob], 'signature.png', { type: 'image/png' }), () => {}))
    .then((photo) => {
      if (seq !== el.signatureSeq) return // drawn on (or cleared) since: not this one
      hidden.value = photo.id
      el.dataset.photoId = photo.id
      status.textContent = rounds.t.signature_done
    }, (err) => {
      if (seq !== el.signatureSeq) return
      status.textContent = `${rounds.t.signature_failed || ''} ${err.message || ''}`.trim()
    })
    .finally(() => {
      rounds.uploads.delete(job)
      rounds.refresh()
    })
  rounds.uploads.add(job)
}

// Before sending: signatures still waiting for the pen to rest are uploaded now.
export function flushSignatures (rounds) {
  for (const el of rounds.form.querySelectorAll('[data-type="signature"]')) {
    if (el.signatureTimer) uploadSignature(rounds, el)
  }
}

export function clearSignature (rounds, el) {
  const canvas = el.querySelector('canvas')
  canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height)
  clearTimeout(el.signatureTimer)
  el.signatureTimer = null
  el.signatureSeq = (el.signatureSeq || 0) + 1
  delete el.dataset.drawn
  delete el.dataset.photoId
  el.querySelector('input[type=hidden]').value = ''
  el.querySelector('[data-signature-status]').textContent = ''
  rounds.refresh()
}
