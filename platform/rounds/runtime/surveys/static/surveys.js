// The survey campaign pages in the browser: the forms are sent with the page's CSRF token
// and the answer put in place (the field chrome's send_form.js); on the new campaign's form
// the parts that do not concern the chosen audience are dimmed (still sent: the server
// names a mistake there).

import { sendForm } from '/static/fieldwork/send_form.js'

const config = JSON.parse(document.getElementById('surveys-config')?.textContent || '{}')
const text = config.text || {}

function dimParts (root) {
  const form = root.querySelector('form[data-survey-form]')
  if (!form) return
  const update = () => {
    const chosen = form.querySelector('input[name=audience]:checked')?.value || ''
    form.querySelectorAll('[data-part]').forEach((part) => {
      part.toggleAttribute('data-off', part.dataset.part !== chosen)
    })
  }
  form.addEventListener('change', update)
  update()
}

function setUp (root) {
  root.querySelectorAll('form[data-survey-form]').forEach((form) => {
    form.addEventListener('submit', (event) => sendForm(form, event, text, setUp))
  })
  dimParts(root)
}

setUp(document)
