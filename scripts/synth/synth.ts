/**
 * Offline synth of sst.config.ts: runs the SST program the way `sst deploy` does, against Pulumi mocks
 * instead of AWS, and writes every resource it would create (type, name, parent, resolved inputs, resource
 * options) as JSON.
 *
 * What `sst deploy` does (pkg/project/stack.go and pkg/js/js.go in SST's source), reproduced here:
 *  1. evaluate `app()` from a bundle of sst.config.ts with `$config` as the identity and `$input` defined;
 *  2. bundle `run()` with esbuild: a stdin entry that imports `.sst/platform/src/auto/run.ts` and the config,
 *     `platform/src/shim/run.js` injected, the provider namespaces (`import * as aws from "@pulumi/aws"`) and
 *     `sst` prepended to every file outside `.sst`, `$app` / `$cli` / `$dev` defined, Pulumi and the AWS SDK
 *     external (resolved from `.sst/platform/node_modules`);
 *  3. run it inside a Pulumi stack, with the CLI's RPC server (SST_SERVER) answering Provider.Aws.Bootstrap and
 *     Runtime.Build. Here the server is local and Runtime.Build writes a stub bundle; the engine is
 *     `pulumi.runtime.setMocks`, which answers the provider functions the components call (getPartition,
 *     getRegion, getCallerIdentity, iam.getPolicyDocument) and records every resource registration.
 *
 * Needs `.sst/platform` (`npx sst install`, works offline of AWS). Run:
 *   node --import tsx scripts/synth/synth.ts --stage production [--out file.json] [--env KEY=VALUE ...]
 * The stage parameters come from the environment, like `sst deploy` (which also loads `.env.<stage>`).
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { type PolicyStatementInput, policyDocumentJson } from "./policy-document.ts";

export const MOCK_ACCOUNT_ID = "123456789012";
export const MOCK_REGION = "us-east-1";

export interface SynthResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  dependencies: string[];
  inputs: Record<string, unknown>;
  /** What the mock provider returned for a custom resource: inputs plus computed ids, ARNs, names, URLs. */
  state?: Record<string, unknown>;
  /** Component outputs (registerOutputs), e.g. the properties of a link. */
  outputs?: Record<string, unknown>;
}

export interface SynthResult {
  stage: string;
  app: Record<string, unknown>;
  resources: SynthResource[];
  invokes: { token: string; inputs: Record<string, unknown> }[];
  rpc: { method: string; params: unknown }[];
  builds: {
    functionID: string;
    handler: string;
    source: string | undefined;
    input: Record<string, unknown>;
  }[];
  outputs: Record<string, unknown>;
}

const BANNER = `
import { createRequire as topLevelCreateRequire } from 'module';
const require = topLevelCreateRequire(import.meta.url);
import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"
const __filename = topLevelFileUrlToPath(import.meta.url)
const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))
`;

const EXTERNAL = [
  "@pulumi/*",
  "undici",
  "@pulumiverse/*",
  "@sst-provider/*",
  "@aws-sdk/*",
  "esbuild",
  "archiver",
  "glob",
  "vite",
];

const HANDLER_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/** SST's InjectGlobals plugin: prepend the provider/sst imports to every source file outside `.sst`. */
function injectGlobals(globals: string): Plugin {
  return {
    name: "InjectGlobals",
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (args) => {
        const contents = readFileSync(args.path, "utf8");
        const ext = path.extname(args.path).slice(1) as "js" | "ts" | "jsx" | "tsx";
        return { contents: args.path.includes(".sst") ? contents : `${globals}\n${contents}`, loader: ext };
      });
    },
  };
}

async function bundle(options: {
  root: string;
  outfile: string;
  code: string;
  banner?: string;
  define?: Record<string, string>;
  inject?: string[];
  globals?: string;
}): Promise<void> {
  await build({
    banner: { js: BANNER + (options.banner ?? "") },
    mainFields: ["module", "main"],
    format: "esm",
    platform: "node",
    sourcemap: "linked",
    stdin: { contents: options.code, resolveDir: options.root, sourcefile: "eval.ts", loader: "ts" },
    nodePaths: [path.join(options.root, ".sst", "platform", "node_modules")],
    plugins: [injectGlobals(options.globals ?? "")],
    external: EXTERNAL,
    define: options.define ?? {},
    inject: options.inject ?? [],
    outfile: options.outfile,
    write: true,
    bundle: true,
    logLevel: "silent",
  });
}

/** pkg/project/project.go: the app definition as the CLI sees it after `app()`. */
function normalizeApp(raw: Record<string, unknown>, stage: string): Record<string, unknown> {
  const providers: Record<string, unknown> = { ...((raw.providers as Record<string, unknown>) ?? {}) };
  for (const [name, args] of Object.entries(providers)) {
    if (args === true) providers[name] = {};
    if (typeof args === "string") providers[name] = { version: args };
  }
  const home = raw.home as string;
  if (home !== "local" && !(home in providers)) providers[home] = {};
  return {
    name: raw.name,
    stage,
    removal: raw.removal ?? "retain",
    providers,
    home,
    version: raw.version ?? "",
    backend: "",
    removalPolicy: "",
    // Not in the Go struct (dropped by its JSON round trip) but typed on $app; kept for assertions.
    protect: raw.protect ?? false,
  };
}

// Pulumi marks secrets as { [SECRET_SIG]: SECRET_VALUE_SIG, value }; assets and archives likewise.
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG] === SECRET_SIG) return plain(record.value);
    if (typeof (record as { urn?: unknown }).urn === "string" && record[SIG] !== undefined) return record.urn;
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

function lastSegment(name: string) {
  return name.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 60);
}

/** Computed outputs a real provider would return, shaped like AWS's so SST's ARN parsers accept them. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const region = MOCK_REGION;
  const account = MOCK_ACCOUNT_ID;
  const physical = typeof inputs.name === "string" ? inputs.name : `${lastSegment(name)}-mock`;
  const state: Record<string, unknown> = { ...inputs };
  const arn = (value: string) => {
    state.arn = value;
  };
  switch (type) {
    case "aws:sqs/queue:Queue":
      state.name = physical;
      arn(`arn:aws:sqs:${region}:${account}:${physical}`);
      state.url = `https://sqs.${region}.amazonaws.com/${account}/${physical}`;
      break;
    case "aws:dynamodb/table:Table":
      state.name = physical;
      arn(`arn:aws:dynamodb:${region}:${account}:table/${physical}`);
      break;
    case "aws:sns/topic:Topic":
      state.name = physical;
      arn(`arn:aws:sns:${region}:${account}:${physical}`);
      break;
    case "aws:kms/key:Key": {
      const keyId = randomUUID();
      state.keyId = keyId;
      arn(`arn:aws:kms:${region}:${account}:key/${keyId}`);
      break;
    }
    case "aws:iam/role:Role":
      state.name = physical;
      arn(`arn:aws:iam::${account}:role/${physical}`);
      break;
    case "aws:lambda/function:Function":
      state.name = physical;
      arn(`arn:aws:lambda:${region}:${account}:function:${physical}`);
      state.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
      state.qualifiedArn = `${state.arn}:$LATEST`;
      state.version = "$LATEST";
      break;
    case "aws:lambda/functionUrl:FunctionUrl":
      state.functionUrl = `https://${physical.toLowerCase()}.lambda-url.${region}.on.aws/`;
      break;
    case "aws:cloudwatch/eventRule:EventRule":
      state.name = physical;
      arn(`arn:aws:events:${region}:${account}:rule/${physical}`);
      break;
    case "aws:cloudwatch/logGroup:LogGroup":
      state.name = typeof inputs.name === "string" ? inputs.name : physical;
      arn(`arn:aws:logs:${region}:${account}:log-group:${state.name}`);
      break;
    case "aws:s3/bucket:Bucket": {
      const bucket = typeof inputs.bucket === "string" ? inputs.bucket : physical.toLowerCase();
      state.bucket = bucket;
      arn(`arn:aws:s3:::${bucket}`);
      break;
    }
    case "aws:sfn/stateMachine:StateMachine":
      state.name = physical;
      arn(`arn:aws:states:${region}:${account}:stateMachine:${physical}`);
      break;
    case "random:index/randomBytes:RandomBytes":
      state.base64 = Buffer.alloc(Number(inputs.length ?? 32), 7).toString("base64");
      state.hex = Buffer.alloc(Number(inputs.length ?? 32), 7).toString("hex");
      break;
    default:
      if (!("arn" in state)) arn(`arn:aws:mock:${region}:${account}:${type}/${physical}`);
      if (!("name" in state)) state.name = physical;
  }
  return state;
}

function answerInvoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:index/getRegion:getRegion":
      return {
        id: MOCK_REGION,
        name: MOCK_REGION,
        region: MOCK_REGION,
        endpoint: `ec2.${MOCK_REGION}.amazonaws.com`,
        description: "mock",
      };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        id: MOCK_ACCOUNT_ID,
        accountId: MOCK_ACCOUNT_ID,
        arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/synth`,
        userId: "AIDASYNTH",
      };
    case "aws:iam/getPolicyDocument:getPolicyDocument": {
      const statements = (inputs.statements ?? []) as PolicyStatementInput[];
      const json = policyDocumentJson(statements);
      return { id: "policy", json, minifiedJson: json, statements };
    }
    default:
      throw new Error(`synth: no mock answer for provider function ${token}`);
  }
}

interface RpcLog {
  rpc: SynthResult["rpc"];
  builds: SynthResult["builds"];
}

/** The CLI's RPC server (net/rpc JSON over HTTP POST /rpc), answering what a deploy of this app asks. */
async function startRpcServer(root: string, work: string, log: RpcLog): Promise<Server> {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const reply = (result: unknown, error: string | null = null) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ id: null, result, error }));
      };
      try {
        const { method, params } = JSON.parse(body) as { method: string; params: unknown[] };
        const input = (params?.[0] ?? {}) as Record<string, unknown>;
        log.rpc.push({ method, params: input });
        if (method === "Provider.Aws.Bootstrap") {
          reply({
            asset: `sst-asset-mock-${String(input.region)}`,
            assetEcrRegistryId: MOCK_ACCOUNT_ID,
            assetEcrUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${MOCK_REGION}.amazonaws.com/sst-asset`,
            state: `sst-state-mock-${String(input.region)}`,
            appsyncHttp: "",
            appsyncRealtime: "",
          });
          return;
        }
        if (method === "Runtime.Build") {
          reply(stubBuild(root, work, input, log));
          return;
        }
        reply(null, `rpc: can't find method ${method}`);
      } catch (error) {
        reply(null, String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/**
 * pkg/runtime/node/build.go resolves `dir/file.export` to a source file and bundles it to
 * `<out>/dir/file.mjs` (ESM unless nodejs.format is "cjs"). Here: the same resolution, a stub bundle.
 */
function stubBuild(root: string, work: string, input: Record<string, unknown>, log: RpcLog) {
  const handler = String(input.handler);
  const functionID = String(input.functionID);
  const exportName = path.extname(handler);
  const base = handler.slice(0, handler.length - exportName.length);
  const source = HANDLER_EXTENSIONS.map((ext) => base + ext).find((file) =>
    existsSync(path.join(root, file)),
  );
  const properties = (input.properties ?? {}) as Record<string, unknown>;
  const extension = properties.format === "cjs" ? ".cjs" : ".mjs";
  const out = path.join(work, "artifacts", `${functionID}-src`);
  mkdirSync(path.join(out, path.dirname(base)), { recursive: true });
  writeFileSync(
    path.join(out, base + extension),
    `export const ${exportName.slice(1)} = async () => { throw new Error("synth stub"); };\n`,
  );
  log.builds.push({ functionID, handler, source, input });
  return { handler: base + exportName, out, errors: [], sourcemaps: [] };
}

type Pulumi = {
  runtime: {
    setMocks(mocks: unknown, project: string, stack: string, preview: boolean): Promise<void>;
    runInPulumiStack(init: () => Promise<unknown>): Promise<Record<string, unknown> | undefined>;
    waitForRPCs(): Promise<void>;
    getMonitor(): Record<string, (request: never, callback: never) => void>;
    deserializeProperties(struct: unknown): Record<string, unknown>;
  };
};

export async function synth(options: { stage: string; root?: string; work?: string }): Promise<SynthResult> {
  const root = options.root ?? repoRoot();
  const platform = path.join(root, ".sst", "platform");
  if (!existsSync(path.join(platform, "src", "auto", "run.ts"))) {
    throw new Error(`synth: ${platform} is missing; run \`npx sst install\` first (see infra/README.md)`);
  }
  const work = options.work ?? path.join(root, ".sst", "synth", options.stage);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const stamp = `${Date.now()}-${process.pid}`;

  // 1. app()
  const appFile = path.join(platform, `sst.config.synth-app.${stamp}.mjs`);
  await bundle({
    root,
    outfile: appFile,
    banner: "function $config(input) { return input }",
    define: { $input: JSON.stringify({ stage: options.stage }) },
    code: `import mod from ${JSON.stringify(path.join(root, "sst.config.ts"))};\nexport const app = await mod.app({ stage: $input.stage || undefined });`,
  });
  let app: Record<string, unknown>;
  try {
    const evaluated = (await import(pathToFileURL(appFile).href)) as { app: Record<string, unknown> };
    app = normalizeApp(evaluated.app, options.stage);
  } finally {
    rmSync(appFile, { force: true });
    rmSync(`${appFile}.map`, { force: true });
  }

  // 2. run()
  const lock = JSON.parse(readFileSync(path.join(root, ".sst", "provider-lock.json"), "utf8")) as {
    alias: string;
    package: string;
  }[];
  const globals = [
    ...lock.map((entry) => `import * as ${entry.alias} from ${JSON.stringify(entry.package)};`),
    `import * as sst from ${JSON.stringify(path.join(platform, "src/components"))};`,
  ].join("\n");
  const cli = {
    command: "deploy",
    dev: false,
    paths: { home: path.join(work, "home"), root, work, platform },
    state: { version: {} },
  };
  const runFile = path.join(platform, `sst.config.synth.${stamp}.mjs`);
  await bundle({
    root,
    outfile: runFile,
    define: { $app: JSON.stringify(app), $cli: JSON.stringify(cli), $dev: "false" },
    inject: [path.join(platform, "src/shim/run.js")],
    globals,
    code: `
      import { run } from ${JSON.stringify(path.join(platform, "src/auto/run.ts"))};
      import mod from ${JSON.stringify(path.join(root, "sst.config.ts"))};
      const result = await run(mod.run);
      export default result;
    `,
  });

  // 3. Run against mocks, with the RPC server up.
  const log: RpcLog = { rpc: [], builds: [] };
  const server = await startRpcServer(root, work, log);
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const errors: unknown[] = [];
  const onRejection = (reason: unknown) => errors.push(reason);
  process.on("unhandledRejection", onRejection);

  const requireFromPlatform = createRequire(path.join(platform, "package.json"));
  const pulumi = requireFromPlatform("@pulumi/pulumi") as Pulumi;
  const invokes: SynthResult["invokes"] = [];
  const byUrn = new Map<string, SynthResource>();
  const resources: SynthResource[] = [];
  let current: SynthResource | undefined;

  try {
    await pulumi.runtime.setMocks(
      {
        newResource(args: { type: string; name: string; inputs: Record<string, unknown>; id?: string }) {
          const state = mockState(args.type, args.name, args.inputs);
          if (current) {
            current.inputs = plain(args.inputs) as Record<string, unknown>;
            if (current.custom) current.state = plain(state) as Record<string, unknown>;
          }
          return { id: `${args.name}-id`, state };
        },
        call(args: { token: string; inputs: Record<string, unknown> }) {
          invokes.push({ token: args.token, inputs: plain(args.inputs) as Record<string, unknown> });
          return answerInvoke(args.token, args.inputs);
        },
      },
      String(app.name),
      options.stage,
      false,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const registerResource = monitor.registerResource?.bind(monitor);
    const registerResourceOutputs = monitor.registerResourceOutputs?.bind(monitor);
    if (!registerResource || !registerResourceOutputs)
      throw new Error("synth: unexpected Pulumi mock monitor");
    monitor.registerResource = (request: unknown, callback: unknown) => {
      const req = request as Record<string, () => unknown>;
      const entry: SynthResource = {
        urn: "",
        type: String(req.getType?.()),
        name: String(req.getName?.()),
        parent: String(req.getParent?.() ?? ""),
        custom: Boolean(req.getCustom?.()),
        protect: Boolean(req.getProtect?.()),
        retainOnDelete: Boolean(req.getRetainondelete?.()),
        dependencies: (req.getDependenciesList?.() as string[] | undefined) ?? [],
        inputs: {},
      };
      resources.push(entry);
      current = entry;
      try {
        return registerResource(request, (error: unknown, response: { getUrn(): string } | undefined) => {
          if (response) {
            entry.urn = response.getUrn();
            byUrn.set(entry.urn, entry);
          }
          (callback as (error: unknown, response: unknown) => void)(error, response);
        });
      } finally {
        current = undefined;
      }
    };
    monitor.registerResourceOutputs = (request: unknown, callback: unknown) => {
      const req = request as { getUrn(): string; getOutputs(): unknown };
      const entry = byUrn.get(req.getUrn());
      if (entry && req.getOutputs()) {
        entry.outputs = plain(pulumi.runtime.deserializeProperties(req.getOutputs())) as Record<
          string,
          unknown
        >;
      }
      return registerResourceOutputs(request, callback);
    };

    const outputs =
      (await pulumi.runtime.runInPulumiStack(async () => {
        const module = (await import(pathToFileURL(runFile).href)) as { default: unknown };
        return module.default;
      })) ?? {};
    // Resources registered from inside apply() callbacks and process.nextTick (SST's link refs) settle here.
    for (let settled = 0, count = -1; settled < 3; ) {
      await pulumi.runtime.waitForRPCs();
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (resources.length === count) settled += 1;
      else settled = 0;
      count = resources.length;
    }
    if (errors.length > 0) throw errors[0];
    return {
      stage: options.stage,
      app,
      resources,
      invokes,
      rpc: log.rpc,
      builds: log.builds,
      outputs: plain(outputs) as Record<string, unknown>,
    };
  } finally {
    process.off("unhandledRejection", onRejection);
    server.close();
    rmSync(runFile, { force: true });
    rmSync(`${runFile}.map`, { force: true });
  }
}

const USAGE = `npm run synth -- [--stage STAGE] [--out FILE] [--env KEY=VALUE ...]

The SST program (sst.config.ts) run offline against Pulumi mocks, as \`sst deploy --stage STAGE\` would run it
(default stage: dev): every resource it would create, as JSON, on stdout or in FILE. --env sets the stage's
parameters (as .env.<stage> does for sst deploy). Not a generator of CloudTrail archives: those come from
packages/core/src/synth (writeArchive), which npm run bench uses.`;

/** A bad argument: said with the usage, exit 2, no stack. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let stage = "dev";
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      return value;
    };
    if (arg === "--stage") stage = next();
    else if (arg === "--out") out = next();
    else if (arg === "--env") {
      const [key, ...value] = next().split("=");
      if (key) process.env[key] = value.join("=");
    } else throw new UsageError(`unknown argument ${arg}`);
  }
  const result = await synth({ stage });
  const json = JSON.stringify(result, null, 2);
  if (out) writeFileSync(out, json);
  else process.stdout.write(`${json}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    // Pulumi keeps handles open; the synth is done.
    () => process.exit(0),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`synth: ${error.message}\n\n${USAGE}`);
        process.exit(2);
      }
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
