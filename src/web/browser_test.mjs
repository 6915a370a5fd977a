// The community web app in a real browser: Debian's chromium, headless, driven by
// playwright-core over `paperboy serve` on a free port with the demo corpus in a temporary data
// folder. Signs up, signs out and in, upvotes and sees the count change, submits a paper,
// comments, keeps a collection, moves through a list with j/k/o/u, searches as it types, follows
// an author and a category page, and checks that dark mode changes the colours.
//
//   node src/web/browser_test.mjs PAPERBOY_BINARY SOURCE_DIR OUTPUT_DIR [--screenshots DIR]
//
// A failing run leaves a screenshot of the page it failed on in OUTPUT_DIR; --screenshots
// also saves the community pages there (docs/screenshots/ holds the committed ones).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const [binary, sourceDir, outputDir, screenshotFlag, screenshotDir] = process.argv.slice(2);
if (!binary || !sourceDir || !outputDir) {
  console.error("usage: node browser_test.mjs PAPERBOY_BINARY SOURCE_DIR OUTPUT_DIR [--screenshots DIR]");
  process.exit(2);
}
const docsShots = screenshotFlag === "--screenshots" ? screenshotDir : null;
const dataDir = mkdtempSync(join(tmpdir(), "paperboy-browser-"));

function ingestDemo() {
  const run = spawnSync(binary, ["--data", dataDir, "-q", "ingest", join(sourceDir, "demo")], {
    encoding: "utf8",
  });
  // 3: finished with some records rejected, as the demo's page capture has a few.
  assert.ok(run.status === 0 || run.status === 3, `ingest failed (${run.status}): ${run.stderr}`);
}

// Starts the server on a free port and resolves with its base URL once it listens.
function serve() {
  const server = spawn(binary, ["--data", dataDir, "-q", "serve", "--port", "0", "--threads", "4"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error("server did not start: " + stderr)), 60000);
    server.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /serving .* on (http:\/\/[^ ]+) /.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ server, base: match[1] });
      }
    });
    server.on("exit", (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
}

let page;
let step = "starting";
let failed = false;
let server;
let browser;
try {
  ingestDemo();
  const served = await serve();
  server = served.server;
  const base = served.base;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  const shot = async (name) => {
    if (docsShots) await page.screenshot({ path: join(docsShots, name), fullPage: false });
  };

  step = "sign up";
  await page.goto(base + "/signup");
  await page.getByLabel("Name", { exact: false }).first().fill("ada");
  await page.getByLabel("Email").fill("ada@example.org");
  await page.getByLabel("Password", { exact: false }).fill("correct horse battery");
  await shot("signup.png");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(base + "/");
  assert.equal(await page.locator(".account-name").textContent(), "ada");

  step = "sign out and in again";
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(base + "/");
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Name or email").fill("ada");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(base + "/");
  assert.equal(await page.locator(".account-name").textContent(), "ada");

  step = "upvote";
  const firstCard = page.locator(".card").first();
  const paperHref = await firstCard.locator(".card-title a").getAttribute("href");
  await page.goto(base + paperHref);
  const vote = page.locator("form.vote-large");
  const before = Number(await vote.locator(".vote-count").textContent());
  await vote.locator("button").click();
  await page.waitForFunction(
    (expected) => document.querySelector("form.vote-large .vote-count").textContent === String(expected),
    before + 1);
  assert.equal(await vote.locator("button").getAttribute("aria-pressed"), "true");
  await page.reload();
  assert.equal(Number(await vote.locator(".vote-count").textContent()), before + 1, "the vote is stored");
  await page.waitForFunction(() =>
    document.querySelector("form.vote-large button").getAttribute("aria-pressed") === "true");

  step = "comment";
  await page.getByLabel("Add a comment").fill("A **clear** write-up; see [the code](https://example.org).");
  await page.getByRole("button", { name: "Comment" }).click();
  await page.locator(".comment-body strong", { hasText: "clear" }).waitFor();
  assert.equal(await page.locator(".comment-body a").getAttribute("href"), "https://example.org");

  step = "collection";
  await page.goto(base + "/collections");
  await page.getByLabel("Name", { exact: true }).fill("To read");
  await page.getByLabel("Public", { exact: false }).check();
  await page.getByRole("button", { name: "Create collection" }).click();
  await page.waitForURL(/\/collections\/\d+$/);
  await page.goto(base + paperHref);
  await page.getByLabel("Note").fill("start with section 3");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.waitForURL(/\/collections\/\d+$/);
  await page.locator(".collection-item .note", { hasText: "start with section 3" }).waitFor();
  await shot("collection.png");

  step = "submit";
  const paperId = decodeURIComponent(paperHref.replace(/^\/papers\//, ""));
  await page.goto(base + "/submit");
  await page.getByLabel("arXiv id or URL").fill("https://arxiv.org/abs/" + paperId);
  await page.getByRole("button", { name: "Submit" }).click();
  await page.locator(".form-message").waitFor();
  const message = await page.locator(".form-message").textContent();
  assert.ok(/feed/.test(message), message);
  await page.getByLabel("arXiv id or URL").fill("2512.99999");
  await page.getByRole("button", { name: "Submit" }).click();
  await page.locator(".form-message", { hasText: "queued for fetching" }).waitFor();
  await shot("submit.png");

  step = "keyboard navigation";
  await page.goto(base + "/trending");
  await page.waitForLoadState("networkidle");  // community.js has shown the visitor's votes
  const focusedIndex = () => page.evaluate(() =>
    Array.from(document.querySelectorAll("ol.cards > li.card")).indexOf(document.activeElement));
  await page.keyboard.press("j");
  assert.equal(await focusedIndex(), 0);
  await page.keyboard.press("j");
  assert.equal(await focusedIndex(), 1);
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(ring, "solid", "the card in focus shows a focus ring");
  await shot("keyboard-focus.png");
  await page.keyboard.press("k");
  assert.equal(await focusedIndex(), 0);
  const card = page.locator("ol.cards > li.card").first();
  const countBefore = Number(await card.locator(".vote-count").textContent());
  const pressedBefore = await card.locator("form.vote button").getAttribute("aria-pressed");
  await page.keyboard.press("u");
  const expected = pressedBefore === "true" ? countBefore - 1 : countBefore + 1;
  await page.waitForFunction(
    (want) => document.querySelector("ol.cards > li.card .vote-count").textContent === String(want),
    expected);
  const target = await card.locator(".card-title a").getAttribute("href");
  await page.keyboard.press("o");
  await page.waitForURL(base + target);

  step = "instant search";
  await page.goto(base + "/search");
  await page.locator("#site-search").pressSequentially("language model", { delay: 20 });
  await page.locator("#search-results li.card").first().waitFor();
  assert.match(page.url(), /\/search\?q=language\+model|\/search\?q=language%20model/,
    "results came without submitting, and the address follows");
  assert.ok(await page.locator("#search-results li.card").count() > 0);
  await page.keyboard.press("Escape");
  await page.keyboard.press("j");
  assert.equal(await focusedIndex(), 0, "j works on instant results after Escape");

  step = "author and category pages";
  await page.goto(base + paperHref);
  const author = page.locator(".author-list a").first();
  const authorName = await author.textContent();
  await author.click();
  await page.waitForURL(/\/authors\//);
  assert.equal(await page.locator("h1").textContent(), authorName);
  assert.ok(await page.locator("ol.cards > li.card").count() > 0);
  assert.equal(await page.locator('link[rel="alternate"][type="application/atom+xml"]').count(), 1);
  await shot("author.png");
  // The demo's Hugging Face records carry no arXiv categories, so the page is asked for directly.
  const categoryPage = await page.goto(base + "/categories/cs.CL");
  assert.equal(categoryPage.status(), 200);
  assert.equal(await page.locator("h1").textContent(), "cs.CL");

  step = "exclusion words";
  await page.goto(base + "/");
  const firstTitle = await page.locator("ol.cards > li.card .card-title a").first().textContent();
  const word = firstTitle.split(/[^A-Za-z]+/).filter((w) => w.length > 4)[0];
  await page.getByLabel("Hide papers about").fill(word);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/exclude=/);
  const titles = await page.locator("ol.cards > li.card .card-title a").allTextContents();
  assert.ok(!titles.includes(firstTitle), `"${firstTitle}" left out for "${word}"`);

  step = "dark mode";
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto(base + "/");
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(light, dark, "prefers-color-scheme: dark changes the page background");
  await shot("home-dark.png");
  await page.emulateMedia({ colorScheme: "light" });

  if (docsShots) {
    await page.goto(base + paperHref + "#comments");
    await page.locator("#comments").scrollIntoViewIfNeeded();
    await shot("paper-comments.png");
    await page.goto(base + "/admin");
    await shot("admin.png");
  }
  console.log("browser test passed: sign up, sign in, upvote, comment, collection, submit, " +
    "keyboard navigation, instant search, author and category pages, exclusion, dark mode");
} catch (error) {
  failed = true;
  console.error(`browser test failed at "${step}": ${error.stack || error}`);
  if (page) {
    mkdirSync(outputDir, { recursive: true });
    const path = join(outputDir, `browser-test-failure-${step.replace(/\W+/g, "-")}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    console.error("screenshot: " + path);
  }
} finally {
  if (browser) await browser.close();
  if (server) server.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
