// Bearer tokens (JWT) on every route but health and docs, checked with jose: signature,
// expiry, issuer and audience. The subject is the user the request acts as; a `service` role
// (the demo, back-office jobs) may create users and nothing else more.
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import type { JwtConfig } from '../../config/nova-config.ts';
import { isRowId } from './ids.ts';
import { problems } from './problem.ts';

export type Caller = { userId: string | null; service: boolean };
export type AuthEnv = { Variables: { caller: Caller } };

function keyOf(config: JwtConfig): Uint8Array | JWTVerifyGetKey {
  return config.kind === 'secret' ? config.secret : createRemoteJWKSet(config.jwksUrl);
}

// an issuer's keys: every asymmetric algorithm jose verifies, so no issuer is refused for its
// choice; "none" and the HS family stay out whatever the key set holds
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export function authenticate(config: JwtConfig): MiddlewareHandler<AuthEnv> {
  const key = keyOf(config);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header)?.[1];
    if (!token) throw problems.unauthorized('send Authorization: Bearer <token> (`scripts/nova token <user_id>` mints one for development)');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, { issuer: config.issuer, audience: config.audience, algorithms: config.kind === 'secret' ? ['HS256'] : ASYMMETRIC_ALGORITHMS, requiredClaims: ['exp'] }));
    } catch (error) {
      throw problems.unauthorized(`the token was refused: ${(error as Error).message}`);
    }
    const service = payload['role'] === 'service';
    const userId = typeof payload.sub === 'string' && isRowId(payload.sub) ? payload.sub : null;
    if (!service && userId === null) throw problems.unauthorized('the token\'s subject is no user id');
    c.set('caller', { userId, service });
    await next();
  };
}

/** Development tokens, signed with the shared secret (never with an issuer's keys). */
export async function mintToken(config: JwtConfig, subject: { userId: string } | { service: true }, ttlSeconds = 24 * 3600): Promise<string> {
  if (config.kind !== 'secret') throw new Error('tokens are minted only with NOVA_JWT_SECRET (development); production tokens come from the issuer');
  const jwt = 'userId' in subject ? new SignJWT({}).setSubject(subject.userId) : new SignJWT({ role: 'service' }).setSubject('service');
  return jwt.setProtectedHeader({ alg: 'HS256' }).setIssuer(config.issuer).setAudience(config.audience).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(config.secret);
}
