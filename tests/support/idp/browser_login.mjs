// Signs in through the test identity provider with headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core).
//
//   node browser_login.mjs --url URL --username U --password P
//        [--expect TEXT] [--timeout MS] [--host-rules RULES] [--chromium PATH]
//
// Opens URL, fills the provider's sign-in form (#login-form) and its consent
// form (#consent-form) when they show, and waits until the page is back on
// URL's host (and TEXT is on the page, if given). Prints one JSON line:
//   {ok, final_url, status, title, body_excerpt, navigations: [{url, status}], error?}
// and exits 0 when ok, 1 otherwise.

import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    expect: { type: 'string' },
    timeout: { type: 'string', default: '30000' },
    'host-rules': { type: 'string', default: 'MAP *.localhost 127.0.0.1, MAP *.test 127.0.0.1' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});

const timeout = Number(args.timeout);
const startHost = new URL(args.url).host;
const navigations = [];
let browser;

async function result(page, ok, error) {
  let title = '';
  let body = '';
  try {
    title = await page.title();
    body = await page.innerText('body', { timeout: 2000 });
  } catch {
    // a page that is gone or has no body
  }
  const last = navigations[navigations.length - 1];
  return {
    ok,
    final_url: page.url(),
    status: last ? last.status : null,
    title,
    body_excerpt: body.slice(0, 2000),
    navigations,
    ...(error ? { error } : {}),
  };
}

async function clickAndWait(page, selector) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout }),
    page.click(selector, { timeout }),
  ]);
}

async function run() {
  browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    timeout,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--host-resolver-rules=${args['host-rules']}`,
    ],
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
      navigations.push({ url: r.url(), status: r.status() });
    }
  });

  await page.goto(args.url, { waitUntil: 'load', timeout });
  let submittedLogin = false;
  for (let step = 0; step < 6; step += 1) {
    if (await page.$('#login-form')) {
      if (submittedLogin) {
        const error = await page.$('#error');
        return result(page, false, error ? await error.innerText() : 'sign-in form shown again');
      }
      submittedLogin = true;
      await page.fill('#login', args.username ?? '');
      await page.fill('#password', args.password ?? '');
      await clickAndWait(page, '#submit');
    } else if (await page.$('#consent-form')) {
      await clickAndWait(page, '#allow');
    } else if (new URL(page.url()).host === startHost) {
      break;
    } else {
      await page.waitForURL((u) => u.host === startHost, { waitUntil: 'load', timeout });
    }
  }
  if (new URL(page.url()).host !== startHost) {
    return result(page, false, `not back on ${startHost}`);
  }
  if (args.expect !== undefined) {
    try {
      await page.waitForFunction((t) => document.body && document.body.innerText.includes(t),
        args.expect, { timeout });
    } catch {
      return result(page, false, `text not found: ${args.expect}`);
    }
  }
  return result(page, true);
}

let out;
try {
  out = await run();
} catch (err) {
  out = { ok: false, error: String(err && err.message ? err.message : err), navigations };
}
// Playwright starts Chromium with a fresh profile of its own and removes it here.
await browser?.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(out.ok ? 0 : 1);
