// The admin pages in the browser: forms marked data-admin-form are sent with the page's
// CSRF token and the answer put in place (the field chrome's send_form.js: the page a 303
// leads to, or a 422 page with the mistakes, its error summary focused).

import { sendForm } from '/static/fieldwork/send_form.js'

const config = JSON.parse(document.getElementById('admin-config')?.textContent || '{}')
const text = config.text || {}

export function setUp (root) {
  root.querySelectorAll('form[data-admin-form]').forEach((form) => {
    form.addEventListener('submit', (event) => sendForm(form, event, text, setUp))
  })
}

setUp(document)
