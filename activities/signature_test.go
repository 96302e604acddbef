package activities

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifier(t *testing.T) {
	signedAt := time.Unix(1764410400, 0)
	body := []byte(`{"id":"1"}`)
	good := Sign(secret, signedAt, body)
	newVerifier := func(now time.Time) *Verifier {
		v := NewVerifier(secret)
		v.now = func() time.Time { return now }
		return v
	}
	if !strings.HasPrefix(good, "t=1764410400,n=") || len(good) != len("t=1764410400,n=,v1=")+16+64 {
		t.Fatalf("signature format %q", good)
	}
	if again := Sign(secret, signedAt, body); again == good {
		t.Fatal("two signatures of one delivery in one second are equal: a retry would look like a replay")
	}
	// Known answer: HMAC-SHA256("key", "1764410400.0123456789abcdef.The quick brown fox jumps over the lazy dog").
	if got := signWithNonce([]byte("key"), signedAt, "0123456789abcdef", []byte("The quick brown fox jumps over the lazy dog")); got !=
		"t=1764410400,n=0123456789abcdef,v1=da25efce8b23cb09abd639b2bd91e0219f413f4420e704ce6b87357a72285b1f" {
		t.Fatalf("known answer mismatch: %s", got)
	}

	v := newVerifier(signedAt.Add(30 * time.Second))
	if err := v.Verify(body, good); err != nil {
		t.Fatalf("good signature rejected: %v", err)
	}
	if err := v.Verify(body, good); !errors.Is(err, ErrReplayedDelivery) {
		t.Fatalf("replay: err = %v", err)
	}
	// The same delivery signed again (a retry) is new.
	if err := v.Verify(body, Sign(secret, signedAt, body)); err != nil {
		t.Fatalf("retry rejected: %v", err)
	}

	tests := []struct {
		name   string
		body   []byte
		header string
		now    time.Time
		want   error
	}{
		{"missing", body, "", signedAt, ErrMissingSignature},
		{"tampered body", []byte(`{"id":"2"}`), good, signedAt, ErrBadSignature},
		{"wrong secret", body, Sign([]byte("other"), signedAt, body), signedAt, ErrBadSignature},
		{"time changed", body, strings.Replace(good, "t=1764410400", "t=1764410401", 1), signedAt, ErrBadSignature},
		{"old format", body, "sha256=" + strings.Repeat("ab", 32), signedAt, ErrBadSignature},
		{"not hex", body, "t=1764410400,n=01,v1=zz", signedAt, ErrBadSignature},
		{"no nonce", body, strings.Replace(good, ",n=", ",x=", 1), signedAt, ErrBadSignature},
		{"stale", body, good, signedAt.Add(DefaultSignatureTolerance + time.Second), ErrStaleSignature},
		{"from the future", body, good, signedAt.Add(-DefaultSignatureTolerance - time.Second), ErrStaleSignature},
	}
	for _, tt := range tests {
		if err := newVerifier(tt.now).Verify(tt.body, tt.header); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// The hex MAC may be spelt in either case, but one signed delivery is
// accepted once whatever the spelling: the replay memory is keyed by the
// decoded MAC, not the header text.
func TestVerifierReplayIgnoresHexCase(t *testing.T) {
	signedAt := time.Unix(1764410400, 0)
	body := []byte(`{"id":"1"}`)
	newVerifier := func() *Verifier {
		v := NewVerifier(secret)
		v.now = func() time.Time { return signedAt.Add(30 * time.Second) }
		return v
	}
	withMAC := func(header string, f func(mac string) string) string {
		prefix, mac, ok := strings.Cut(header, ",v1=")
		if !ok {
			t.Fatalf("no v1 in %q", header)
		}
		return prefix + ",v1=" + f(mac)
	}
	mixed := func(mac string) string { // every other letter upper-cased
		b := []byte(mac)
		for i := 0; i < len(b); i += 2 {
			if b[i] >= 'a' && b[i] <= 'f' {
				b[i] -= 'a' - 'A'
			}
		}
		return string(b)
	}

	// A captured delivery re-sent with its MAC upper-cased is a replay.
	good := Sign(secret, signedAt, body)
	upper := withMAC(good, strings.ToUpper)
	if upper == good {
		t.Fatalf("upper-casing did not change %q", good)
	}
	v := newVerifier()
	if err := v.Verify(body, good); err != nil {
		t.Fatalf("first delivery rejected: %v", err)
	}
	if err := v.Verify(body, upper); !errors.Is(err, ErrReplayedDelivery) {
		t.Fatalf("upper-case replay: err = %v, want %v", err, ErrReplayedDelivery)
	}

	// A first delivery spelt in mixed case is accepted once; its lower-case
	// (and upper-case, and mixed-case) re-sends are replays.
	other := Sign(secret, signedAt, body)
	first := withMAC(other, mixed)
	if first == other || first == withMAC(other, strings.ToUpper) {
		t.Fatalf("mixed-casing did not mix %q", other)
	}
	v = newVerifier()
	if err := v.Verify(body, first); err != nil {
		t.Fatalf("mixed-case first delivery rejected: %v", err)
	}
	for _, replay := range []string{first, withMAC(other, strings.ToLower), withMAC(other, strings.ToUpper)} {
		if err := v.Verify(body, replay); !errors.Is(err, ErrReplayedDelivery) {
			t.Errorf("replay %q: err = %v, want %v", replay, err, ErrReplayedDelivery)
		}
	}
}

// Signatures older than the tolerance are forgotten (they are stale anyway),
// so the memory stays bounded by the delivery rate.
func TestVerifierForgetsExpiredSignatures(t *testing.T) {
	now := time.Unix(1764410400, 0)
	v := NewVerifier(secret)
	v.now = func() time.Time { return now }
	for i := range 100 {
		body := []byte(strings.Repeat("x", i+1))
		if err := v.Verify(body, Sign(secret, now, body)); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(DefaultSignatureTolerance + time.Minute)
	body := []byte("later")
	if err := v.Verify(body, Sign(secret, now, body)); err != nil {
		t.Fatal(err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.seen) != 1 {
		t.Fatalf("%d signatures remembered, want 1", len(v.seen))
	}
}
