package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const token = "s3cret-token-0123456789abcdef0123456789abcdef"

// fakeSessions records calls and answers like starter would: one session per
// user, updates deduplicated by id.
type fakeSessions struct {
	mu         sync.Mutex
	running    map[string]bool
	closed     map[string]bool
	seen       map[string]workflows.UpdateResult
	sent       []string
	files      map[string][]byte // messageID -> content
	fileMeta   map[string][3]string
	startErr   error
	listErr    error
	stateView  *workflows.SessionView
	stateRunID string          // the run id of the last state request
	completed  map[string]bool // finished workflows: updates find no session
	surveys    map[string]workflows.Survey
}

func newFake() *fakeSessions {
	return &fakeSessions{running: map[string]bool{}, closed: map[string]bool{}, seen: map[string]workflows.UpdateResult{},
		files: map[string][]byte{}, fileMeta: map[string][3]string{}}
}

func (f *fakeSessions) Start(_ context.Context, req starter.StartRequest) (*starter.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return nil, f.startErr
	}
	if req.Topic != "Payroll" {
		return nil, fmt.Errorf("%w: topic %q is not configured (one of: Payroll)", starter.ErrInvalid, req.Topic)
	}
	existing := f.running[req.UserID]
	f.running[req.UserID] = true
	return &starter.Session{WorkflowID: workflows.WorkflowID(req.UserID), RunID: "run-1", Existing: existing}, nil
}

func (f *fakeSessions) update(userID, id string, do func() workflows.UpdateResult) (workflows.UpdateResult, error) {
	if id == "" {
		return workflows.UpdateResult{}, fmt.Errorf("%w: message id is required", starter.ErrInvalid)
	}
	if f.completed[userID] {
		return workflows.UpdateResult{}, fmt.Errorf("update: %w for user session x", starter.ErrNoSession)
	}
	if !f.running[userID] && !f.closed[userID] {
		return workflows.UpdateResult{}, fmt.Errorf("send: %w for user session x", starter.ErrNoSession)
	}
	if prev, ok := f.seen[userID+"/"+id]; ok {
		return workflows.UpdateResult{Status: workflows.UpdateDuplicate, EntryID: prev.EntryID}, nil
	}
	if f.closed[userID] {
		return workflows.UpdateResult{}, fmt.Errorf("send-message: %w: session is closed", starter.ErrRejected)
	}
	res := do()
	f.seen[userID+"/"+id] = res
	return res, nil
}

func (f *fakeSessions) SendMessage(_ context.Context, userID, messageID, text string) (workflows.UpdateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.update(userID, messageID, func() workflows.UpdateResult {
		f.sent = append(f.sent, text)
		return workflows.UpdateResult{Status: workflows.UpdateSent, EntryID: "entry-" + messageID}
	})
}

func (f *fakeSessions) SendAttachment(_ context.Context, userID, messageID, name, mimeType, caption string, r io.Reader) (workflows.UpdateResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return workflows.UpdateResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.update(userID, messageID, func() workflows.UpdateResult {
		f.files[messageID] = data
		f.fileMeta[messageID] = [3]string{name, mimeType, caption}
		return workflows.UpdateResult{Status: workflows.UpdateQueued}
	})
}

func (f *fakeSessions) Close(_ context.Context, userID, requestID, _ string) (workflows.UpdateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if requestID == "" {
		requestID = "generated"
	}
	return f.update(userID, requestID, func() workflows.UpdateResult {
		f.running[userID] = false
		f.closed[userID] = true
		return workflows.UpdateResult{Status: workflows.UpdateClosed}
	})
}

func (f *fakeSessions) StateOfRun(_ context.Context, userID, runID string) (*workflows.SessionView, error) {
	f.mu.Lock()
	f.stateRunID = runID
	defer f.mu.Unlock()
	if f.completed[userID] {
		return &workflows.SessionView{State: workflows.StateClosed, UserID: userID, CloseReason: workflows.CloseUserClosed}, nil
	}
	if f.stateView == nil || f.stateView.UserID != userID {
		return nil, fmt.Errorf("state: %w", starter.ErrNoSession)
	}
	return f.stateView, nil
}

func (f *fakeSessions) ListOpen(context.Context) ([]starter.SessionSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []starter.SessionSummary
	for u, ok := range f.running {
		if ok {
			out = append(out, starter.SessionSummary{WorkflowID: workflows.WorkflowID(u), UserID: u, Topic: "Payroll", State: workflows.StateWaiting})
		}
	}
	return out, nil
}

type fakeFiles map[string][]byte

func (f fakeFiles) Open(sum string) (io.ReadCloser, int64, error) {
	data, ok := f[sum]
	if !ok {
		return nil, 0, fmt.Errorf("%w: %s", attachstore.ErrNotFound, sum)
	}
	return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
}

type harness struct {
	t    *testing.T
	fake *fakeSessions
	srv  *httptest.Server
}

func newHarness(t *testing.T, mutate ...func(*gateway.Options)) *harness {
	t.Helper()
	fake := newFake()
	opts := gateway.Options{
		Sessions:     fake,
		BearerToken:  token,
		Topics:       []string{"Payroll", "Benefits"},
		MaxBodyBytes: 64 << 10,
		WorkflowURL:  func(id string) string { return "http://ui.test/namespaces/default/workflows/" + id },
	}
	for _, m := range mutate {
		m(&opts)
	}
	g, err := gateway.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &harness{t: t, fake: fake, srv: srv}
}

func (h *harness) do(method, path, contentType string, body io.Reader, auth string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	require.NoError(h.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp, data
}

func (h *harness) json(method, path, body string) (int, map[string]any) {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	resp, data := h.do(method, path, "application/json", r, "Bearer "+token)
	var out map[string]any
	require.NoError(h.t, json.Unmarshal(data, &out), "body %q", data)
	assert.Equal(h.t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	return resp.StatusCode, out
}

func TestNewRequiresTokenAndSessions(t *testing.T) {
	_, err := gateway.New(gateway.Options{Sessions: newFake()})
	require.ErrorContains(t, err, "gateway.bearer_token")
	_, err = gateway.New(gateway.Options{BearerToken: "x"})
	require.ErrorContains(t, err, "Sessions")
	_, err = gateway.New(gateway.Options{Sessions: newFake(), BearerToken: "x", MaxBodyBytes: -1})
	require.ErrorContains(t, err, "gateway.max_body_bytes")
}

func TestAuth(t *testing.T) {
	h := newHarness(t)
	for name, auth := range map[string]string{
		"missing":      "",
		"wrong":        "Bearer nope",
		"prefix":       "Bearer " + token[:5],
		"longer":       "Bearer " + token + "x",
		"basic scheme": "Basic " + token,
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := h.do(http.MethodGet, "/v1/topics", "", nil, auth)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
			assert.Contains(t, string(body), `"error"`)
			assert.NotContains(t, string(body), token)
		})
	}
	resp, _ := h.do(http.MethodGet, "/v1/topics", "", nil, "bearer "+token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "scheme is case-insensitive")

	resp, body := h.do(http.MethodGet, "/healthz", "", nil, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "healthz needs no token")
	assert.JSONEq(t, `{"status":"ok"}`, string(body))
}

func TestTopics(t *testing.T) {
	h := newHarness(t)
	status, body := h.json(http.MethodGet, "/v1/topics", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, []any{"Payroll", "Benefits"}, body["topics"])
}

func TestStartSessionNewThenExisting(t *testing.T) {
	h := newHarness(t)
	req := `{"userId":"u-1","topic":"Payroll","description":"My payslip is wrong","locale":"en_US"}`
	status, body := h.json(http.MethodPost, "/v1/sessions", req)
	assert.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "live-agent-session-u-1", body["workflowId"])
	assert.Equal(t, "run-1", body["runId"])
	assert.Equal(t, false, body["existing"])
	assert.Equal(t, "http://ui.test/namespaces/default/workflows/live-agent-session-u-1", body["webUiUrl"])

	status, body = h.json(http.MethodPost, "/v1/sessions", req)
	assert.Equal(t, http.StatusOK, status, "a retried start returns the running session")
	assert.Equal(t, true, body["existing"])
}

func TestStartSessionRejectsBadRequests(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name, body string
		status     int
		reason     string
	}{
		{"malformed", `{"userId":`, http.StatusBadRequest, "malformed JSON"},
		{"unknown field", `{"userId":"u","topic":"Payroll","description":"d","priority":1}`, http.StatusBadRequest, `unknown field "priority"`},
		{"wrong type", `{"userId":42}`, http.StatusBadRequest, `field "userId" must be a string`},
		{"empty", ``, http.StatusBadRequest, "empty"},
		{"two objects", `{"userId":"u"}{"userId":"v"}`, http.StatusBadRequest, "exactly one JSON object"},
		{"validation", `{"userId":"u","topic":"Gardening","description":"d"}`, http.StatusUnprocessableEntity, `topic "Gardening" is not configured`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r io.Reader
			if c.body != "" {
				r = strings.NewReader(c.body)
			}
			resp, data := h.do(http.MethodPost, "/v1/sessions", "application/json", r, "Bearer "+token)
			assert.Equal(t, c.status, resp.StatusCode, string(data))
			var e gateway.ErrorResponse
			require.NoError(t, json.Unmarshal(data, &e))
			assert.Contains(t, e.Error, c.reason)
		})
	}
	resp, _ := h.do(http.MethodPost, "/v1/sessions", "text/plain", strings.NewReader(`{}`), "Bearer "+token)
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t, func(o *gateway.Options) { o.MaxBodyBytes = 100 })
	big := `{"userId":"u","topic":"Payroll","description":"` + strings.Repeat("x", 200) + `"}`
	resp, data := h.do(http.MethodPost, "/v1/sessions", "application/json", strings.NewReader(big), "Bearer "+token)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(data))
	assert.Contains(t, string(data), "limit of 100")

	// Without a Content-Length the limit applies while reading.
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write([]byte(big)); _ = pw.Close() }()
	resp, data = h.do(http.MethodPost, "/v1/sessions", "application/json", pr, "Bearer "+token)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(data))
}

func TestMessagesDedupedByIDAndErrors(t *testing.T) {
	h := newHarness(t)
	status, body := h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m1","text":"hi"}`)
	assert.Equal(t, http.StatusNotFound, status, "no session yet")
	assert.Equal(t, "no live-agent session for this user", body["error"])

	h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-1","topic":"Payroll","description":"d"}`)
	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m1","text":"hi"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"status": "sent", "entryId": "entry-m1"}, body)

	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m1","text":"hi"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "duplicate", body["status"])
	assert.Equal(t, []string{"hi"}, h.fake.sent, "a retried message is sent once")

	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"text":"hi"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, "message id is required", body["error"])

	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/close", ``)
	assert.Equal(t, http.StatusOK, status, "close without a body")
	assert.Equal(t, "closed", body["status"])

	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m2","text":"still there?"}`)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body["error"], "session is closed")
}

func TestClose(t *testing.T) {
	h := newHarness(t)
	h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-2","topic":"Payroll","description":"d"}`)
	status, body := h.json(http.MethodPost, "/v1/sessions/u-2/close", `{"requestId":"c1","reason":"resolved"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "closed", body["status"])
	status, body = h.json(http.MethodPost, "/v1/sessions/u-2/close", `{"requestId":"c1","reason":"resolved"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "duplicate", body["status"])
	status, _ = h.json(http.MethodPost, "/v1/sessions/u-2/close", `{"requestId":"c1","force":true}`)
	assert.Equal(t, http.StatusBadRequest, status)
}

func multipartBody(t *testing.T, fields map[string]string, fileName, fileType string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if fileName != "" {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName))
		if fileType != "" {
			hdr.Set("Content-Type", fileType)
		}
		part, err := mw.CreatePart(hdr)
		require.NoError(t, err)
		_, err = part.Write(content)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

func TestAttachmentUpload(t *testing.T) {
	h := newHarness(t)
	h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-3","topic":"Payroll","description":"d"}`)

	ct, body := multipartBody(t, map[string]string{"messageId": "a1", "caption": "my payslip"}, "payslip.pdf", "application/pdf", []byte("%PDF-1.4 test"))
	resp, data := h.do(http.MethodPost, "/v1/sessions/u-3/attachments", ct, body, "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	assert.JSONEq(t, `{"status":"queued"}`, string(data))
	assert.Equal(t, []byte("%PDF-1.4 test"), h.fake.files["a1"])
	assert.Equal(t, [3]string{"payslip.pdf", "application/pdf", "my payslip"}, h.fake.fileMeta["a1"])

	// No part Content-Type: the type is sniffed.
	ct, body = multipartBody(t, map[string]string{"messageId": "a2"}, "notes.txt", "", []byte("plain words"))
	resp, data = h.do(http.MethodPost, "/v1/sessions/u-3/attachments", ct, body, "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	assert.Equal(t, "text/plain; charset=utf-8", h.fake.fileMeta["a2"][1])

	ct, body = multipartBody(t, map[string]string{"messageId": "a3"}, "", "", nil)
	resp, data = h.do(http.MethodPost, "/v1/sessions/u-3/attachments", ct, body, "Bearer "+token)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(data), `file part named \"file\"`)

	ct, body = multipartBody(t, map[string]string{"messageId": "a4", "colour": "red"}, "x.txt", "text/plain", []byte("x"))
	resp, data = h.do(http.MethodPost, "/v1/sessions/u-3/attachments", ct, body, "Bearer "+token)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(data), `unknown form field \"colour\"`)

	resp, _ = h.do(http.MethodPost, "/v1/sessions/u-3/attachments", "application/json", strings.NewReader(`{}`), "Bearer "+token)
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)

	ct, body = multipartBody(t, map[string]string{"messageId": "a5"}, "big.bin", "application/octet-stream", bytes.Repeat([]byte("z"), 100<<10))
	resp, data = h.do(http.MethodPost, "/v1/sessions/u-3/attachments", ct, body, "Bearer "+token)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(data))
}

func TestStateAndList(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	h.fake.stateView = &workflows.SessionView{
		State: workflows.StateActive, UserID: "u-4", Topic: "Payroll", ConversationID: "conv-1",
		AgentName: "Jane", EstimatedWait: -1, StartedAt: at,
		Transcript: []workflows.TranscriptEntry{
			{ID: "m1", At: at, From: workflows.FromUser, Text: "hi"},
			{ID: "e1", At: at, From: workflows.FromAgent, SenderName: "Jane", Link: &workflows.Link{URL: "https://example.com", Title: "Policy"}},
			{ID: "e2", At: at, From: workflows.FromAgent, Attachment: &workflows.AttachmentRef{Name: "a.txt", MimeType: "text/plain", Size: 3, SHA256: "ab", URL: "http://x/ab"}},
		},
	}
	status, body := h.json(http.MethodGet, "/v1/sessions/u-4", "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "active", body["state"])
	assert.Equal(t, "Jane", body["agentName"])
	assert.Equal(t, "2026-11-26T04:00:00Z", body["startedAt"])
	assert.NotContains(t, body, "estimatedWaitSeconds")
	assert.NotContains(t, body, "waitingSince")
	tr := body["transcript"].([]any)
	require.Len(t, tr, 3)
	assert.Equal(t, "user", tr[0].(map[string]any)["from"])
	assert.Equal(t, map[string]any{"url": "https://example.com", "title": "Policy"}, tr[1].(map[string]any)["link"])
	assert.Equal(t, "http://x/ab", tr[2].(map[string]any)["attachment"].(map[string]any)["url"])

	status, _ = h.json(http.MethodGet, "/v1/sessions/nobody", "")
	assert.Equal(t, http.StatusNotFound, status)

	// A closed delivery's transcriptPath names one run.
	status, _ = h.json(http.MethodGet, "/v1/sessions/u-4?runId=0195f3c2-8d4e-7a1b-9c3d-2e4f5a6b7c8d", "")
	require.Equal(t, http.StatusOK, status)
	h.fake.mu.Lock()
	assert.Equal(t, "0195f3c2-8d4e-7a1b-9c3d-2e4f5a6b7c8d", h.fake.stateRunID)
	h.fake.mu.Unlock()

	h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-5","topic":"Payroll","description":"d"}`)
	status, body = h.json(http.MethodGet, "/v1/sessions", "")
	require.Equal(t, http.StatusOK, status)
	sessions := body["sessions"].([]any)
	require.Len(t, sessions, 1)
	assert.Equal(t, "u-5", sessions[0].(map[string]any)["userId"])
	assert.Equal(t, "waiting", sessions[0].(map[string]any)["state"])
}

func TestUnexpectedErrorsHideDetails(t *testing.T) {
	h := newHarness(t)
	h.fake.listErr = errors.New("dial tcp 10.0.0.1:7233: secret internal detail")
	status, body := h.json(http.MethodGet, "/v1/sessions", "")
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "internal error", body["error"])

	h.fake.listErr = fmt.Errorf("list: %w", serviceerror.NewUnavailable("connection refused"))
	status, _ = h.json(http.MethodGet, "/v1/sessions", "")
	assert.Equal(t, http.StatusServiceUnavailable, status)

	h.fake.startErr = fmt.Errorf("start: %w", context.DeadlineExceeded)
	status, _ = h.json(http.MethodPost, "/v1/sessions", `{"userId":"u","topic":"Payroll","description":"d"}`)
	assert.Equal(t, http.StatusGatewayTimeout, status)
}

func TestUnknownEndpointIsJSON404(t *testing.T) {
	h := newHarness(t)
	status, body := h.json(http.MethodGet, "/v2/nothing", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body["error"], "no endpoint GET /v2/nothing")
}

func TestServeAttachment(t *testing.T) {
	page := []byte("<html><script>alert(1)</script></html>")
	pdf := []byte("%PDF-1.4 hello")
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	files := fakeFiles{sum(page): page, sum(pdf): pdf}
	h := newHarness(t, func(o *gateway.Options) { o.Files = files })

	resp, data := h.do(http.MethodGet, "/v1/attachments/"+sum(pdf)+"?name=../../etc/pay%20slip.pdf&type=application/pdf", "", nil, "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, pdf, data)
	assert.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	cd := resp.Header.Get("Content-Disposition")
	assert.True(t, strings.HasPrefix(cd, "attachment;"), cd)
	assert.NotContains(t, cd, "..")
	assert.NotContains(t, cd, "/")
	assert.Equal(t, fmt.Sprint(len(pdf)), resp.Header.Get("Content-Length"))

	// Sniffed as HTML, served as an opaque download.
	resp, data = h.do(http.MethodGet, "/v1/attachments/"+sum(page), "", nil, "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, page, data)
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment-"+sum(page)[:12])

	resp, _ = h.do(http.MethodGet, "/v1/attachments/"+sum(pdf)+"?type=text/html", "", nil, "Bearer "+token)
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"), "an active type is never served")

	resp, _ = h.do(http.MethodGet, "/v1/attachments/"+sum([]byte("missing")), "", nil, "Bearer "+token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = h.do(http.MethodGet, "/v1/attachments/not-a-hash", "", nil, "Bearer "+token)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = h.do(http.MethodGet, "/v1/attachments/"+sum(pdf), "", nil, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestFinishedSession(t *testing.T) {
	h := newHarness(t)
	h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-9","topic":"Payroll","description":"d"}`)
	status, _ := h.json(http.MethodPost, "/v1/sessions/u-9/close", `{"requestId":"c1"}`)
	require.Equal(t, http.StatusOK, status)
	h.fake.mu.Lock()
	h.fake.completed = map[string]bool{"u-9": true} // the workflow has finished
	h.fake.mu.Unlock()

	status, body := h.json(http.MethodPost, "/v1/sessions/u-9/messages", `{"messageId":"m9","text":"hello?"}`)
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "the session is closed (user-closed)", body["error"])

	ct, buf := multipartBody(t, map[string]string{"messageId": "a9"}, "x.txt", "text/plain", []byte("x"))
	resp, data := h.do(http.MethodPost, "/v1/sessions/u-9/attachments", ct, buf, "Bearer "+token)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, string(data))

	status, body = h.json(http.MethodPost, "/v1/sessions/u-9/close", `{"requestId":"c1"}`)
	assert.Equal(t, http.StatusOK, status, "a retried close of a finished session succeeds")
	assert.Equal(t, "closed", body["status"])

	status, _ = h.json(http.MethodPost, "/v1/sessions/never-started/close", `{"requestId":"c1"}`)
	assert.Equal(t, http.StatusNotFound, status)
}
