package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Sessions is the part of *starter.Client the gateway uses.
type Sessions interface {
	Start(ctx context.Context, req starter.StartRequest) (*starter.Session, error)
	SendMessage(ctx context.Context, userID, messageID, text string) (workflows.UpdateResult, error)
	SendChoice(ctx context.Context, userID, messageID, text string, choice workflows.ChoiceReply) (workflows.UpdateResult, error)
	SendAttachment(ctx context.Context, userID, messageID, name, mimeType, caption string, r io.Reader) (workflows.UpdateResult, error)
	Close(ctx context.Context, userID, requestID, reason string) (workflows.UpdateResult, error)
	StateOfRun(ctx context.Context, userID, runID string) (*workflows.SessionView, error)
	ListOpen(ctx context.Context) ([]starter.SessionSummary, error)
	AvailabilityIn(ctx context.Context, topic, locale string) (starter.Availability, error)
	Typing(ctx context.Context, userID string, typing bool) (starter.TypingResult, error)
	Receipts(ctx context.Context, userID string, status workflows.ReceiptStatus, messageIDs []string) (workflows.ReceiptsResult, error)
	Survey(ctx context.Context, userID, runID string, survey workflows.Survey) (workflows.UpdateResult, error)
}

// Files is the part of *attachstore.Store the gateway uses to serve stored
// attachments.
type Files interface {
	Open(sha256hex string) (io.ReadCloser, int64, error)
}

var (
	_ Sessions = (*starter.Client)(nil)
)

// DefaultMaxBodyBytes caps request bodies when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 8 << 20

// DefaultRequestTimeout bounds how long one request waits for the session
// (an update running to completion, a query, a start) when
// Options.RequestTimeout is 0. It is shorter than the write timeout of
// internal/httpserver (minus its read timeout), so the 504 this produces
// always reaches the client.
const DefaultRequestTimeout = 60 * time.Second

// Options configure New.
type Options struct {
	// Sessions starts and drives sessions (a *starter.Client). Required.
	Sessions Sessions
	// Files serves GET /v1/attachments/{sha256} (an *attachstore.Store).
	// Nil answers 404 there.
	Files Files
	// Links, when set (attachments.link_secret), lets GET
	// /v1/attachments/{sha256} be opened without the bearer token with a
	// signed, unexpired link (?expires=&sig=, 403 with the reason
	// otherwise), and signs the attachment links of the transcript in GET
	// /v1/sessions/{userId}. Nil: files need the bearer token.
	Links *attachstore.LinkSigner
	// BearerToken is the shared secret every /v1 request must present as
	// "Authorization: Bearer <token>". Required.
	BearerToken string
	// Topics are listed by GET /v1/topics (the configured session topics).
	Topics []string
	// MaxBodyBytes caps every request body, multipart uploads included
	// (default DefaultMaxBodyBytes); larger bodies get 413.
	MaxBodyBytes int64
	// WorkflowURL, when set, gives the Temporal Web UI page of a session; it
	// is returned as webUiUrl when a session starts.
	WorkflowURL func(workflowID string) string
	// Codec, when set, is served under CodecPath for every method (the
	// payload codec endpoint of the Temporal Web UI, app.NewCodecHandler). It
	// does its own authorisation: gateway.bearer_token is not asked for there.
	Codec http.Handler
	// RequestTimeout bounds each request's wait for the session (default
	// DefaultRequestTimeout); past it the answer is 504 and the caller
	// retries with the same message id.
	RequestTimeout time.Duration
	// Logger receives request failures (never the token). Nil discards.
	Logger *slog.Logger
}

// CodecPath is where Options.Codec is mounted: the Web UI and `temporal
// --codec-endpoint` are pointed at <gateway URL>/codec.
const CodecPath = "/codec/"

// Gateway is the HTTP handler. Create it with New.
type Gateway struct {
	sessions    Sessions
	files       Files
	links       *attachstore.LinkSigner
	tokenSum    [sha256.Size]byte
	topics      []string
	maxBody     int64
	timeout     time.Duration
	workflowURL func(string) string
	codec       http.Handler
	log         *slog.Logger
	mux         *http.ServeMux
	patterns    []string // the API routes, as registered
}

// New validates opts and returns the handler.
func New(opts Options) (*Gateway, error) {
	if opts.Sessions == nil {
		return nil, errors.New("gateway: Sessions is required")
	}
	if strings.TrimSpace(opts.BearerToken) == "" {
		return nil, errors.New("gateway: bearer token is required (gateway.bearer_token)")
	}
	if opts.MaxBodyBytes < 0 {
		return nil, errors.New("gateway: max body bytes must not be negative (gateway.max_body_bytes)")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RequestTimeout < 0 {
		return nil, errors.New("gateway: request timeout must not be negative")
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		sessions:    opts.Sessions,
		files:       opts.Files,
		links:       opts.Links,
		tokenSum:    sha256.Sum256([]byte(opts.BearerToken)),
		topics:      slices.Clone(opts.Topics),
		maxBody:     opts.MaxBodyBytes,
		timeout:     opts.RequestTimeout,
		workflowURL: opts.WorkflowURL,
		codec:       opts.Codec,
		log:         opts.Logger,
		mux:         http.NewServeMux(),
	}
	if g.topics == nil {
		g.topics = []string{}
	}
	g.routes()
	return g, nil
}

// routes registers the API. Every pattern registered with handle is
// described in openapi.json (a test holds both lists equal); the codec
// endpoint and the catch-all 404 are not part of the API.
func (g *Gateway) routes() {
	g.handle("GET /healthz", http.HandlerFunc(g.healthz))
	g.handle("GET /v1/openapi.json", http.HandlerFunc(serveOpenAPI))
	g.handle("GET /v1/topics", g.auth(g.listTopics))
	g.handle("POST /v1/sessions", g.auth(g.startSession))
	g.handle("GET /v1/sessions", g.auth(g.listSessions))
	g.handle("GET /v1/sessions/{userId}", g.auth(g.sessionState))
	g.handle("POST /v1/sessions/{userId}/messages", g.auth(g.sendMessage))
	g.handle("POST /v1/sessions/{userId}/attachments", g.auth(g.sendAttachment))
	g.handle("POST /v1/sessions/{userId}/close", g.auth(g.closeSession))
	g.handle("POST /v1/sessions/{userId}/typing", g.auth(g.typing))
	g.handle("POST /v1/sessions/{userId}/receipts", g.auth(g.receipts))
	g.handle("POST /v1/sessions/{userId}/survey", g.auth(g.survey))
	g.handle("GET /v1/attachments/{sha256}", http.HandlerFunc(g.attachmentAccess))
	g.handle("GET /v1/availability", g.auth(g.availability))
	if g.codec != nil {
		g.mux.Handle(CodecPath, g.codec)
	}
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		refuse(w, r, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
}

// handle registers an API route and remembers its pattern.
func (g *Gateway) handle(pattern string, h http.Handler) {
	g.mux.Handle(pattern, h)
	g.patterns = append(g.patterns, pattern)
}

// ServeHTTP caps the request body and the time spent on the request, and
// dispatches.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if r.ContentLength > g.maxBody {
		refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is %d bytes, more than the limit of %d", r.ContentLength, g.maxBody))
		return
	}
	r.Body = &trackedBody{ReadCloser: http.MaxBytesReader(w, r.Body, g.maxBody)}
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	g.mux.ServeHTTP(w, r.WithContext(ctx))
}

// refuse answers an error and, when the request may carry a body the
// handler has not read, stops reading it and closes the connection after the
// answer (see dropUnreadBody).
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	dropUnreadBody(w, r)
	writeError(w, status, msg)
}

// dropUnreadBody makes the answer to r the last on its connection when r
// may have a body the handler did not read to the end, and ends reading
// that body now. Without it net/http reads and discards up to 256 KiB of
// the unread body after the handler returns (to reuse the connection), so
// an unauthenticated client announcing a body it never sends would hold the
// connection until the server's read timeout. Call it before the answer's
// header is written.
func dropUnreadBody(w http.ResponseWriter, r *http.Request) {
	if b, ok := r.Body.(*trackedBody); r.ContentLength == 0 || (ok && b.sawEOF) {
		return
	}
	w.Header().Set("Connection", "close")
	// Not supported by every ResponseWriter (test recorders); the
	// server's own read timeout is then the bound.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// trackedBody remembers whether the request body was read to its end.
type trackedBody struct {
	io.ReadCloser
	sawEOF bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.sawEOF = true
	}
	return n, err
}

// auth requires the bearer token. Both sides are hashed first so the
// comparison is constant-time regardless of length.
func (g *Gateway) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="liveagent"`)
			refuse(w, r, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer <token>)")
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if subtle.ConstantTimeCompare(sum[:], g.tokenSum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="liveagent", error="invalid_token"`)
			refuse(w, r, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		next(w, r)
	})
}

func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
