// A real OpenID Connect provider (node-oidc-provider) for the single sign-on tests:
// one confidential client, PKCE required, and a few accounts with a password each.
//
//   OIDC_PORT=4400 OIDC_ISSUER=http://127.0.0.1:4400 OIDC_CLIENT_ID=mailer \
//   OIDC_CLIENT_SECRET=... OIDC_REDIRECT_URI=http://127.0.0.1:5000/login/sso/callback \
//   OIDC_ACCOUNTS='[{"sub":"alice","password":"pw","email":"alice@example.org",
//                    "email_verified":true,"groups":["mailer-admins"]}]' node server.js
//
// The same settings may be given as --port=..., --issuer=..., --client-id=...,
// --client-secret=..., --redirect-uri=..., --accounts=... arguments.
// The sign-in page is this file's own (the library's development pages fetch a web
// font from the internet); consent is given at once, as for an app the office owns.

import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

function setting(name, fallback) {
  const flag = `--${name.toLowerCase().replaceAll('_', '-')}=`;
  const arg = process.argv.find((a) => a.startsWith(flag));
  if (arg) return arg.slice(flag.length);
  const value = process.env[`OIDC_${name}`];
  if (value !== undefined && value !== '') return value;
  if (fallback === undefined) throw new Error(`missing OIDC_${name} (or ${flag}...)`);
  return fallback;
}

const port = Number(setting('PORT', '4400'));
const issuer = setting('ISSUER', `http://127.0.0.1:${port}`);
const accounts = JSON.parse(setting('ACCOUNTS', '[]'));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function findAccount(_ctx, sub) {
  const account = accounts.find((a) => a.sub === sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      const claims = { sub, email: account.email, name: account.name || account.sub };
      if (account.email_verified !== undefined) claims.email_verified = account.email_verified;
      if (account.groups !== undefined) claims.groups = account.groups;
      return claims;
    },
  };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: setting('CLIENT_ID'),
      client_secret: setting('CLIENT_SECRET'),
      redirect_uris: [setting('REDIRECT_URI')],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  findAccount,
  // Like Entra ID's groups claim: always in the ID token, whatever the scopes.
  claims: {
    openid: ['sub', 'groups'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: [randomBytes(32).toString('hex')] },
});
provider.proxy = false;

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
</head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interactions(ctx, next) {
  const match = /^\/interaction\/([\w-]+)(\/login|\/abort)?$/.exec(ctx.path);
  if (!match) return next();
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  const { prompt, params, session } = details;

  if (action === '/abort') {
    return provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in.',
    });
  }
  if (action === '/login' && ctx.method === 'POST') {
    const body = await formBody(ctx.req);
    const account = accounts.find((a) => a.sub === body.get('username'));
    if (!account || account.password !== body.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(uid, 'That username and password do not match.');
      return undefined;
    }
    return provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: account.sub },
    });
  }
  if (prompt.name === 'login') {
    ctx.type = 'html';
    ctx.body = loginPage(uid, '');
    return undefined;
  }
  // Consent, given at once for the one client this provider knows.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
}

function loginPage(uid, error) {
  return page('Test provider sign-in', `
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <p><label for="username">Username</label> <input id="username" name="username" autofocus></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password"></p>
  <p><button type="submit">Continue</button></p>
</form>
<p><a href="/interaction/${escape(uid)}/abort">Cancel</a></p>`);
}

provider.use(interactions);

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
