// The business-licence extension's rule operations in the browser: uscc_valid and
// uscc_region, giving what rounds_business_licence/uscc.py gives for the same arguments
// (GB 32100-2015: 18 characters of the charset, the weighted sum modulo 31). Anything but
// a string is not a code: false and null, never an error. Lower case is not valid.

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

function valid (code) {
  if (typeof code !== 'string' || code.length !== 18) return false
  let total = 0
  for (let i = 0; i < 17; i++) {
    const value = CHARSET.indexOf(code[i])
    if (value < 0) return false
    total += value * WEIGHTS[i]
  }
  return code[17] === CHARSET[(31 - (total % 31)) % 31]
}

function region (code) {
  if (!valid(code)) return null
  const division = code.slice(2, 8)
  return /^[0-9]{6}$/.test(division) ? division : null
}

export const operations = {
  uscc_valid: (code) => valid(code),
  uscc_region: (code) => region(code)
}
