package e2e

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// newGateway serves the assistant gateway of s on loopback.
func newGateway(t *testing.T, s *stack) (*gatewayClient, *httptest.Server) {
	t.Helper()
	links, err := s.cfg.LinkSigner()
	require.NoError(t, err)
	g, err := gateway.New(gateway.Options{
		Sessions:     s.starter,
		Files:        s.store,
		Links:        links,
		BearerToken:  gatewayToken,
		Topics:       s.cfg.Session.Topics,
		MaxBodyBytes: s.cfg.Gateway.MaxBodyBytes,
	})
	require.NoError(t, err)
	srv := serveChecked(t, g)
	return &gatewayClient{t: t, base: srv.URL}, srv
}

// fetch GETs url with the gateway bearer token when bearer is set.
func fetch(t *testing.T, url string, bearer bool) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if bearer {
		req.Header.Set("Authorization", "Bearer "+gatewayToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// upload posts a file to the gateway as the assistant would and returns the
// status and the decoded JSON answer.
func upload(t *testing.T, c *gatewayClient, user, messageID, name, mimeType string, content []byte) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("messageId", messageID))
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	hdr.Set("Content-Type", mimeType)
	part, err := mw.CreatePart(hdr)
	require.NoError(t, err)
	_, err = part.Write(content)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	var out map[string]any
	status := c.call(http.MethodPost, "/v1/sessions/"+user+"/attachments", mw.FormDataContentType(), &body, &out)
	return status, out
}

// Files through the gateway:
//   - the link to an agent's file in the delivery and in the transcript is
//     signed and expiring: a browser opens it without any secret;
//   - an agent's file larger than the user upload limit
//     (session.max_attachment_bytes, 5 MiB) but within
//     attachments.max_download_bytes (25 MiB) reaches the user whole;
//   - a user file Salesforce refuses as too large (413) or of a refused type
//     (415) while an agent is active is answered 413 / 415 with Salesforce's
//     reason, and the session carries on.
func TestGatewayFiles(t *testing.T) {
	s := newBackendWith(t, emulator.Config{
		MaxFileBytes:     1 << 20,
		BlockedMimeTypes: append(slices.Clone(emulator.DefaultBlockedMimeTypes), "application/zip"),
	})
	s.cfg.Attachments.LinkSecret = "e2e-file-link-secret-0123456789abcdef0123456789"
	require.NoError(t, s.cfg.Validate())
	c, srv := newGateway(t, s)
	s.cfg.Attachments.PublicURL = srv.URL + "/v1/attachments" // the worker's links point at this gateway
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	const user = "u-files"
	_, conv := s.startAccepted(t, user, "I need the big handbook")

	handbook := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16) // 6 MiB
	require.Greater(t, int64(len(handbook)), s.cfg.Session.MaxAttachmentBytes)
	_, err := s.emu.AgentSendFile(conv, "handbook.pdf", "application/pdf", handbook)
	require.NoError(t, err)
	file := s.sink.await(t, user, "the 6 MiB agent file", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Attachment != nil
	})
	assert.Equal(t, int64(len(handbook)), file.Attachment.Size)
	assert.Equal(t, sha(handbook), file.Attachment.SHA256)
	status, got := fetch(t, srv.URL+"/v1/attachments/"+file.Attachment.SHA256, true)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, sha(handbook), sha(got))

	// The delivered link is signed: no token needed.
	require.True(t, strings.HasPrefix(file.Attachment.URL, srv.URL+"/v1/attachments/"+file.Attachment.SHA256+"?"), file.Attachment.URL)
	assert.Contains(t, file.Attachment.URL, "sig=")
	status, got = fetch(t, file.Attachment.URL, false)
	require.Equal(t, http.StatusOK, status, "%s", got)
	assert.Equal(t, sha(handbook), sha(got))
	// So is the transcript's, and a forged one is refused with the reason.
	var transcriptURL string
	for _, e := range c.state(user).Transcript {
		if e.Attachment != nil && e.Attachment.SHA256 == file.Attachment.SHA256 {
			transcriptURL = e.Attachment.URL
		}
	}
	status, _ = fetch(t, transcriptURL, false)
	assert.Equal(t, http.StatusOK, status, transcriptURL)
	status, got = fetch(t, strings.Replace(file.Attachment.URL, "sig=", "sig=0", 1), false)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, string(got), "link signature invalid")

	// Salesforce (the emulator, set to 1 MiB) refuses a 2 MiB user file that
	// is within our own 5 MiB limit: 413 with its reason.
	status, out := upload(t, c, user, "too-big-1", "scan.pdf", "application/pdf", bytes.Repeat([]byte("s"), 2<<20))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, "%v", out)
	assert.Contains(t, out["error"], "The file is too large")
	// A type Salesforce refuses: 415 with its reason.
	status, out = upload(t, c, user, "zip-1", "logs.zip", "application/zip", []byte("PK\x03\x04 zip bytes"))
	assert.Equal(t, http.StatusUnsupportedMediaType, status, "%v", out)
	assert.Contains(t, out["error"], "application/zip isn't supported")
	// The session carries on.
	var res gateway.UpdateResponse
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: "after-refusals", Text: "still there?"}, &res))
	assert.Equal(t, string(workflows.UpdateSent), res.Status)
}

// A file the user sends while waiting for an agent is kept (queued) and sent
// once one accepts; if Salesforce then refuses it (413 too large, 415 type),
// no caller is left to answer, so the user is told by a notice naming the
// file, and the session carries on.
func TestQueuedFileRefusedIsExplained(t *testing.T) {
	s := newBackendWith(t, emulator.Config{
		MaxFileBytes:     1 << 20,
		BlockedMimeTypes: append(slices.Clone(emulator.DefaultBlockedMimeTypes), "application/zip"),
	})
	c, _ := newGateway(t, s)
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	const user = "u-queued-files"
	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "My scan and logs"}, &started))
	conv := s.conversationOf(t, user)

	// Both files are within our own 5 MiB limit, so both are kept.
	status, out := upload(t, c, user, "queued-big", "scan.pdf", "application/pdf", bytes.Repeat([]byte("s"), 2<<20))
	require.Equal(t, http.StatusOK, status, "%v", out)
	assert.Equal(t, string(workflows.UpdateQueued), out["status"])
	status, out = upload(t, c, user, "queued-zip", "logs.zip", "application/zip", []byte("PK\x03\x04 zip bytes"))
	require.Equal(t, http.StatusOK, status, "%v", out)
	assert.Equal(t, string(workflows.UpdateQueued), out["status"])
	var res gateway.UpdateResponse
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: "queued-text", Text: "Did you get my files?"}, &res))
	assert.Equal(t, string(workflows.UpdateQueued), res.Status)

	require.NoError(t, s.emu.Accept(conv, agentName))
	tooBig := s.sink.await(t, user, "the notice naming the refused large file", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && strings.Contains(d.Text, `"scan.pdf"`)
	})
	assert.Contains(t, tooBig.Text, "too large")
	refused := s.sink.await(t, user, "the notice naming the refused file type", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && strings.Contains(d.Text, `"logs.zip"`)
	})
	assert.Contains(t, refused.Text, "does not accept files like")
	// The message kept behind them still reaches the agent, and nothing of
	// the refused files does.
	s.awaitUserEntry(t, conv, "the text kept behind the refused files", func(e emulator.TranscriptEntry) bool {
		return e.Text == "Did you get my files?"
	})
	for _, e := range s.emu.Transcript(conv) {
		assert.Nil(t, e.Attachment, "a refused file reached the agent: %+v", e)
	}
	// The assistant may send a smaller scan instead, and now it is sent.
	eventually(t, user+" active", func() bool { return c.state(user).State == string(workflows.StateActive) })
	status, out = upload(t, c, user, "smaller-scan", "scan-small.pdf", "application/pdf", []byte("small scan"))
	require.Equal(t, http.StatusOK, status, "%v", out)
	assert.Equal(t, string(workflows.UpdateSent), out["status"])
}

// A user file Salesforce accepted (202) and then reports as failed (its
// asynchronous upload result, a MessageUpdated entry) is told to the user as
// a failure naming the file, once, with a text for Salesforce's reason.
func TestLateUploadFailureIsTold(t *testing.T) {
	s := newBackend(t, emulator.Faults{})
	c, _ := newGateway(t, s)
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	const user = "u-late-upload"
	_, conv := s.startAccepted(t, user, "Here is my report")

	for _, f := range []struct{ id, name string }{{"Report-1", "report.pdf"}, {"photo-1", "photo.png"}} {
		status, out := upload(t, c, user, f.id, f.name, "application/octet-stream", []byte("bytes of "+f.name))
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, string(workflows.UpdateSent), out["status"])
	}
	// Salesforce names the file's message by the id the bridge sent it with.
	miawID := func(name string) string {
		for _, e := range s.emu.Transcript(conv) {
			if e.Attachment != nil && e.Attachment.Name == name {
				return e.MessageID
			}
		}
		t.Fatalf("%s not at the emulator", name)
		return ""
	}
	_, err := s.emu.FailUpload(conv, miawID("report.pdf"), "StorageLimitExceeded")
	require.NoError(t, err)
	failed := s.sink.await(t, user, "the late failure of report.pdf", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && strings.Contains(d.Text, `"report.pdf"`)
	})
	assert.Equal(t, `Sorry, your file "report.pdf" did not reach the agent after all.`, failed.Text)
	_, err = s.emu.FailUpload(conv, miawID("photo.png"), "AttachmentTooLarge")
	require.NoError(t, err)
	tooLarge := s.sink.await(t, user, "the late failure of photo.png", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && strings.Contains(d.Text, `"photo.png"`)
	})
	assert.Contains(t, tooLarge.Text, "too large")

	// The chat carries on, and each failure was told once.
	_, err = s.emu.AgentSend(conv, "Could you send it again, smaller?")
	require.NoError(t, err)
	s.sink.await(t, user, "the agent's next message", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Text == "Could you send it again, smaller?"
	})
	told := 0
	for _, d := range s.sink.forUser(user) {
		if d.Kind == workflows.DeliverSystem && strings.Contains(d.Text, `"report.pdf"`) {
			told++
		}
	}
	assert.Equal(t, 1, told, "the failure of report.pdf told once")
	var inTranscript bool
	for _, e := range c.state(user).Transcript {
		inTranscript = inTranscript || e.Text == failed.Text
	}
	assert.True(t, inTranscript, "the failure notice is in the transcript")
}
