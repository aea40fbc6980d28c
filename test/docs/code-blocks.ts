/**
 * The type-checker of the pages' code blocks: every ```ts and ```typescript block of a Markdown
 * page is a module, compiled against the sources (`cimiento`, `cimiento/sqlite`, ... as in
 * tsconfig.json's paths) with the project's options and `noUncheckedIndexedAccess`, which
 * readers may well have on. Blocks in other languages (sh, json, http, text) are not code.
 *
 * A block is a module of its own, unless HTML comments (unseen on the rendered page) right
 * before it say otherwise:
 *
 * - `<!-- continues -->`: the block follows the page's blocks before it (but those `apart`), in
 *   their module, in a scope nested in theirs: it sees what they declare, and may declare a
 *   name again, as in a notebook.
 * - `<!-- apart -->`: a module of its own, that no later block continues (an aside).
 * - `<!-- one program -->`, anywhere in the page: every block but those `apart` continues the
 *   ones before, at the top level of one module, as the page's runner (page-examples.ts) runs
 *   them.
 * - `<!-- given: code -->`: code put before the block, that readers do not see. It declares
 *   only what the prose around the block says exists (`database`, "the backend above"), so a
 *   block uses nothing the page does not explain.
 *
 * A `Register` declaration is global to a program, so a module that declares one is compiled in
 * a program of its own; all the others share one program.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const root = join(import.meta.dirname, "..", "..");

/** A Markdown page: its path (from the repository's root, for messages) and its text. */
export interface Page {
  readonly path: string;
  readonly text: string;
}

/** A TypeScript block of a page, with the markers before it. */
export interface Block {
  /** The block's code, as readers see it. */
  readonly code: string;
  /** The page line of the code's first line. */
  readonly line: number;
  /** Whether it continues the blocks before it (`continues`, or `one program` and not `apart`). */
  readonly continues: boolean;
  /** Whether it is `apart`: a module of its own, that later blocks do not continue. */
  readonly apart: boolean;
  /** The lines of its `given`s, each with its page line. */
  readonly given: readonly { readonly code: string; readonly line: number }[];
}

/** The markers met since the last block, and the line of the first. */
interface Marks {
  readonly line: number;
  continues: boolean;
  apart: boolean;
  readonly given: { code: string; line: number }[];
}

const FENCE = /^(\s*)```(\S*)\s*$/;
const CODE = new Set(["ts", "typescript"]);
const GIVEN = "<!-- given:";

/** The TypeScript blocks of a page, in order, and its misplaced markers as errors (`page:line: ...`). */
export function blocksOf(page: Page): { blocks: Block[]; errors: string[]; oneProgram: boolean } {
  const lines = page.text.split("\n");
  const blocks: Block[] = [];
  const errors: string[] = [];
  const oneProgram = lines.some((line) => line.trim() === "<!-- one program -->");
  let marks: Marks | null = null;
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === "<!-- one program -->") continue;
    if (trimmed === "<!-- continues -->" || trimmed === "<!-- apart -->" || trimmed.startsWith(GIVEN)) {
      marks ??= { line: i + 1, continues: false, apart: false, given: [] };
      if (trimmed === "<!-- continues -->") marks.continues = true;
      else if (trimmed === "<!-- apart -->") marks.apart = true;
      else {
        let end = i;
        while (end < lines.length && !lines[end]!.includes("-->")) end++;
        if (end === lines.length) {
          errors.push(`${page.path}:${i + 1}: "${GIVEN}" is never closed by "-->"`);
          break;
        }
        for (let k = i; k <= end; k++) {
          let code = lines[k]!;
          if (k === end) code = code.slice(0, code.indexOf("-->"));
          if (k === i) code = code.slice(code.indexOf(GIVEN) + GIVEN.length);
          marks.given.push({ code, line: k + 1 });
        }
        i = end;
      }
      continue;
    }
    const fence = FENCE.exec(lines[i]!);
    if (fence) {
      let end = i + 1;
      while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
      if (CODE.has(fence[2]!)) {
        const { line, continues, apart, given } = marks ?? { line: i + 1, continues: false, apart: false, given: [] };
        const chained = blocks.some((block) => !block.apart);
        if (continues && !chained) errors.push(`${page.path}:${line}: "continues", but no block before it to continue`);
        if (continues && apart) errors.push(`${page.path}:${line}: a block cannot both continue and be apart`);
        // A fence indented in a list indents its code as much.
        const indent = fence[1]!.length;
        const code = lines.slice(i + 1, end).map((text) => text.slice(Math.min(indent, text.length - text.trimStart().length)));
        blocks.push({
          code: code.join("\n"),
          line: i + 2,
          continues: chained && !apart && (continues || oneProgram),
          apart,
          given,
        });
      } else if (marks) {
        errors.push(`${page.path}:${marks.line}: a marker before a block that is not TypeScript (\`\`\`${fence[2]})`);
      }
      marks = null;
      i = end;
      continue;
    }
    if (marks && trimmed !== "") {
      errors.push(`${page.path}:${marks.line}: a marker that no code block follows`);
      marks = null;
    }
  }
  if (marks) errors.push(`${page.path}:${marks.line}: a marker that no code block follows`);
  return { blocks, errors, oneProgram };
}

/** A line of a module, and the page line it comes from. */
interface Line {
  readonly code: string;
  readonly origin: number;
}

/** A module made of blocks: statements hoisted to its top, its body, and the scopes left open. */
interface Module {
  readonly page: string;
  readonly head: Line[];
  readonly body: Line[];
  depth: number;
}

/** Whether a statement must stay at the top of a module: an import, or an ambient declaration. */
function hoisted(statement: ts.Statement): boolean {
  if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) return true;
  return ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
}

/**
 * Adds a block (its givens, then its code) to a module: at the top level, or, for a block that
 * continues a chain, in a scope nested in the one before, so that it sees what the blocks before
 * it declare and may declare a name again, as in a notebook. Its imports and ambient
 * declarations go to the module's top, where they must be.
 */
function append(module: Module, lines: readonly Line[], nested: boolean): void {
  if (lines.length === 0) return;
  if (!nested) {
    module.body.push(...lines);
    return;
  }
  const text = lines.map((line) => line.code).join("\n");
  const source = ts.createSourceFile("block.ts", text, ts.ScriptTarget.Latest);
  const originOf = (position: number) => lines[source.getLineAndCharacterOfPosition(position).line]!.origin;
  let rest = text;
  for (const statement of source.statements.filter(hoisted)) {
    const start = statement.getStart(source);
    statement.getText(source).split("\n").forEach((code, n) => module.head.push({ code, origin: originOf(start) + n }));
    rest = rest.slice(0, start) + rest.slice(start, statement.end).replace(/[^\n]/g, " ") + rest.slice(statement.end);
  }
  module.body.push({ code: "{", origin: lines[0]!.origin });
  rest.split("\n").forEach((code, n) => module.body.push({ code, origin: lines[n]!.origin }));
  module.depth++;
}

/**
 * The modules of a page: each block begins one, or continues the module of the page's last
 * block not `apart` (in a nested scope, but for a page that is `one program`).
 */
function modulesOf(page: Page): { modules: Module[]; errors: string[] } {
  const { blocks, errors, oneProgram } = blocksOf(page);
  const modules: Module[] = [];
  let chain: Module | undefined; // the module that the next continuing block joins
  for (const block of blocks) {
    const continues = block.continues && chain !== undefined;
    const module: Module = continues && chain ? chain : { page: page.path, head: [], body: [], depth: 0 };
    if (!continues) modules.push(module);
    if (!block.apart) chain = module;
    const lines = [
      ...block.given.map((given) => ({ code: given.code, origin: given.line })),
      ...block.code.split("\n").map((code, n) => ({ code, origin: block.line + n })),
    ];
    append(module, lines, continues && !oneProgram);
  }
  return { modules, errors };
}

/** The code of a module, and the page line of each of its lines. */
function sourceOf(module: Module): { source: string; origins: number[] } {
  const last = module.body.at(-1)?.origin ?? 1;
  const lines: Line[] = [
    ...module.head,
    ...module.body,
    ...Array.from({ length: module.depth }, () => ({ code: "}", origin: last })),
    { code: "export {};", origin: last },
  ];
  return { source: lines.map((line) => line.code).join("\n") + "\n", origins: lines.map((line) => line.origin) };
}

/** The project's compiler options, with what a careful reader may turn on. */
function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  return {
    ...ts.parseJsonConfigFileContent(config.config, ts.sys, root).options,
    noEmit: true,
    strict: true,
    noUncheckedIndexedAccess: true,
  };
}

/**
 * Type-checks the code blocks of the pages. Returns, per page, its errors as
 * `page:line: message`, the line being the page's (a `given`'s line for an error in it).
 */
export function checkCodeBlocks(pages: readonly Page[]): Map<string, string[]> {
  const result = new Map<string, string[]>(pages.map((page) => [page.path, []]));
  const files = new Map<string, { page: string; source: string; origins: number[] }>();
  for (const page of pages) {
    const { modules, errors } = modulesOf(page);
    result.get(page.path)!.push(...errors);
    modules.forEach((module, n) => {
      // Beside the tests, so that `zod`, `express` and the paths of `cimiento` resolve.
      const name = join(root, "test", "docs", `__${page.path.replace(/[^\w]/g, "_")}_${n + 1}__.ts`);
      files.set(name, { page: page.path, ...sourceOf(module) });
    });
  }

  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const parsed = new Map<string, ts.SourceFile | undefined>(); // the sources and libraries, parsed once
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => {
    const file = files.get(name);
    if (file) return ts.createSourceFile(name, file.source, language);
    if (!parsed.has(name)) parsed.set(name, getSourceFile.call(host, name, language, ...rest));
    return parsed.get(name);
  };
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.source ?? readFile.call(host, name);

  // A Register declaration would reach every module of its program: such a module gets one of its own.
  const registers = (source: string) => /\binterface\s+Register\b/.test(source);
  const shared = [...files].filter(([, file]) => !registers(file.source)).map(([name]) => name);
  const groups = [shared, ...[...files].filter(([, file]) => registers(file.source)).map(([name]) => [name])];
  for (const names of groups) {
    if (names.length === 0) continue;
    const program = ts.createProgram({ rootNames: names, options, host });
    for (const name of names) {
      const { page, origins } = files.get(name)!;
      const source = program.getSourceFile(name)!;
      const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
      for (const diagnostic of diagnostics) {
        const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line;
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ");
        result.get(page)!.push(`${page}:${origins[Math.min(line, origins.length - 1)]}: TS${diagnostic.code}: ${message}`);
      }
    }
    // Those of no file (options, global declarations), after the checks that may produce them.
    for (const diagnostic of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
      const page = files.get(names[0]!)!.page;
      result.get(page)!.push(`${page}: TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ")}`);
    }
  }
  // In page order: the modules of a page may be checked in different programs.
  const lineOf = (message: string) => Number(/^[^:]*:(\d+):/.exec(message)?.[1] ?? 0);
  for (const messages of result.values()) messages.sort((a, b) => lineOf(a) - lineOf(b));
  return result;
}

/** A page of the repository, read. */
export function readPage(path: string): Page {
  return { path, text: readFileSync(join(root, path), "utf8") };
}
