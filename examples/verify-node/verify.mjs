// Verifies a wxlogin access token the way a team's Node service does: with jose and nothing but
// wxlogin's JWKS URL. See docs/integrate.md.
//
//   WXLOGIN_URL=https://login.example.com WXLOGIN_AUDIENCE=orders node verify.mjs <token>
//
// prints the token's claims as JSON, or why it was refused (and exits 1).
import { createRemoteJWKSet, jwtVerify } from 'jose';

const WXLOGIN_URL = process.env.WXLOGIN_URL ?? 'http://127.0.0.1:8080';
// This service's name in wxlogin's TOKEN_AUDIENCE; leave unset only if wxlogin sets none.
const AUDIENCE = process.env.WXLOGIN_AUDIENCE || undefined;

// Fetched on first use, kept, and fetched again when a token names a key id it does not hold
// (after a key rotation), at most every 30 seconds.
const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', WXLOGIN_URL));

/** The claims of `token` if wxlogin signed it for this service and it has not expired. */
export async function verifyToken(token) {
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: ['EdDSA'], // the token's header never chooses the algorithm
    issuer: 'wxlogin',
    audience: AUDIENCE,
    clockTolerance: 30, // wxlogin's own leeway past exp, so both agree to the second
    requiredClaims: ['exp', 'sub', 'sid'],
  });
  return payload;
}

if (import.meta.url === new URL(process.argv[1], 'file:').href) {
  try {
    const claims = await verifyToken(process.argv[2] ?? '');
    console.log(JSON.stringify(claims));
  } catch (err) {
    console.error(`refused: ${err.code ?? err.name}: ${err.message}`);
    process.exitCode = 1;
  }
}
