package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
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
	g, err := gateway.New(gateway.Options{
		Sessions:     s.starter,
		Files:        s.store,
		BearerToken:  gatewayToken,
		Topics:       s.cfg.Session.Topics,
		MaxBodyBytes: s.cfg.Gateway.MaxBodyBytes,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
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

// Files through the gateway: an agent's file larger than the user upload
// limit (session.max_attachment_bytes, 5 MiB) but within
// attachments.max_download_bytes (25 MiB) reaches the user whole.
func TestGatewayFiles(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	_, srv := newGateway(t, s)
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
}
