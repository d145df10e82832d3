// Moxy URLs from Go, standard library only (docs/url-format.md, docs/clients.md).
//
// Copy everything but main into your package:
//
//	u, err := MoxyURL("https://img.example.com", "https://example.org/cat.png", os.Getenv("MOXY_KEY"), Options{})
//	// u == "https://img.example.com/<signature>/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n"
//	u, err = MoxyURL(base, target, key, Options{KeyID: "2", Expires: time.Now().Add(time.Hour), Ext: "png"})
//
// Leave KeyID empty when signing with the server's default key (no k option is written).
// As a program: go run moxy.go [-base URL] [-key-id ID] [-expires UNIX] [-ext EXT] KEY URL
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Options are the optional parts of a Moxy URL; the zero value signs with the default key, no expiry.
type Options struct {
	KeyID   string    // the key's id; empty for the server's default key
	Expires time.Time // the URL is refused from this second on; zero for never
	Ext     string    // a content-type hint for CDNs such as "png"; empty for none
}

var (
	keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	extPattern   = regexp.MustCompile(`^[A-Za-z0-9]{1,8}$`)
	targetPrefix = regexp.MustCompile(`^(?i)https?://.`)
)

// MoxyURL returns base + /<HMAC-SHA256>/[k<id>,e<unix>/]<base64url(target)>[.ext]. It returns an
// error for input the server would refuse: better here than as a 400 or 403 later.
func MoxyURL(base, target, key string, options Options) (string, error) {
	if err := checkTarget(target, key); err != nil {
		return "", err
	}
	var parts []string
	if options.KeyID != "" {
		if !keyIDPattern.MatchString(options.KeyID) {
			return "", errors.New("key id must be 1-32 letters, digits, _ or -")
		}
		parts = append(parts, "k"+options.KeyID)
	}
	if !options.Expires.IsZero() {
		seconds := options.Expires.Unix()
		if seconds < 0 || seconds > 999999999999 {
			return "", errors.New("expires must be Unix seconds (0 to 12 digits)")
		}
		parts = append(parts, fmt.Sprintf("e%d", seconds))
	}
	rest := ""
	if len(parts) > 0 {
		rest = "/" + strings.Join(parts, ",")
	}
	rest += "/" + base64.RawURLEncoding.EncodeToString([]byte(target))
	if options.Ext != "" {
		if !extPattern.MatchString(options.Ext) {
			return "", errors.New("ext must be 1-8 letters or digits")
		}
		rest += "." + options.Ext
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(rest))
	return strings.TrimRight(base, "/") + "/" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + rest, nil
}

func checkTarget(target, key string) error {
	switch {
	case key == "":
		return errors.New("key must not be empty")
	case !targetPrefix.MatchString(target):
		return errors.New("url must be an absolute http:// or https:// URL")
	case strings.IndexFunc(target, func(r rune) bool { return r <= 0x20 || r == 0x7f }) >= 0:
		return errors.New("url contains spaces or control characters")
	case !utf8.ValidString(target):
		return errors.New("url is not valid UTF-8")
	}
	return nil
}

func main() {
	base := flag.String("base", "", "prefix, e.g. https://img.example.com")
	keyID := flag.String("key-id", "", "key id (empty: the default key)")
	expires := flag.Int64("expires", -1, "expiry as Unix seconds")
	ext := flag.String("ext", "", "extension hint")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run moxy.go [-base URL] [-key-id ID] [-expires UNIX] [-ext EXT] KEY URL")
		os.Exit(2)
	}
	options := Options{KeyID: *keyID, Ext: *ext}
	if *expires >= 0 {
		options.Expires = time.Unix(*expires, 0)
	}
	u, err := MoxyURL(*base, flag.Arg(1), flag.Arg(0), options)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println(u)
}
