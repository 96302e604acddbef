package codec_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liveagent-bridge/liveagent/codec"
)

const (
	uiOrigin = "http://127.0.0.1:8233"
	token    = "operator-token-123-0123456789abcdef0123456789abcdef"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newCodecServer(t *testing.T, opts codec.HandlerOptions) *httptest.Server {
	t.Helper()
	return newCodecServerWithRing(t, ring(t, "k1", map[string][]byte{"k1": newKey(t)}), opts)
}

func newCodecServerWithRing(t *testing.T, r *codec.Keyring, opts codec.HandlerOptions) *httptest.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	h, err := codec.NewHandler(r, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func payloadsBody(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	return string(b)
}

func post(t *testing.T, url, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readPayloads(t *testing.T, resp *http.Response) []*commonpb.Payload {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(b, &out), string(b))
	return out.Payloads
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestHandlerEncodeDecode(t *testing.T) {
	srv := newCodecServer(t, codec.HandlerOptions{CORSOrigins: []string{uiOrigin}, BearerToken: token})
	auth := map[string]string{"Authorization": "Bearer " + token, "Origin": uiOrigin, "X-Namespace": "default"}

	resp := post(t, srv.URL+"/encode", payloadsBody(t, jsonPayload(t, secret)), auth)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	enc := readPayloads(t, resp)
	require.Len(t, enc, 1)
	require.Equal(t, codec.EncodingEncrypted, string(enc[0].Metadata[converter.MetadataEncoding]))
	require.NotContains(t, string(enc[0].Data), "078-05-1120")

	// The UI decodes what is in history: encrypted and plain payloads mixed.
	plain := jsonPayload(t, "not encrypted")
	dec := readPayloads(t, post(t, srv.URL+"/decode", payloadsBody(t, enc[0], plain), auth))
	require.Len(t, dec, 2)
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &s))
	require.Equal(t, secret, s)
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[1], &s))
	require.Equal(t, "not encrypted", s)

	// Mounted under a prefix, as the UI allows (endpoint + "/decode").
	dec = readPayloads(t, post(t, srv.URL+"/codec/decode", payloadsBody(t, enc[0]), auth))
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &s))
	require.Equal(t, secret, s)

	// A tampered payload is a 400 naming the problem, not a crash or plaintext.
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	resp = post(t, srv.URL+"/decode", payloadsBody(t, enc[0]), auth)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, bodyOf(t, resp), "failed authentication")

	resp = post(t, srv.URL+"/decode", "{not json", auth)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestHandlerCORSPreflight(t *testing.T) {
	srv := newCodecServer(t, codec.HandlerOptions{CORSOrigins: []string{uiOrigin}, BearerToken: token})

	preflight := func(origin string) *http.Response {
		req, err := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	// No credentials on a preflight, yet it succeeds for the allowed origin.
	resp := preflight(uiOrigin)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")
	allowHeaders := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "content-type", "x-namespace"} {
		require.Contains(t, allowHeaders, h)
	}

	resp = preflight("http://evil.example")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	// A real request from an unlisted origin gets no CORS grant (the browser
	// then hides the response), even with a valid token.
	resp = post(t, srv.URL+"/decode", payloadsBody(t), map[string]string{"Authorization": "Bearer " + token, "Origin": "http://evil.example"})
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestHandlerRejectsUnauthenticated(t *testing.T) {
	srv := newCodecServer(t, codec.HandlerOptions{CORSOrigins: []string{uiOrigin}, BearerToken: token})
	enc, err := codec.NewCodec(ring(t, "other", map[string][]byte{"other": newKey(t)})).Encode([]*commonpb.Payload{jsonPayload(t, secret)})
	require.NoError(t, err)
	body := payloadsBody(t, enc...)

	for name, hdr := range map[string]map[string]string{
		"no header":    {"Origin": uiOrigin},
		"wrong token":  {"Authorization": "Bearer nope", "Origin": uiOrigin},
		"basic scheme": {"Authorization": "Basic " + token},
		"empty bearer": {"Authorization": "Bearer "},
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/decode", "/encode"} {
				resp := post(t, srv.URL+path, body, hdr)
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
				b := bodyOf(t, resp)
				require.NotContains(t, b, "078-05-1120")
				require.NotContains(t, b, token)
			}
		})
	}

	resp := post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "bearer " + token})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "right token, but encrypted with a key this server lacks")
	require.Contains(t, bodyOf(t, resp), "unknown encryption key id")
}

func TestHandlerAuthorizeHookAndNamespaces(t *testing.T) {
	errNotOperator := errors.New("user is not an operator")
	srv := newCodecServer(t, codec.HandlerOptions{
		Namespaces: []string{"prod"},
		Authorize: func(r *http.Request) error {
			switch r.Header.Get("X-User") {
			case "":
				return codec.ErrUnauthorized
			case "alice":
				return nil
			default:
				return errNotOperator
			}
		},
	})
	body := payloadsBody(t, jsonPayload(t, "x"))

	require.Equal(t, http.StatusUnauthorized, post(t, srv.URL+"/decode", body, map[string]string{"X-Namespace": "prod"}).StatusCode)
	resp := post(t, srv.URL+"/decode", body, map[string]string{"X-Namespace": "prod", "X-User": "bob"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, bodyOf(t, resp), "not an operator")
	resp = post(t, srv.URL+"/decode", body, map[string]string{"X-Namespace": "dev", "X-User": "alice"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, bodyOf(t, resp), `namespace "dev" not allowed`)
	require.Len(t, readPayloads(t, post(t, srv.URL+"/decode", body, map[string]string{"X-Namespace": "prod", "X-User": "alice"})), 1)
}

func TestHandlerLimitsAndMethods(t *testing.T) {
	srv := newCodecServer(t, codec.HandlerOptions{BearerToken: token, MaxBodyBytes: 1024})
	auth := map[string]string{"Authorization": "Bearer " + token}

	resp := post(t, srv.URL+"/encode", payloadsBody(t, jsonPayload(t, strings.Repeat("a", 4096))), auth)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	resp, err := http.Get(srv.URL + "/decode")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	require.Equal(t, http.StatusNotFound, post(t, srv.URL+"/other", "{}", auth).StatusCode)
}

func TestNewHandlerRequiresAuthorisation(t *testing.T) {
	r := ring(t, "k1", map[string][]byte{"k1": newKey(t)})
	_, err := codec.NewHandler(r, codec.HandlerOptions{})
	require.ErrorContains(t, err, "set BearerToken or Authorize")
	_, err = codec.NewHandler(r, codec.HandlerOptions{BearerToken: "t", CORSOrigins: []string{"http://ui:8233/"}})
	require.ErrorContains(t, err, "codec.cors_origins")

	h, err := codec.NewHandler(r, codec.HandlerOptions{AllowUnauthenticated: true, Logger: quietLogger()})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	require.Len(t, readPayloads(t, post(t, srv.URL+"/encode", payloadsBody(t, jsonPayload(t, "x")), nil)), 1)
}

// With "*" any origin may call, but never with credentials: otherwise any
// site could make an operator's browser decrypt history. A listed origin
// keeps them.
func TestHandlerWildcardOriginGetsNoCredentials(t *testing.T) {
	srv := newCodecServer(t, codec.HandlerOptions{CORSOrigins: []string{uiOrigin, "*"}, BearerToken: token})
	resp := post(t, srv.URL+"/encode", payloadsBody(t, jsonPayload(t, "x")),
		map[string]string{"Authorization": "Bearer " + token, "Origin": "https://evil.example"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "https://evil.example", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))

	resp = post(t, srv.URL+"/encode", payloadsBody(t, jsonPayload(t, "x")),
		map[string]string{"Authorization": "Bearer " + token, "Origin": uiOrigin})
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))

	// A token of another length is refused like any wrong token.
	resp = post(t, srv.URL+"/encode", payloadsBody(t, jsonPayload(t, "x")), map[string]string{"Authorization": "Bearer " + token + "x"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
