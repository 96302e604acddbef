package miaw

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
)

// Shared test keys (RSA generation is slow on a shared CPU: once per binary).
var (
	testKey      *rsa.PrivateKey
	testKeyPKCS8 string // path of the PKCS#8 PEM file
	testKeyPKCS1 string // path of the PKCS#1 PEM file
	testKeyDir   string
)

// SubprocessMain, when set (by an external test file), may claim a test
// binary that a test or benchmark started as a helper process: it returns
// true and the exit code instead of the tests running.
var SubprocessMain func() (code int, claimed bool)

func TestMain(m *testing.M) {
	if SubprocessMain != nil {
		if code, claimed := SubprocessMain(); claimed {
			os.Exit(code)
		}
	}
	code := func() int {
		var err error
		testKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			fmt.Fprintln(os.Stderr, "generate key:", err)
			return 1
		}
		testKeyDir, err = os.MkdirTemp("", "miaw-test-keys")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(testKeyDir)
		p8, _ := x509.MarshalPKCS8PrivateKey(testKey)
		testKeyPKCS8 = filepath.Join(testKeyDir, "pkcs8.pem")
		testKeyPKCS1 = filepath.Join(testKeyDir, "pkcs1.pem")
		if err := os.WriteFile(testKeyPKCS8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		p1 := x509.MarshalPKCS1PrivateKey(testKey)
		if err := os.WriteFile(testKeyPKCS1, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: p1}), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

const (
	testOrgID18    = "00D5g000004ABCDEAQ"
	testOrgID15    = "00D5g000004ABCD"
	testDeployment = "Bridge_Deployment"
	testKID        = "kid-1"
	testIssuer     = "https://issuer.example"
	testUser       = "user-42"
	testConvID     = "3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11"
	testMsgID      = "5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
)

var fakeHMACKey = []byte("fake-salesforce-signing-key")

// recordedRequest is one request the fake received.
type recordedRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

func (r *recordedRequest) jsonBody(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v: %s", r.Method, r.Path, err, r.Body)
	}
	return m
}

// fakeSF is a minimal, strict stand-in for Salesforce used by the unit
// tests: it verifies identity JWTs, issues expiring access tokens (JWTs),
// requires X-Org-Id and a valid bearer token, records every request and
// dispatches the rest to per-test routes.
type fakeSF struct {
	t   *testing.T
	srv *httptest.Server

	tokenTTL      time.Duration
	subjectPrefix string // verified subject prefix; "" => anonymous subject
	lastEventID   string

	mu     sync.Mutex
	reqs   []*recordedRequest
	valid  map[string]string // access token -> subject
	routes map[string]http.HandlerFunc

	tokenCalls atomic.Int32
	lastClaims jwt.MapClaims
	lastHeader map[string]any
}

func newFakeSF(t *testing.T) *fakeSF {
	f := &fakeSF{
		t:             t,
		tokenTTL:      time.Hour,
		subjectPrefix: "v2/iamessage/AUTH/TestKeyset/uid:",
		lastEventID:   "0",
		valid:         map[string]string{},
		routes:        map[string]http.HandlerFunc{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// handle registers a route, e.g. f.handle("POST /iamessage/api/v2/conversation", h).
func (f *fakeSF) handle(pattern string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[pattern] = h
}

func (f *fakeSF) requests(method, path string) []*recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*recordedRequest
	for _, r := range f.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// revokeAll makes every issued access token invalid (as if expired).
func (f *fakeSF) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valid = map[string]string{}
}

func (f *fakeSF) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &recordedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	if r.Header.Get("X-Org-Id") == "" && !strings.HasPrefix(r.URL.Path, "/files/") {
		http.Error(w, "OrgId is required", http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case pathAuthenticatedToken:
		if r.Method == http.MethodPost {
			f.authenticated(w, body)
			return
		}
	case pathUnauthenticatedToken:
		f.tokenCalls.Add(1)
		f.issue(w, "v2/iamessage/UNAUTH/NA/uid:"+randomID())
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	_, valid := f.valid[auth]
	h := f.routes[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok || !valid {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"status":401,"error":"Unauthorized","path":%q}`, r.URL.Path)
		return
	}
	if r.URL.Path == pathContinuationToken {
		f.tokenCalls.Add(1)
		f.issue(w, f.valid[auth])
		return
	}
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"no route for %s %s"}`, r.Method, r.URL.Path)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(w, r)
}

func (f *fakeSF) authenticated(w http.ResponseWriter, body []byte) {
	f.tokenCalls.Add(1)
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	idt, _ := req["customerIdentityToken"].(string)
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(idt, claims, func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != testKID {
			return nil, fmt.Errorf("unknown kid %v", tk.Header["kid"])
		}
		return &testKey.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256", "RS512"}), jwt.WithIssuer(testIssuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(10*time.Minute)) // leeway: tests move the client clock
	if err != nil || !tok.Valid {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"invalid customer identity token: %v"}`, err)
		return
	}
	f.mu.Lock()
	f.lastClaims = claims
	f.lastHeader = tok.Header
	f.mu.Unlock()
	sub, _ := claims.GetSubject()
	subject := "v2/iamessage/ANON/" + randomID()
	if f.subjectPrefix != "" {
		subject = f.subjectPrefix + sub
	}
	f.issue(w, subject)
}

func (f *fakeSF) issue(w http.ResponseWriter, subject string) {
	at, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": subject, "exp": time.Now().Add(f.tokenTTL).Unix(), "jti": randomID(),
	}).SignedString(fakeHMACKey)
	if err != nil {
		f.t.Errorf("sign access token: %v", err)
	}
	f.mu.Lock()
	f.valid[at] = subject
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"accessToken": at,
		"lastEventId": f.lastEventID,
		"context": map[string]any{
			"endUser":       map[string]any{"subject": subject},
			"configuration": map[string]any{"embeddedServiceConfig": map[string]any{"name": testDeployment, "deploymentType": "api"}},
		},
	})
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// testConfig is a verified-mode config pointing at f.
func testConfig(f *fakeSF) Config {
	return Config{
		BaseURL:        f.srv.URL,
		AllowAnyHost:   true,
		OrgID:          testOrgID18,
		DeploymentName: testDeployment,
		PrivateKeyFile: testKeyPKCS8,
		KeyID:          testKID,
		Issuer:         testIssuer,
	}
}

// withClock replaces the client's time.Now.
func withClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

func newTestClient(t *testing.T, cfg Config, opts ...Option) (*Client, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	opts = append([]Option{WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		// No test may leak an access token into the logs.
		for _, tok := range c.cachedTokens() {
			if strings.Contains(logs.String(), tok) {
				t.Errorf("access token leaked into logs")
			}
		}
	})
	return c, logs
}

// cachedTokens lists the cached access tokens (tests only).
func (c *Client) cachedTokens() []string {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	var out []string
	for _, t := range c.tokens.tokens {
		out = append(out, t.AccessToken)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
