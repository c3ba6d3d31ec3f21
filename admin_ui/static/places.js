// The people and places pages' small behaviours: open or close every branch of the org
// tree at once, and the QR sheet's print button (no inline script: the CSP forbids it).

document.querySelectorAll('[data-tree-all]').forEach((button) => {
  button.addEventListener('click', () => {
    const open = button.dataset.treeAll === 'open'
    document.querySelectorAll('[data-org-tree] details').forEach((d) => { d.open = open })
  })
})

document.querySelectorAll('[data-print]').forEach((button) => {
  button.addEventListener('click', () => window.print())
})
