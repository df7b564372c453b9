// Validates rendered manifests offline. Usage:
//   node validate.mjs manifests RENDERED.yaml      every document against Kubernetes' JSON schema for its
//                                                   apiVersion/kind (kubernetes-models), plus the cross-references
//                                                   a schema cannot see (Service selectors and target ports, probe
//                                                   ports, service accounts, memory request = limit)
//   node validate.mjs args FILE                      prints the vineyardd container's args of FILE's DaemonSet
//   node validate.mjs doc DOC.md FILE...             every FILE is shown verbatim in a fenced yaml block of DOC.md;
//                                                   a KubeSchedulerConfiguration among them names the extender's
//                                                   verbs (filter, prioritize) and a loopback urlPrefix
//   node validate.mjs webhook-tls RENDERED.yaml DNS [DIR]  the webhook's TLS Secret: a certificate for DNS signed
//                                                   by the caBundle's CA, with its key; failurePolicy Ignore; with DIR,
//                                                   writes tls.crt, tls.key and ca.crt there
//   node validate.mjs https-post PORT PATH NAME CA FILE  POSTs FILE to https://127.0.0.1:PORT/PATH, trusting only
//                                                   CA and checking the certificate is NAME's; prints the answer
//   node validate.mjs crs CRD_DIR GOOD_DIR BAD_DIR  each CRD against the CRD schema, then every CR in GOOD_DIR
//                                                   must pass its CRD's openAPIV3Schema (ajv) and every CR in
//                                                   BAD_DIR must fail it
// Exits 1 with one line per problem; prints one summary line when everything holds.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import YAML from "yaml";
import Ajv from "ajv";

const require = createRequire(import.meta.url); // run from the tools directory (bin/test-deploy copies it there)
const problems = [];

function docs(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((d) => d != null);
}

function model(apiVersion, kind) {
  try {
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind];
  } catch (e) {
    return null;
  }
}

function schemaCheck(doc, where) {
  const Model = model(doc.apiVersion, doc.kind);
  if (!Model) {
    problems.push(`${where}: no Kubernetes schema for ${doc.apiVersion} ${doc.kind}`);
    return;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
}

function podSpecs(all) {
  return all.filter((d) => d.spec?.template?.spec).map((d) => ({ owner: `${d.kind}/${d.metadata.name}`, template: d.spec.template }));
}

function crossCheck(all) {
  const pods = podSpecs(all);
  const accounts = new Set(all.filter((d) => d.kind === "ServiceAccount").map((d) => d.metadata.name));
  for (const { owner, template } of pods) {
    const sa = template.spec.serviceAccountName;
    if (sa && sa !== "default" && !accounts.has(sa)) problems.push(`${owner}: service account ${sa} is not rendered`);
    for (const c of template.spec.containers) {
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of ["readinessProbe", "livenessProbe"]) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (typeof port === "string" && !ports.has(port)) problems.push(`${owner}/${c.name}: ${probe} names port ${port}, not a container port`);
      }
      if (!c.readinessProbe || !c.livenessProbe) problems.push(`${owner}/${c.name}: needs a readiness and a liveness probe`);
      const mem = c.resources ?? {};
      if (mem.limits?.memory && mem.requests?.memory !== mem.limits.memory) {
        problems.push(`${owner}/${c.name}: memory request ${mem.requests?.memory} differs from its limit ${mem.limits.memory}`);
      }
      const owning = all.find((d) => `${d.kind}/${d.metadata.name}` === owner);
      const volumes = new Set([...(template.spec.volumes ?? []), ...(owning.spec.volumeClaimTemplates ?? []).map((t) => t.metadata)].map((v) => v.name));
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) problems.push(`${owner}/${c.name}: mounts volume ${m.name}, which the pod does not declare`);
      }
    }
    const selector = all.find((d) => `${d.kind}/${d.metadata.name}` === owner).spec.selector?.matchLabels ?? {};
    for (const [k, v] of Object.entries(selector)) {
      if (template.metadata?.labels?.[k] !== v) problems.push(`${owner}: selector ${k}=${v} does not match its pod template`);
    }
  }
  for (const svc of all.filter((d) => d.kind === "Service")) {
    const sel = svc.spec.selector ?? {};
    const matched = pods.filter(({ template }) => Object.entries(sel).every(([k, v]) => template.metadata?.labels?.[k] === v));
    if (matched.length === 0) {
      problems.push(`Service/${svc.metadata.name}: its selector matches no rendered pod template`);
      continue;
    }
    for (const p of svc.spec.ports) {
      if (typeof p.targetPort !== "string") continue;
      const has = matched.some(({ template }) => template.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
      if (!has) problems.push(`Service/${svc.metadata.name}: targetPort ${p.targetPort} is no port of its pods`);
    }
  }
}

function crs(crdDir, goodDir, badDir) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat("int64", true);
  ajv.addFormat("int32", true);
  const byKind = new Map();
  let crdCount = 0;
  for (const f of fs.readdirSync(crdDir).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const crd of docs(path.join(crdDir, f))) {
      schemaCheck(crd, `${f}`);
      crdCount++;
      for (const v of crd.spec.versions) {
        byKind.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(v.schema.openAPIV3Schema));
      }
    }
  }
  const check = (dir, expectValid) => {
    let n = 0;
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
      for (const cr of docs(path.join(dir, f))) {
        n++;
        const validate = byKind.get(`${cr.apiVersion}/${cr.kind}`);
        if (!validate) {
          problems.push(`${f}: no CRD in ${crdDir} defines ${cr.apiVersion} ${cr.kind}`);
          continue;
        }
        const ok = validate(cr);
        if (ok !== expectValid) {
          problems.push(`${f}: ${expectValid ? "rejected: " + ajv.errorsText(validate.errors) : "accepted, but it must be rejected"}`);
        }
      }
    }
    return n;
  };
  const good = check(goodDir, true);
  const bad = check(badDir, false);
  return `${crdCount} CRDs valid; ${good} sample CRs accepted, ${bad} invalid ones rejected`;
}

const [mode, ...args] = process.argv.slice(2);
let summary;
if (mode === "manifests") {
  const all = docs(args[0]);
  all.forEach((d, i) => schemaCheck(d, `${args[0]}#${i} ${d.kind}/${d.metadata?.name}`));
  crossCheck(all);
  summary = `${all.length} manifests valid (${[...new Set(all.map((d) => d.kind))].sort().join(", ")})`;
} else if (mode === "args") {
  // the vineyardd container's args in FILE's DaemonSet, one per line, for bin/vineyardd to parse
  const ds = docs(args[0]).find((d) => d.kind === "DaemonSet");
  const c = ds?.spec.template.spec.containers.find((c) => c.name === "vineyardd");
  if (!c) {
    console.error(`${args[0]}: no DaemonSet with a vineyardd container`);
    process.exit(1);
  }
  console.log(c.args.join("\n"));
  process.exit(0);
} else if (mode === "doc") {
  const text = fs.readFileSync(args[0], "utf8");
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const f of args.slice(1)) {
    const body = fs.readFileSync(f, "utf8");
    if (!blocks.includes(body)) problems.push(`${args[0]}: no yaml block shows ${f} as it is`);
    for (const d of docs(f).filter((d) => d.kind === "KubeSchedulerConfiguration")) {
      const e = d.extenders?.[0] ?? {};
      if (e.filterVerb !== "filter" || e.prioritizeVerb !== "prioritize") problems.push(`${f}: the extender serves /filter and /prioritize`);
      if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(e.urlPrefix ?? "")) problems.push(`${f}: urlPrefix ${e.urlPrefix} is not the loopback address bin/vineyard-scheduler listens on`);
      if (!(e.weight > 0)) problems.push(`${f}: a prioritize verb needs a positive weight`);
      if (!text.includes(`--port ${e.urlPrefix.split(":").pop()} `)) problems.push(`${args[0]}: the vineyard-scheduler command does not use the port of ${e.urlPrefix}`);
    }
  }
  summary = `${args.length - 1} files shown in ${args[0]} as they are`;
} else if (mode === "crs") {
  summary = crs(args[0], args[1], args[2]);
} else if (mode === "https-post") {
  // POSTs FILE to https://127.0.0.1:PORT/PATH trusting only CA and checking the certificate against NAME;
  // prints the answer
  const [port, urlPath, name, ca, file] = args;
  const https = await import("node:https");
  const body = await new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port: Number(port), path: urlPath, method: "POST", servername: name,
      ca: fs.readFileSync(ca), headers: { "Content-Type": "application/json" } }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(data) : reject(new Error(`HTTP ${res.statusCode}: ${data}`))));
    });
    req.on("error", reject);
    req.end(fs.readFileSync(file));
  }).catch((e) => problems.push(`https://${name}:${port}${urlPath}: ${e.message}`));
  summary = body;
} else if (mode === "webhook-tls") {
  // the webhook's Secret holds a certificate for DNS name args[1], signed by the CA the
  // MutatingWebhookConfiguration's caBundle names, and the key that goes with it
  const { X509Certificate, createPrivateKey, createPublicKey } = await import("node:crypto");
  const all = docs(args[0]);
  const secret = all.find((d) => d.kind === "Secret" && d.type === "kubernetes.io/tls");
  const config = all.find((d) => d.kind === "MutatingWebhookConfiguration");
  if (!secret || !config) {
    problems.push(`${args[0]}: no TLS Secret or no MutatingWebhookConfiguration`);
  } else {
    const pem = (b64) => Buffer.from(b64, "base64").toString("utf8");
    const cert = new X509Certificate(pem(secret.data["tls.crt"]));
    const ca = new X509Certificate(pem(config.webhooks[0].clientConfig.caBundle));
    if (!cert.verify(ca.publicKey)) problems.push(`${args[0]}: the serving certificate is not signed by the caBundle's CA`);
    if (!cert.checkHost(args[1])) problems.push(`${args[0]}: the serving certificate is not for ${args[1]}`);
    const key = createPrivateKey(pem(secret.data["tls.key"]));
    const fromKey = createPublicKey(key).export({ type: "spki", format: "der" });
    if (!fromKey.equals(cert.publicKey.export({ type: "spki", format: "der" }))) problems.push(`${args[0]}: tls.key is not the certificate's key`);
    const svc = config.webhooks[0].clientConfig.service;
    if (!all.some((d) => d.kind === "Service" && d.metadata.name === svc.name)) problems.push(`${args[0]}: the webhook's Service ${svc.name} is not rendered`);
    if (config.webhooks[0].failurePolicy !== "Ignore") problems.push(`${args[0]}: failurePolicy must be Ignore (pods are never refused)`);
    if (args[2]) { // the PEM files, for a real bin/vineyard-webhook to serve
      fs.writeFileSync(path.join(args[2], "tls.crt"), pem(secret.data["tls.crt"]));
      fs.writeFileSync(path.join(args[2], "tls.key"), pem(secret.data["tls.key"]));
      fs.writeFileSync(path.join(args[2], "ca.crt"), pem(config.webhooks[0].clientConfig.caBundle));
    }
  }
  summary = `the webhook's certificate is for ${args[1]}, signed by its caBundle, with its key`;
} else {
  console.error("usage: node validate.mjs manifests FILE | crs CRD_DIR GOOD_DIR BAD_DIR");
  process.exit(2);
}
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(summary);
