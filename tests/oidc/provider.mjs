// A real OpenID provider for the tests: npm's `oidc-provider` (an OpenID-certified implementation),
// in memory, on 127.0.0.1:PORT, with one confidential client and a sign-in page of its own.
//
//   node tests/oidc/provider.mjs --port 4000 --client-id registry --client-secret s3cret \
//        --redirect-uri http://127.0.0.1:8000/login/oidc/callback [--redirect-uri ...] [--password pw]
//
// --port 0 takes a port the system picks (no race with another process between choosing and binding).
// With --registration-token T, a test registers more clients at run time (POST /reg, bearer T).
// Prints one line `ready ISSUER` on stdout once it listens. Any username signs in with the fixed
// password (default "correct horse"); its claims: sub = username, email = username@example.test,
// email_verified = true, preferred_username and name = username. Consent is implied for the one
// client (first-party), so a sign-in is: authorize -> this login page -> back to the client.
//
// Why these settings (oidc-provider 9):
// - the issuer is http://127.0.0.1:PORT. oidc-provider has no "production mode" gate on http
//   issuers: cookies get `Secure` only when the request itself is https (ctx.secure), and https is
//   demanded only of implicit-flow redirect URIs, which this client (code flow) does not use.
// - devInteractions (the library's built-in quick-start pages) are off: they accept any password,
//   pull a web font from a CDN (no network here) and carry inline styles. The page below checks
//   the password, has labels and landmarks, and no script or style at all.
// - PKCE is required for every request (`pkce.required` returns true; S256 is the only method the
//   library accepts), the client authenticates at the token endpoint with client_secret_basic
//   (`--auth-method client_secret_post` switches).
// - signing keys are a fresh RSA key per run (not the library's published dev keys); storage is the
//   library's in-memory adapter: a restart forgets every session, code and grant.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// The package lives in tests/js/node_modules (one npm lockfile for the tests' node tools).
const resolve = createRequire(new URL('../js/package.json', import.meta.url)).resolve;
const { default: Provider } = await import(pathToFileURL(resolve('oidc-provider')).href);

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'auth-method': { type: 'string', default: 'client_secret_basic' },
    password: { type: 'string', default: 'correct horse' },
    'registration-token': { type: 'string' },
  },
});
for (const name of ['port', 'client-id', 'client-secret', 'redirect-uri']) {
  if (!args[name]) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
}

// Listen first: the issuer names the port, which --port 0 leaves to the system.
let handle;
const server = createServer(async (req, res) => {
  if (!handle) {  // not ready yet
    res.writeHead(503, { 'retry-after': '1' });
    return res.end();
  }
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/abort)?$/.exec(new URL(req.url, issuer).pathname);
  if (!match) return handle(req, res);
  try {
    await interaction(req, res, match[1], match[2] ? 'abort' : (req.method === 'POST' ? 'submit' : 'show'));
  } catch (err) {
    if (!res.headersSent) send(res, 400, page('Bad request', `<h1>Bad request</h1><p id="error">${escape(err.message)}</p>`));
    else res.end();
  }
});
server.listen(Number(args.port), args.host);
await once(server, 'listening');
const issuer = `http://${args.host}:${server.address().port}`;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: args['redirect-uri'],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: args['auth-method'],
  }],
  jwks: { keys: [{ ...key, kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    // With --registration-token, more clients can be registered at run time (OpenID Connect Dynamic
    // Client Registration, POST /reg with that bearer token): a test whose relying party's port is
    // known only later registers its own redirect URI against the one session-wide provider.
    registration: args['registration-token']
      ? { enabled: true, initialAccessToken: args['registration-token'] } : { enabled: false },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // The ID token carries the scopes' claims (email...) as Cognito, Okta, Entra ID and Keycloak do,
  // not only the userinfo endpoint (the library's default, conformIdTokenClaims: true).
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  async findAccount(_ctx, sub) {
    if (!USERNAME.test(sub)) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.test`, email_verified: true, name: sub, preferred_username: sub };
      },
    };
  },
  // First-party client: the grant is implied, so no consent page follows the sign-in.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in failed', `<h1>Sign-in failed</h1><p id="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Test provider</title></head>
<body><main>${body}</main></body></html>`;
}

function loginPage(uid, clientId, { login = '', error = '' } = {}) {
  return page('Sign in', `<h1>Sign in to the test provider</h1>
<p>for <strong>${escape(clientId)}</strong></p>
${error ? `<p id="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}" autocomplete="off">
<p><label for="login">Username</label> <input id="login" name="login" required value="${escape(login)}"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" required></p>
<p><button type="submit">Sign in</button> <a href="/interaction/${escape(uid)}/abort">Cancel</a></p>
</form>`);
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // No form-action: the form's answer redirects to the client, on another origin.
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(html);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Bad request', '<h1>Unknown sign-in</h1>'));
  if (action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user cancelled' },
      { mergeWithLastSubmission: false });
  }
  if (details.prompt.name !== 'login') {
    return send(res, 501, page('Not implemented', `<h1>Prompt ${escape(details.prompt.name)} is not implemented</h1>`));
  }
  const clientId = details.params.client_id;
  if (req.method === 'GET') return send(res, 200, loginPage(uid, clientId, { login: details.params.login_hint ?? '' }));
  const form = await readForm(req);
  const login = form.get('login') ?? '';
  if (!USERNAME.test(login)) {
    return send(res, 400, loginPage(uid, clientId, { login, error: 'Username: letters, digits, ".", "_" or "-", at most 64.' }));
  }
  if (form.get('password') !== args.password) {
    return send(res, 401, loginPage(uid, clientId, { login, error: 'Wrong password.' }));
  }
  return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
}

handle = provider.callback();
console.log(`ready ${issuer}`);
