package attachstore

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	linkSecret = "0123456789abcdef0123456789abcdef-links"
	fileID     = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func TestLinkSignerRoundTrip(t *testing.T) {
	s, err := NewLinkSigner(linkSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	link := s.Sign("https://bridge.example/v1/attachments/"+fileID+"?name=a.pdf", fileID)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("name") != "a.pdf" || q.Get(LinkExpiresParam) != "1800003600" || len(q.Get(LinkSignatureParam)) != 64 {
		t.Fatalf("signed link %s", link)
	}
	if err := s.Verify(fileID, q.Get(LinkExpiresParam), q.Get(LinkSignatureParam)); err != nil {
		t.Fatalf("fresh link refused: %v", err)
	}
	// Another file, a longer expiry, another key, a mangled signature: forged.
	other := strings.Repeat("a", 64)
	if err := s.Verify(other, q.Get(LinkExpiresParam), q.Get(LinkSignatureParam)); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("link for another file: %v", err)
	}
	if err := s.Verify(fileID, "1900000000", q.Get(LinkSignatureParam)); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("extended expiry: %v", err)
	}
	s2, _ := NewLinkSigner(linkSecret+"-other", time.Hour)
	if err := s2.Verify(fileID, q.Get(LinkExpiresParam), q.Get(LinkSignatureParam)); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("other key: %v", err)
	}
	for _, sig := range []string{"", "zz", strings.ToUpper(q.Get(LinkSignatureParam))} {
		if err := s.Verify(fileID, q.Get(LinkExpiresParam), sig); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("signature %q: %v", sig, err)
		}
	}
	// Past its expiry the genuine link is expired, not forged.
	now = now.Add(time.Hour + time.Second)
	if err := s.Verify(fileID, q.Get(LinkExpiresParam), q.Get(LinkSignatureParam)); !errors.Is(err, ErrLinkExpired) {
		t.Fatalf("expired link: %v", err)
	}
}

func TestNewLinkSignerRefusesWeakSettings(t *testing.T) {
	if _, err := NewLinkSigner("short", time.Hour); err == nil {
		t.Fatal("short secret accepted")
	}
	if _, err := NewLinkSigner(linkSecret, 0); err == nil {
		t.Fatal("zero lifetime accepted")
	}
}
