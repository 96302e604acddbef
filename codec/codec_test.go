package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/liveagent-bridge/liveagent/codec"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, codec.KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func ring(t *testing.T, active string, keys map[string][]byte) *codec.Keyring {
	t.Helper()
	r, err := codec.NewKeyring(active, keys)
	require.NoError(t, err)
	return r
}

const secret = "my SSN is 078-05-1120, card 4111111111111111"

func jsonPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestRoundTrip(t *testing.T) {
	c := codec.NewCodec(ring(t, "k1", map[string][]byte{"k1": newKey(t)}))
	in := []*commonpb.Payload{jsonPayload(t, secret), jsonPayload(t, map[string]int{"n": 42})}
	original := make([]*commonpb.Payload, len(in))
	for i, p := range in {
		original[i] = proto.Clone(p).(*commonpb.Payload)
	}

	enc, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, enc, 2)
	for i, p := range enc {
		require.Equal(t, codec.EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
		require.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))
		require.Len(t, p.Metadata, 2, "only encoding and key id are visible")
		require.NotContains(t, string(p.Data), "078-05-1120")
		require.NotContains(t, string(p.Data), "json/plain", "inner metadata must be encrypted too")
		require.True(t, proto.Equal(original[i], in[i]), "Encode must not mutate its input")
	}
	// Random nonces: the same plaintext encrypts differently each time.
	again, err := c.Encode(in[:1])
	require.NoError(t, err)
	require.False(t, bytes.Equal(enc[0].Data, again[0].Data))

	dec, err := c.Decode(enc)
	require.NoError(t, err)
	for i := range dec {
		require.True(t, proto.Equal(original[i], dec[i]), "payload %d differs after round trip", i)
	}
	var got string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &got))
	require.Equal(t, secret, got)
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := codec.NewDataConverter(nil, ring(t, "k1", map[string][]byte{"k1": newKey(t)}))
	p, err := dc.ToPayload(secret)
	require.NoError(t, err)
	require.Equal(t, codec.EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	require.NotContains(t, string(p.Data), secret)

	var got string
	require.NoError(t, dc.FromPayload(p, &got))
	require.Equal(t, secret, got)

	// A converter without the codec cannot read it.
	err = converter.GetDefaultDataConverter().FromPayload(p, &got)
	require.Error(t, err)
}

func TestRotation(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	before := codec.NewCodec(ring(t, "k1", map[string][]byte{"k1": k1}))
	oldEnc, err := before.Encode([]*commonpb.Payload{jsonPayload(t, "written under k1")})
	require.NoError(t, err)

	after := codec.NewCodec(ring(t, "k2", map[string][]byte{"k1": k1, "k2": k2}))
	newEnc, err := after.Encode([]*commonpb.Payload{jsonPayload(t, "written under k2")})
	require.NoError(t, err)
	require.Equal(t, "k2", string(newEnc[0].Metadata[codec.MetadataKeyID]), "new writes use the active key")

	dec, err := after.Decode([]*commonpb.Payload{oldEnc[0], newEnc[0]})
	require.NoError(t, err)
	var a, b string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &a))
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[1], &b))
	require.Equal(t, "written under k1", a)
	require.Equal(t, "written under k2", b)

	// The pre-rotation codec does not know k2.
	_, err = before.Decode(newEnc)
	require.ErrorIs(t, err, codec.ErrUnknownKeyID)
}

func TestUnknownKeyID(t *testing.T) {
	enc, err := codec.NewCodec(ring(t, "old", map[string][]byte{"old": newKey(t)})).
		Encode([]*commonpb.Payload{jsonPayload(t, secret)})
	require.NoError(t, err)

	_, err = codec.NewCodec(ring(t, "new", map[string][]byte{"new": newKey(t)})).Decode(enc)
	require.ErrorIs(t, err, codec.ErrUnknownKeyID)
	require.Contains(t, err.Error(), `"old"`)
	require.NotContains(t, err.Error(), "078-05-1120")

	delete(enc[0].Metadata, codec.MetadataKeyID)
	_, err = codec.NewCodec(ring(t, "new", map[string][]byte{"new": newKey(t)})).Decode(enc)
	require.ErrorIs(t, err, codec.ErrUnknownKeyID)
}

func TestTamperedCiphertext(t *testing.T) {
	k1, other := newKey(t), newKey(t)
	c := codec.NewCodec(ring(t, "k1", map[string][]byte{"k1": k1}))
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, secret)})
	require.NoError(t, err)

	cases := map[string]func(p *commonpb.Payload){
		"flipped ciphertext bit": func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 0x01 },
		"flipped nonce bit":      func(p *commonpb.Payload) { p.Data[0] ^= 0x80 },
		"truncated":              func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] },
		"too short":              func(p *commonpb.Payload) { p.Data = p.Data[:5] },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			p := proto.Clone(enc[0]).(*commonpb.Payload)
			tamper(p)
			_, err := c.Decode([]*commonpb.Payload{p})
			require.ErrorIs(t, err, codec.ErrDecrypt)
			require.NotContains(t, err.Error(), "078-05-1120")
		})
	}
	t.Run("same id, different key", func(t *testing.T) {
		_, err := codec.NewCodec(ring(t, "k1", map[string][]byte{"k1": other})).Decode(enc)
		require.ErrorIs(t, err, codec.ErrDecrypt)
	})
	t.Run("relabelled to another key id", func(t *testing.T) {
		// Same key bytes under two ids: the key id is authenticated data, so
		// moving a ciphertext to another label fails.
		c2 := codec.NewCodec(ring(t, "k1", map[string][]byte{"k1": k1, "k1-copy": k1}))
		p := proto.Clone(enc[0]).(*commonpb.Payload)
		p.Metadata[codec.MetadataKeyID] = []byte("k1-copy")
		_, err := c2.Decode([]*commonpb.Payload{p})
		require.ErrorIs(t, err, codec.ErrDecrypt)
	})
}

func TestNonEncryptedPassthrough(t *testing.T) {
	c := codec.NewCodec(ring(t, "k1", map[string][]byte{"k1": newKey(t)}))
	plain := jsonPayload(t, "written before the codec was enabled")
	nilPayload, err := converter.GetDefaultDataConverter().ToPayload(nil)
	require.NoError(t, err)
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "new")})
	require.NoError(t, err)

	dec, err := c.Decode([]*commonpb.Payload{plain, nilPayload, enc[0]})
	require.NoError(t, err)
	require.Same(t, plain, dec[0], "non-encrypted payloads are returned untouched")
	require.Same(t, nilPayload, dec[1])
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[2], &s))
	require.Equal(t, "new", s)
}

func TestFailureConverterEncryptsMessages(t *testing.T) {
	dc := codec.NewDataConverter(nil, ring(t, "k1", map[string][]byte{"k1": newKey(t)}))
	fc := codec.NewFailureConverter(dc)
	f := fc.ErrorToFailure(errors.New("could not deliver: " + secret))
	raw, err := proto.Marshal(f)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "078-05-1120")
	require.Contains(t, fc.FailureToError(f).Error(), secret)
}

func TestKeyringValidation(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(newKey(t))
	cases := []struct {
		name    string
		active  string
		keys    map[string]string
		wantErr string
	}{
		{"no keys", "k1", nil, "codec.keys: at least one key is required"},
		{"no active", "", map[string]string{"k1": good}, "codec.active_key_id: required"},
		{"active missing", "k9", map[string]string{"k1": good}, `codec.active_key_id: "k9" is not one of codec.keys (k1)`},
		{"short key", "k1", map[string]string{"k1": base64.StdEncoding.EncodeToString(make([]byte, 16))}, `codec.keys["k1"]: key must be base64 of 32 bytes (AES-256), got 16 bytes`},
		{"not base64", "k1", map[string]string{"k1": "not*base64!"}, `codec.keys["k1"]: key is not valid base64`},
		{"empty key", "k1", map[string]string{"k1": " "}, `codec.keys["k1"]: empty key`},
		{"bad id", "k 1", map[string]string{"k 1": good}, `codec.keys["k 1"]: key id must be printable ASCII without spaces`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.ParseKeyring(tc.active, tc.keys)
			require.EqualError(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), good, "errors never echo key material")
			require.NotContains(t, err.Error(), "\n")
		})
	}

	r, err := codec.ParseKeyring("b", map[string]string{
		"a": strings.TrimRight(base64.URLEncoding.EncodeToString(newKey(t)), "="),
		"b": good,
	})
	require.NoError(t, err)
	require.Equal(t, "b", r.ActiveKeyID())
	require.Equal(t, []string{"a", "b"}, r.KeyIDs())
}
