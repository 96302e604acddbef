package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/gateway/openapitest"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Every API route registered on the mux is in the document, and every
// path of the document is a registered route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := openapitest.Load()
	require.NoError(t, err)
	g, err := gateway.New(gateway.Options{Sessions: newFake(), BearerToken: token})
	require.NoError(t, err)
	registered := g.Patterns()
	slices.Sort(registered)
	assert.Equal(t, registered, doc.Routes())
}

// GET /v1/openapi.json serves the committed document without the token.
func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	resp, data := h.do(http.MethodGet, "/v1/openapi.json", "", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, gateway.OpenAPI(), data)
	var v map[string]any
	require.NoError(t, json.Unmarshal(data, &v))
	assert.Equal(t, "3.1.0", v["openapi"])
}

// contractCase is one request and the status the gateway must answer.
type contractCase struct {
	name        string
	gw          *gateway.Gateway
	method      string
	path        string
	contentType string
	body        string
	auth        string // "" means the right bearer token; "-" none
	want        int
}

// Every route, with every status the fakes can make it answer, is
// answered as the document says (status, content type, body schema; an
// accepted request body matches the documented one).
func TestOpenAPIContract(t *testing.T) {
	doc, err := openapitest.Load()
	require.NoError(t, err)

	pdf := []byte("%PDF-1.4 contract")
	s := sha256.Sum256(pdf)
	sum := hex.EncodeToString(s[:])
	links, err := attachstore.NewLinkSigner(linkSecret, time.Hour)
	require.NoError(t, err)
	at := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	fake := newFake()
	fake.stateView = &workflows.SessionView{
		State: workflows.StateWaiting, UserID: "u-view", Topic: "Payroll", ConversationID: "conv-1",
		QueuePosition: 2, EstimatedWait: 90 * time.Second, StartedAt: at, WaitingSince: at,
		Transcript: []workflows.TranscriptEntry{
			{ID: "m1", At: at, From: workflows.FromUser, Text: "hi"},
			{ID: "n1", At: at, From: workflows.FromSystem, Text: "You are number 2 in the queue."},
			{ID: "e1", At: at, From: workflows.FromAgent, SenderName: "Jane", Link: &workflows.Link{URL: "https://example.com", Title: "Policy"}},
			{ID: "e2", At: at, From: workflows.FromAgent, SenderName: "Jane", Attachment: &workflows.AttachmentRef{
				Name: "a.pdf", MimeType: "application/pdf", Size: int64(len(pdf)), SHA256: sum, URL: "http://files.test/" + sum}},
		},
		Survey: &workflows.Survey{Rating: 4, Comment: "helpful", At: at},
	}
	fake.completed = map[string]bool{"u-done": true}
	main := newGateway(t, fake, func(o *gateway.Options) { o.Files = fakeFiles{sum: pdf}; o.Links = links })
	bare := newGateway(t, newFake(), func(o *gateway.Options) { o.WorkflowURL = nil })
	offline := newGateway(t, offlineSessions{newFake(), at}, nil)
	failing := func(err error) *gateway.Gateway {
		f := newFake()
		f.startErr, f.listErr = err, err
		return newGateway(t, f, nil)
	}
	unavailable := failing(serviceerror.NewUnavailable("down"))
	internal := failing(errors.New("boom"))
	invalid := newGateway(t, invalidSessions{newFake()}, nil)
	timeout := failing(fmt.Errorf("start: %w", context.DeadlineExceeded))

	const js = "application/json"
	start := `{"userId":"u-1","topic":"Payroll","description":"payslip","locale":"en_US","summary":"s","history":[{"from":"user","text":"hi","at":"2026-11-26T04:00:00Z"}]}`
	big := `{"userId":"u-1","topic":"Payroll","description":"` + strings.Repeat("x", 70<<10) + `"}`
	future := time.Now().Add(time.Hour).Unix()
	fileCT, fileBody := multipartBody(t, map[string]string{"messageId": "f1", "caption": "c"}, "a.pdf", "application/pdf", pdf)
	noFileCT, noFileBody := multipartBody(t, map[string]string{"messageId": "f2"}, "", "", nil)
	noIDCT, noIDBody := multipartBody(t, nil, "a.pdf", "application/pdf", pdf)
	closedCT, closedBody := multipartBody(t, map[string]string{"messageId": "f3"}, "a.pdf", "application/pdf", pdf)
	cases := []contractCase{
		{"healthz", main, "GET", "/healthz", "", "", "-", 200},
		{"openapi", main, "GET", "/v1/openapi.json", "", "", "-", 200},
		{"topics", main, "GET", "/v1/topics", "", "", "", 200},
		{"topics no token", main, "GET", "/v1/topics", "", "", "-", 401},
		{"topics wrong token", main, "GET", "/v1/topics", "", "", "Bearer nope", 401},
		{"availability", main, "GET", "/v1/availability?topic=Payroll", "", "", "", 200},
		{"availability offline", offline, "GET", "/v1/availability?topic=Payroll", "", "", "", 200},
		{"availability no topic", main, "GET", "/v1/availability", "", "", "", 400},
		{"availability unknown topic", main, "GET", "/v1/availability?topic=Nope", "", "", "", 400},
		{"availability no token", main, "GET", "/v1/availability?topic=Payroll", "", "", "-", 401},
		{"list unavailable", unavailable, "GET", "/v1/sessions", "", "", "", 503},
		{"start", main, "POST", "/v1/sessions", js, start, "", 201},
		{"start existing", main, "POST", "/v1/sessions", js, start, "", 200},
		{"start without web ui", bare, "POST", "/v1/sessions", js, `{"userId":"u-2","topic":"Payroll","description":"d"}`, "", 201},
		{"start malformed", main, "POST", "/v1/sessions", js, `{"userId":`, "", 400},
		{"start unknown key", main, "POST", "/v1/sessions", js, `{"userid":"u"}`, "", 400},
		{"start no token", main, "POST", "/v1/sessions", js, start, "-", 401},
		{"start offline", offline, "POST", "/v1/sessions", js, start, "", 409},
		{"start too large", main, "POST", "/v1/sessions", js, big, "", 413},
		{"start wrong type", main, "POST", "/v1/sessions", "text/plain", start, "", 415},
		{"start invalid", main, "POST", "/v1/sessions", js, `{"userId":"u-3","topic":"Nope","description":"d"}`, "", 422},
		{"start internal", internal, "POST", "/v1/sessions", js, start, "", 500},
		{"start unavailable", unavailable, "POST", "/v1/sessions", js, start, "", 503},
		{"start timeout", timeout, "POST", "/v1/sessions", js, start, "", 504},
		{"list", main, "GET", "/v1/sessions", "", "", "", 200},
		{"list no token", main, "GET", "/v1/sessions", "", "", "-", 401},
		{"list internal", internal, "GET", "/v1/sessions", "", "", "", 500},
		{"list timeout", timeout, "GET", "/v1/sessions", "", "", "", 504},
		{"state", main, "GET", "/v1/sessions/u-view", "", "", "", 200},
		{"state of a run", main, "GET", "/v1/sessions/u-view?runId=run-1", "", "", "", 200},
		{"state closed", main, "GET", "/v1/sessions/u-done", "", "", "", 200},
		{"state invalid", invalid, "GET", "/v1/sessions/u-view?runId=x", "", "", "", 422},
		{"state none", main, "GET", "/v1/sessions/nobody", "", "", "", 404},
		{"state no token", main, "GET", "/v1/sessions/u-view", "", "", "-", 401},
		{"message", main, "POST", "/v1/sessions/u-1/messages", js, `{"messageId":"m1","text":"hi"}`, "", 200},
		{"message duplicate", main, "POST", "/v1/sessions/u-1/messages", js, `{"messageId":"m1","text":"hi"}`, "", 200},
		{"message malformed", main, "POST", "/v1/sessions/u-1/messages", js, `[`, "", 400},
		{"message no token", main, "POST", "/v1/sessions/u-1/messages", js, `{"messageId":"m2","text":"hi"}`, "-", 401},
		{"message no session", main, "POST", "/v1/sessions/nobody/messages", js, `{"messageId":"m2","text":"hi"}`, "", 404},
		{"message too large", main, "POST", "/v1/sessions/u-1/messages", js, big, "", 413},
		{"message wrong type", main, "POST", "/v1/sessions/u-1/messages", "text/plain", `{}`, "", 415},
		{"message invalid", main, "POST", "/v1/sessions/u-1/messages", js, `{"text":"hi"}`, "", 422},
		{"message finished", main, "POST", "/v1/sessions/u-done/messages", js, `{"messageId":"m3","text":"hi"}`, "", 409},
		{"attachment", main, "POST", "/v1/sessions/u-1/attachments", fileCT, fileBody.String(), "", 200},
		{"attachment invalid", main, "POST", "/v1/sessions/u-1/attachments", noIDCT, noIDBody.String(), "", 422},
		{"attachment no file", main, "POST", "/v1/sessions/u-1/attachments", noFileCT, noFileBody.String(), "", 400},
		{"attachment no token", main, "POST", "/v1/sessions/u-1/attachments", fileCT, fileBody.String(), "-", 401},
		{"attachment no session", main, "POST", "/v1/sessions/nobody/attachments", fileCT, fileBody.String(), "", 404},
		{"attachment too large", main, "POST", "/v1/sessions/u-1/attachments", fileCT, big, "", 413},
		{"attachment wrong type", main, "POST", "/v1/sessions/u-1/attachments", js, `{}`, "", 415},
		{"close", main, "POST", "/v1/sessions/u-1/close", js, `{"requestId":"c1","reason":"done"}`, "", 200},
		{"close duplicate", main, "POST", "/v1/sessions/u-1/close", js, `{"requestId":"c1"}`, "", 200},
		{"close invalid", invalid, "POST", "/v1/sessions/u-1/close", "", "", "", 422},
		{"close finished", main, "POST", "/v1/sessions/u-done/close", "", "", "", 200},
		{"attachment closed", main, "POST", "/v1/sessions/u-1/attachments", closedCT, closedBody.String(), "", 409},
		{"message closed", main, "POST", "/v1/sessions/u-1/messages", js, `{"messageId":"m4","text":"hi"}`, "", 409},
		{"close again", main, "POST", "/v1/sessions/u-1/close", js, `{"requestId":"c2"}`, "", 409},
		{"close malformed", main, "POST", "/v1/sessions/u-1/close", js, `{"requestId":1}`, "", 400},
		{"close no token", main, "POST", "/v1/sessions/u-1/close", js, `{}`, "-", 401},
		{"close no session", main, "POST", "/v1/sessions/nobody/close", js, `{}`, "", 404},
		{"close too large", main, "POST", "/v1/sessions/u-1/close", js, big, "", 413},
		{"close wrong type", main, "POST", "/v1/sessions/u-1/close", "text/plain", `{}`, "", 415},
		{"file", main, "GET", "/v1/attachments/" + sum + "?name=a.pdf&type=application/pdf", "", "", "", 200},
		{"file signed", main, "GET", signedAt(sum, future), "", "", "-", 200},
		{"file bad id", main, "GET", "/v1/attachments/nope", "", "", "", 400},
		{"file no token", main, "GET", "/v1/attachments/" + sum, "", "", "-", 401},
		{"file expired", main, "GET", signedAt(sum, time.Now().Add(-time.Minute).Unix()), "", "", "-", 403},
		{"file links off", bare, "GET", signedAt(sum, future), "", "", "-", 403},
		{"file missing", main, "GET", "/v1/attachments/" + strings.Repeat("0", 64), "", "", "", 404},
		{"file no store", bare, "GET", "/v1/attachments/" + sum, "", "", "", 404},
	}
	cases = append(cases, presenceContractCases(main)...)
	cases = append(cases, surveyContractCases(main)...)
	seen := map[string]bool{}
	for _, tc := range cases {
		var failures []error
		h := doc.Middleware(tc.gw, func(err error) { failures = append(failures, err) })
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.body == "" {
			req = httptest.NewRequest(tc.method, tc.path, nil)
		}
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		switch tc.auth {
		case "":
			req.Header.Set("Authorization", "Bearer "+token)
		case "-":
		default:
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if assert.Equal(t, tc.want, rec.Code, "%s: %s", tc.name, rec.Body) {
			assert.Empty(t, failures, tc.name)
		}
		seen[doc.Route(tc.method, req.URL.EscapedPath())+" "+strconv.Itoa(rec.Code)] = true
	}
	// Every documented status of every route was answered, except the
	// failures of the session service on the routes not driven into them.
	for _, route := range doc.Routes() {
		for _, status := range doc.Statuses(route) {
			if !seen[route+" "+status] && !exempt[status] {
				t.Errorf("%s %s: documented, not exercised", route, status)
			}
		}
	}
}

// exempt statuses need not be exercised on every route: the session
// service failing is driven on start and list only.
var exempt = map[string]bool{"500": true, "503": true, "504": true}

// invalidSessions refuses closes and state queries as invalid, as starter
// does for a malformed user id, request id or run id.
type invalidSessions struct{ *fakeSessions }

func (invalidSessions) Close(context.Context, string, string, string) (workflows.UpdateResult, error) {
	return workflows.UpdateResult{}, fmt.Errorf("%w: reason must be valid UTF-8", starter.ErrInvalid)
}

func (invalidSessions) StateOfRun(context.Context, string, string) (*workflows.SessionView, error) {
	return nil, fmt.Errorf("%w: run id \"x\" is not a UUID", starter.ErrInvalid)
}

// newGateway is a gateway on sessions with the harness's options.
func newGateway(t *testing.T, sessions gateway.Sessions, mutate func(*gateway.Options)) *gateway.Gateway {
	t.Helper()
	opts := gateway.Options{
		Sessions: sessions, BearerToken: token, Topics: []string{"Payroll", "Benefits"}, MaxBodyBytes: 64 << 10,
		WorkflowURL: func(id string) string { return "http://ui.test/namespaces/default/workflows/" + id },
	}
	if mutate != nil {
		mutate(&opts)
	}
	g, err := gateway.New(opts)
	require.NoError(t, err)
	return g
}
