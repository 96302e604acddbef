package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const pageOrigin = "https://support.example.com"

// Preflights and responses of the MIAW API answer the org's allowlisted
// origins, the SSE stream included; other origins and the emulator's own
// pages get no CORS answer.
func TestCORS(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CORSOrigins = []string{pageOrigin} })
	preflight := func(path, origin, method, headers string) resp {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, e.url+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", headers)
		return e.do(req)
	}
	for _, tc := range []struct{ path, method, headers string }{
		{"/iamessage/api/v2/authorization/unauthenticated/access-token", "POST", "content-type"},
		{"/iamessage/api/v2/conversation", "POST", "authorization,content-type"},
		{"/iamessage/api/v2/conversation/3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11/message", "POST", "authorization,content-type"},
		{"/iamessage/api/v2/conversation/3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11?esDeveloperName=x", "DELETE", "authorization"},
		{"/eventrouter/v1/sse", "GET", "authorization,cache-control,last-event-id,x-org-id"},
	} {
		r := preflight(tc.path, pageOrigin, tc.method, tc.headers)
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != pageOrigin {
			t.Fatalf("preflight %s %s: %d %v", tc.method, tc.path, r.status, r.header)
		}
		if !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), tc.method) || r.header.Get("Access-Control-Max-Age") == "" {
			t.Fatalf("preflight %s: %v", tc.path, r.header)
		}
		allowed := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
		for _, h := range strings.Split(tc.headers, ",") {
			if !strings.Contains(allowed, h) {
				t.Fatalf("preflight %s does not allow %s: %q", tc.path, h, allowed)
			}
		}
	}
	if r := preflight("/iamessage/api/v2/conversation", "https://evil.example", "POST", "authorization"); r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", r.status, r.header)
	}
	if r := preflight("/emulator/v1/conversations", pageOrigin, "GET", ""); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("the control API answered cross-origin: %v", r.header)
	}

	// Actual responses name the origin: a token call, an error, the stream.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/iamessage/api/v2/authorization/unauthenticated/access-token", strings.NewReader(`{"orgId":"`+testOrg+`","esDeveloperName":"`+testDeploy+`","capabilitiesVersion":"1","platform":"Web"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", pageOrigin)
	r := e.do(req)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != pageOrigin || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Fatalf("token from the page: %d %v", r.status, r.header)
	}
	tok := r.json(t)["accessToken"].(string)
	req, _ = http.NewRequest(http.MethodGet, e.url+"/iamessage/api/v2/conversation/list", nil)
	req.Header.Set("Origin", pageOrigin)
	req.Header.Set("Authorization", "Bearer expired-or-garbage")
	if r := e.do(req); r.status != 401 || r.header.Get("Access-Control-Allow-Origin") != pageOrigin {
		t.Fatalf("a 401 must be readable by the page too: %d %v", r.status, r.header)
	}
	req, _ = http.NewRequest(http.MethodGet, e.url+"/eventrouter/v1/sse", nil)
	req.Header.Set("Origin", pageOrigin)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Org-Id", testOrg)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
		t.Fatalf("stream from the page: %d %v", res.StatusCode, res.Header)
	}
	req.Header.Set("Origin", "https://evil.example")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("stream answered another origin: %v", res.Header)
	}
}

// With Config.TLS, Start serves HTTPS; SelfSignedCert's PEM is the root a
// client trusts, for every host name it was made for.
func TestStartTLSWithSelfSignedCert(t *testing.T) {
	cert, certPEM, err := SelfSignedCert([]string{"*.my.salesforce-scrt.com", "localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base %q", base)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("PEM not usable as a root")
	}
	for _, serverName := range []string{"127.0.0.1", "localhost", "acme.my.salesforce-scrt.com"} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName}}}
		res, err := client.Post(base+"/iamessage/api/v2/authorization/unauthenticated/access-token", "application/json",
			strings.NewReader(`{"orgId":"`+testOrg+`","esDeveloperName":"`+testDeploy+`","capabilitiesVersion":"1","platform":"Web"}`))
		if err != nil {
			t.Fatalf("%s: %v", serverName, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: token over TLS: %d", serverName, res.StatusCode)
		}
	}
	if _, _, err := SelfSignedCert(nil); err == nil {
		t.Fatal("a certificate without host names was made")
	}
}
