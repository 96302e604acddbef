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
