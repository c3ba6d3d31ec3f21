// The business-licence page: its form (the photo and what the licence says) is sent with the
// page's CSRF token and the answer put in place (the field chrome's send_form.js): the page
// with the new result, or with every mistake at its field and the summary focused.

import { sendForm } from '/static/fieldwork/send_form.js'

const config = JSON.parse(document.getElementById('licence-config')?.textContent || '{}')
const text = config.text || {}

function setUp (root) {
  root.querySelectorAll('form[data-licence-form]').forEach((form) => {
    form.addEventListener('submit', (event) => sendForm(form, event, text, setUp))
  })
  // After a new check the page comes back at its result: bring it into view for the reader.
  if (window.location.hash === '#bl-latest') root.querySelector('#bl-latest')?.focus()
}

setUp(document)
