// Imports a Chrome Trace Event JSON file with speedscope's own importer, without its page, and prints what it
// read as JSON: one profile (lane) per thread, named "<process> (pid N), <thread> (tid M)", with its slices and its
// frames (what the Sandwich and Left Heavy views add up: a frame's key, name and total weight).
// speedscope ships only its built page: its importers are reached by exposing the promise of the module that
// holds them, at a place in speedscope 1.25.0's bundle (pinned in speedscope_install.py); the page's own start-up
// needs a browser and fails here, after that point.
import fs from 'node:fs'
import vm from 'node:vm'

const [bundlePath, tracePath] = process.argv.slice(2)
const hook = 'var jr=Promise.resolve().then(()=>(Sf(),kf));'
let code = fs.readFileSync(bundlePath, 'utf8')
if (!code.includes(hook)) {
  console.error(`speedscope's bundle ${bundlePath} is not the pinned version's: its importers cannot be reached`)
  process.exit(2)
}
code = code.replace(hook, hook + 'globalThis.__importers=jr;')
const warnings = []
const inert = new Proxy(function () {}, {
  get: (target, key) => (key === Symbol.toPrimitive ? () => '' : inert),
  apply: () => inert,
  construct: () => inert,
})
const record = (...parts) => warnings.push(parts.join(' '))
const sandbox = {
  console: { ...console, log: () => {}, info: () => {}, warn: record, error: record },
  document: inert, navigator: { userAgent: 'node' }, location: { hash: '', search: '', href: 'file:///' },
  setTimeout, clearTimeout, URL, TextDecoder, TextEncoder, atob, btoa, performance,
}
sandbox.window = sandbox
sandbox.self = sandbox
vm.createContext(sandbox)
try {
  vm.runInContext(code, sandbox)
} catch {
  // the page's start-up, which needs a browser: the importers were exposed before it
}
warnings.length = 0
const importers = await sandbox.__importers
const group = await importers.importProfileGroupFromText('trace.json', fs.readFileSync(tracePath, 'utf8'))
const lanes = (group ? group.profiles : []).map(profile => {
  const slices = []
  const opened = new Map()
  profile.forEachCall(
    (node, at) => opened.set(node, at),
    (node, at) => slices.push({ name: node.frame.name, start: opened.get(node), duration: at - opened.get(node) }),
  )
  const frames = []
  profile.forEachFrame(frame => frames.push({ key: frame.key, name: frame.name, total: frame.getTotalWeight() }))
  return { name: profile.getName(), slices, frames }
})
console.log(JSON.stringify({ lanes, warnings }))
