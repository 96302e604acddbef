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
	if err := checkUserID(userID); err != nil {
		return err
	}
	if handle == nil {
		return invalidf("stream", "handle must not be nil")
	}
	if opts.HeartbeatTimeout <= 0 {
		opts.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if opts.LastEventID != "" && !ValidEventID(opts.LastEventID) {
		return invalidf("stream", "LastEventID is not a valid event id (1 to %d visible ASCII characters)", MaxEventIDLen)
	}
	cursor := opts.LastEventID
	haveCursor := cursor != ""
	failures := 0 // consecutive connection attempts that delivered nothing
	rejected := 0 // consecutive 401s without any event in between
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.reconnects.Add(1)
		}
		tok, err := c.streamToken(ctx, userID)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !IsRetryable(err) {
				return fmt.Errorf("miaw: stream: %w", err)
			}
			c.log.Warn("miaw: stream: cannot get access token, will retry", "user", userID, "err", err)
			failures++
			if err := c.sleep(ctx, backoffDelay(failures, RetryAfter(err))); err != nil {
				return err
			}
			continue
		}
		if !haveCursor {
			// Token.LastEventID is "" or valid (tokenFromResponse checks it).
			cursor, haveCursor = tok.LastEventID, true
		}
		res := c.streamOnce(ctx, tok, &cursor, opts, handle)
		switch {
		case res.handlerErr != nil:
			return res.handlerErr
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if res.delivered > 0 {
			failures, rejected = 0, 0
		}
		if res.unauthorized {
			// Expired or revoked token: renew and resume. The first renewal
			// is immediate; repeated 401s back off like any failure, and
			// fresh tokens refused again and again mean a permanent problem.
			c.dropToken(userID, tok.AccessToken)
			if res.delivered == 0 {
				rejected++
			}
			if rejected >= maxStreamRejections {
				if res.err == nil {
					res.err = &Error{Op: "stream", Method: http.MethodGet, Endpoint: pathSSE, Status: http.StatusUnauthorized, Message: "Jwt is expired"}
				}
				return fmt.Errorf("miaw: stream: %d fresh access tokens rejected: %w", rejected, res.err)
			}
			c.log.Info("miaw: stream: access token rejected, renewing", "user", userID)
		}
		if res.err != nil {
			var e *Error
			if errors.As(res.err, &e) && e.Status != 0 && !e.Retryable() && !res.unauthorized {
				return res.err
			}
			c.log.Warn("miaw: stream: disconnected, will resume", "user", userID, "last_event_id", cursor, "err", res.err)
		} else {
			c.log.Debug("miaw: stream: ended by server, will resume", "user", userID, "last_event_id", cursor)
		}
		if res.unauthorized && failures == 0 {
			failures++
			continue
		}
		if res.delivered == 0 {
			failures++
		}
		if err := c.sleep(ctx, backoffDelay(failures, RetryAfter(res.err))); err != nil {
			return err
		}
	}
}

// streamResult says how one connection ended.
type streamResult struct {
	delivered    int   // events read (any kind)
	unauthorized bool  // 401 on connect or "Jwt is expired" in the stream
	err          error // connect/read error; nil for a clean EOF
	handlerErr   error
}

// streamOnce runs one SSE connection until it ends. *cursor advances after
// each event that was handled, skipped or found malformed.
//
// r3labs/sse's Client.SubscribeWithContext is deliberately not used: it
// treats EOF as success (ending its retry loop), cannot be stopped by the
// handler, updates its Last-Event-ID before the handler ran, leaks its read
// goroutine when the handler loop exits, and hides the status code (we need
// the 401). We use its EventStreamReader for the framing only. Its quirks:
// ReadEvent returns a slice aliasing the scanner buffer (copied below),
// reports context cancellation as io.EOF (we check ctx), and fails with
// bufio.ErrTooLong on events over maxEventBytes (we then reconnect).
func (c *Client) streamOnce(ctx context.Context, tok *Token, cursor *string, opts StreamOptions, handle func(Event) error) streamResult {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, c.base+pathSSE, nil)
	if err != nil {
		return streamResult{err: err}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("X-Org-Id", c.orgID)
	sentCursor := *cursor
	if sentCursor != "" {
		req.Header.Set("Last-Event-ID", sentCursor)
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return streamResult{err: &Error{Op: "stream", Method: http.MethodGet, Endpoint: pathSSE, Err: stripURL(err)}}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := errorFromResponse("stream", http.MethodGet, pathSSE, resp)
		return streamResult{err: e, unauthorized: e.Status == http.StatusUnauthorized}
	}
	if opts.OnConnect != nil {
		if err := opts.OnConnect(sentCursor); err != nil {
			return streamResult{handlerErr: err}
		}
	}
	idle := time.AfterFunc(opts.HeartbeatTimeout, cancel)
	defer idle.Stop()

	var res streamResult
	reader := sse.NewEventStreamReader(resp.Body, maxEventBytes)
	for {
		frame, err := reader.ReadEvent()
		if err != nil {
			if errors.Is(err, io.EOF) && cctx.Err() == nil {
				return res // server ended the stream
			}
			if ctx.Err() == nil && cctx.Err() != nil {
				err = fmt.Errorf("no data for %s", opts.HeartbeatTimeout)
			}
			res.err = &Error{Op: "stream", Method: http.MethodGet, Endpoint: pathSSE, Err: err}
			return res
		}
		idle.Stop()
		ev := parseFrame(frame)
		if ev.empty() {
			if bytes.Contains(frame, []byte("Jwt is expired")) {
				res.unauthorized = true
				return res
			}
			idle.Reset(opts.HeartbeatTimeout)
			continue
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
			if err := handle(decoded); err != nil {
				res.handlerErr = err
				return res
			}
		}
		if ev.id != "" {
			*cursor = ev.id
		}
		idle.Reset(opts.HeartbeatTimeout)
	}
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
