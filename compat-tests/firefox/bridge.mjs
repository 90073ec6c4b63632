// A page of Debian's firefox-esr for the Python tests (lib/browser.py's FirefoxPage): one
// JSON command per line on stdin, one JSON answer per line on stdout. puppeteer-core drives
// the browser over WebDriver BiDi; no browser is downloaded.
//
//   node bridge.mjs FIREFOX USER PASSWORD WIDTH HEIGHT
//
// Commands: {op: "goto", url} | {op: "url"} | {op: "evaluate", js} (an expression) |
// {op: "wait", js, timeout} (until the expression is truthy) | {op: "click", css, text,
// navigates} (a real click on the first element matching css whose text is text) |
// {op: "screenshot", path} | {op: "viewport", width, height} | {op: "errors"} | {op: "close"}.
// Answers: {ok: true, value} or {ok: false, error}.
import puppeteer from 'puppeteer-core';
import readline from 'node:readline';

const [executablePath, username, password, width, height] = process.argv.slice(2);
const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath,
  headless: true,
  defaultViewport: { width: +width, height: +height },
});
const page = await browser.newPage();
await page.authenticate({ username, password });
page.setDefaultTimeout(30000);
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));

async function click({ css, text, navigates }) {
  const handles = await page.$$(css);
  let target = null;
  for (const h of handles) {
    if (!target && (await h.evaluate((e) => e.textContent.trim())) === text) {
      target = h;
    }
  }
  if (!target) throw new Error(`no ${css} with text ${JSON.stringify(text)}`);
  if (navigates) {
    await Promise.all([page.waitForNavigation(), target.click()]);
  } else {
    await target.click();
  }
}

const ops = {
  goto: ({ url }) => page.goto(url).then(() => null),
  url: () => page.url(),
  evaluate: ({ js }) => page.evaluate(js),
  wait: ({ js, timeout }) => page.waitForFunction(js, { timeout, polling: 100 }).then(() => null),
  click,
  screenshot: ({ path }) => page.screenshot({ path, fullPage: true }).then(() => null),
  viewport: ({ width, height }) => page.setViewport({ width, height }).then(() => null),
  errors: () => errors,
};

const out = (answer) => process.stdout.write(JSON.stringify(answer) + '\n');
for await (const line of readline.createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  if (cmd.op === 'close') break;
  try {
    const value = await ops[cmd.op](cmd);
    out({ ok: true, value: value ?? null });
  } catch (e) {
    out({ ok: false, error: String(e) });
  }
}
await browser.close();
