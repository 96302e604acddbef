package miaw

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestParseErrorMessage(t *testing.T) {
	cases := map[string]string{
		"Jwt is expired": "Jwt is expired",
		`{"message":"Specify the conversationId in UUID format."}`:           "Specify the conversationId in UUID format.",
		`{"status":401,"error":"Unauthorized","path":"/eventrouter/v1/sse"}`: "Unauthorized (/eventrouter/v1/sse)",
		`[{"errorCode":"INVALID_FIELD","message":"bad"}]`:                    "INVALID_FIELD: bad",
		`{"message":"no session","status":417}`:                              "no session",
		`<html><body>Bad gateway</body></html>`:                              "",
		"":                                                                   "",
		"  two\n lines  ":                                                    "two lines",
	}
	for body, want := range cases {
		if got := parseErrorMessage([]byte(body)); got != want {
			t.Errorf("parseErrorMessage(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"1":    time.Second,
		"120":  2 * time.Minute,
		"":     0,
		"-3":   0,
		"soon": 0,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	}
	for v, want := range cases {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestErrorFormatAndClassification(t *testing.T) {
	e := &Error{Op: "send message", Method: "POST", Endpoint: epMessage, Status: 400, Message: "Specify the conversationId in UUID format."}
	want := "miaw: send message: POST /iamessage/api/v2/conversation/{id}/message: 400: Specify the conversationId in UUID format."
	if e.Error() != want {
		t.Fatalf("Error() = %q, want %q", e.Error(), want)
	}
	retryable := map[int]bool{400: false, 401: false, 403: false, 404: false, 408: true, 413: false, 415: false, 417: false, 429: true, 500: true, 502: true, 503: true}
	for status, want := range retryable {
		err := fmt.Errorf("wrapped: %w", &Error{Op: "x", Status: status})
		if IsRetryable(err) != want {
			t.Errorf("status %d: IsRetryable = %v, want %v", status, !want, want)
		}
	}
	if !IsRetryable(&Error{Op: "x", Err: errors.New("connection reset")}) {
		t.Error("network error should be retryable")
	}
	if IsRetryable(&Error{Op: "x", Err: context.Canceled}) || IsRetryable(context.DeadlineExceeded) {
		t.Error("context errors must not be retryable")
	}
	if IsRetryable(fmt.Errorf("x: %w", ErrUnverifiedSubject)) || IsRetryable(ErrInvalidRequest) {
		t.Error("verification and invalid-request errors must not be retryable")
	}
	if !IsNotFound(fmt.Errorf("w: %w", &Error{Status: 404})) || IsNotFound(&Error{Status: 400}) {
		t.Error("IsNotFound misclassifies")
	}
}

// TestHTTPErrorMapping drives every documented status through a real call.
func TestHTTPErrorMapping(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	cases := []struct {
		status     int
		body       string
		header     string
		retryable  bool
		message    string
		retryAfter time.Duration
	}{
		{400, `{"message":"Specify the conversationId in UUID format."}`, "", false, "Specify the conversationId in UUID format.", 0},
		{403, `Forbidden`, "", false, "Forbidden", 0},
		{404, `{"status":404,"error":"Not Found","path":"/x"}`, "", false, "Not Found (/x)", 0},
		{413, `{"message":"too large"}`, "", false, "too large", 0},
		{415, `{"message":"unsupported"}`, "", false, "unsupported", 0},
		{429, `{"message":"slow down"}`, "7", true, "slow down", 7 * time.Second},
		{500, ``, "", true, "", 0},
		{503, `busy`, "2", true, "busy", 2 * time.Second},
	}
	for _, tc := range cases {
		f.handle("GET "+conversationPath(testConvID, ""), func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		})
		_, err := c.RoutingStatus(context.Background(), testUser, testConvID)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%d: got %v, want *Error", tc.status, err)
		}
		if e.Status != tc.status || e.Message != tc.message || e.RetryAfter != tc.retryAfter || e.Retryable() != tc.retryable ||
			e.Endpoint != epConversationByID || e.Method != "GET" || e.Op != "routing status" {
			t.Errorf("%d: got %#v", tc.status, e)
		}
	}
	// Network error: server gone.
	f.srv.Close()
	_, err := c.RoutingStatus(context.Background(), testUser, testConvID)
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || !IsRetryable(err) {
		t.Fatalf("closed server: got %v, want retryable network *Error", err)
	}
}
