<?php
// Moxy URLs from PHP 8+, no extensions beyond the core (docs/url-format.md, docs/clients.md).
//
//   require __DIR__ . '/moxy.php';
//   moxy_url('https://img.example.com', 'https://example.org/cat.png', getenv('MOXY_KEY'));
//   // => 'https://img.example.com/<signature>/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n'
//   moxy_url($base, $url, $key, key_id: '2', expires: time() + 3600, ext: 'png');
//
// Leave key_id out when signing with the server's default key (no k option is written).
// As a program: php moxy.php [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] KEY URL

/** Base64url without padding, as Moxy writes signatures and targets. */
function moxy_b64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

/**
 * The native Moxy URL: $base . /<HMAC-SHA256>/[k<id>,e<unix>/]<base64url($url)>[.ext].
 * Throws InvalidArgumentException for input the server would refuse: better here than as a 400 or 403 later.
 */
function moxy_url(?string $base, string $url, string $key, ?string $key_id = null, int|DateTimeInterface|null $expires = null, ?string $ext = null): string
{
    if ($key === '') throw new InvalidArgumentException('key must not be empty');
    if (!preg_match('~^https?://.~i', $url)) throw new InvalidArgumentException('url must be an absolute http:// or https:// URL');
    if (preg_match('~[\x00-\x20\x7f]~', $url)) throw new InvalidArgumentException('url contains spaces or control characters');
    if (preg_match('//u', $url) !== 1) throw new InvalidArgumentException('url is not valid UTF-8');
    $options = [];
    if ($key_id !== null) {
        if (!preg_match('~^[A-Za-z0-9_-]{1,32}$~D', $key_id)) throw new InvalidArgumentException('key_id must be 1-32 letters, digits, _ or -');
        $options[] = 'k' . $key_id;
    }
    if ($expires !== null) {
        $seconds = $expires instanceof DateTimeInterface ? $expires->getTimestamp() : $expires;
        if ($seconds < 0 || $seconds > 999999999999) throw new InvalidArgumentException('expires must be Unix seconds (0 to 12 digits)');
        $options[] = 'e' . $seconds;
    }
    $rest = ($options ? '/' . implode(',', $options) : '') . '/' . moxy_b64url($url);
    if ($ext !== null) {
        if (!preg_match('~^[A-Za-z0-9]{1,8}$~D', $ext)) throw new InvalidArgumentException('ext must be 1-8 letters or digits');
        $rest .= '.' . $ext;
    }
    return rtrim($base ?? '', '/') . '/' . moxy_b64url(hash_hmac('sha256', $rest, $key, true)) . $rest;
}

if (PHP_SAPI === 'cli' && isset($argv[0]) && realpath($argv[0]) === __FILE__) {
    $named = [];
    $args = [];
    for ($i = 1; $i < count($argv); $i++) {
        if (str_starts_with($argv[$i], '--') && $i + 1 < count($argv)) $named[substr($argv[$i], 2)] = $argv[++$i];
        else $args[] = $argv[$i];
    }
    if (count($args) !== 2) {
        fwrite(STDERR, "usage: php moxy.php [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] KEY URL\n");
        exit(2);
    }
    try {
        echo moxy_url($named['base'] ?? null, $args[1], $args[0], key_id: $named['key-id'] ?? null,
            expires: isset($named['expires']) ? (int) $named['expires'] : null, ext: $named['ext'] ?? null), "\n";
    } catch (InvalidArgumentException $error) {
        fwrite(STDERR, 'error: ' . $error->getMessage() . "\n");
        exit(1);
    }
}
