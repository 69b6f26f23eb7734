// Validates rendered Kubernetes manifests (helm template output on stdin) offline, each document against the
// schema of its apiVersion and kind from the kubernetes-models packages: core and apps from kubernetes-models,
// KEDA's and the Prometheus operator's custom resources from their @kubernetes-models packages.
//   helm template deploy/helm/conveyor | node validate-manifests.mjs <node_modules folder>
// Prints one line per document ("valid Deployment/conveyor-orders") and exits 1 if any is invalid, or has a
// kind no package here knows (a manifest nothing validated must not pass unnoticed).
// The schemas check types, required fields, enumerations and formats; they allow unknown field names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
if (!modules) {
  console.error("usage: node validate-manifests.mjs <node_modules folder> < manifests.yaml");
  process.exit(2);
}

// The package that holds the models of an API group (the core group has none).
const packageOf = (group) =>
  ({ "keda.sh": "@kubernetes-models/keda", "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" })[group] ?? "kubernetes-models";

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const folder = group ? join(packageOf(group), group, version) : join("kubernetes-models", version);
  // Imported by path: these packages' exports map names no file per kind.
  const file = join(modules, folder, `${kind}.js`);
  try {
    return (await import(pathToFileURL(file).href))[kind];
  } catch (error) {
    if (error.code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}

const { parseAllDocuments } = await import(pathToFileURL(join(modules, "yaml", "dist", "index.js")).href);
const documents = parseAllDocuments(readFileSync(0, "utf8"));
let failures = 0;
let count = 0;
for (const document of documents) {
  if (document.errors.length > 0) {
    console.log(`invalid YAML: ${document.errors.map((e) => e.message).join("; ")}`);
    failures++;
    continue;
  }
  const manifest = document.toJS();
  if (manifest === null) continue;
  count++;
  const name = `${manifest.kind}/${manifest.metadata?.name}`;
  const Model = manifest.apiVersion && manifest.kind ? await modelFor(manifest.apiVersion, manifest.kind) : undefined;
  if (!Model) {
    console.log(`unknown ${manifest.apiVersion} ${name}: no schema to validate it against`);
    failures++;
    continue;
  }
  try {
    new Model(manifest).validate();
    console.log(`valid ${name}`);
  } catch (error) {
    console.log(`invalid ${name}: ${error.message}`);
    failures++;
  }
}
console.log(`${count} documents, ${failures} invalid`);
process.exit(failures === 0 && count > 0 ? 0 : 1);
