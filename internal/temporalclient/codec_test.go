package temporalclient

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/config"
)

func codecConfig() *config.Config {
	cfg := config.Default()
	cfg.Temporal.Namespace = "hr"
	cfg.Codec.Enabled = true
	cfg.Codec.ActiveKeyID = "k1"
	cfg.Codec.Keys = map[string]string{"k1": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))}
	return cfg
}

func TestEncryptionOptions(t *testing.T) {
	opts, err := EncryptionOptions(config.Default())
	require.NoError(t, err)
	assert.Empty(t, opts, "codec off: no options")

	bad := codecConfig()
	bad.Codec.Keys["k1"] = "dG9vLXNob3J0" // "too-short"
	_, err = EncryptionOptions(bad)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `config: codec.keys["k1"]: `), err.Error())
	assert.NotContains(t, err.Error(), "dG9vLXNob3J0")

	opts, err = EncryptionOptions(codecConfig())
	require.NoError(t, err)
	o, err := ClientOptions(codecConfig(), nil, opts...)
	require.NoError(t, err)
	require.NotNil(t, o.DataConverter)
	require.NotNil(t, o.FailureConverter)
	p, err := o.DataConverter.ToPayload("secret chat text")
	require.NoError(t, err)
	assert.Equal(t, codec.EncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]))
	assert.Equal(t, "k1", string(p.GetMetadata()[codec.MetadataKeyID]))
	assert.NotContains(t, string(p.GetData()), "secret chat text")
	var back string
	require.NoError(t, o.DataConverter.FromPayload(p, &back))
	assert.Equal(t, "secret chat text", back)

	// The failure converter encrypts messages too.
	f := o.FailureConverter.ErrorToFailure(errors.New("user said: secret chat text"))
	assert.NotContains(t, f.GetMessage(), "secret chat text")
}

func TestNewCodecHandler(t *testing.T) {
	cfg := codecConfig()
	ring, err := Keyring(cfg)
	require.NoError(t, err)

	_, err = NewCodecHandler(cfg, ring, nil)
	var fe *config.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "codec.operator_token", fe.Key)

	cfg.Codec.OperatorToken = "op-token-0123456789abcdef0123456789abcdef"
	cfg.Codec.CORSOrigins = []string{"http://127.0.0.1:8233"}
	h, err := NewCodecHandler(cfg, ring, nil)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/codec/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	enc, err := codec.NewCodec(ring).Encode([]*commonpb.Payload{{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(`"hello agent"`),
	}})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)

	post := func(token string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/codec/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "hr")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := post("")
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = post("wrong")
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp = post("op-token-0123456789abcdef0123456789abcdef")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Payloads []struct {
			Data string `json:"data"`
		} `json:"payloads"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Len(t, out.Payloads, 1)
	data, err := base64.StdEncoding.DecodeString(out.Payloads[0].Data)
	require.NoError(t, err)
	assert.Equal(t, `"hello agent"`, string(data))
}

// statsSF is a Salesforce whose only working method is Stats.
