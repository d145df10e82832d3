// Moxy URLs from JavaScript: Node 16+, no dependencies (docs/url-format.md, docs/clients.md).
//
//   import { moxyUrl, camoUrl } from "./moxy.mjs";
//   moxyUrl("https://img.example.com", "https://example.org/cat.png", process.env.MOXY_KEY);
//   // => "https://img.example.com/<signature>/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n"
//   moxyUrl(base, url, key, { keyId: "2", expires: new Date(Date.now() + 3600e3), ext: "png" });
//   camoUrl("https://camo.example.com", url, process.env.CAMO_KEY); // camo's hex form
//
// Leave keyId out when signing with the server's default key (no k option is written).
// As a program: node moxy.mjs [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] [--camo] KEY URL
import { createHmac } from "node:crypto";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const trimBase = (base) => (base ?? "").replace(/\/+$/, "");

// Throws for input the server would refuse: better here than as a 400 or 403 later.
function check(url, key) {
  if (!key) throw new TypeError("key must not be empty");
  if (!/^https?:\/\/./i.test(url)) throw new TypeError("url must be an absolute http:// or https:// URL");
  if (/[\x00-\x20\x7f]/.test(url)) throw new TypeError("url contains spaces or control characters");
  if (/[\ud800-\udfff]/u.test(url)) throw new TypeError("url is not valid UTF-8");
}

/** The native Moxy URL: base + /<HMAC-SHA256>/[k<id>,e<unix>/]<base64url(url)>[.ext]. */
export function moxyUrl(base, url, key, { keyId, expires, ext } = {}) {
  check(url, key);
  const options = [];
  if (keyId !== undefined && keyId !== null) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(String(keyId))) throw new TypeError("keyId must be 1-32 letters, digits, _ or -");
    options.push("k" + keyId);
  }
  if (expires !== undefined && expires !== null) {
    const seconds = Math.floor(expires instanceof Date ? expires.getTime() / 1000 : Number(expires));
    if (!(seconds >= 0 && seconds <= 999999999999)) throw new TypeError("expires must be Unix seconds (0 to 12 digits)");
    options.push("e" + seconds);
  }
  let rest = (options.length ? "/" + options.join(",") : "") + "/" + b64url(Buffer.from(url, "utf8"));
  if (ext !== undefined && ext !== null) {
    if (!/^[A-Za-z0-9]{1,8}$/.test(ext)) throw new TypeError("ext must be 1-8 letters or digits");
    rest += "." + ext;
  }
  return trimBase(base) + "/" + createHmac("sha256", Buffer.from(key, "utf8")).update(rest).digest("base64url") + rest;
}

/** camo's hex form: base + /<hex HMAC-SHA1>/<hex url>, for Moxy with camo-hex enabled (or camo itself). */
export function camoUrl(base, url, key) {
  check(url, key);
  const digest = createHmac("sha1", Buffer.from(key, "utf8")).update(url, "utf8").digest("hex");
  return trimBase(base) + "/" + digest + "/" + Buffer.from(url, "utf8").toString("hex");
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const named = {};
  const args = [];
  const argv = process.argv.slice(2);
  while (argv.length) {
    const arg = argv.shift();
    if (arg === "--camo") named.camo = true;
    else if (arg.startsWith("--")) named[arg.slice(2)] = argv.shift();
    else args.push(arg);
  }
  if (args.length !== 2) {
    console.error("usage: node moxy.mjs [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] [--camo] KEY URL");
    process.exit(2);
  }
  const [key, url] = args;
  try {
    console.log(named.camo
      ? camoUrl(named.base, url, key)
      : moxyUrl(named.base, url, key, { keyId: named["key-id"], expires: named.expires, ext: named.ext }));
  } catch (error) {
    console.error("error: " + error.message);
    process.exit(1);
  }
}
