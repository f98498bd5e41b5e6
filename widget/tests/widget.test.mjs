// Browser tests of the chat widget (issue 7): Debian's chromium driven by playwright-core,
// against real `docent serve --demo` processes (the debug build) and the fake LLM binary.
// Run by .ci/run after `cargo build -p docent -p docent-fakellm`:  node --test widget/tests/
//
// Three servers: `main` (the demo, switched between the built-in engine and two fake LLMs),
// `strict` (two chat requests a minute, for the 429 and refused-origin states) and a plain Node
// server for host pages on another origin (hostile CSS, bad embeds, an API answering HTML).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'target', 'debug');
// The README's screenshots are refreshed with WIDGET_SCREENSHOT_DIR=docs; a plain run leaves the tree alone.
const SHOTS = process.env.WIDGET_SCREENSHOT_DIR ? path.resolve(ROOT, process.env.WIDGET_SCREENSHOT_DIR) : os.tmpdir();
const XSS = 'Careful: <img src=x onerror="window.__xss=1;alert(1)"> and [a trap](javascript:window.__xss=2) '
  + 'but **bold** and [a real link](https://example.com/docs) are fine.';

const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Starts a binary and resolves with the first match of `ready` in its output. */
function start(bin, args, env, ready) {
  const child = spawn(path.join(BIN, bin), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      const m = ready.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${bin} exited with ${code}:\n${output}`)));
  });
}

async function startDocent(name, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `docent-widget-${name}-`));
  const { child, match } = await start('docent', ['serve', '--demo', '--addr', '127.0.0.1:0'], {
    DOCENT_DATA_DIR: dir,
    DOCENT_DATABASE_URL: `sqlite://${dir}/docent.db`,
    DOCENT_OUTBOUND__ALLOW_PRIVATE: 'true',
    DOCENT_LOG: 'warn',
    ...env,
  }, /(http:\/\/127\.0\.0\.1:\d+)\/demo\/demo/);
  const token = fs.readFileSync(path.join(dir, 'demo.token'), 'utf8').trim();
  return { base: match[1], token, child, dir };
}

async function startFakeLlm(args) {
  const { match } = await start('docent-fakellm', ['--addr', '127.0.0.1:0', ...args], {}, /listening on (http:\/\/\S+)/);
  return match[1].replace(/\/$/, '');
}

async function patchDemo(server, body) {
  const res = await fetch(`${server.base}/tenants/demo`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

const useFake = (server, fake) => patchDemo(server, { llmProvider: 'openai', llmModel: 'fake-model', llmBaseUrl: `${fake}/v1`, llmApiKey: 'x' });

/** Host pages on another origin than Docent's. */
function startHost() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://host');
    if (url.pathname.startsWith('/html-api/')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>');
    }
    if (url.pathname === '/host.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end("const b = document.getElementById('counter');\n"
        + "b.addEventListener('click', () => { b.textContent = String(Number(b.textContent) + 1); });");
    }
    const q = url.searchParams;
    const attrs = ['tenant', 'api', 'segment', 'locale']
      .filter((k) => q.has(k))
      .map((k) => ` data-${k}="${q.get(k)}"`)
      .join('');
    const css = q.get('hostile')
      ? `* { all: unset; } html, body { font-size: 72px; line-height: 3; }
         p, div, span, button, textarea, h2 { font-size: 64px !important; letter-spacing: 4px !important; }
         docent-widget { display: none !important; transform: scale(3) !important; position: static !important; }`
      : 'body { font-family: sans-serif; }';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Host page</title><style>${css}</style></head><body>
<h1>Host page</h1><p id="marker">Some content of the host site.</p><button id="counter" type="button">0</button>
<script src="${q.get('script')}/widget.js"${attrs}></script><script src="/host.js"></script></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })));
}

let browser;
let main;
let strict;
let host;
let fakeXss;
let fakeSlow;
let fakeLong;

before(async () => {
  [main, strict, host, fakeXss, fakeSlow, fakeLong] = await Promise.all([
    startDocent('main'),
    startDocent('strict', { DOCENT_CHAT__PER_MINUTE: '2' }),
    startHost(),
    startFakeLlm(['--text', XSS]),
    startFakeLlm(['--tokens', '30', '--token-delay-ms', '80']),
    startFakeLlm(['--tokens', '400', '--token-delay-ms', '12']),
  ]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  host?.server.close();
  for (const c of children) c.kill('SIGTERM');
});

// ---------------------------------------------------------------------------------------------
// Helpers: Playwright's CSS selectors pierce the open shadow root
// ---------------------------------------------------------------------------------------------

const W = (selector) => `docent-widget ${selector}`;

/** A page that records the widget's console warnings, errors and dialogs. */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  page.warnings = [];
  page.errors = [];
  page.dialogs = [];
  page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().includes('[docent widget]')) page.warnings.push(m.text());
    if (m.type() === 'error') page.errors.push(m.text());
  });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('dialog', (d) => {
    page.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  return page;
}

async function openWidget(page) {
  await page.locator(W('.launcher')).click();
  await page.locator(W('.panel')).waitFor({ state: 'visible' });
}

/** Evaluates `fn(host)` in the page, with `host.shadowRoot` the widget's shadow root. */
const inWidget = (page, fn, arg) => page.locator('docent-widget').evaluate(fn, arg);

const status = (page) => inWidget(page, (host) => {
  const s = host.shadowRoot.querySelector('.status');
  return s.hidden ? '' : s.textContent;
});

/** Console errors other than refused requests (a 404 favicon, a 429): CSP violations, exceptions. */
const realErrors = (page) => page.errors.filter((e) => !/Failed to load resource/.test(e));

/** Waits until the widget is not streaming and has at least `n` bot messages. */
async function waitForReply(page, n) {
  await page.waitForFunction((count) => {
    const root = document.querySelector('docent-widget').shadowRoot;
    return root.querySelector('.log').getAttribute('aria-busy') === 'false' && root.querySelectorAll('.msg.bot').length >= count;
  }, n, { timeout: 20_000 });
}

async function typeAndSend(page, text) {
  await page.locator(W('textarea')).fill(text);
  await page.locator(W('textarea')).press('Enter');
}

const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  if (!a || a.tagName !== 'DOCENT-WIDGET') return { outside: true };
  const el = a.shadowRoot.activeElement;
  return { tag: el && el.tagName, cls: el && el.getAttribute('class'), inPanel: !!(el && el.closest('.panel')),
    outline: el ? getComputedStyle(el).outlineStyle : 'none' };
});

// ---------------------------------------------------------------------------------------------
// The tests, in order (they share the servers and switch the demo's model)
// ---------------------------------------------------------------------------------------------

test('the launcher opens the panel with the persona, the AI notice, the welcome and the starters', async () => {
  const page = await newPage();
  await page.goto(`${main.base}/demo/demo`);
  const launcher = page.locator(W('.launcher'));
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  await openWidget(page);
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  await page.locator(W('.starter')).first().waitFor();
  assert.equal(await page.locator(W('.name')).textContent(), 'Ada');
  assert.equal(await page.locator(W('.title')).textContent(), 'Docent demo assistant');
  assert.equal(await page.locator(W('.badge')).textContent(), 'AI');
  assert.match(await page.locator(W('.notice')).textContent(), /chatting with an AI assistant/);
  assert.match(await page.locator(W('.msg.bot')).first().textContent(), /I'm Ada, Docent's demo bot/);
  assert.deepEqual(await page.locator(W('.starter')).allTextContents(),
    ['📬 Please contact me', '🧠 Remember that my name is Sam', '🙋 I want to talk to a human']);
  const header = await inWidget(page, (host) => getComputedStyle(host.shadowRoot.querySelector('.head')).backgroundColor);
  assert.equal(header, 'rgb(99, 102, 241)', 'the primary colour #6366f1');

  // A conversation with the built-in engine, for the README's screenshot.
  await page.locator(W('.starter')).nth(1).click();
  await waitForReply(page, 2);
  assert.match(await page.locator(W('.msg.bot')).nth(1).textContent(), /remember/);
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'widget-desktop.png') });
  assert.deepEqual(realErrors(page), [], 'no console error (CSP violations included) on the strict-CSP demo page');
  assert.deepEqual(page.warnings, []);
  await page.context().close();
});

test('on a narrow screen the panel fills the screen; reduced motion turns the animation off', async () => {
  const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
  await page.goto(`${main.base}/demo/demo`);
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  assert.equal(await inWidget(page, (host) => getComputedStyle(host.shadowRoot.querySelector('.panel')).animationName), 'none');
  const box = await page.locator(W('.panel')).boundingBox(); // exact at once: no opening animation
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844]);
  await page.screenshot({ path: path.join(SHOTS, 'widget-mobile.png') });
  await page.context().close();
});

let streamed; // the page of the next tests: a conversation to reload

test('a starter sends its text and the reply streams in token by token', async () => {
  await useFake(main, fakeSlow);
  const page = await newPage();
  streamed = page;
  await page.goto(`${main.base}/demo/demo`);
  await openWidget(page);
  await page.locator(W('.starter')).first().click();
  await page.locator(W('.msg.user')).first().waitFor();
  assert.equal(await page.locator(W('.msg.user .sr')).first().textContent(), 'You: ');
  assert.match(await page.locator(W('.msg.user')).first().textContent(), /Please contact me$/);
  assert.equal(await page.locator(W('.starters')).isHidden(), true, 'the starters go once used');
  const seen = [];
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = await inWidget(page, (host) => [...host.shadowRoot.querySelectorAll('.msg.bot .body')].pop().textContent);
    seen.push(text);
    if (text.includes('t29') || Date.now() > deadline) break;
    await page.waitForTimeout(40);
  }
  assert.ok(seen.some((s) => s.includes('t3 ') && !s.includes('t29')), `partial replies were shown: ${seen.join(' | ')}`);
  await waitForReply(page, 2);
  assert.match(await page.locator(W('.msg.bot .body')).nth(1).textContent(), /^t0 t1 t2 .* t29$/);

  // Thumbs on the reply: the feedback endpoint thanks, or, where it does not exist, the thumbs go.
  await page.locator(W('.rate button[data-rating="positive"]')).click();
  await page.waitForFunction(() => {
    const root = document.querySelector('docent-widget').shadowRoot;
    return root.querySelectorAll('.rate').length === 0 || !root.querySelector('.status').hidden;
  });
  const thumbs = await page.locator(W('.rate')).count();
  if (thumbs) assert.match(await status(page), /Thank you for your feedback|could not be saved/);
});

test('a reload keeps the conversation', async () => {
  const page = streamed;
  await page.reload();
  await openWidget(page);
  await page.locator(W('.msg.user')).first().waitFor();
  assert.match(await page.locator(W('.msg.user')).first().textContent(), /Please contact me$/);
  assert.match(await page.locator(W('.msg.bot .body')).nth(1).textContent(), /^t0 t1 .* t29$/);
  assert.equal(await page.locator(W('.starters')).isHidden(), true);
  await typeAndSend(page, 'And one more');
  await waitForReply(page, 3);
  assert.equal(await page.locator(W('.msg.user')).count(), 2, 'the same session goes on');
  await page.context().close();
});

test('a reply with HTML and a javascript: link stays inert', async () => {
  await useFake(main, fakeXss);
  const page = await newPage();
  await page.goto(`${main.base}/demo/demo`);
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  await typeAndSend(page, 'Show me something nasty');
  await waitForReply(page, 2);
  await page.waitForTimeout(300);
  const reply = page.locator(W('.msg.bot .body')).nth(1);
  assert.match(await reply.textContent(), /<img src=x onerror="window.__xss=1;alert\(1\)">/, 'the tag shows as text');
  assert.equal(await page.locator(W('.log img')).count(), 0);
  assert.equal(await page.evaluate(() => document.querySelectorAll('img[onerror]').length), 0);
  const links = await inWidget(page, (host) => [...host.shadowRoot.querySelectorAll('.log a')]
    .map((a) => [a.getAttribute('href'), a.rel, a.target, a.textContent]));
  assert.deepEqual(links, [['https://example.com/docs', 'noopener noreferrer', '_blank', 'a real link']]);
  assert.equal(await reply.locator('strong').textContent(), 'bold');
  await reply.getByText('a trap').click().catch(() => {});
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(page.dialogs, []);
  await page.context().close();
});

test('data-segment picks the segment: its welcome message and starters', async () => {
  const page = await newPage();
  await page.goto(`${main.base}/demo/demo?segment=support`);
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  assert.match(await page.locator(W('.msg.bot')).first().textContent(), /Need help\? Describe your issue\./);
  assert.deepEqual(await page.locator(W('.starter')).allTextContents(), ['I have a bug to report']);
  await page.context().close();
});

test('the list follows a streaming reply unless the reader scrolled up', async () => {
  await useFake(main, fakeLong);
  const page = await newPage({ viewport: { width: 1280, height: 700 } });
  await page.goto(`${main.base}/demo/demo`);
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  await typeAndSend(page, 'Tell me a long story');
  const log = (p) => inWidget(p, (host) => {
    const l = host.shadowRoot.querySelector('.log');
    return { top: l.scrollTop, gap: l.scrollHeight - l.scrollTop - l.clientHeight, overflow: l.scrollHeight - l.clientHeight };
  });
  await page.waitForFunction(() => {
    const l = document.querySelector('docent-widget').shadowRoot.querySelector('.log');
    return l.scrollHeight - l.clientHeight > 150;
  });
  assert.ok((await log(page)).gap < 40, 'pinned to the bottom while streaming');
  await page.locator(W('.log')).hover();
  await page.mouse.wheel(0, -2000);
  await page.waitForFunction(() => document.querySelector('docent-widget').shadowRoot.querySelector('.log').scrollTop === 0);
  const before = await log(page);
  await page.waitForTimeout(400);
  const later = await log(page);
  assert.equal(later.top, 0, 'the reader stays where they scrolled');
  assert.ok(later.overflow > before.overflow, 'while the reply kept growing');
  await waitForReply(page, 2);
  await useFake(main, fakeSlow);
  await page.context().close();
});

test('keyboard-only use works: open, type, send, focus trapped, Escape closes and returns focus', async () => {
  const page = await newPage();
  await page.goto(`${main.base}/demo/demo`);
  await page.locator(W('.launcher')).waitFor();
  let f = { outside: true };
  for (let i = 0; i < 30 && f.cls !== 'launcher'; i++) {
    await page.keyboard.press('Tab');
    f = await focused(page);
  }
  assert.equal(f.cls, 'launcher', 'Tab reaches the launcher');
  assert.notEqual(f.outline, 'none', 'the focus is visible');
  await page.keyboard.press('Enter');
  await page.locator(W('.panel')).waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('docent-widget').shadowRoot.activeElement?.tagName === 'TEXTAREA');
  await page.locator(W('.starter')).first().waitFor();
  await page.keyboard.type('Hello from the keyboard');
  await page.keyboard.press('Enter');
  await waitForReply(page, 2);
  assert.match(await page.locator(W('.msg.user')).first().textContent(), /Hello from the keyboard/);
  for (const key of ['Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
    await page.keyboard.press(key);
    const now = await focused(page);
    assert.ok(now.inPanel, `focus stays in the panel after ${key}: ${JSON.stringify(now)}`);
  }
  await page.keyboard.press('Escape');
  await page.locator(W('.panel')).waitFor({ state: 'hidden' });
  assert.equal((await focused(page)).cls, 'launcher', 'focus returns to the launcher');
  assert.equal(await page.locator(W('.launcher')).getAttribute('aria-expanded'), 'false');
  await page.context().close();
});

test('hostile host CSS neither breaks the widget nor is broken by it (another origin, CORS)', async () => {
  const page = await newPage();
  await page.goto(`${host.base}/?hostile=1&script=${encodeURIComponent(main.base)}&tenant=demo`);
  await page.locator(W('.launcher')).waitFor();
  const launcher = await page.locator(W('.launcher')).boundingBox();
  assert.deepEqual([launcher.width, launcher.height, launcher.x + launcher.width, launcher.y + launcher.height], [56, 56, 1260, 780]);
  const hostBox = await page.evaluate(() => document.querySelector('docent-widget').getBoundingClientRect().toJSON());
  assert.deepEqual([hostBox.width, hostBox.height], [0, 0], 'the widget takes no room in the host layout');
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  const panel = await page.locator(W('.panel')).boundingBox();
  assert.equal(panel.width, 380);
  const sizes = await inWidget(page, (host) => ['.name', '.notice', '.starter', 'textarea']
    .map((s) => getComputedStyle(host.shadowRoot.querySelector(s)).fontSize));
  assert.deepEqual(sizes, ['16px', '12px', '13.5px', '15px']);
  await typeAndSend(page, 'Hello from another site');
  await waitForReply(page, 2);
  assert.deepEqual(page.warnings, []);
  await page.screenshot({ path: path.join(SHOTS, 'widget-hostile-host.png') });
  await page.context().close();
});

test('French texts follow the visitor\'s language', async () => {
  const page = await newPage({ locale: 'fr-FR' });
  await page.goto(`${main.base}/demo/demo`);
  assert.equal(await page.locator(W('.launcher')).getAttribute('aria-label'), 'Ouvrir la discussion');
  await openWidget(page);
  assert.match(await page.locator(W('.notice')).textContent(), /Vous discutez avec un assistant IA/);
  assert.equal(await page.locator(W('.badge')).textContent(), 'IA');
  await page.context().close();
});

test('a 429 shows the rate-limit message and keeps the visitor\'s text', async () => {
  const page = await newPage();
  await page.goto(`${strict.base}/demo/demo`);
  await openWidget(page); // the history check is the first request of the minute
  await page.locator(W('.starter')).first().waitFor();
  await typeAndSend(page, 'One');
  await waitForReply(page, 2);
  await typeAndSend(page, 'Two');
  await page.waitForFunction(() => /too quickly/.test(document.querySelector('docent-widget').shadowRoot.querySelector('.status').textContent));
  assert.match(await status(page), /^You are sending messages too quickly\. Please wait \d+ seconds and try again\.$/);
  assert.equal(await page.locator(W('textarea')).inputValue(), 'Two');
  assert.equal(await page.locator(W('.send')).isDisabled(), true);
  assert.equal(page.warnings.length, 1, page.warnings.join('\n'));
  await page.context().close();
});

// ---------------------------------------------------------------------------------------------
// What bad input gets: a clear state in the widget, one console warning, a working host page
// ---------------------------------------------------------------------------------------------

async function badEmbed(query, expected) {
  const page = await newPage();
  await page.goto(`${host.base}/?script=${encodeURIComponent(main.base)}&${query}`);
  await openWidget(page);
  await page.waitForFunction(() => !document.querySelector('docent-widget').shadowRoot.querySelector('.status').hidden);
  await page.waitForTimeout(200);
  assert.match(await status(page), expected);
  assert.equal(page.warnings.length, 1, page.warnings.join('\n'));
  await page.keyboard.press('Escape');
  await page.locator('#counter').click();
  assert.equal(await page.locator('#counter').textContent(), '1', 'the host page keeps working');
  assert.deepEqual(realErrors(page), []);
  return page;
}

test('a missing data-tenant gets a clear state', async () => {
  const page = await badEmbed('', /missing site id/);
  assert.equal(await page.locator(W('textarea')).isDisabled(), true);
  await page.context().close();
});

test('an unknown tenant gets a clear state', async () => {
  const page = await badEmbed('tenant=nobody', /unknown site id/);
  await page.context().close();
});

test('an API answering HTML instead of JSON gets a clear state', async () => {
  const page = await badEmbed(`tenant=demo&api=${encodeURIComponent(host.base + '/html-api')}`, /unexpected answer/);
  await page.context().close();
});

test('an origin outside allowedDomains gets a clear state', async () => {
  await patchDemo(strict, { allowedDomains: ['example.com'] });
  const page = await newPage();
  await page.goto(`${host.base}/?script=${encodeURIComponent(strict.base)}&tenant=demo`);
  await openWidget(page);
  await page.waitForFunction(() => !document.querySelector('docent-widget').shadowRoot.querySelector('.status').hidden);
  assert.match(await status(page), /not enabled for this website/);
  assert.equal(await page.locator(W('textarea')).isDisabled(), true);
  assert.equal(page.warnings.length, 1, page.warnings.join('\n'));
  await page.context().close();
});

test('a stream cut mid-reply keeps the partial text and says so', async () => {
  const page = await newPage();
  await page.route((url) => url.pathname === '/chat/demo', (route) => (route.request().method() === 'POST'
    ? route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'data: {"text":"Partial answ"}\n\n' })
    : route.continue()));
  await page.goto(`${main.base}/demo/demo`);
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  await typeAndSend(page, 'Tell me everything');
  await waitForReply(page, 2);
  const reply = page.locator(W('.msg.bot')).nth(1);
  assert.match(await reply.textContent(), /Partial answ/);
  assert.match(await reply.locator('.note').textContent(), /Reply interrupted/);
  assert.match(await status(page), /connection was interrupted/);
  assert.equal(page.warnings.length, 1, page.warnings.join('\n'));
  await page.context().close();
});

test('offline: the message is kept and the state clears when the network returns', async () => {
  const page = await newPage();
  await page.goto(`${main.base}/demo/demo`);
  await openWidget(page);
  await page.locator(W('.starter')).first().waitFor();
  await page.context().setOffline(true);
  await typeAndSend(page, 'Are you there?');
  await page.waitForFunction(() => !document.querySelector('docent-widget').shadowRoot.querySelector('.status').hidden);
  assert.match(await status(page), /offline/);
  assert.equal(await page.locator(W('textarea')).inputValue(), 'Are you there?');
  assert.equal(await page.locator(W('.msg.user')).count(), 0);
  await page.context().setOffline(false);
  await page.waitForFunction(() => document.querySelector('docent-widget').shadowRoot.querySelector('.status').hidden);
  assert.equal(page.warnings.length, 1, page.warnings.join('\n'));
  await page.context().close();
});
