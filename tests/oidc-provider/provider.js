// A real OpenID Provider (node-oidc-provider, an OpenID Certified implementation) for the bridge's end-to-end
// sign-in test, never deployed. The test harness starts it on loopback with:
//   IDP_PORT, IDP_REDIRECT_URI, IDP_CLIENT_ID, IDP_CLIENT_SECRET,
//   IDP_ACCOUNTS (JSON: { "<login>": { "email": "...", "email_verified": true }, ... })
// and reads "ready <issuer>" from stdout. Patrons sign in through the provider's development login page
// (any password), then grant consent: the same pages a browser would see.
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('IDP_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(env('IDP_ACCOUNTS'));

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('IDP_CLIENT_ID'),
    client_secret: env('IDP_CLIENT_SECRET'),
    redirect_uris: [env('IDP_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Test keys only: the cookies of the provider's own login session.
  cookies: { keys: ['test-only-cookie-key-not-secret'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
