package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// DefaultMaxBodyBytes bounds a codec request body when
// HandlerOptions.MaxBodyBytes is zero. The Web UI sends a batch of payloads;
// a single Temporal payload is at most 2 MiB.
const DefaultMaxBodyBytes = 8 << 20

// ErrUnauthorized is what an Authorize hook returns (or wraps) to reject a
// request with 401. Any other error from the hook yields 403.
var ErrUnauthorized = errors.New("unauthorized")

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// CORSOrigins lists the exact origins (scheme://host[:port]) of Temporal
	// Web UIs allowed to call the endpoint from a browser, e.g.
	// "http://127.0.0.1:8233". "*" allows any origin, without credentials
	// (no Access-Control-Allow-Credentials), so a browser sends no cookies
	// and exposes no answer to a credentialed request. Empty means no CORS headers:
	// only same-origin and non-browser callers.
	CORSOrigins []string

	// BearerToken, when set, must be presented as "Authorization: Bearer
	// <token>". The Web UI sends the operator's access token when its codec
	// setting "pass access token" is on.
	BearerToken string

	// Authorize, when set, decides every non-preflight request (after the
	// bearer token check, if BearerToken is also set). Return nil to allow,
	// ErrUnauthorized (or an error wrapping it) for 401, any other error for
	// 403. The error text is sent to the caller: keep secrets out of it.
	Authorize func(r *http.Request) error

	// AllowUnauthenticated must be set to serve without BearerToken and
	// Authorize. Only for a loopback dev stack: anyone who can reach the
	// endpoint can then decrypt history.
	AllowUnauthenticated bool

	// Namespaces, when non-empty, restricts requests to these X-Namespace
	// values (403 otherwise). The UI always sends X-Namespace.
	Namespaces []string

	// MaxBodyBytes bounds the request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Logger receives one line per rejected request (never payloads or
	// tokens). nil means slog.Default().
	Logger *slog.Logger
}

// NewHandler returns the codec HTTP endpoint for the Temporal Web UI (and
// `temporal --codec-endpoint`): POST <any prefix>/encode and
// POST <any prefix>/decode with a JSON {"payloads":[...]} body, as served by
// converter.NewPayloadCodecHTTPHandler, wrapped with CORS for the configured
// origins, an authorisation check (401 without valid credentials) and a body
// size limit. CORS preflight (OPTIONS) is answered without credentials, as
// browsers send none.
//
// Point the UI at it with TEMPORAL_CODEC_ENDPOINT (or the UI's codec
// settings), e.g. http://127.0.0.1:8089 when mounted at the root.
func NewHandler(ring *Keyring, opts HandlerOptions) (http.Handler, error) {
	if ring == nil {
		return nil, fmt.Errorf("codec handler: nil keyring")
	}
	if opts.BearerToken == "" && opts.Authorize == nil && !opts.AllowUnauthenticated {
		return nil, fmt.Errorf("codec handler: set BearerToken or Authorize (or AllowUnauthenticated for a loopback dev stack)")
	}
	for _, o := range opts.CORSOrigins {
		if o != "*" && (!strings.Contains(o, "://") || strings.HasSuffix(o, "/")) {
			return nil, fmt.Errorf("codec.cors_origins: %q must be an origin like http://host:port (no path, no trailing slash) or *", o)
		}
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &handler{opts: opts, tokenSum: sha256.Sum256([]byte(opts.BearerToken)), next: converter.NewPayloadCodecHTTPHandler(NewCodec(ring))}, nil
}

type handler struct {
	opts     HandlerOptions
	tokenSum [sha256.Size]byte // of opts.BearerToken
	next     http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowedOrigin, listed := false, false
	if origin != "" {
		allowedOrigin, listed = h.originAllowed(origin)
	}
	if allowedOrigin {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Add("Vary", "Origin")
		// Credentials only for an origin listed by name: with "*" any
		// site could otherwise make an operator's browser decrypt history.
		if listed {
			hdr.Set("Access-Control-Allow-Credentials", "true")
		}
	}

	if r.Method == http.MethodOptions {
		if !allowedOrigin {
			h.reject(w, r, http.StatusForbidden, "origin not allowed")
			return
		}
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		hdr.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		h.reject(w, r, http.StatusMethodNotAllowed, "method not allowed: use POST /encode or POST /decode")
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
		h.reject(w, r, http.StatusNotFound, "not found: use POST /encode or POST /decode")
		return
	}

	if status, reason := h.authorize(r); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="liveagent-codec"`)
		}
		h.reject(w, r, status, reason)
		return
	}
	if len(h.opts.Namespaces) > 0 {
		ns := r.Header.Get("X-Namespace")
		if !slices.Contains(h.opts.Namespaces, ns) {
			h.reject(w, r, http.StatusForbidden, fmt.Sprintf("namespace %q not allowed", ns))
			return
		}
	}
	if r.ContentLength > h.opts.MaxBodyBytes {
		h.reject(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.opts.MaxBodyBytes))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	h.next.ServeHTTP(w, r)
}

// authorize returns 0 when the request may proceed, else the status and the
// reason sent to the caller.
func (h *handler) authorize(r *http.Request) (int, string) {
	if h.opts.BearerToken != "" {
		got, ok := bearerToken(r)
		if !ok {
			return http.StatusUnauthorized, "missing bearer token"
		}
		// Both sides hashed first: the comparison then takes the same
		// time whatever the presented token's length.
		gotSum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(gotSum[:], h.tokenSum[:]) != 1 {
			return http.StatusUnauthorized, "invalid bearer token"
		}
	}
	if h.opts.Authorize != nil {
		if err := h.opts.Authorize(r); err != nil {
			if errors.Is(err, ErrUnauthorized) {
				return http.StatusUnauthorized, err.Error()
			}
			return http.StatusForbidden, err.Error()
		}
	}
	return 0, ""
}

// originAllowed reports whether origin may call the endpoint, and whether
// it is listed by name (not only allowed by "*").
func (h *handler) originAllowed(origin string) (allowed, listed bool) {
	for _, o := range h.opts.CORSOrigins {
		if o == origin {
			return true, true
		}
		if o == "*" {
			allowed = true
		}
	}
	return allowed, false
}

func (h *handler) reject(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.opts.Logger.Warn("codec request rejected",
		"status", status, "reason", reason, "method", r.Method, "path", r.URL.Path,
		"remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "namespace", r.Header.Get("X-Namespace"))
	http.Error(w, reason, status)
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header (scheme case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	const prefix = "bearer "
	v := r.Header.Get("Authorization")
	if len(v) <= len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.TrimSpace(v[len(prefix):])
	return tok, tok != ""
}
