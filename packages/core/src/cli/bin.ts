import { boundHeapGrowth } from "../runtime/heap.ts";
import { main } from "./main.ts";

// Set before any work starts (the modules above are loaded by then; the flag applies from the next full
// collection): the heaps of this process and of the store's worker grow to twice what they keep, where V8
// lets them grow up to four times (`runtime/heap.ts`).
boundHeapGrowth();

// The SDK's Node-version notice is for maintainers, not for people reading an audit timeline.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// `idc-audit normalize … | head` closes the pipe once it has read enough: the reader's choice, not a failure, so
// the command ends quietly instead of dying on an unhandled EPIPE.
// The same for `2>&1 | head`, where stderr is the pipe.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

// Node ends a command whose work can no longer finish (nothing left that could settle what it waits for) with
// exit code 13 and no word: say so instead. `main` reports every failure it can see; this is the net under it.
process.on("exit", (code) => {
  if (code !== 13) return;
  process.stderr.write(
    "idc-audit: the command stopped before it finished, without an error to report (exit code 13): this is a bug, please report it with the command you ran\n",
  );
});

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interactive: Boolean(process.stderr.isTTY),
});
process.exitCode = code;
