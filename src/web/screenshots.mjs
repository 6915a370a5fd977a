// Screenshots of the main pages for docs/screenshots/: the home page, a paper page, a paper
// with math, the search page, a week in dark mode and the home page on a phone, taken with
// Debian's chromium (headless, through playwright-core) from `paperboy serve` over real data:
// demo/ plus shared/data's Hugging Face daily papers and arXiv snapshot sample.
//
//   node src/web/screenshots.mjs PAPERBOY_BINARY SOURCE_DIR OUTPUT_DIR
//
// The community pages (sign-up, collections, comments, admin, ...) are taken by the browser
// test: node src/web/browser_test.mjs PAPERBOY_BINARY SOURCE_DIR OUT --screenshots OUTPUT_DIR.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const [binary, sourceDir, outputDir] = process.argv.slice(2);
if (!binary || !sourceDir || !outputDir) {
  console.error("usage: node screenshots.mjs PAPERBOY_BINARY SOURCE_DIR OUTPUT_DIR");
  process.exit(2);
}
// An arXiv snapshot paper whose abstract holds TeX ($\Theta(m\log n)$), for KaTeX to render.
const mathPaper = "0704.0062";
const dataDir = mkdtempSync(join(tmpdir(), "paperboy-screenshots-"));

const ingest = spawnSync(
  binary,
  ["--data", dataDir, "-q", "ingest", join(sourceDir, "demo"),
   join(sourceDir, "..", "shared", "data", "hf-daily-papers"),
   join(sourceDir, "..", "shared", "data", "arxiv-snapshot-sample")],
  { encoding: "utf8" });
// 3: finished with some records rejected (a few days of the HF capture hold Python repr() text).
assert.ok(ingest.status === 0 || ingest.status === 3, `ingest failed (${ingest.status}): ${ingest.stderr}`);

const server = spawn(binary, ["--data", dataDir, "-q", "serve", "--port", "0", "--threads", "4"], {
  stdio: ["ignore", "ignore", "pipe"],
});
const base = await new Promise((resolve, reject) => {
  let stderr = "";
  const timer = setTimeout(() => reject(new Error("server did not start: " + stderr)), 120000);
  server.stderr.on("data", (chunk) => {
    stderr += chunk;
    const match = /serving .* on (http:\/\/[^ ]+) /.exec(stderr);
    if (match) {
      clearTimeout(timer);
      resolve(match[1]);
    }
  });
  server.on("exit", (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
});

let browser;
try {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
  const desktop = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shot = (page, name) => page.screenshot({ path: join(outputDir, name), fullPage: false });

  await desktop.goto(base + "/");
  await shot(desktop, "home.png");

  const firstPaper = await desktop.locator("ol.cards > li.card .card-title a").first().getAttribute("href");
  await desktop.goto(base + firstPaper);
  await shot(desktop, "paper.png");

  await desktop.goto(base + "/papers/" + mathPaper);
  await desktop.locator(".katex").first().waitFor();
  await shot(desktop, "paper-math.png");

  await desktop.goto(base + "/search?q=state+space+model");
  assert.ok((await desktop.locator("mark").count()) > 0, "the search page highlights its matches");
  await shot(desktop, "search.png");

  await desktop.emulateMedia({ colorScheme: "dark" });
  await desktop.goto(base + "/");
  await desktop.getByRole("link", { name: "Week" }).first().click();
  await desktop.waitForURL(/\/week\//);
  await shot(desktop, "week-dark.png");

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  await phone.goto(base + "/");
  await shot(phone, "home-phone.png");
  console.log(`screenshots in ${outputDir}`);
} finally {
  if (browser) await browser.close();
  server.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
