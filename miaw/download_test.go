package miaw

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// otherHost is a second loopback server standing in for a host that is not
// allowed (e.g. an internal service an attacker points us at).
func otherHost(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "internal secret")
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func TestDownloadFromBaseHost(t *testing.T) {
	f := newFakeSF(t)
	data := bytes.Repeat([]byte("pdf!"), 100)
	f.handle("GET /files/a1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="server-name.pdf"`)
		_, _ = w.Write(data)
	})
	// The fake demands a bearer token on every non-token path, so this also
	// exercises "first without, then with the bearer token".
	c, _ := newTestClient(t, testConfig(f))
	d, err := c.DownloadAttachment(context.Background(), testUser, Attachment{ID: "a1", URL: f.srv.URL + "/files/a1?sig=abc"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Data, data) || d.Name != "server-name.pdf" || d.MimeType != "application/pdf" {
		t.Fatalf("download = %q %q %d bytes", d.Name, d.MimeType, len(d.Data))
	}
	reqs := f.requests("GET", "/files/a1")
	if len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "" || !strings.HasPrefix(reqs[1].Header.Get("Authorization"), "Bearer ") {
		t.Fatalf("want an anonymous try then a bearer try, got %d requests", len(reqs))
	}
	// The attachment's own name and type win over the server's.
	d, err = c.DownloadAttachment(context.Background(), testUser, Attachment{ID: "a1", Name: "invoice.pdf", MimeType: "application/x-pdf", URL: f.srv.URL + "/files/a1"})
	if err != nil || d.Name != "invoice.pdf" || d.MimeType != "application/x-pdf" {
		t.Fatalf("download = %+v, %v", d, err)
	}
}

func TestDownloadAnonymousWhenAllowed(t *testing.T) {
	f := newFakeSF(t)
	files, _ := otherHost(t)
	u, _ := url.Parse(files.URL)
	cfg := testConfig(f)
	cfg.AttachmentHosts = []string{u.Host} // 127.0.0.1:port
	c, _ := newTestClient(t, cfg)
	d, err := c.DownloadAttachment(context.Background(), testUser, Attachment{URL: files.URL + "/x/report.txt"})
	if err != nil || string(d.Data) != "internal secret" || d.Name != "report.txt" || !strings.HasPrefix(d.MimeType, "text/plain") {
		t.Fatalf("download = %+v, %v", d, err)
	}
	if f.tokenCalls.Load() != 0 {
		t.Fatal("a bearer token was fetched although the anonymous download worked")
	}
}

func TestDownloadRefusesOtherHosts(t *testing.T) {
	f := newFakeSF(t)
	other, hits := otherHost(t)
	c, _ := newTestClient(t, testConfig(f))
	for _, raw := range []string{other.URL + "/file", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd", "ftp://" + strings.TrimPrefix(f.srv.URL, "http://") + "/x", "/relative"} {
		_, err := c.DownloadAttachment(context.Background(), testUser, Attachment{URL: raw})
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: got %v, want refusal", raw, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatal("a refused host was contacted")
	}
}

func TestDownloadRefusesRedirectToOtherHost(t *testing.T) {
	f := newFakeSF(t)
	other, hits := otherHost(t)
	f.handle("GET /files/evil", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/admin", http.StatusFound)
	})
	cfg := testConfig(f)
	c, _ := newTestClient(t, cfg)
	tok, _ := c.Token(context.Background(), testUser) // the redirect is answered to the bearer try
	_, err := c.DownloadAttachment(context.Background(), testUser, Attachment{URL: f.srv.URL + "/files/evil"})
	if err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("got %v, want the redirect refused", err)
	}
	// Refused for good: a retry would be refused the same way.
	if IsRetryable(err) || !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("refused redirect: retryable=%v, ErrInvalidRequest=%v (%v); want permanent", IsRetryable(err), errors.Is(err, ErrInvalidRequest), err)
	}
	if strings.Contains(err.Error(), tok.AccessToken) {
		t.Fatal("error leaks the token")
	}
	if hits.Load() != 0 {
		t.Fatal("the redirect target was contacted (SSRF)")
	}
	// A redirect to an allowed extra host is followed.
	u, _ := url.Parse(other.URL)
	cfg.AttachmentHosts = []string{u.Host}
	c2, _ := newTestClient(t, cfg)
	d, err := c2.DownloadAttachment(context.Background(), testUser, Attachment{URL: f.srv.URL + "/files/evil"})
	if err != nil || string(d.Data) != "internal secret" || hits.Load() != 1 {
		t.Fatalf("allowed redirect: %+v, %v", d, err)
	}
}

func TestDownloadSizeCapAndTimeout(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET /files/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, 2048)) // Content-Length known
	})
	f.handle("GET /files/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 4; i++ { // no Content-Length
			_, _ = w.Write(make([]byte, 512))
			w.(http.Flusher).Flush()
		}
	})
	f.handle("GET /files/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	cfg := testConfig(f)
	cfg.MaxDownloadBytes = 1024
	cfg.DownloadTimeout = 300 * time.Millisecond
	c, _ := newTestClient(t, cfg)
	for _, p := range []string{"/files/big", "/files/chunked"} {
		if _, err := c.DownloadAttachment(context.Background(), testUser, Attachment{URL: f.srv.URL + p}); !errors.Is(err, ErrAttachmentTooLarge) {
			t.Errorf("%s: got %v, want ErrAttachmentTooLarge", p, err)
		}
	}
	_, err := c.DownloadAttachment(context.Background(), testUser, Attachment{URL: f.srv.URL + "/files/slow"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: got %v, want a deadline error", err)
	}
}

func TestDownloadRequiresHTTPSForRealOrgs(t *testing.T) {
	cfg := validConfig()
	cfg.PrivateKeyFile = testKeyPKCS8
	cfg.AttachmentHosts = []string{"*.file.force.com"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for raw, allowed := range map[string]bool{
		"http://acme.my.salesforce-scrt.com/f":       false,
		"https://acme.my.salesforce-scrt.com:8443/f": false,
		"https://evil.com/f":                         false,
		"https://acme.file.force.com.evil.com/f":     false,
		"https://user:pw@acme.file.force.com/f":      false,
		"https://acme.my.salesforce-scrt.com/f":      true,
		"https://acme.file.force.com/f":              true,
		"https://ACME.File.Force.com:443/f":          true,
	} {
		u, _ := url.Parse(raw)
		if got := c.checkDownloadURL(u) == nil; got != allowed {
			t.Errorf("%s: allowed=%v, want %v", raw, got, allowed)
		}
	}
}

func TestDownloadRenewsRejectedBearer(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET /files/a", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	c, _ := newTestClient(t, testConfig(f))
	if _, err := c.Token(context.Background(), testUser); err != nil {
		t.Fatal(err)
	}
	f.revokeAll() // the cached token is dead
	d, err := c.DownloadAttachment(context.Background(), testUser, Attachment{URL: f.srv.URL + "/files/a"})
	if err != nil || string(d.Data) != "ok" {
		t.Fatalf("download %+v, %v", d, err)
	}
	if n := len(f.requests("GET", "/files/a")); n != 3 || f.tokenCalls.Load() != 2 {
		t.Fatalf("%d attempts, %d tokens: want anonymous, stale bearer, fresh bearer", n, f.tokenCalls.Load())
	}
}
