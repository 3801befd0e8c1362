// Copies the front-end packages installed from the npm registry (package.json) into
// kehu/static/vendor/, which git ignores. Run by `make assets` (part of `make run`/`make test`).
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
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
  "tom-select/tom-select.complete.min.js": "tom-select/dist/js/tom-select.complete.min.js",
  "tom-select/tom-select.bootstrap5.min.css": "tom-select/dist/css/tom-select.bootstrap5.min.css",
};

rmSync(out, { recursive: true, force: true });
for (const [target, source] of Object.entries(files)) {
  const dest = join(out, target);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join(nm, source), dest, { recursive: true });
}
writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
console.log(`assets: ${Object.keys(files).length} entries copied to kehu/static/vendor`);
