package attachstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Link query parameters of a signed link to a stored file.
const (
	LinkExpiresParam   = "expires" // Unix seconds after which the link is refused
	LinkSignatureParam = "sig"     // hex HMAC-SHA256 over the file id and the expiry
)

// MinLinkSecretLen is the shortest link-signing secret NewLinkSigner takes.
const MinLinkSecretLen = 32

// Errors of LinkSigner.Verify; test them with errors.Is. Their messages are
// the reason a refused link is given (403).
var (
	ErrLinkExpired = errors.New("link expired")
	ErrLinkInvalid = errors.New("link signature invalid")
)

// LinkSigner makes and checks signed, expiring links to stored files, so a
// browser can open one without any secret: the link carries
// expires=<Unix seconds> and sig=hex(HMAC-SHA256(secret, "liveagent-file-v1\n"
// + sha256 + "\n" + expires)). Only the file id and the expiry are signed;
// other query parameters (a download name or type) are not. Safe for
// concurrent use.
type LinkSigner struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewLinkSigner returns a signer with the given secret (at least
// MinLinkSecretLen characters) whose links live for ttl (positive).
func NewLinkSigner(secret string, ttl time.Duration) (*LinkSigner, error) {
	if len(secret) < MinLinkSecretLen {
		return nil, fmt.Errorf("attachstore: link secret must be at least %d characters, got %d", MinLinkSecretLen, len(secret))
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("attachstore: link lifetime must be positive, got %s", ttl)
	}
	return &LinkSigner{key: []byte(secret), ttl: ttl, now: time.Now}, nil
}

// Sign returns rawURL, the link to the file sha256hex, with an expiry of now
// plus the lifetime and its signature added to the query (replacing any
// there). A URL that does not parse is returned unchanged.
func (s *LinkSigner) Sign(rawURL, sha256hex string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	expires := strconv.FormatInt(s.now().Add(s.ttl).Unix(), 10)
	q := u.Query()
	q.Set(LinkExpiresParam, expires)
	q.Set(LinkSignatureParam, s.mac(sha256hex, expires))
	u.RawQuery = q.Encode()
	return u.String()
}

// Verify checks a link's expiry and signature for the file sha256hex:
// ErrLinkInvalid when the signature is missing, malformed or wrong (compared
// in constant time), ErrLinkExpired when it is genuine but past its expiry.
func (s *LinkSigner) Verify(sha256hex, expires, sig string) error {
	want := s.mac(sha256hex, expires)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return ErrLinkInvalid
	}
	at, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return ErrLinkInvalid
	}
	if s.now().Unix() > at {
		return ErrLinkExpired
	}
	return nil
}

func (s *LinkSigner) mac(sha256hex, expires string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("liveagent-file-v1\n" + sha256hex + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}
