package codec

import (
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata written on every encrypted payload. Nothing else about the
// original payload (its encoding, its type) is visible.
const (
	// EncodingEncrypted is the value of the "encoding" metadata key on a
	// payload produced by Codec.Encode.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata key naming the keyring key that
	// encrypted the payload.
	MetadataKeyID = "encryption-key-id"
)

// nonceSize is the GCM standard nonce length. Nonces are random: with at most
// 2^32 payloads per key the collision probability stays below 2^-32 (NIST SP
// 800-38D); rotate keys well before that.
const nonceSize = 12

// aadPrefix domain-separates our ciphertexts: the additional authenticated
// data is aadPrefix + key id, so a ciphertext moved under another key id
// label fails authentication.
const aadPrefix = "liveagent/codec/v1:"

var (
	// ErrUnknownKeyID is returned (wrapped) by Decode when a payload names a
	// key id the keyring does not hold.
	ErrUnknownKeyID = errors.New("unknown encryption key id")
	// ErrDecrypt is returned (wrapped) by Decode when a payload fails
	// authentication: tampered, truncated, or encrypted under a different key
	// with the same id.
	ErrDecrypt = errors.New("encrypted payload failed authentication")
)

// Codec is an AES-256-GCM converter.PayloadCodec. Build it with NewCodec.
// It is safe for concurrent use.
type Codec struct {
	ring *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// NewCodec returns a codec that encrypts with ring's active key and
// decrypts with any key in ring. It panics if ring is nil (a programming
// error: build the ring with NewKeyring or ParseKeyring).
func NewCodec(ring *Keyring) *Codec {
	if ring == nil {
		panic("codec.NewCodec: nil keyring")
	}
	return &Codec{ring: ring}
}

// Encode encrypts each payload — its whole serialized proto, metadata
// included — with the active key and a fresh random nonce. The result's data
// is nonce || ciphertext || GCM tag. Inputs are not mutated.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	keyID := c.ring.ActiveKeyID()
	aead, _ := c.ring.aead(keyID) // NewKeyring guarantees the active key exists
	aad := []byte(aadPrefix + keyID)
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload %d: serialize: %w", i, err)
		}
		data := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := rand.Read(data); err != nil {
			return nil, fmt.Errorf("encrypt payload %d: nonce: %w", i, err)
		}
		data = aead.Seal(data, data[:nonceSize], plain, aad)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(keyID),
			},
			Data: data,
		}
	}
	return out, nil
}

// Decode decrypts payloads produced by Encode, choosing the key by the
// payload's key id, so payloads written under a rotated-out key still decode
// while that key stays in the keyring. Payloads whose encoding is not
// EncodingEncrypted are returned untouched. An unknown key id wraps
// ErrUnknownKeyID; a tampered or truncated ciphertext wraps ErrDecrypt.
// Errors never contain payload contents.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		decoded, err := c.decrypt(p)
		if err != nil {
			return nil, fmt.Errorf("decrypt payload %d: %w", i, err)
		}
		out[i] = decoded
	}
	return out, nil
}

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	rawID, ok := p.GetMetadata()[MetadataKeyID]
	if !ok {
		return nil, fmt.Errorf("%w: metadata %q missing", ErrUnknownKeyID, MetadataKeyID)
	}
	keyID := string(rawID)
	aead, ok := c.ring.aead(keyID)
	if !ok {
		return nil, fmt.Errorf("%w %q (keyring holds %v)", ErrUnknownKeyID, truncateID(keyID), c.ring.KeyIDs())
	}
	data := p.GetData()
	if len(data) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("%w: key id %q: ciphertext too short (%d bytes)", ErrDecrypt, keyID, len(data))
	}
	plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], []byte(aadPrefix+keyID))
	if err != nil {
		return nil, fmt.Errorf("%w: key id %q", ErrDecrypt, keyID)
	}
	var decoded commonpb.Payload
	if err := proto.Unmarshal(plain, &decoded); err != nil {
		return nil, fmt.Errorf("%w: key id %q: decrypted bytes are not a payload: %v", ErrDecrypt, keyID, err)
	}
	return &decoded, nil
}

// truncateID keeps attacker-controlled key ids from bloating error messages.
func truncateID(id string) string {
	if len(id) > maxKeyIDLen {
		return id[:maxKeyIDLen] + "…"
	}
	return id
}

// NewDataConverter wraps parent (nil means converter.GetDefaultDataConverter())
// so every payload it produces is encrypted with ring and every encrypted
// payload it reads is decrypted. Set it as client.Options.DataConverter on
// every client and worker of the namespace.
func NewDataConverter(parent converter.DataConverter, ring *Keyring) converter.DataConverter {
	if parent == nil {
		parent = converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(parent, NewCodec(ring))
}

// NewFailureConverter returns a failure converter that moves failure messages
// and stack traces into an encoded attribute payload, encrypted by dc (the
// converter from NewDataConverter), so error text that quotes user input does
// not reach history in clear. Set it as client.Options.FailureConverter
// alongside DataConverter.
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

// WithEncryption returns opts with payload encryption switched on: its
// DataConverter (or the SDK default when unset) wrapped by NewDataConverter,
// and FailureConverter set to NewFailureConverter of that converter. Every
// client and worker of a namespace must use the same keyring (or a superset
// during rotation), or they cannot read each other's payloads.
func WithEncryption(opts client.Options, ring *Keyring) client.Options {
	opts.DataConverter = NewDataConverter(opts.DataConverter, ring)
	opts.FailureConverter = NewFailureConverter(opts.DataConverter)
	return opts
}
