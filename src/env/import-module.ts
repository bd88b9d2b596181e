/**
 * Import a user's module: config, models, migrations. JavaScript goes straight to Node's loader.
 *
 * TypeScript is compiled with esbuild. The project's own files that the module imports by path
 * are compiled into it; packages stay imports, resolved from the file that names them (as Node
 * would) and given as absolute URLs, so Retort and the user's dependencies are the very instances
 * the rest of the process uses, and a models file in another workspace package finds its own
 * dependencies. The result is imported from memory (a `data:` URL), so nothing is written next to
 * the user's files. Stack traces still name the source file, with the compiled module's line
 * numbers (Node applies no source map to a module loaded from memory). Compiled code is kept
 * between runs while its files are unchanged (compiled-cache.ts).
 *
 * Why esbuild: a 150 KB models file compiles in ~20 ms, where a Babel-based loader took ~0.8 s,
 * and that cost is paid on every edit of the models.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Message, Plugin } from "esbuild";
import { compileSettings, nearestFile, packageManifest, readCompiled, saveCompiled, type CompiledModule } from "./compiled-cache.js";

const NATIVE = new Set([".js", ".mjs", ".cjs"]);
const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Modules loaded without `fresh`, by file: each is evaluated once per process. */
const loaded = new Map<string, Promise<Record<string, unknown>>>();

/**
 * `fresh`: read the file (and the project files it imports) again even if this process loaded it
 * before (models change between calls in a long-running process; a migration file is identified
 * by its checksum instead).
 */
export async function importModule(file: string, options: { default?: boolean; fresh?: boolean } = {}): Promise<unknown> {
  const path = resolve(file);
  let module: Promise<Record<string, unknown>> | undefined = options.fresh ? undefined : loaded.get(path);
  if (!module) {
    module = load(path, options.fresh === true);
    if (!options.fresh) {
      loaded.set(path, module);
      module.catch(() => loaded.delete(path));
    }
  }
  const namespace = await module;
  return options.default ? (namespace.default ?? namespace) : namespace;
}

async function load(path: string, fresh: boolean): Promise<Record<string, unknown>> {
  if (NATIVE.has(extname(path)) && !fresh) {
    try {
      return (await requireEsm(path)) ?? ((await import(pathToFileURL(path).href)) as Record<string, unknown>);
    } catch (error) {
      // ESM syntax in a .js file of a CommonJS package: Node refuses it, the compiler accepts it.
      // An import of retort-db the project has not installed: the compiler resolves it to us.
      if (!(error instanceof SyntaxError) && !missesSelf(error)) throw error;
    }
  }
  return compileAndImport(path);
}

/** Node ≥ 20.19 loads ES modules with require(), synchronously. */
const requireModule = (process.features as { require_module?: boolean }).require_module === true ? createRequire(import.meta.url) : undefined;

/**
 * An ES module through require(): the same module instance import() gives, loaded about twice as
 * fast (1,000 migration files: ~0.2 s instead of ~0.45 s), since it skips the promise jobs of
 * the asynchronous loader. Only for files Node loads as ES modules (require() of CommonJS returns
 * module.exports, not import()'s namespace), and only where require() and import() share their
 * modules. undefined: use import() (an older Node, a loader such as tsx, top-level await).
 */
async function requireEsm(path: string): Promise<Record<string, unknown> | undefined> {
  if (!requireModule || !loadsAsEsm(path) || !(await (requireShares ??= sharesModules(requireModule)))) return undefined;
  try {
    return requireModule(path) as Record<string, unknown>;
  } catch (error) {
    if (/^ERR_REQUIRE_(ASYNC|CYCLE)_MODULE$/.test(String((error as { code?: unknown }).code))) return undefined;
    throw error;
  }
}

let requireShares: Promise<boolean> | undefined;

/**
 * Whether require() and import() give the same instance of a module in this process. Not under
 * a loader that compiles required ES modules to CommonJS (tsx does): there require() would load
 * a second copy of every module a migration imports, Retort included.
 */
async function sharesModules(require: NodeJS.Require): Promise<boolean> {
  // dist/env/require-probe.js; absent when Retort runs from its TypeScript sources (its tests).
  const probe = new URL("./require-probe.js", import.meta.url);
  try {
    const required = require(fileURLToPath(probe)) as { probe?: object };
    const imported = (await import(probe.href)) as { probe?: object };
    return required.probe !== undefined && required.probe === imported.probe;
  } catch {
    return false;
  }
}

const packageTypes = new Map<string, string | undefined>();

/** .mjs, or .js under a package.json that says "type": "module". */
function loadsAsEsm(path: string): boolean {
  const extension = extname(path);
  if (extension !== ".js") return extension === ".mjs";
  const manifest = nearestFile(dirname(path), "package.json");
  if (manifest === undefined) return false;
  if (!packageTypes.has(manifest)) {
    try {
      packageTypes.set(manifest, (JSON.parse(readFileSync(manifest, "utf8")) as { type?: string }).type);
    } catch {
      packageTypes.set(manifest, undefined); // unreadable: Node would fail too; let import() say why
    }
  }
  return packageTypes.get(manifest) === "module";
}

/**
 * What `retort-db`, `retort-db/config` and `retort-db/testing` mean in a project that has not
 * installed Retort (`npx retort-db init`, then `retort revision` in an empty folder): this very
 * copy of Retort, so the user's files share its instances. The old bare name "retort" is not
 * resolved: on npm it is an unrelated package, and a project may have installed it.
 */
const SELF = "retort-db";
const SELF_ENTRIES: Record<string, string> = { [SELF]: "index", [`${SELF}/config`]: "config", [`${SELF}/testing`]: "testing/index" };

/** The file of our own entry for `specifier`, in the same form (built .js or source .ts) as this one. */
export function ownEntry(specifier: string): string | undefined {
  const entry = SELF_ENTRIES[specifier];
  if (entry === undefined) return undefined;
  return fileURLToPath(new URL(`../${entry}${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
}

/** An import of the old name "retort" that does not resolve: point at the package's real name. */
function renamedPackage(message: import("esbuild").PartialMessage): import("esbuild").PartialMessage {
  return { ...message, text: `${message.text} (Retort's npm package is "${SELF}": import from "${SELF}", "${SELF}/config" or "${SELF}/testing")` };
}

function missesSelf(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "ERR_MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${SELF}'`);
}

const RESOLVING = Symbol("resolving");
const PACKAGE_FILE = /[\\/]node_modules[\\/]/;

/** What one compile learns besides the code. */
interface CompileState {
  entries: ReadonlySet<string>;
  /** By file: how many characters were put before its first line. */
  preludes: Map<string, number>;
  /** By importing file: the package.json of each package it imports. */
  manifests: Map<string, Set<string>>;
}

/** The project's files are compiled into the module; packages and builtins stay imports. */
const projectFilesOnly = (state: CompileState): Plugin => ({
  name: "retort-project-files-only",
  setup(build) {
    // Many files import the same packages from the same folder (a migrations folder): resolve once.
    const resolved = new Map<string, ReturnType<typeof build.resolve>>();
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind === "entry-point" || args.pluginData === RESOLVING) return undefined;
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const key = `${args.kind}\0${args.resolveDir}\0${args.path}`;
      let resolving = resolved.get(key);
      if (!resolving) {
        resolving = build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
        resolved.set(key, resolving);
      }
      const found = await resolving;
      if (found.errors.length > 0) {
        const self = ownEntry(args.path);
        if (self === undefined) return { errors: /^retort(\/|$)/.test(args.path) ? found.errors.map(renamedPackage) : found.errors };
        // Installing retort-db later (which changes node_modules) must end this compiled form.
        const inputs = [packageManifest(self), nearestFile(dirname(args.importer), "node_modules")].filter((input) => input !== undefined);
        state.manifests.set(args.importer, new Set([...(state.manifests.get(args.importer) ?? []), ...inputs]));
        return { path: pathToFileURL(self).href, external: true };
      }
      // The project's files are compiled in: imported by path, or by a name that resolves to
      // TypeScript outside node_modules (tsconfig "paths", a workspace package's sources).
      const byPath = args.path.startsWith(".") || isAbsolute(args.path);
      if ((byPath || TYPESCRIPT.test(found.path)) && !PACKAGE_FILE.test(found.path)) return { path: found.path };
      const manifest = packageManifest(found.path);
      if (manifest) {
        const own = state.manifests.get(args.importer) ?? new Set<string>();
        state.manifests.set(args.importer, own.add(manifest));
      }
      return { path: pathToFileURL(found.path).href, external: true };
    });
    // Each file's import.meta, __dirname, __filename and require describe that file, not the
    // bundle: `define` turns them into __retort_* names, declared for the entry at the top of the
    // output (fileMeta) and for every other file at the top of the file. The entry is left to
    // esbuild to read: one call back here per file is most of the cost of compiling many at once.
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      if (state.entries.has(args.path)) return undefined;
      const source = await readFile(args.path, "utf8");
      // On the first line, so line numbers still match the source.
      const prelude = fileMeta(args.path, /\brequire\b/.test(source));
      state.preludes.set(args.path, prelude.length);
      return { contents: prelude + source, loader: LOADERS[extname(args.path)] ?? "ts" };
    });
  },
});
/** Declarations of the __retort_* names `define` gives import.meta & co. for the file `path`. */
function fileMeta(path: string, withRequire: boolean): string {
  const url = JSON.stringify(pathToFileURL(path).href);
  const meta = `var __retort_url = ${url}, __retort_filename = ${JSON.stringify(path)}, __retort_dirname = ${JSON.stringify(dirname(path))};`;
  if (!withRequire) return meta;
  // The alias is per file: esbuild gathers the imports of all files at the top of the output.
  const alias = `__retort_createRequire_${createHash("sha256").update(path).digest("hex").slice(0, 8)}`;
  return `${meta}import { createRequire as ${alias} } from "node:module"; var __retort_require = ${alias}(${url});`;
}
const LOADERS: Record<string, "ts" | "tsx" | "js" | "jsx"> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };

let esbuildModule: Promise<typeof import("esbuild")> | undefined;

/** Compiled ahead by compileAhead, waiting to be imported. */
const compiledAhead = new Map<string, string>();

async function compileAndImport(path: string): Promise<Record<string, unknown>> {
  let code = compiledAhead.get(path);
  compiledAhead.delete(path);
  code ??= readCompiled(path) ?? (await compileAll([path])).get(path)!;
  // sourceURL: stack traces name the source file instead of a data: URL.
  return (await import(`data:text/javascript;base64,${Buffer.from(`${code}\n//# sourceURL=${pathToFileURL(path).href}\n`).toString("base64")}`)) as Record<string, unknown>;
}

/**
 * Compile, in one go, the TypeScript files among `files` that are neither loaded nor cached
 * (many migrations at once: one compiler run costs ~1 ms a file, one run per file ~3 ms).
 * Best effort: a file that does not compile is left for importModule, which reports it.
 */
export async function compileAhead(files: readonly string[]): Promise<void> {
  const paths: string[] = [];
  for (const path of files.map((file) => resolve(file))) {
    if (NATIVE.has(extname(path)) || loaded.has(path) || compiledAhead.has(path)) continue;
    const cached = readCompiled(path);
    if (cached === undefined) paths.push(path);
    else compiledAhead.set(path, cached);
  }
  if (paths.length < 2) return;
  try {
    for (const [path, code] of await compileAll(paths)) compiledAhead.set(path, code);
  } catch (error) {
    // Once more without the files the errors point at (the usual case: one broken migration);
    // what still fails is reported file by file when each is imported.
    const broken = new Set(((error as Error).cause as { errors?: Message[] } | undefined)?.errors?.map((message) => message.location && resolve(message.location.file)));
    const rest = paths.filter((path) => !broken.has(path));
    if (rest.length === paths.length || rest.length < 2) return;
    try {
      for (const [path, code] of await compileAll(rest)) compiledAhead.set(path, code);
    } catch {
      // left to importModule
    }
  }
}

/** Compile each entry with the project files it imports; cache each result. */
async function compileAll(entries: readonly string[]): Promise<Map<string, string>> {
  const esbuild = await (esbuildModule ??= import("esbuild"));
  const startedAt = Date.now();
  const state: CompileState = { entries: new Set(entries), preludes: new Map(), manifests: new Map() };
  let result: import("esbuild").BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build(buildOptions(entries, state));
  } catch (error) {
    throw new Error(describeFailure(error, state.preludes), { cause: error });
  }
  const codeByOutput = new Map(result.outputFiles.map((file) => [file.path, file.text]));
  const modules: CompiledModule[] = [];
  for (const [output, { entryPoint, inputs }] of Object.entries(result.metafile.outputs)) {
    const code = codeByOutput.get(resolve(output));
    if (!entryPoint || code === undefined) continue;
    const path = resolve(entryPoint);
    const sources = Object.keys(inputs).map((input) => resolve(input));
    const settings = sources.flatMap((source) => [...(state.manifests.get(source) ?? []), ...compileSettings(source)]);
    modules.push({ path, inputs: new Set([...sources, ...settings]), code: fileMeta(path, /\b__retort_require\b/.test(code)) + code });
  }
  saveCompiled(startedAt, modules);
  return new Map(modules.map(({ path, code }) => [path, code]));
}

const OUT_DIR = join(tmpdir(), "retort-compiled");

/** How every TypeScript module is compiled (the same options give the same code, source map or not). */
function buildOptions(entries: readonly string[], state: CompileState) {
  return {
    entryPoints: [...entries],
    // Never written (write: false); it only names the outputs, which the metafile maps back to entries.
    outdir: OUT_DIR,
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Resolve packages the way Node's ESM loader does: exports with "import"/"node", then "main".
    conditions: [],
    mainFields: ["main"],
    logLevel: "silent",
    define: {
      "import.meta.url": "__retort_url",
      "import.meta.filename": "__retort_filename",
      "import.meta.dirname": "__retort_dirname",
      __filename: "__retort_filename",
      __dirname: "__retort_dirname",
      require: "__retort_require",
    },
    plugins: [projectFilesOnly(state)],
  } satisfies import("esbuild").BuildOptions;
}

/**
 * Where a line and column of an imported TypeScript module's compiled code (as a stack frame
 * names it: the module's file, the compiled position) come from in the user's own files. The
 * module is compiled again with a source map, which gives the same code. Undefined when it
 * cannot tell (a JavaScript module: its positions are already the file's).
 */
export async function sourcePosition(file: string, line: number, column: number): Promise<{ file: string; line: number; column: number } | undefined> {
  const path = resolve(file);
  if (NATIVE.has(extname(path))) return undefined;
  try {
    const esbuild = await (esbuildModule ??= import("esbuild"));
    const state: CompileState = { entries: new Set([path]), preludes: new Map(), manifests: new Map() };
    const result = await esbuild.build({ ...buildOptions([path], state), sourcemap: "external" });
    const map = result.outputFiles.find((output) => output.path.endsWith(".map"));
    if (!map) return undefined;
    const { SourceMap } = await import("node:module");
    const entry = new SourceMap(JSON.parse(map.text)).findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return undefined;
    const source = entry.originalSource.startsWith("file:") ? fileURLToPath(entry.originalSource) : resolve(OUT_DIR, entry.originalSource);
    // A file other than the entry had a prelude put before its first line (see fileMeta).
    const shift = entry.originalLine === 0 && source !== path ? (state.preludes.get(source) ?? 0) : 0;
    return { file: source, line: entry.originalLine + 1, column: Math.max(0, entry.originalColumn! - shift) + 1 };
  } catch {
    return undefined;
  }
}

/** "file:line:column: what", one line per error, at the position in the user's own text. */
function describeFailure(error: unknown, preludes: Map<string, number>): string {
  const messages = (error as { errors?: Message[] }).errors;
  if (!messages?.length) return error instanceof Error ? error.message : String(error);
  return messages
    .map(({ text, location }) => {
      if (!location) return text;
      const file = resolve(location.file);
      const column = location.column - (location.line === 1 ? (preludes.get(file) ?? 0) : 0);
      return `${file}:${location.line}:${column + 1}: ${text}`;
    })
    .join("\n");
}
