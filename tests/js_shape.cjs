// The shape of JavaScript programs: reads a JSON array of module sources on stdin, writes a JSON
// array of {errors, shape} where `shape` lists every syntax node's kind, operator, `let`/`const`
// flag and literal or name text (cooked and raw), in order. Two programs with the same shape are
// the same program, however they are spaced or commented. Parsed by the TypeScript that
// scripts/check installs into .tools/; used by tests/test_widget_assets.py.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require(path.join(__dirname, "..", ".tools", "node_modules", "typescript"));

function shape(text) {
  const source = ts.createSourceFile("module.js", text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const out = [];
  const visit = (node) => {
    out.push(ts.SyntaxKind[node.kind]);
    if (node.operator !== undefined) out.push(ts.SyntaxKind[node.operator]);
    if (node.flags & ts.NodeFlags.BlockScoped) out.push(node.flags & ts.NodeFlags.BlockScoped);
    if (node.text !== undefined) out.push(node.text);
    if (node.rawText !== undefined) out.push(node.rawText);
    out.push("(");
    ts.forEachChild(node, visit);
    out.push(")");
  };
  ts.forEachChild(source, visit);
  return { errors: source.parseDiagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")), shape: out };
}

const sources = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(sources.map(shape)));
