package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const gatewayToken = "e2e-gateway-token-0123456789abcdef0123456789abcdef"

// gatewayClient talks to the gateway like an assistant in another language
// would: plain HTTP and JSON.
type gatewayClient struct {
	t    *testing.T
	base string
}

func (c *gatewayClient) call(method, path, contentType string, body io.Reader, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+gatewayToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(data, out), "%s %s answered %d %q", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

func (c *gatewayClient) postJSON(path string, in, out any) int {
	c.t.Helper()
	b, err := json.Marshal(in)
	require.NoError(c.t, err)
	return c.call(http.MethodPost, path, "application/json", bytes.NewReader(b), out)
}

func (c *gatewayClient) state(user string) gateway.SessionStateResponse {
	c.t.Helper()
	var st gateway.SessionStateResponse
	require.Equal(c.t, http.StatusOK, c.call(http.MethodGet, "/v1/sessions/"+user, "", nil, &st))
	return st
}

// A whole session driven through the gateway HTTP API on a real Temporal
// server, the production worker and the MIAW emulator. Every answer of the
// gateway and every delivery is checked against the OpenAPI document.
func TestGatewaySession(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	contract := newContract(t)
	g, err := gateway.New(gateway.Options{
		Sessions:     s.starter,
		Files:        s.store,
		BearerToken:  gatewayToken,
		Topics:       s.cfg.Session.Topics,
		MaxBodyBytes: s.cfg.Gateway.MaxBodyBytes,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(contract.wrap(g))
	t.Cleanup(srv.Close)
	c := &gatewayClient{t: t, base: srv.URL}
	const user = "u-gateway"

	// The unauthenticated routes: liveness and the document itself.
	for _, path := range []string{"/healthz", "/v1/openapi.json"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	var avail gateway.AvailabilityResponse
	require.Equal(t, http.StatusOK, c.call(http.MethodGet, "/v1/availability?topic=HR", "", nil, &avail))
	assert.True(t, avail.Available)

	var topics gateway.TopicsResponse
	require.Equal(t, http.StatusOK, c.call(http.MethodGet, "/v1/topics", "", nil, &topics))
	assert.Equal(t, s.cfg.Session.Topics, topics.Topics)

	// Start, then a retried start returns the same session.
	req := gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "I need a new badge"}
	var started, again gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions", req, &started))
	assert.Equal(t, workflows.WorkflowID(user), started.WorkflowID)
	assert.False(t, started.Existing)
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions", req, &again))
	assert.True(t, again.Existing)
	assert.Equal(t, started.RunID, again.RunID)

	// A validation error names the problem.
	var bad gateway.ErrorResponse
	require.Equal(t, http.StatusUnprocessableEntity,
		c.postJSON("/v1/sessions", gateway.StartSessionRequest{UserID: "u-other", Topic: "Gardening", Description: "x"}, &bad))
	assert.Contains(t, bad.Error, `topic "Gardening" is not configured`)

	conv := s.conversationOf(t, user)
	var list gateway.SessionsResponse
	eventually(t, "the session listed as open", func() bool {
		if c.call(http.MethodGet, "/v1/sessions", "", nil, &list) != http.StatusOK {
			return false
		}
		for _, o := range list.Sessions {
			if o.UserID == user && o.ConversationID == conv {
				return true
			}
		}
		return false
	})

	// A message while waiting is queued; its retry is not queued twice.
	var res gateway.UpdateResponse
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: "gw-1", Text: "Anyone there?"}, &res))
	assert.Equal(t, string(workflows.UpdateQueued), res.Status)
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: "gw-1", Text: "Anyone there?"}, &res))
	assert.Contains(t, []string{string(workflows.UpdateQueued), string(workflows.UpdateDuplicate)}, res.Status)

	require.NoError(t, s.emu.Accept(conv, agentName))
	s.awaitUserEntry(t, conv, "the queued message", func(e emulator.TranscriptEntry) bool { return e.Text == "Anyone there?" })
	eventually(t, "state active", func() bool {
		st := c.state(user)
		return st.State == string(workflows.StateActive) && st.AgentName == agentName
	})

	// A message once active, retried with the same id: sent once.
	for range 2 {
		require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
			gateway.SendMessageRequest{MessageID: "gw-2", Text: "My badge stopped working"}, &res))
		assert.Contains(t, []string{string(workflows.UpdateSent), string(workflows.UpdateDuplicate)}, res.Status)
	}
	s.awaitUserEntry(t, conv, "the message", func(e emulator.TranscriptEntry) bool { return e.Text == "My badge stopped working" })
	assert.Equal(t, 1, countUserTexts(s.emu.Transcript(conv), "Anyone there?"), "queued message sent once")
	assert.Equal(t, 1, countUserTexts(s.emu.Transcript(conv), "My badge stopped working"), "retried message sent once")

	// An attachment upload (multipart) reaches the agent with its bytes.
	photo := bytes.Repeat([]byte("badge-photo "), 100)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("messageId", "gw-file-1"))
	require.NoError(t, mw.WriteField("caption", "photo of the badge"))
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="file"; filename="badge.txt"`)
	hdr.Set("Content-Type", "text/plain")
	part, err := mw.CreatePart(hdr)
	require.NoError(t, err)
	_, err = part.Write(photo)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	require.Equal(t, http.StatusOK, c.call(http.MethodPost, "/v1/sessions/"+user+"/attachments", mw.FormDataContentType(), &body, &res))
	assert.Equal(t, string(workflows.UpdateSent), res.Status)
	entry := s.awaitUserEntry(t, conv, "the user's file", func(e emulator.TranscriptEntry) bool { return e.Attachment != nil })
	assert.Equal(t, sha(photo), entry.Attachment.SHA256)
	assert.Equal(t, "badge.txt", entry.Attachment.Name)

	// The agent shares a file; the user fetches it from the gateway.
	form := []byte("Badge replacement form\n")
	_, err = s.emu.AgentSendFile(conv, "badge-form.txt", "text/plain", form)
	require.NoError(t, err)
	file := s.sink.await(t, user, "agent file", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Attachment != nil
	})
	getReq, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/attachments/"+file.Attachment.SHA256+"?name=badge-form.txt&type=text/plain", nil)
	require.NoError(t, err)
	getReq.Header.Set("Authorization", "Bearer "+gatewayToken)
	resp, err := http.DefaultClient.Do(getReq)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, form, got)
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename=badge-form.txt`, resp.Header.Get("Content-Disposition"))

	// State and transcript as the user sees them.
	st := c.state(user)
	var texts []string
	for _, e := range st.Transcript {
		texts = append(texts, e.Text)
	}
	assert.Subset(t, texts, []string{"I need a new badge", "Anyone there?", "My badge stopped working"})

	// The user closes; a retried close is fine; a message afterwards is a conflict.
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close",
		gateway.CloseRequest{RequestID: "gw-close", Reason: "resolved"}, &res))
	assert.Equal(t, string(workflows.UpdateClosed), res.Status)
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close",
		gateway.CloseRequest{RequestID: "gw-close", Reason: "resolved"}, &res))
	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	require.NotNil(t, closed.Summary)
	var final gateway.SessionStateResponse
	require.Equal(t, http.StatusOK, c.call(http.MethodGet, activities.TranscriptPath(user, closed.Summary.RunID), "", nil, &final))
	assert.Equal(t, string(workflows.StateClosed), final.State)
	eventually(t, "state closed", func() bool { return c.state(user).State == string(workflows.StateClosed) })
	var conflict gateway.ErrorResponse
	require.Equal(t, http.StatusConflict, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: "gw-3", Text: "one more thing"}, &conflict))
	assert.Contains(t, conflict.Error, "closed")
	assert.Equal(t, 0, countUserTexts(s.emu.Transcript(conv), "one more thing"))

	// Without the token nothing happens.
	unauth, err := http.Post(srv.URL+"/v1/sessions", "application/json",
		strings.NewReader(fmt.Sprintf(`{"userId":%q,"topic":"HR","description":"x"}`, "u-intruder")))
	require.NoError(t, err)
	unauth.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, unauth.StatusCode)

	srv.Close() // every exchange has been validated
	kinds := contract.check(t, s.sink.forUser(user))
	for _, k := range []workflows.DeliveryKind{workflows.DeliverAgentMessage, workflows.DeliverSystem, workflows.DeliverClosed} {
		assert.True(t, kinds[string(k)], "a %s delivery was checked", k)
	}
}
