// Sign a URL into a Moxy path (native format, see docs/url-format.md). Node 16+, no dependencies.
//
//   node moxy-sign.mjs SECRET URL [--key-id ID] [--expires UNIX_SECONDS] [--ext EXT]
//
// Omit --key-id when signing with the server's default key (no k option is written).
import { createHmac } from "node:crypto";

export function moxyPath(secret, url, { keyId, expires, ext } = {}) {
  const options = [];
  if (keyId !== undefined) options.push("k" + keyId);
  if (expires !== undefined) options.push("e" + Math.floor(expires));
  let rest = (options.length ? "/" + options.join(",") : "") + "/" + Buffer.from(url, "utf8").toString("base64url");
  if (ext) rest += "." + ext;
  const signature = createHmac("sha256", Buffer.from(secret, "utf8")).update(rest).digest("base64url");
  return "/" + signature + rest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const named = {};
  while (args.length > 2 && args[args.length - 2].startsWith("--")) {
    const value = args.pop();
    named[args.pop().slice(2)] = value;
  }
  const [secret, url] = args;
  console.log(moxyPath(secret, url, {
    keyId: named["key-id"],
    expires: named.expires === undefined ? undefined : Number(named.expires),
    ext: named.ext,
  }));
}
