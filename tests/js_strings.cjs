// The string literals of JavaScript modules that could be words shown to a person: reads a JSON
// array of module sources on stdin, writes a JSON array (one per module) of {start, end, text,
// template} for each string or template literal (a template's `${...}` parts written as `${}`)
// that is not an import's or export's module name, an object's key, an operand of `===`/`!==`, a
// `case` label, a `class` list, or an argument of console.*, querySelector, closest, matches or matchMedia.
// Parsed by the TypeScript that scripts/check installs into .tools/; used by
// tests/test_languages.py (no inbox module holds an English text outside the catalogue).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require(path.join(__dirname, "..", ".tools", "node_modules", "typescript"));

const QUIET_CALLS = new Set(["log", "warn", "error", "info", "debug", "querySelector", "querySelectorAll", "closest", "matches", "matchMedia", "getElementById"]);

function quiet(node) {
  const parent = node.parent;
  if (!parent) return false;
  if (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isImportTypeNode?.(parent)) return true;
  if (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword) return true;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyAccessExpression(parent)) && parent.name === node) return true;
  // A class list (`class: \`toast ${kind}\``) names styles, not words.
  if (ts.isPropertyAssignment(parent) && parent.initializer === node && ["class", "className"].includes(parent.name.text ?? "")) return true;
  if (ts.isElementAccessExpression(parent) && parent.argumentExpression === node) return true;
  if (ts.isCaseClause(parent)) return true;
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    if (op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsEqualsToken || op === ts.SyntaxKind.InKeyword) return true;
  }
  if (ts.isCallExpression(parent) && parent.arguments.includes(node)) {
    const callee = parent.expression;
    const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : "";
    if (QUIET_CALLS.has(name)) return true;
  }
  return false;
}

function strings(text) {
  const source = ts.createSourceFile("module.js", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const out = [];
  const visit = (node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (!quiet(node)) out.push({ start: node.getStart(source), end: node.end, text: node.text, template: false });
      return;
    }
    if (ts.isTemplateExpression(node)) {
      const text = node.head.text + node.templateSpans.map((span) => "${}" + span.literal.text).join("");
      if (!quiet(node)) out.push({ start: node.getStart(source), end: node.end, text, template: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const sources = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(sources.map(strings)));
