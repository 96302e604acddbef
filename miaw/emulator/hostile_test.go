package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// controlStatus posts to the control API with the given Host and
// Content-Type and returns the status.
func controlStatus(t *testing.T, s *Server, host, contentType string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/emulator/v1/conversations/nope/messages", strings.NewReader(`{"text":"hi"}`))
	req.Host = host
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec.Code
}

func newHostileTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.OrgID, cfg.DeploymentName = "00D000000000001", "Live_Agent_Bridge"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A cross-site page cannot drive the agent side: text/plain (a form post)
// is refused, and so is any Host but loopback, PublicURL's and the allowed
// ones (DNS rebinding). 404 means the request got through to the handler.
func TestControlAPIRefusesCrossSiteRequests(t *testing.T) {
	s := newHostileTestServer(t, Config{PublicURL: "http://emulator:8090", AllowedHosts: []string{"emu.internal"}})
	for _, tc := range []struct {
		host, contentType string
		want              int
	}{
		{"127.0.0.1:8090", "application/json", http.StatusNotFound},
		{"localhost", "application/json; charset=utf-8", http.StatusNotFound},
		{"[::1]:1", "application/json", http.StatusNotFound},
		{"emulator:8090", "application/json", http.StatusNotFound},
		{"EMU.internal:443", "application/json", http.StatusNotFound},
		{"127.0.0.1:8090", "text/plain", http.StatusUnsupportedMediaType},
		{"127.0.0.1:8090", "", http.StatusUnsupportedMediaType},
		{"attacker.example:8090", "application/json", http.StatusForbidden},
		{"10.0.0.5:8090", "application/json", http.StatusForbidden},
	} {
		if got := controlStatus(t, s, tc.host, tc.contentType); got != tc.want {
			t.Errorf("Host %q, Content-Type %q: status %d, want %d", tc.host, tc.contentType, got, tc.want)
		}
	}
	any := newHostileTestServer(t, Config{AllowedHosts: SplitHosts(" *, ")})
	if got := controlStatus(t, any, "attacker.example", "application/json"); got != http.StatusNotFound {
		t.Errorf("AllowedHosts *: status %d", got)
	}
}
