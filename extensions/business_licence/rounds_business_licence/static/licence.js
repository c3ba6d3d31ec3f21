// The business-licence page: its form (the photo and what the licence says) is sent with the
// page's CSRF token and the answer put in place (the field chrome's send_form.js): the page
// with the new result, or with every mistake at its field and the summary focused.

import { sendForm } from '/static/fieldwork/send_form.js'

const config = JSON.parse(document.getElementById('licence-config')?.textContent || '{}')
const text = config.text || {}

function showChosen (input) {
  const shown = input.parentElement?.querySelector('[data-file-name]')
  const file = input.files && input.files[0]
  if (shown && file) shown.textContent = (shown.dataset.chosen || '{name}').replace('{name}', file.name)
}

function setUp (root) {
  root.querySelectorAll('input.bl-file-input').forEach((input) => {
    input.addEventListener('change', () => showChosen(input))
  })
  root.querySelectorAll('form[data-licence-form]').forEach((form) => {
    form.addEventListener('submit', (event) => sendForm(form, event, text, setUp))
  })
  // After a new check the page comes back saying so: its result is where the reader is.
  root.querySelector('#bl-latest[data-just-checked]')?.focus()
}

setUp(document)
