package miaw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is returned for every MIAW call that failed: a non-2xx answer (Status
// set) or a network failure (Status 0, Err set). Endpoint is the path
// template (ids replaced by {id}) so errors never carry tokens or user data.
type Error struct {
	Op         string // what we tried, e.g. "send message"
	Method     string
	Endpoint   string
	Status     int           // HTTP status, 0 for network errors
	Message    string        // Salesforce's message, parsed leniently from the body
	RetryAfter time.Duration // from Retry-After on 429/503, 0 if absent
	Err        error         // underlying network/context error, if any
}

// Error formats as `miaw: <op>: <METHOD> <endpoint>: <status>: <message>`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("miaw: ")
	b.WriteString(e.Op)
	if e.Method != "" || e.Endpoint != "" {
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(e.Method + " " + e.Endpoint))
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same call may succeed later: 408, 425, 429,
// 5xx and network errors are retryable; every other status (400, 401 after
// the automatic re-mint, 403, 404, 413, 415, 417...) and context
// cancellation are permanent.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == 0:
		return e.Err != nil && !errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded) &&
			!errors.Is(e.Err, ErrUnverifiedSubject) && !errors.Is(e.Err, ErrInvalidRequest)
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooEarly, e.Status == http.StatusTooManyRequests:
		return true
	case e.Status >= 500:
		return true
	}
	return false
}

// IsRetryable reports whether err (anywhere in its chain) is a retryable
// *Error. Everything else, including ErrUnverifiedSubject, invalid-argument
// errors and context errors, is permanent.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// IsNotFound reports whether err is a 404 *Error (unknown conversation...).
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsStatus reports whether err is an *Error with the given HTTP status.
func IsStatus(err error, status int) bool { return statusOf(err) == status }

// RetryAfter returns the Retry-After hint carried by err, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// ErrUnverifiedSubject is returned (wrapped) when a verified token exchange
// succeeded but Salesforce answered with an anonymous subject (no "/AUTH/" in
// context.endUser.subject): the keyset, kid or issuer is wrong. Permanent.
var ErrUnverifiedSubject = errors.New("miaw: verified access token has an anonymous subject (check the keyset, key_id and issuer)")

// ErrInvalidRequest is wrapped by errors for bad arguments to Client methods
// (detected before any call is made). Permanent.
var ErrInvalidRequest = errors.New("miaw: invalid request")

// ErrAttachmentTooLarge is wrapped when a download or upload exceeds its cap.
var ErrAttachmentTooLarge = errors.New("miaw: attachment too large")

func invalidf(op, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidRequest, op, fmt.Sprintf(format, args...))
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// errorFromResponse builds an *Error from a non-2xx response and consumes
// (part of) its body.
func errorFromResponse(op, method, endpoint string, resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &Error{
		Op:         op,
		Method:     method,
		Endpoint:   endpoint,
		Status:     resp.StatusCode,
		Message:    parseErrorMessage(body),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// parseErrorMessage extracts Salesforce's message from the body shapes seen
// in the wild: plain text ("Jwt is expired"), {"message": "..."},
// Spring-style {"status":401,"error":"Unauthorized","path":"..."},
// {"errorCode": "...", "message": "..."}, the Interaction API's
// {"code": 10057, "message": "..."} and arrays of those.
func parseErrorMessage(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		if msg := messageFromJSON(v); msg != "" {
			return truncate(msg, 500)
		}
	}
	if strings.HasPrefix(s, "<") { // an HTML error page says nothing useful
		return ""
	}
	return truncate(strings.Join(strings.Fields(s), " "), 500)
}

func messageFromJSON(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var parts []string
		for _, item := range t {
			if m := messageFromJSON(item); m != "" {
				parts = append(parts, m)
			}
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		str := func(k string) string {
			if s, ok := t[k].(string); ok {
				return strings.TrimSpace(s)
			}
			return ""
		}
		msg := str("message")
		if msg == "" {
			msg = str("error_description")
		}
		code := str("errorCode")
		if code == "" {
			code = str("error")
		}
		if code == "" { // Interaction API: {"code": 10057, "message": "..."}
			code = str("code")
			if n, ok := t["code"].(float64); ok {
				code = strconv.FormatFloat(n, 'f', -1, 64)
			}
		}
		switch {
		case msg != "" && code != "" && !strings.Contains(msg, code):
			return code + ": " + msg
		case msg != "":
			return msg
		case code != "":
			if p := str("path"); p != "" {
				return code + " (" + p + ")"
			}
			return code
		}
	}
	return ""
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
