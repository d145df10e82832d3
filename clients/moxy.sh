#!/bin/sh
# Moxy URLs from a POSIX shell with openssl and base64 (docs/url-format.md, docs/clients.md).
#
#   . ./moxy.sh
#   moxy_url --base https://img.example.com "$MOXY_KEY" https://example.org/cat.png
#   # -> https://img.example.com/<signature>/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n
#   moxy_url --base "$BASE" --key-id 2 --expires "$(($(date +%s) + 3600))" --ext png "$KEY2" "$url"
#
# Leave --key-id out when signing with the server's default key (no k option is written).
# As a program: sh moxy.sh [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] KEY URL
# The key is an argument of openssl for a moment, so it shows in `ps` on a shared host: sign
# there with another snippet.

moxy_b64url() { base64 | tr -d '\n=' | tr '+/' '-_'; }

# Prints the URL, or a reason on standard error and returns 1 for input the server would refuse.
moxy_url() {
    _moxy_base= _moxy_opts= _moxy_ext= _moxy_key= _moxy_target=
    while [ $# -gt 0 ]; do
        case $1 in
            --base) _moxy_base=${2%/}; shift 2 ;;
            --key-id)
                case $2 in '' | *[!A-Za-z0-9_-]*) echo "error: key id must be 1-32 letters, digits, _ or -" >&2; return 1 ;; esac
                [ ${#2} -le 32 ] || { echo "error: key id must be 1-32 letters, digits, _ or -" >&2; return 1; }
                _moxy_opts=${_moxy_opts:+$_moxy_opts,}k$2; shift 2 ;;
            --expires)
                case $2 in '' | *[!0-9]*) echo "error: expires must be Unix seconds (0 to 12 digits)" >&2; return 1 ;; esac
                [ ${#2} -le 12 ] || { echo "error: expires must be Unix seconds (0 to 12 digits)" >&2; return 1; }
                _moxy_opts=${_moxy_opts:+$_moxy_opts,}e$2; shift 2 ;;
            --ext)
                case $2 in '' | *[!A-Za-z0-9]*) echo "error: ext must be 1-8 letters or digits" >&2; return 1 ;; esac
                [ ${#2} -le 8 ] || { echo "error: ext must be 1-8 letters or digits" >&2; return 1; }
                _moxy_ext=.$2; shift 2 ;;
            *)
                if [ -z "$_moxy_key" ]; then _moxy_key=$1; else _moxy_target=$1; fi
                shift ;;
        esac
    done
    [ -n "$_moxy_key" ] || { echo "error: key must not be empty" >&2; return 1; }
    case $_moxy_target in
        [hH][tT][tT][pP]://?* | [hH][tT][tT][pP][sS]://?*) ;;
        *) echo "error: url must be an absolute http:// or https:// URL" >&2; return 1 ;;
    esac
    case $_moxy_target in
        *[[:space:][:cntrl:]]*) echo "error: url contains spaces or control characters" >&2; return 1 ;;
    esac
    printf '%s' "$_moxy_target" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 ||
        { echo "error: url is not valid UTF-8" >&2; return 1; }
    _moxy_rest=${_moxy_opts:+/$_moxy_opts}/$(printf '%s' "$_moxy_target" | moxy_b64url)$_moxy_ext
    _moxy_sig=$(printf '%s' "$_moxy_rest" | openssl dgst -sha256 -hmac "$_moxy_key" -binary | moxy_b64url) || return 1
    printf '%s/%s%s\n' "$_moxy_base" "$_moxy_sig" "$_moxy_rest"
}

case ${0##*/} in
    moxy.sh) moxy_url "$@" ;;
esac
