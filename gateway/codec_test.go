package gateway_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/gateway"
)

// The codec endpoint is mounted under /codec/ with its own authorisation:
// the operator token opens it, the assistants' bearer token does not.
func TestCodecEndpointMounted(t *testing.T) {
	ring, err := codec.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{1}, codec.KeySize)})
	require.NoError(t, err)
	ch, err := codec.NewHandler(ring, codec.HandlerOptions{
		BearerToken: "operator-token-0123456789abcdef0123456789abcdef",
		CORSOrigins: []string{"http://127.0.0.1:8233"},
	})
	require.NoError(t, err)
	h := newHarness(t, func(o *gateway.Options) { o.Codec = ch })

	body := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"ImhpIg=="}]}`
	resp, _ := h.do(http.MethodPost, "/codec/encode", "application/json", strings.NewReader(body), "Bearer "+token)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the assistants' token does not open the codec")

	resp, data := h.do(http.MethodPost, "/codec/encode", "application/json", strings.NewReader(body), "Bearer operator-token-0123456789abcdef0123456789abcdef")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
	assert.Contains(t, string(data), "YmluYXJ5L2VuY3J5cHRlZA==", "base64 of binary/encrypted")

	// CORS preflight from the Web UI needs no credentials.
	req, err := http.NewRequest(http.MethodOptions, h.srv.URL+"/codec/decode", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	req.Header.Set("Access-Control-Request-Method", "POST")
	pre, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	pre.Body.Close()
	assert.Less(t, pre.StatusCode, 300)
	assert.Equal(t, "http://127.0.0.1:8233", pre.Header.Get("Access-Control-Allow-Origin"))

	// Without Options.Codec there is no such endpoint.
	plain := newHarness(t)
	resp, _ = plain.do(http.MethodPost, "/codec/decode", "application/json", strings.NewReader(body), "Bearer operator-token-0123456789abcdef0123456789abcdef")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
