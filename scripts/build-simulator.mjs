// Build the simulator page the package ships: js/simulator/page.html with page.css and the
// compiled js/simulator/main.ts inlined, one self-contained file (the widget loads it as a
// blob: URL, so it can fetch nothing). Run by `npm run build`; writes
// src/upscope_widget/static/simulator.html, which build_page() fills in at run time.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "js", "simulator");
const out = join(root, "src", "upscope_widget", "static", "simulator.html");
const CSS_MARKER = "<style>/* SIMULATOR_CSS */</style>";
const JS_MARKER = "<script>/* SIMULATOR_JS */</script>";

function fail(message) {
  console.error(`build-simulator: ${message}`);
  process.exit(1);
}

function once(text, marker, what) {
  if (text.split(marker).length !== 2) fail(`${what} must contain ${marker} exactly once`);
}

const template = await readFile(join(src, "page.html"), "utf8");
once(template, CSS_MARKER, "js/simulator/page.html");
once(template, JS_MARKER, "js/simulator/page.html");

const script = await esbuild.build({
  entryPoints: [join(src, "main.ts")],
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  charset: "ascii",
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
const js = script.outputFiles[0].text.trim();
const css = (
  await esbuild.transform(await readFile(join(src, "page.css"), "utf8"), {
    loader: "css",
    minify: true,
    charset: "ascii",
  })
).code.trim();

// The script and style are inlined into HTML: text that would end them early, or open a
// comment the HTML parser treats specially inside a script, must not occur.
for (const [text, what] of [[js, "the compiled script"], [css, "the CSS"]]) {
  for (const bad of ["</script", "</style", "<!--", "<script"]) {
    if (text.toLowerCase().includes(bad)) fail(`${what} contains ${bad}, which would break the page`);
  }
}

// Replace with functions: the minified script may hold "$&" or "$'", which a replacement
// string would expand.
const html = template
  .replace(CSS_MARKER, () => `<style>${css}</style>`)
  .replace(JS_MARKER, () => `<script>${js}</script>`);

await mkdir(dirname(out), { recursive: true });
// Written whole, then renamed: a reader never sees half a page.
const tmp = `${out}.${process.pid}.tmp`;
await writeFile(tmp, html, "utf8");
await rename(tmp, out);
console.log(`build-simulator: ${out.slice(root.length + 1)} (${Buffer.byteLength(html)} bytes)`);
