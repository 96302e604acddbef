package gateway_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const linkSecret = "0123456789abcdef0123456789abcdef-file-links"

// signedAt builds a link as the documented scheme does, with any expiry.
func signedAt(sum string, expires int64) string {
	e := strconv.FormatInt(expires, 10)
	m := hmac.New(sha256.New, []byte(linkSecret))
	m.Write([]byte("liveagent-file-v1\n" + sum + "\n" + e))
	return "/v1/attachments/" + sum + "?expires=" + e + "&sig=" + hex.EncodeToString(m.Sum(nil))
}

// A signed, unexpired link opens a stored file without the bearer token;
// expired and forged links get 403 with the reason; the bearer token still
// works; the transcript's attachment links come signed.
func TestSignedAttachmentLinks(t *testing.T) {
	pdf := []byte("%PDF-1.4 signed")
	s := sha256.Sum256(pdf)
	sum := hex.EncodeToString(s[:])
	links, err := attachstore.NewLinkSigner(linkSecret, time.Hour)
	require.NoError(t, err)
	h := newHarness(t, func(o *gateway.Options) { o.Files = fakeFiles{sum: pdf}; o.Links = links })

	link := links.Sign(h.srv.URL+"/v1/attachments/"+sum, sum)
	resp, err := http.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a fresh signed link needs no token")

	future := time.Now().Add(time.Hour).Unix()
	resp, data := h.do(http.MethodGet, signedAt(sum, future)+"&name=a.pdf", "", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	assert.Equal(t, pdf, data)

	for name, tc := range map[string]struct {
		path, reason string
	}{
		"expired":        {signedAt(sum, time.Now().Add(-time.Minute).Unix()), "link expired"},
		"expiry changed": {strings.Replace(signedAt(sum, future), "expires=", "expires=1", 1), "link signature invalid"},
		"other file":     {strings.Replace(signedAt(strings.Repeat("0", 64), future), strings.Repeat("0", 64), sum, 1), "link signature invalid"},
		"no signature":   {"/v1/attachments/" + sum + "?expires=" + strconv.FormatInt(future, 10), "link signature invalid"},
		"garbage expiry": {"/v1/attachments/" + sum + "?expires=soon&sig=00", "link signature invalid"},
	} {
		resp, data := h.do(http.MethodGet, tc.path, "", nil, "")
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
		var body map[string]string
		require.NoError(t, json.Unmarshal(data, &body), name)
		assert.Equal(t, tc.reason, body["error"], name)
	}

	// The bearer token keeps working, without a signature or with an
	// expired one.
	resp, _ = h.do(http.MethodGet, "/v1/attachments/"+sum, "", nil, "Bearer "+token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = h.do(http.MethodGet, signedAt(sum, time.Now().Add(-time.Minute).Unix()), "", nil, "Bearer "+token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = h.do(http.MethodGet, "/v1/attachments/"+sum, "", nil, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The transcript's links are signed (the workflow keeps the plain URL).
	h.fake.mu.Lock()
	h.fake.stateView = &workflows.SessionView{State: workflows.StateActive, UserID: "u-links", Transcript: []workflows.TranscriptEntry{
		{ID: "e1", From: workflows.FromAgent, Attachment: &workflows.AttachmentRef{Name: "a.pdf", SHA256: sum, URL: h.srv.URL + "/v1/attachments/" + sum}},
	}}
	h.fake.mu.Unlock()
	status, st := h.json(http.MethodGet, "/v1/sessions/u-links", "")
	require.Equal(t, http.StatusOK, status)
	raw := st["transcript"].([]any)[0].(map[string]any)["attachment"].(map[string]any)["url"].(string)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	require.NoError(t, links.Verify(sum, u.Query().Get("expires"), u.Query().Get("sig")), raw)
	resp, err = http.Get(raw)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// Without a link secret, a signed-looking link is refused with a reason.
func TestSignedLinksNotConfigured(t *testing.T) {
	h := newHarness(t, func(o *gateway.Options) { o.Files = fakeFiles{} })
	resp, data := h.do(http.MethodGet, signedAt(strings.Repeat("a", 64), time.Now().Add(time.Hour).Unix()), "", nil, "")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, string(data), "attachments.link_secret")
}
