package activities

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook signatures cover the send time, a nonce and the body, so a
// captured delivery cannot be replayed later:
//
//	X-LiveAgent-Signature: t=1764410400,n=<16 hex>,v1=<hex HMAC-SHA256(secret, "1764410400.<nonce>." + raw body)>
//
// The sink signs every attempt afresh with a random nonce, so no two
// legitimate attempts (even of one delivery, in one second) share a
// signature, and a signature seen twice is a replay.

// DefaultSignatureTolerance is how far a delivery's signed time may be from
// the receiver's clock before Verifier calls it stale.
const DefaultSignatureTolerance = 5 * time.Minute

// Signature verification errors.
var (
	ErrMissingSignature = errors.New("webhook: missing " + HeaderSignature + " header")
	ErrBadSignature     = errors.New("webhook: signature does not match the body")
	ErrStaleSignature   = errors.New("webhook: signed time is outside the tolerance")
	ErrReplayedDelivery = errors.New("webhook: this exact signed delivery was received before")
)

// Sign returns the X-LiveAgent-Signature value for body sent at at, with a
// fresh random nonce.
func Sign(secret []byte, at time.Time, body []byte) string {
	var n [8]byte
	_, _ = rand.Read(n[:]) // never fails (crypto/rand)
	return signWithNonce(secret, at, hex.EncodeToString(n[:]), body)
}

func signWithNonce(secret []byte, at time.Time, nonce string, body []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "t=" + ts + ",n=" + nonce + ",v1=" + hex.EncodeToString(signatureMAC(secret, ts, nonce, body))
}

func signatureMAC(secret []byte, ts, nonce string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "." + nonce + "."))
	mac.Write(body)
	return mac.Sum(nil)
}

// Verifier checks webhook deliveries on the assistant side: the signature
// (in constant time), the signed time (within Tolerance of the receiver's
// clock) and that the same signed delivery was not received before. It
// remembers the MACs it accepted (as decoded bytes, so re-encoding the hex,
// e.g. in upper case, does not make a replay look new) for the tolerance
// window; a receiver running several instances behind a load balancer gets
// replay protection per instance (the idempotency key dedupes across them).
// Safe for concurrent use.
type Verifier struct {
	secret    []byte
	tolerance time.Duration
	now       func() time.Time

	mu        sync.Mutex
	seen      map[[sha256.Size]byte]time.Time // accepted MAC (decoded) → its signed time
	nextPrune time.Time
}

// NewVerifier returns a Verifier for secret with DefaultSignatureTolerance.
func NewVerifier(secret []byte) *Verifier {
	return &Verifier{secret: secret, tolerance: DefaultSignatureTolerance, now: time.Now, seen: map[[sha256.Size]byte]time.Time{}}
}

// Verify checks the X-LiveAgent-Signature header value against the raw
// request body. The receiver must verify the exact bytes it received,
// before decoding them.
func (v *Verifier) Verify(body []byte, header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrMissingSignature
	}
	var ts, nonce, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = val
		case "n":
			nonce = val
		case "v1":
			sig = val
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || nonce == "" || sig == "" {
		return fmt.Errorf("%w (want t=<unix seconds>,n=<nonce>,v1=<hex>)", ErrBadSignature)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, signatureMAC(v.secret, ts, nonce, body)) {
		return ErrBadSignature
	}
	signedAt := time.Unix(sec, 0)
	now := v.now()
	if d := now.Sub(signedAt); d > v.tolerance || d < -v.tolerance {
		return fmt.Errorf("%w (signed %s, now %s)", ErrStaleSignature, signedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if now.After(v.nextPrune) { // forget, now and then, what can no longer be replayed
		for s, at := range v.seen {
			if now.Sub(at) > v.tolerance {
				delete(v.seen, s)
			}
		}
		v.nextPrune = now.Add(v.tolerance / 4)
	}
	// Key by the decoded MAC, not the header text: hex decoding accepts
	// either case, so one signed delivery has many spellings. The MAC binds
	// the signed time, the nonce and the body, so it identifies the signed
	// delivery exactly.
	key := [sha256.Size]byte(got) // len(got) == sha256.Size: hmac.Equal passed
	if _, dup := v.seen[key]; dup {
		return ErrReplayedDelivery
	}
	v.seen[key] = signedAt
	return nil
}
