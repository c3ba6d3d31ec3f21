// Calls to the Rounds API from the browser, one way for every page: the form
// (rounds-form.js), the field pages (fieldwork.js) and the issue pages (issues.js).
//
// - request(): JSON in, JSON out, with the session cookie and, on anything but a GET, the
//   CSRF token (X-CSRF-Token): the cookie alone is not enough, so another site cannot make
//   the browser act for its user.
// - problemText() / problemErrors(): an RFC 7807 problem document (application/problem+json,
//   rounds.web.problems) read into a message, or into its errors, each with the JSON pointer
//   of what it is about (escapePointer() builds one).
// - uploadPhoto(): one photo (or a signature's PNG) to /api/photos, with its progress.
//
// It shows nothing and knows no page's words: callers turn what it gives into messages. It
// lives with the forms engine's files (/static/rounds/api.js) because the form is the lowest
// part that calls the API; the field pages, above it, import it from there.

// The CSRF token: undefined until known, null where there is none (nobody signed in).
let csrf

/** What the page says the token is (its config): a token, or null for "nobody signed in". */
export function setCsrfToken (token) {
  if (token) csrf = token
  else if (csrf === undefined) csrf = null
}

/** The token; a page that gave none (a form preview, open to anyone) asks once who is
 * signed in. Anonymous visitors have none, and the API answers for itself whether it
 * needs one. */
export async function csrfToken () {
  if (csrf === undefined) {
    csrf = null
    try {
      const r = await fetch('/api/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      if (r.ok) csrf = (await r.json()).csrf_token || null
    } catch (e) {
      csrf = null
    }
  }
  return csrf
}

const ACCEPT = 'application/json, application/problem+json'

/** A JSON request: {response, data}, data being the parsed body (null if it is not JSON).
 * Throws only when the server was not reached (the network). */
export async function request (method, url, body) {
  const headers = { Accept: ACCEPT }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET') {
    const token = await csrfToken()
    if (token) headers['X-CSRF-Token'] = token
  }
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const data = await response.json().catch(() => null)
  return { response, data }
}

// -- problem details ------------------------------------------------------------------------

/** The errors of a problem document (a 422 names each field): [{pointer, message, code}],
 * the pointer an RFC 6901 JSON pointer into the request's body ('' for the whole of it). */
export function problemErrors (data) {
  if (!data || !Array.isArray(data.errors)) return []
  return data.errors.map((e) => ({ pointer: String(e.pointer || e.path || ''), message: e.message, code: e.code }))
}

/** One key as a token of a JSON pointer (RFC 6901: ~ is ~0, / is ~1). */
export const escapePointer = (key) => String(key).replace(/~/g, '~0').replace(/\//g, '~1')

/** The message of a problem document: every error of a 422, else its detail (or title),
 * else the fallback (the response's status text). */
export function problemText (data, fallback) {
  const errors = problemErrors(data)
  if (errors.length) return errors.map((e) => e.message).join(' ')
  return (data && (data.detail || data.title)) || fallback
}

// -- photos -----------------------------------------------------------------------------------

/** Why an upload failed: `status` 0 when the server was not reached, else the response's
 * status with its problem document (`problem`, null if none) and `statusText`. */
export class UploadError extends Error {
  constructor (status, problem, statusText) {
    super(status ? problemText(problem, statusText || String(status)) : 'network error')
    this.status = status
    this.problem = problem
    this.statusText = statusText
  }
}

/** Upload one photo (a File or Blob with a name); resolves to the stored photo ({id, ...}),
 * rejects with an UploadError. `onProgress(percent)` follows the upload: XMLHttpRequest rather
 * than fetch, as only it reports upload progress. */
export async function uploadPhoto (file, { url = '/api/photos', onProgress = null } = {}) {
  const token = await csrfToken()
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.setRequestHeader('Accept', ACCEPT)
    if (token) xhr.setRequestHeader('X-CSRF-Token', token)
    if (onProgress) {
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) onProgress(Math.round(100 * ev.loaded / ev.total))
      }
    }
    xhr.onload = () => {
      let body = null
      try { body = JSON.parse(xhr.responseText) } catch (e) { body = null }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.id) resolve(body)
      else reject(new UploadError(xhr.status, body, xhr.statusText))
    }
    xhr.onerror = () => reject(new UploadError(0, null, ''))
    const data = new FormData()
    data.append('file', file, file.name)
    xhr.send(data)
  })
}
