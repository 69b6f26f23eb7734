'use strict';

/**
 * Three kinds of test: `unit` (the decisions and the wire, no infrastructure), `pact` (the message contracts Inventory
 * expects of Orders, written to .artifacts/pacts) and `integration` (the real process against the real broker and
 * database, which ./build.sh test starts). JUnit XML when CI names a file for it.
 */
const project = (name) => ({ displayName: name, testEnvironment: 'node', roots: [`<rootDir>/test/${name}`], testMatch: ['**/*.test.js'] });

module.exports = {
  projects: [project('unit'), project('pact'), project('integration')],
  reporters: process.env.JEST_JUNIT_OUTPUT_FILE ? ['default', 'jest-junit'] : ['default'],
};
