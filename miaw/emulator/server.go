package emulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/internal/httpserver"
)

// Server is a running MIAW emulator. Create it with New; serve Handler()
// yourself or call Start. All methods are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	jwks    map[string]*rsa.PublicKey
	hmacKey []byte
	handler http.Handler

	// channelAddress is the channelAddressIdentifier of the deployment.
	channelAddress string

	mu       sync.Mutex
	users    map[string]*user         // by subject
	convs    map[string]*conversation // by conversation id
	revoked  map[string]struct{}      // access-token jti
	files    map[string]*storedFile   // by file id
	baseURL  string                   // for attachment URLs: Config.PublicURL, else Start's address, else the first request's
	rng      *mrand.Rand              // fault decisions, guarded by mu
	throttle int                      // remaining consecutive 429s
	closed   bool
	timers   map[*time.Timer]struct{} // scripted / transfer timers to stop on Close
	hours    map[string]hoursState    // business hours by deployment name (hours.go)
	// silentRouting makes routing say nothing about new sessions (SetSilentRouting).
	silentRouting atomic.Bool
	// oauthTokens are the Conversation History API's OAuth access tokens
	// (sha256 hex of the token → expiry), distinct from MIAW access tokens.
	oauthTokens map[string]time.Time
	// historyRefused makes the history upload answer 403 10057
	// (SetConversationHistoryRefused).
	historyRefused atomic.Bool

	done    chan struct{}
	httpSrv *http.Server
	wg      sync.WaitGroup
	stats   statCounters
	// faultsPaused suspends REST and SSE fault injection (PauseFaults).
	faultsPaused atomic.Bool
	// tokenGeneration is the generation of the access tokens issued now;
	// ExpireTokens moves it on, and older tokens answer "Jwt is expired".
	tokenGeneration atomic.Int64
}

// PauseFaults suspends (true) or resumes (false) the injected REST errors,
// throttling and SSE drops, duplicates and delays, e.g. so a test can time
// another fault on its own. Tokens keep Faults.TokenTTL.
func (s *Server) PauseFaults(paused bool) { s.faultsPaused.Store(paused) }

// ExpireTokens makes every access token issued so far expire now, as if
// each had reached its end at once (an outage that outlived the tokens, or
// an org's session settings changed): open streams end (counted as
// ExpiredStreams) and every call with an older token gets 401 "Jwt is
// expired", so every client mints a new one at the same time.
func (s *Server) ExpireTokens() {
	s.tokenGeneration.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		for sub := range u.subs {
			if !sub.kicked {
				s.stats.expiredStreams.Add(1)
			}
			sub.kickLocked()
		}
	}
}

// StreamOpen is when a conversation's user had SSE streams accepted around
// a moment (StreamOpens).
type StreamOpen struct {
	Before time.Time // the last accepted before the moment; zero if none
	After  time.Time // the first accepted at or after it; zero if none
}

// StreamOpens tells, for every conversation, when its user's SSE streams
// were accepted around at (from the last 256 per user): how soon a client
// resumed its streams after an outage at that moment, e.g. a worker killed.
func (s *Server) StreamOpens(at time.Time) map[string]StreamOpen {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]StreamOpen{}
	for _, u := range s.users {
		var o StreamOpen
		for _, t := range u.opens {
			switch {
			case t.Before(at):
				o.Before = t
			case o.After.IsZero():
				o.After = t
			}
		}
		for _, conv := range u.convIDs {
			out[conv] = o
		}
	}
	return out
}

// Stats are counters of what the emulator did since New.
type Stats struct {
	Requests        int64 `json:"requests"`        // HTTP requests to the MIAW API (REST + SSE)
	TokensIssued    int64 `json:"tokensIssued"`    // access tokens issued (incl. continuation)
	StreamsOpened   int64 `json:"streamsOpened"`   // SSE streams accepted
	EventsSent      int64 `json:"eventsSent"`      // SSE events written (excluding pings, including duplicates)
	PingsSent       int64 `json:"pingsSent"`       // SSE ping keep-alives written
	Replayed        int64 `json:"replayed"`        // events replayed after Last-Event-ID
	ReplayExpired   int64 `json:"replayExpired"`   // resumes whose Last-Event-ID was older than the replay ring or window
	ExpiredStreams  int64 `json:"expiredStreams"`  // streams ended at token expiry
	FaultErrors     int64 `json:"faultErrors"`     // injected 503 answers
	FaultThrottled  int64 `json:"faultThrottled"`  // injected 429 answers
	FaultDrops      int64 `json:"faultDrops"`      // streams closed by DropStreamEvery
	FaultDuplicates int64 `json:"faultDuplicates"` // events written twice by DuplicateRate
	FaultDelays     int64 `json:"faultDelays"`     // events delayed by EventDelay
	Conversations   int64 `json:"conversations"`   // conversations created
	Messages        int64 `json:"messages"`        // end-user messages and files accepted
	RateLimited     int64 `json:"rateLimited"`     // end-user messages and files refused by MessageRate (429)
	HistoryAccepted int64 `json:"historyAccepted"` // Conversation History uploads answered 202
	HistoryRefused  int64 `json:"historyRefused"`  // Conversation History uploads answered an error (401/403/400/404), injected faults excluded
}

type statCounters struct {
	requests, tokensIssued, streamsOpened, eventsSent, pingsSent, replayed, replayExpired, expiredStreams atomic.Int64
	faultErrors, faultThrottled, faultDrops, faultDuplicates, faultDelays, conversations, messages        atomic.Int64
	rateLimited, historyAccepted, historyRefused                                                          atomic.Int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Requests: c.requests.Load(), TokensIssued: c.tokensIssued.Load(), StreamsOpened: c.streamsOpened.Load(),
		EventsSent: c.eventsSent.Load(), PingsSent: c.pingsSent.Load(), Replayed: c.replayed.Load(), ReplayExpired: c.replayExpired.Load(),
		ExpiredStreams: c.expiredStreams.Load(), FaultErrors: c.faultErrors.Load(), FaultThrottled: c.faultThrottled.Load(),
		FaultDrops: c.faultDrops.Load(), FaultDuplicates: c.faultDuplicates.Load(), FaultDelays: c.faultDelays.Load(),
		Conversations: c.conversations.Load(), Messages: c.messages.Load(), RateLimited: c.rateLimited.Load(),
		HistoryAccepted: c.historyAccepted.Load(), HistoryRefused: c.historyRefused.Load(),
	}
}

// New validates cfg, applies defaults and returns a Server that is not yet
// listening.
func New(cfg Config) (*Server, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	keys, err := parseJWKS(cfg.JWKS)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	hk := make([]byte, 32)
	if _, err := rand.Read(hk); err != nil {
		return nil, fmt.Errorf("emulator: hmac key: %w", err)
	}
	s := &Server{
		cfg:            cfg,
		log:            cfg.Logger.With("component", "miaw-emulator"),
		jwks:           keys,
		hmacKey:        hk,
		channelAddress: uuid.NewSHA1(uuid.NameSpaceURL, []byte("miaw-emulator/"+cfg.OrgID+"/"+cfg.DeploymentName)).String(),
		users:          map[string]*user{},
		convs:          map[string]*conversation{},
		revoked:        map[string]struct{}{},
		files:          map[string]*storedFile{},
		oauthTokens:    map[string]time.Time{},
		baseURL:        strings.TrimRight(cfg.PublicURL, "/"),
		rng:            mrand.New(mrand.NewSource(cfg.Faults.Seed)),
		timers:         map[*time.Timer]struct{}{},
		done:           make(chan struct{}),
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the emulator's HTTP handler (MIAW API, control API, console,
// attachment downloads).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (":0" or "127.0.0.1:0" pick a free port) and serves in
// the background, over TLS when Config.TLS is set. It returns the base URL,
// e.g. "http://127.0.0.1:41234" or "https://127.0.0.1:41234".
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: listen %s: %w", addr, err)
	}
	host := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + host
	s.mu.Lock()
	if s.baseURL == "" {
		s.baseURL = base
	}
	// SSE streams are long-lived responses: no write deadline (they end
	// with the token, Close or a dropped client); everything else is bounded.
	s.httpSrv = httpserver.New(s.handler, httpserver.Limits{WriteTimeout: httpserver.NoWriteTimeout}, s.log)
	srv := s.httpSrv
	if s.cfg.TLS != nil {
		srv.TLSConfig = s.cfg.TLS.Clone()
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(ln, "", "") // the certificates are in TLSConfig
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.log.Info("MIAW emulator listening", "url", base)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		s.log.Warn("MIAW emulator bound to a non-loopback address: it is a dev tool without authentication on its agent control API; never expose it", "addr", ln.Addr().String())
	}
	return base, nil
}

// Close ends all SSE streams, stops timers and, when Start was used, shuts the
// HTTP server down. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for t := range s.timers {
		t.Stop()
	}
	for _, c := range s.convs {
		if c.script != nil {
			close(c.script)
			c.script = nil
		}
	}
	srv := s.httpSrv
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = srv.Shutdown(ctx)
		s.wg.Wait()
	}
	return err
}

// afterFuncLocked schedules f (which must take s.mu itself) unless the server
// is closed. Callers hold s.mu.
func (s *Server) afterFuncLocked(d time.Duration, f func()) {
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, t)
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			f()
		}
	})
	s.timers[t] = struct{}{}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const v2 = "/iamessage/api/v2"
	api := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.apiMiddleware(h)) }
	api("POST "+v2+"/authorization/unauthenticated/access-token", s.handleUnauthToken)
	api("POST "+v2+"/authorization/authenticated/access-token", s.handleAuthToken)
	api("DELETE "+v2+"/authorization/authenticated/access-token", s.handleRevoke)
	api("GET "+v2+"/authorization/continuation-access-token", s.handleContinuation)
	api("POST "+v2+"/conversation", s.handleCreateConversation)
	api("GET "+v2+"/conversation/list", s.handleListConversations)
	api("GET "+v2+"/conversation/{id}", s.handleRoutingStatus)
	api("DELETE "+v2+"/conversation/{id}", s.handleCloseConversation)
	api("DELETE "+v2+"/conversation/{id}/session", s.handleEndSession)
	api("POST "+v2+"/conversation/{id}/message", s.handleMessage)
	api("POST "+v2+"/conversation/{id}/file", s.handleFile)
	api("POST "+v2+"/conversation/{id}/entry", s.handleEntry)
	api("POST "+v2+"/conversation/{id}/acknowledge-entries", s.handleAcks)
	api("GET "+v2+"/conversation/{id}/entries", s.handleEntries)
	api("GET /embeddedservice/v1/embedded-service-config", s.handleESConfig)
	api("GET /embeddedservice/v1/businesshours", s.handleBusinessHours)
	api("POST /services/oauth2/token", s.handleOAuthToken)
	api("POST /api/v1/conversationHistory", s.handleConversationHistory)
	mux.HandleFunc("GET /eventrouter/v1/sse", s.handleSSE)
	mux.HandleFunc("GET /emulator/files/{id}", s.handleFileDownload)
	s.controlRoutes(mux)
	s.hoursControlRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) && s.cors(w, r) {
			return
		}
		// The agent side (control API, console, files) has no
		// authentication: it must not be reachable from a web page on
		// another site (DNS rebinding, cross-site posts).
		if strings.HasPrefix(r.URL.Path, "/emulator/") {
			if !s.hostAllowed(r.Host) {
				writeError(w, http.StatusForbidden, "host not allowed (the emulator answers loopback hosts and its -allow-hosts)")
				return
			}
			if r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")) {
				writeError(w, http.StatusUnsupportedMediaType, "control requests must be Content-Type: application/json")
				return
			}
		}
		if _, pattern := mux.Handler(r); pattern == "" || pattern == "/" {
			// The path exists with other methods: answer 405 as JSON too.
			if allowed := allowedMethods(mux, r); len(allowed) > 0 {
				w.Header().Set("Allow", strings.Join(allowed, ", "))
				writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether the Host header names a loopback host, the
// host of Config.PublicURL or one of Config.AllowedHosts, with any port.
func (s *Server) hostAllowed(hostHeader string) bool {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if isLoopbackHost(host) {
		return true
	}
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Hostname() != "" && strings.EqualFold(u.Hostname(), host) {
		return true
	}
	for _, h := range s.cfg.AllowedHosts {
		if h == "*" || strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// isLoopbackHost reports whether host (no port) is localhost, a name under
// .localhost, or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// allowedMethods lists the methods that have a route for r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := mux.Handler(r2); p != "" && p != "/" {
			out = append(out, m)
		}
	}
	return out
}

// apiMiddleware counts requests, learns the base URL and injects REST faults.
func (s *Server) apiMiddleware(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.requests.Add(1)
		s.learnBaseURL(r)
		switch s.restFault() {
		case http.StatusServiceUnavailable:
			writeError(w, http.StatusServiceUnavailable, "Service Unavailable (injected fault)")
			return
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "Too Many Requests (injected fault)")
			return
		}
		h(w, r)
	})
}

func (s *Server) learnBaseURL(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL == "" && r.Host != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		s.baseURL = scheme + "://" + r.Host
	}
}

// restFault decides whether this REST call gets an injected 503 or 429 (0 = none).
func (s *Server) restFault() int {
	f := s.cfg.Faults
	if (f.ErrorRate == 0 && f.ThrottleRate == 0) || s.faultsPaused.Load() {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle > 0 {
		s.throttle--
		s.stats.faultThrottled.Add(1)
		return http.StatusTooManyRequests
	}
	if f.ThrottleRate > 0 && s.rng.Float64() < f.ThrottleRate {
		s.throttle = f.ThrottleBurst - 1
		s.stats.faultThrottled.Add(1)
		return http.StatusTooManyRequests
	}
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		s.stats.faultErrors.Add(1)
		return http.StatusServiceUnavailable
	}
	return 0
}

// chance reports true with probability p using the seeded RNG.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < p
}

// apiError is the Salesforce-like error body.
type apiError struct {
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Message: msg, Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Default().Debug("emulator: write response", "err", err)
	}
}

// decodeJSON reads a JSON request body (at most 1 MiB).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("Invalid request body: %v", err)
	}
	return nil
}

func newUUID() string { return uuid.NewString() }

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// sfID returns a 15-character Salesforce-looking id with the given key prefix.
func sfID(prefix string) string {
	b := make([]byte, 15-len(prefix))
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

func millis(t time.Time) int64 { return t.UnixMilli() }
