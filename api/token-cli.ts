// `scripts/nova token`: a development bearer token for the API, signed with NOVA_JWT_SECRET.
import { novaConfig } from '../config/nova-config.ts';
import { mintToken } from './http/auth.ts';
import { isRowId } from './http/ids.ts';

export const usage = `Usage: scripts/nova token <user_id> | --service  [--ttl SECONDS]

Prints a development token (HS256, NOVA_JWT_SECRET) acting as the user, or as the service
(which may create users). Use it as: curl -H "Authorization: Bearer $(scripts/nova token 1)" ...`;

export async function run(args: string[]): Promise<number> {
  const [subject] = args;
  const ttlAt = args.indexOf('--ttl');
  const ttl = ttlAt >= 0 ? Number(args[ttlAt + 1]) : 24 * 3600;
  if (subject === undefined || (subject !== '--service' && !isRowId(subject)) || !Number.isInteger(ttl) || ttl <= 0) {
    console.error(usage);
    return 2;
  }
  const jwt = novaConfig().jwt();
  console.log(await mintToken(jwt, subject === '--service' ? { service: true } : { userId: subject }, ttl));
  return 0;
}
