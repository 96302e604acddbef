package miaw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	sse "github.com/r3labs/sse/v2"
)

const (
	pathSSE = "/eventrouter/v1/sse"
	// DefaultHeartbeatTimeout drops a stream that sent nothing (not even a
	// ping) for this long; the official sample app uses 90s.
	DefaultHeartbeatTimeout = 90 * time.Second
	// maxEventBytes bounds one SSE event.
	maxEventBytes = 4 << 20
	backoffBase   = 500 * time.Millisecond
	backoffCap    = 30 * time.Second
	// maxStreamRejections consecutive 401s (each after renewing the token)
	// end Stream with the 401.
	maxStreamRejections = 4
)

// StreamOptions tunes Stream.
type StreamOptions struct {
	// LastEventID is the resume point: events after it are delivered. ""
	// starts from the lastEventId returned with the user's access token.
	LastEventID string
	// OnConnect, if set, is called after each successful (re)connect with
	// the Last-Event-ID that was sent, before any event of that connection
	// is read (the server keeps them). A caller catches up there on what the
	// stream cannot replay (see Client.ListEntries). A non-nil error ends
	// Stream with that error, as handle's does.
	OnConnect func(lastEventID string) error
	// HeartbeatTimeout: reconnect when nothing arrives for this long.
	// Default DefaultHeartbeatTimeout.
	HeartbeatTimeout time.Duration
}

// Stream consumes userID's SSE stream (events of all that user's
// conversations) and calls handle for every decoded event, in order.
//
// Ping and unknown event types are skipped (Stats.SkippedEvents); malformed
// events are logged at warn, counted (Stats.MalformedEvents) and skipped.
// When the connection drops or ends, Stream reconnects with exponential
// backoff (capped at 30s, reset after events flow) sending Last-Event-ID =
// the id of the last event handled, so nothing is lost or repeated by the
// client (the server may still send duplicates: Event.ID lets callers
// dedupe). A 401 (expired token) renews the token and resumes.
//
// Stream returns ctx.Err() when ctx ends, handle's or OnConnect's error (the
// event that failed is not marked handled), or a permanent error (400/403/404, an
// unverified subject, invalid arguments).
func (c *Client) Stream(ctx context.Context, userID string, opts StreamOptions, handle func(Event) error) error {
	s, err := c.newStreamRun(userID, opts, handle)
	if err != nil {
		return err
	}
	return s.run(ctx)
}

// GoStream runs Stream in a goroutine of its own and calls done with what
// Stream returned; invalid arguments are returned at once instead (done is
// not called). It is for callers that hold many streams, as a worker does:
// an idle stream's goroutine parks with Stream's frames only, none of the
// caller's, and so keeps the smallest stack the runtime allows it
// (BenchmarkIdleStreamStack).
func (c *Client) GoStream(ctx context.Context, userID string, opts StreamOptions, handle func(Event) error, done func(error)) error {
	if done == nil {
		return invalidf("stream", "done must not be nil")
	}
	s, err := c.newStreamRun(userID, opts, handle)
	if err != nil {
		return err
	}
	go s.background(ctx, done)
	return nil
}

func (s *streamRun) background(ctx context.Context, done func(error)) { done(s.run(ctx)) }

// run is Stream's loop: connect, read until the connection ends, decide.
// Its frame and read's stay on an idle stream's stack (see streamConn).
func (s *streamRun) run(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.c.stats.reconnects.Add(1)
		}
		conn, err := s.connect(ctx)
		if err != nil {
			return err
		}
		if conn == nil {
			continue // no token yet; connect waited its backoff
		}
		if conn.body != nil {
			conn.read()
		}
		if err := s.ended(ctx, conn); err != nil {
			return err
		}
	}
}

// streamRun is the state of one Stream call. It lives on the heap so that
// the frames an idle stream's goroutine stays parked below are small (see
// streamConn).
type streamRun struct {
	c          *Client
	userID     string
	opts       StreamOptions
	handle     func(Event) error
	cursor     string // the id of the last event handled
	haveCursor bool
	failures   int // consecutive connection attempts that delivered nothing
	rejected   int // consecutive 401s without any event in between
}

func (c *Client) newStreamRun(userID string, opts StreamOptions, handle func(Event) error) (*streamRun, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	if handle == nil {
		return nil, invalidf("stream", "handle must not be nil")
	}
	if opts.HeartbeatTimeout <= 0 {
		opts.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if opts.LastEventID != "" && !ValidEventID(opts.LastEventID) {
		return nil, invalidf("stream", "LastEventID is not a valid event id (1 to %d visible ASCII characters)", MaxEventIDLen)
	}
	return &streamRun{c: c, userID: userID, opts: opts, handle: handle,
		cursor: opts.LastEventID, haveCursor: opts.LastEventID != ""}, nil
}

// token is the access token for the next connection. It returns nil and no
// error after waiting out a transient failure, and an error that ends
// Stream.
func (s *streamRun) token(ctx context.Context) (*Token, error) {
	tok, err := s.c.streamToken(ctx, s.userID)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !IsRetryable(err) {
			return nil, fmt.Errorf("miaw: stream: %w", err)
		}
		s.c.log.Warn("miaw: stream: cannot get access token, will retry", "user", s.userID, "err", err)
		s.failures++
		return nil, s.c.sleep(ctx, backoffDelay(s.failures, RetryAfter(err)))
	}
	if !s.haveCursor {
		// Token.LastEventID is "" or valid (tokenFromResponse checks it).
		s.cursor, s.haveCursor = tok.LastEventID, true
	}
	return tok, nil
}

// ended decides what follows conn's end: an error that ends Stream, or nil
// after the backoff before the next connection.
func (s *streamRun) ended(ctx context.Context, conn *streamConn) error {
	tok, res := conn.tok, &conn.res
	switch {
	case res.handlerErr != nil:
		return res.handlerErr
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if res.delivered > 0 {
		s.failures, s.rejected = 0, 0
	}
	if res.unauthorized {
		// Expired or revoked token: renew and resume. The first renewal
		// is immediate; repeated 401s back off like any failure, and
		// fresh tokens refused again and again mean a permanent problem.
		s.c.dropToken(s.userID, tok.AccessToken)
		if res.delivered == 0 {
			s.rejected++
		}
		if s.rejected >= maxStreamRejections {
			if res.err == nil {
				res.err = &Error{Op: "stream", Method: http.MethodGet, Endpoint: pathSSE, Status: http.StatusUnauthorized, Message: "Jwt is expired"}
			}
			return fmt.Errorf("miaw: stream: %d fresh access tokens rejected: %w", s.rejected, res.err)
		}
		s.c.log.Info("miaw: stream: access token rejected, renewing", "user", s.userID)
	}
	if res.err != nil {
		var e *Error
		if errors.As(res.err, &e) && e.Status != 0 && !e.Retryable() && !res.unauthorized {
			return res.err
		}
		s.c.log.Warn("miaw: stream: disconnected, will resume", "user", s.userID, "last_event_id", s.cursor, "err", res.err)
	} else {
		s.c.log.Debug("miaw: stream: ended by server, will resume", "user", s.userID, "last_event_id", s.cursor)
	}
	if res.unauthorized && s.failures == 0 {
		s.failures++
		return nil
	}
	if res.delivered == 0 {
		s.failures++
	}
	return s.c.sleep(ctx, backoffDelay(s.failures, RetryAfter(res.err)))
}

// streamResult says how one connection ended.
type streamResult struct {
	delivered    int   // events read (any kind)
	unauthorized bool  // 401 on connect or "Jwt is expired" in the stream
	err          error // connect/read error; nil for a clean EOF
	handlerErr   error
}

// streamConn is one connection of a streamRun.
//
// r3labs/sse's Client.SubscribeWithContext is deliberately not used: it
// treats EOF as success (ending its retry loop), cannot be stopped by the
// handler, updates its Last-Event-ID before the handler ran, leaks its read
// goroutine when the handler loop exits, and hides the status code (we need
// the 401). We use its EventStreamReader for the framing only. Its quirks:
// ReadEvent returns a slice aliasing the scanner buffer (parseFrame copies),
// reports context cancellation as io.EOF (we check ctx), and fails with
// bufio.ErrTooLong on events over maxEventBytes (we then reconnect).
//
// An open stream spends its life parked in read's ReadEvent, below run and
// read, whose frames every idle stream's goroutine keeps: the runtime
// halves a parked goroutine's stack only while it uses under a quarter of
// it, and with HTTP/2's and bufio's frames below, ours have a few hundred
// bytes before the stack doubles, at every stream. The state is therefore
// here, on the heap, and the work in functions kept out of line (connect,
// take, ended, close); keep run and read small (BenchmarkIdleStreamStack
// measures them).
type streamConn struct {
	run    *streamRun
	tok    *Token
	parent context.Context // the caller's
	ctx    context.Context // the connection's: ends with parent's or at the heartbeat timeout
	cancel context.CancelFunc
	body   io.ReadCloser // nil when the connection failed or was refused
	reader *sse.EventStreamReader
	idle   *time.Timer // cancels ctx when nothing arrives for the heartbeat timeout
	res    streamResult
}

// connect gets a token and opens a connection from s.cursor, running
// OnConnect. It returns nil and no error when the token could not be had
// (after waiting the backoff), a connection without body when there is
// nothing to read (its res says why), and an error that ends Stream.
//
//go:noinline
func (s *streamRun) connect(ctx context.Context) (*streamConn, error) {
	tok, err := s.token(ctx)
	if err != nil || tok == nil {
		return nil, err
	}
	conn := &streamConn{run: s, tok: tok, parent: ctx}
	conn.ctx, conn.cancel = context.WithCancel(ctx)
	body, res := s.c.openStream(conn.ctx, tok, s.cursor)
	if body == nil {
		conn.cancel()
		conn.res = res
		return conn, nil
	}
	if s.opts.OnConnect != nil {
		if err := s.opts.OnConnect(s.cursor); err != nil {
			body.Close()
			conn.cancel()
			conn.res = streamResult{handlerErr: err}
			return conn, nil
		}
	}
	conn.body = body
	conn.reader = sse.NewEventStreamReader(body, maxEventBytes)
	conn.idle = time.AfterFunc(s.opts.HeartbeatTimeout, conn.cancel)
	return conn, nil
}

// read reads events until the connection ends.
func (conn *streamConn) read() {
	defer conn.close()
	for {
		frame, err := conn.reader.ReadEvent()
		if conn.take(frame, err) {
			return
		}
	}
}

// take handles what one read returned: a frame, or the error that ends the
// connection. It reports whether the connection ended (conn.res says how).
//
//go:noinline
func (conn *streamConn) take(frame []byte, err error) (end bool) {
	if err != nil {
		conn.readFailed(err)
		return true
	}
	conn.idle.Stop()
	if conn.takeFrame(frame) {
		return true
	}
	conn.idle.Reset(conn.run.opts.HeartbeatTimeout)
	return false
}

// close ends the connection.
//
//go:noinline
func (conn *streamConn) close() {
	conn.idle.Stop()
	conn.body.Close()
	conn.cancel()
}

// openStream connects with tok from cursor ("" = the token's position). It
// returns the open event stream, or nil and how the attempt failed.
func (c *Client) openStream(ctx context.Context, tok *Token, cursor string) (io.ReadCloser, streamResult) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+pathSSE, nil)
	if err != nil {
		return nil, streamResult{err: err}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("X-Org-Id", c.orgID)
	if cursor != "" {
		req.Header.Set("Last-Event-ID", cursor)
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return nil, streamResult{err: &Error{Op: "stream", Method: http.MethodGet, Endpoint: pathSSE, Err: stripURL(err)}}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		e := errorFromResponse("stream", http.MethodGet, pathSSE, resp)
		return nil, streamResult{err: e, unauthorized: e.Status == http.StatusUnauthorized}
	}
	return resp.Body, streamResult{}
}

// readFailed records how the connection ended when reading failed with err:
// a clean end by the server, the caller's context, or a read error (the
// connection's context ending alone means the heartbeat timeout cut a
// silent stream).
func (conn *streamConn) readFailed(err error) {
	if errors.Is(err, io.EOF) && conn.ctx.Err() == nil {
		return // server ended the stream
	}
	if conn.parent.Err() == nil && conn.ctx.Err() != nil {
		err = fmt.Errorf("no data for %s", conn.run.opts.HeartbeatTimeout)
	}
	conn.res.err = &Error{Op: "stream", Method: http.MethodGet, Endpoint: pathSSE, Err: err}
}

// takeFrame handles one raw SSE frame: a ping, an event for handle, or one
// skipped or logged as malformed; the run's cursor advances past every event
// with a valid id. It reports whether the connection must end (conn.res says
// why).
func (conn *streamConn) takeFrame(frame []byte) (end bool) {
	s, c, res := conn.run, conn.run.c, &conn.res
	ev := parseFrame(frame)
	if ev.empty() {
		if bytes.Contains(frame, []byte("Jwt is expired")) {
			res.unauthorized = true
			return true
		}
		return false
	}
	res.delivered++
	if ev.badID {
		c.stats.malformed.Add(1)
		c.log.Warn("miaw: stream: event id is not a valid cursor; ignored", "event", truncate(ev.event, 64), "id_bytes", idLen(frame))
	}
	decoded, derr := DecodeEvent(ev.event, ev.id, ev.data)
	switch {
	case errors.Is(derr, ErrSkipEvent):
		c.stats.skipped.Add(1)
	case derr != nil:
		c.stats.malformed.Add(1)
		c.log.Warn("miaw: stream: malformed event skipped", "event", truncate(ev.event, 64), "id", truncate(ev.id, 128), "err", derr)
	default:
		if err := s.handle(decoded); err != nil {
			res.handlerErr = err
			return true
		}
	}
	if ev.id != "" {
		s.cursor = ev.id
	}
	return false
}

// sseFrame is one parsed SSE event.
type sseFrame struct {
	event, id string
	data      []byte
	hasData   bool
	badID     bool // an id field was present but not a valid cursor (dropped)
}

func (f sseFrame) empty() bool { return !f.hasData && f.event == "" && f.id == "" && !f.badID }

// MaxEventIDLen bounds an SSE event id kept as a resume cursor.
const MaxEventIDLen = 256

// ValidEventID reports whether id can be a stream cursor: 1 to MaxEventIDLen
// bytes of visible ASCII (0x21-0x7E). Such an id is always a valid
// Last-Event-ID header value and survives header whitespace trimming;
// Salesforce's ids are far simpler. Stream never adopts another id as its
// cursor.
func ValidEventID(id string) bool {
	if id == "" || len(id) > MaxEventIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseFrame parses the lines of one SSE event (per the HTML spec: "field:
// value" with one optional space, multiple data lines joined by "\n",
// comments and unknown fields ignored). The result does not alias frame.
func parseFrame(frame []byte) sseFrame {
	var f sseFrame
	var data []string
	for _, line := range strings.FieldsFunc(string(frame), func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.HasPrefix(line, ":") {
			continue
		}
		name, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch name {
		case "event":
			f.event = value
		case "data":
			data = append(data, value)
			f.hasData = true
		case "id":
			// An id that could not be sent back as Last-Event-ID (control
			// characters, spaces, megabytes) is dropped: the event is still
			// handled but the cursor stays where it was. The SSE spec
			// likewise ignores ids containing NUL.
			if ValidEventID(value) {
				// A copy: the id outlives the frame as the stream's cursor,
				// and a substring would keep the whole frame alive.
				f.id, f.badID = strings.Clone(value), false
			} else {
				f.id, f.badID = "", true
			}
		}
	}
	if f.hasData {
		f.data = []byte(strings.Join(data, "\n"))
	}
	if f.event == "" && f.hasData {
		f.event = "message" // the SSE default event type
	}
	return f
}

// idLen is the length of the first id field of a raw frame, for logs that
// must not repeat a hostile id.
func idLen(frame []byte) int {
	for _, line := range bytes.FieldsFunc(frame, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if v, ok := bytes.CutPrefix(line, []byte("id:")); ok {
			return len(bytes.TrimPrefix(v, []byte(" ")))
		}
	}
	return 0
}

// backoffDelay is exponential with full jitter from backoffBase up to
// backoffCap; a server Retry-After, if longer, wins.
func backoffDelay(failures int, retryAfter time.Duration) time.Duration {
	d := backoffBase
	for i := 1; i < failures && d < backoffCap; i++ {
		d *= 2
	}
	d = min(d, backoffCap)
	d = d/2 + rand.N(d/2+1)
	return max(d, min(retryAfter, 5*time.Minute))
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
