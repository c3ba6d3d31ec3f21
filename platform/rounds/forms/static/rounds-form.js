// The script of a form page (forms/templates/form.html loads it; so do the field staff's
// visit forms, which extend that page): it starts a RoundsForm on the page's form with the
// config the server put beside it (<script type="application/json" id="rounds-rules">).
//
// The forms engine's files in the browser (platform/rounds/forms/static, served at
// /static/rounds), ES modules that import each other:
//   rounds-form.js       this file: the page's entry
//   form.js              the form: answers, rules -> shown / required / calculated, groups,
//                        submitting
//   form-media.js        photos, the signature pad, the position
//   form-result.js       what is shown once sent: the result, errors by JSON pointer
//   form-live.js         what is shown while it is filled in: the score so far, outcomes,
//                        failed checks between fields
//   standard.js          the definition evaluated as the server does: shown, required,
//                        calculated, the score, failed items, alerts
//   rules.js             the rule engine: JsonLogic with rounds.rules' semantics ...
//   rules-semantics.js   ... its values, comparisons, arithmetic and data access ...
//   rules-operations.js  ... and its domain operations (distance_m, days_between, ...)
//   api.js               calls to the API (the field and issue pages use it too)
//   rounds.css           the pages' style

import { RoundsForm, newUuid } from './form.js'
import { RuleEvaluationError, evaluate, truthy } from './rules.js'
import { evaluateDefinition } from './standard.js'

export { RuleEvaluationError, evaluate, evaluateDefinition, newUuid, truthy }

// For tests and the console: roundsRules.evaluate(rule, data),
// roundsRules.evaluateDefinition(definition, answers, ctx, {words}), roundsForm.payload().
window.roundsRules = { evaluate, evaluateDefinition, truthy, RuleEvaluationError }

function onReady (fn) {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn)
  else fn()
}

/** The page's RoundsForm once it has started (a draft waits for it to restore into); on a
 * page without a form it never settles. */
export const started = new Promise((resolve) => {
  onReady(() => {
    const form = document.querySelector('form[data-rounds-form]')
    const block = document.getElementById('rounds-rules')
    if (!form || !block) return
    const rounds = new RoundsForm(form, JSON.parse(block.textContent))
    rounds.start()
    window.roundsForm = rounds
    resolve(rounds)
  })
})
