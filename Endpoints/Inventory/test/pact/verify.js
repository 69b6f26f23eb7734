'use strict';

// Verifies Inventory's pact with Orders against a provider that answers, for each interaction, with the message
// Orders really published: `node test/pact/verify.js <providerBaseUrl> <pact file>`. Run by Integration.Tests
// (Contracts/OrdersKeepsInventorysPacts), which captures the messages from the running system and serves them: a POST
// of {"description": ...} answers with the message body and its metadata (base64 JSON in Pact-Message-Metadata).
// Pact's verifier compares each with the contract; this exits 0 only when every interaction holds.
// Pact reports usage to its makers unless told not to; nothing of this project's goes out.
process.env.PACT_DO_NOT_TRACK ??= 'true';
const fs = require('node:fs');
const { Verifier } = require('@pact-foundation/pact');

const [providerBaseUrl, pactFile] = process.argv.slice(2);
if (!providerBaseUrl || !pactFile) {
  process.stderr.write('usage: node test/pact/verify.js <providerBaseUrl> <pact file>\n');
  process.exit(2);
}

/** The message Orders published for an interaction, as the provider serves it. */
async function publishedMessage(description) {
  const response = await fetch(providerBaseUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ description }),
  });
  if (!response.ok) throw new Error(`The provider has no message for "${description}" (${response.status})`);
  const metadata = JSON.parse(Buffer.from(response.headers.get('pact-message-metadata') ?? 'e30=', 'base64').toString());
  return { __pactMessageMetadata: metadata, message: await response.json() };
}

const { interactions } = JSON.parse(fs.readFileSync(pactFile, 'utf8'));
// Each interaction's message is one Orders really sent; the states were brought about by the orders placed for it.
const messageProviders = Object.fromEntries(interactions.map((i) => [i.description, () => publishedMessage(i.description)]));
const stateHandlers = Object.fromEntries(interactions.flatMap((i) => (i.providerStates ?? []).map((s) => [s.name, () => Promise.resolve()])));

new Verifier({ provider: 'orders', pactUrls: [pactFile], messageProviders, stateHandlers, logLevel: 'warn' })
  .verifyProvider()
  .then(() => process.exit(0))
  .catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
