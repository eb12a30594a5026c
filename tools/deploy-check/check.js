#!/usr/bin/env node
// Checks Kubernetes manifests in three ways and prints one line per problem:
//   1. each object against the Kubernetes OpenAPI schemas (kubernetes-models);
//   2. each field name against kubernetes-models' TypeScript types, because
//      the schemas accept fields they do not define (a misspelt
//      "securityContex" would pass them);
//   3. the rules spike-bootstrap's objects must follow (rules.js), file by file.
//
//   node check.js [--mode MODE] [--expect-env NAME=VALUE]... FILE [[options] FILE]...
//
// Options apply to the file that follows them. --mode names the hook
// annotations the Job must carry: helm-hook, argocd, job or none (the
// default, for deploy/bootstrap.yaml). --expect-env checks one variable of
// the Job's container. All files are type-checked in one TypeScript program,
// which is the slow step. Exits 0 when every check passes, 1 otherwise, 2 on
// bad usage.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const { checkRules } = require("./rules");

function usage(message) {
  console.error(`check.js: ${message}`);
  console.error(
    "usage: node check.js [--mode MODE] [--expect-env NAME=VALUE]... FILE [[options] FILE]...",
  );
  process.exit(2);
}

// Returns one { file, mode, expectedEnv } per file, each with the options
// given since the previous file.
function parseArguments(argv) {
  const targets = [];
  let mode = "none";
  let expectedEnv = {};
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === "--mode") {
      mode = argv[++i];
      if (!["helm-hook", "argocd", "job", "none"].includes(mode)) {
        usage(`unknown mode ${mode}`);
      }
    } else if (argument === "--expect-env") {
      const pair = argv[++i] || "";
      const equals = pair.indexOf("=");
      if (equals < 1) {
        usage(`--expect-env needs NAME=VALUE, not "${pair}"`);
      }
      expectedEnv[pair.slice(0, equals)] = pair.slice(equals + 1);
    } else if (argument.startsWith("--")) {
      usage(`unknown option ${argument}`);
    } else {
      targets.push({ file: argument, mode, expectedEnv });
      mode = "none";
      expectedEnv = {};
    }
  }
  if (targets.length === 0) {
    usage("no files given");
  }
  return targets;
}

// Returns the objects of every YAML document in a file, each with a label
// such as "bootstrap.yaml: Job spike/spike-bootstrap" for messages.
function readObjects(file, problems) {
  const objects = [];
  const text = fs.readFileSync(file, "utf8");
  const documents = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  documents.forEach((document, index) => {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        problems.push(`${file}: document ${index + 1}: invalid YAML: ${error.message}`);
      }
      return;
    }
    const object = document.toJS();
    if (object === null || object === undefined) {
      return;
    }
    const name = object.metadata ? object.metadata.name : undefined;
    const namespace = object.metadata ? object.metadata.namespace : undefined;
    const qualified = namespace ? `${namespace}/${name}` : name;
    const label = `${path.basename(file)}: ${object.kind || "(no kind)"} ${qualified || "(no name)"}`;
    objects.push({ object, label });
  });
  return objects;
}

// Returns where kubernetes-models keeps an apiVersion's models:
// "v1" -> "kubernetes-models/v1", "batch/v1" -> "kubernetes-models/batch/v1".
function modelModule(apiVersion) {
  return `kubernetes-models/${apiVersion}`;
}

// Validates one object against its OpenAPI schema. Returns false when
// kubernetes-models has no model for the object's apiVersion and kind.
function checkSchema({ object, label }, problems) {
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    problems.push(`${label}: apiVersion and kind must be strings`);
    return false;
  }
  let Model;
  try {
    Model = require(modelModule(object.apiVersion))[object.kind];
  } catch (error) {
    Model = undefined;
  }
  if (!Model) {
    problems.push(`${label}: no Kubernetes schema for ${object.apiVersion} ${object.kind}`);
    return false;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    const details = error.errors
      ? error.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ")
      : error.message;
    problems.push(`${label}: schema: ${details}`);
  }
  return true;
}

// Returns the JSON path ("spec.template.spec.containers[0].name") of the
// object literal member that contains position in a TypeScript source file.
function pathAt(ts, sourceFile, position) {
  const parts = [];
  let node = sourceFile;
  for (;;) {
    const child = node
      .getChildren(sourceFile)
      .find((candidate) => candidate.getStart(sourceFile) <= position && position < candidate.end);
    if (!child) {
      break;
    }
    if (ts.isPropertyAssignment(child)) {
      parts.push(`.${child.name.text}`);
    } else if (ts.isArrayLiteralExpression(node) && child.kind === ts.SyntaxKind.SyntaxList) {
      const index = child
        .getChildren(sourceFile)
        .filter((element) => element.kind !== ts.SyntaxKind.CommaToken)
        .findIndex((element) => element.getStart(sourceFile) <= position && position < element.end);
      if (index >= 0) {
        parts.push(`[${index}]`);
      }
    }
    node = child;
  }
  return parts.join("").replace(/^\./, "");
}

// Type-checks every object as a literal of its kubernetes-models interface,
// so TypeScript reports each field the Kubernetes API does not define.
function checkFieldNames(entries, problems) {
  if (entries.length === 0) {
    return;
  }
  const ts = require("typescript");
  const sourcePath = path.join(__dirname, "manifests.generated.ts");
  // One import per object, then one constant per object. ranges maps the
  // lines of each constant (0-based) back to its object's label.
  const lines = entries.map(
    ({ object }, index) =>
      `import type { I${object.kind} as T${index} } from "${modelModule(object.apiVersion)}/${object.kind}";`,
  );
  const ranges = [];
  entries.forEach(({ object, label }, index) => {
    const literal = `export const object${index}: T${index} = ${JSON.stringify(object, null, 2)};`;
    const literalLines = literal.split("\n");
    ranges.push({ first: lines.length, last: lines.length + literalLines.length - 1, label });
    lines.push(...literalLines);
  });
  const source = lines.join("\n") + "\n";

  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (file) => file === sourcePath || ts.sys.fileExists(file);
  host.readFile = (file) => (file === sourcePath ? source : readFile(file));
  host.getSourceFile = (file, languageVersion) =>
    file === sourcePath
      ? ts.createSourceFile(file, source, languageVersion, true)
      : getSourceFile(file, languageVersion);

  const program = ts.createProgram([sourcePath], options, host);
  const sourceFile = program.getSourceFile(sourcePath);
  const diagnostics = [
    ...program.getSyntacticDiagnostics(sourceFile),
    ...program.getSemanticDiagnostics(sourceFile),
  ];
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    if (diagnostic.start === undefined) {
      problems.push(`fields: ${message}`);
      continue;
    }
    const { line } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start);
    const range = ranges.find((candidate) => candidate.first <= line && line <= candidate.last);
    const where = range ? range.label : "imports";
    const fieldPath = pathAt(ts, sourceFile, diagnostic.start);
    problems.push(`${where}: fields: ${fieldPath ? fieldPath + ": " : ""}${message}`);
  }
}

function main() {
  const targets = parseArguments(process.argv.slice(2));
  const problems = [];
  const entries = [];
  for (const target of targets) {
    const objects = readObjects(target.file, problems);
    entries.push(...objects);
    const ruleProblems = [];
    checkRules(
      objects.map((entry) => entry.object),
      { mode: target.mode, expectedEnv: target.expectedEnv },
      ruleProblems,
    );
    problems.push(...ruleProblems.map((problem) => `${path.basename(target.file)}: ${problem}`));
  }

  const known = entries.filter((entry) => checkSchema(entry, problems));
  checkFieldNames(known, problems);

  for (const problem of problems) {
    console.log(`  ${problem}`);
  }
  if (problems.length > 0) {
    process.exit(1);
  }
}

main();
