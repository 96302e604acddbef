package emulator

import (
	"net/http"
	"strings"
)

// CORS answers for the MIAW API (REST under /iamessage/, the SSE stream
// under /eventrouter/ and the configuration under /embeddedservice/), so a
// browser client such as Salesforce's sample web app can call the emulator
// from its own origin, as it calls Salesforce when the org lists that origin
// (Setup → CORS). The control API, console and files under /emulator/ never
// answer cross-origin.
const (
	corsAllowMethods = "GET, POST, DELETE, OPTIONS"
	// The headers the sample app sends: Authorization and Content-Type on
	// REST; Authorization, X-Org-Id, Last-Event-ID, Cache-Control and
	// Accept on the stream (its EventSource polyfill adds the last two).
	corsAllowHeaders = "Authorization, Content-Type, X-Org-Id, Last-Event-ID, Cache-Control, Accept"
	corsMaxAge       = "600"
)

// isAPIPath reports whether path is part of the MIAW API (not the
// emulator's own /emulator/ pages and control API).
func isAPIPath(path string) bool {
	for _, p := range []string{"/iamessage/", "/eventrouter/", "/embeddedservice/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// originAllowed reports whether origin is on the org's allowlist
// (Config.CORSOrigins, exact match; "*" allows any origin).
func (s *Server) originAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// cors adds the CORS answer to a MIAW API request from an allowed origin
// and answers its preflight. It reports whether the request is done (a
// preflight, answered 204 when the origin is allowed and 403 otherwise).
// Responses name the origin (never "*") and vary by it; no credentials are
// allowed (the sample app sends none: its token is a header).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) (done bool) {
	origin := r.Header.Get("Origin")
	allowed := s.originAllowed(origin)
	h := w.Header()
	h.Add("Vary", "Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After")
	}
	if !preflight {
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if !allowed {
		writeError(w, http.StatusForbidden, "CORS: origin not allowed")
		return true
	}
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}
