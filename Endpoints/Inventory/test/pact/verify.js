'use strict';

// Verifies Inventory's pacts with Orders against a provider that answers, for each interaction, with the message
// Orders really published: `node test/pact/verify.js <providerBaseUrl> <pact file>`. Pact's verifier POSTs
// {"description": ...} to the provider and compares the body (and the Pact-Message-Metadata header) with the
// contract. Run by Integration.Tests (Contracts/OrdersKeepsInventorysPacts), which captures the messages from the
// running system and serves them; exits 0 only when every interaction holds.
const { Verifier } = require('@pact-foundation/pact');

const [providerBaseUrl, pactFile] = process.argv.slice(2);
if (!providerBaseUrl || !pactFile) {
  process.stderr.write('usage: node test/pact/verify.js <providerBaseUrl> <pact file>\n');
  process.exit(2);
}

new Verifier({ provider: 'orders', providerBaseUrl, pactUrls: [pactFile], logLevel: 'warn' })
  .verifyProvider()
  .then(() => process.exit(0))
  .catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
