package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
)

// KeySize is the length in bytes of every key in a Keyring (AES-256).
const KeySize = 32

// maxKeyIDLen bounds key ids: they are written, in clear, into every
// encrypted payload's metadata.
const maxKeyIDLen = 64

// Keyring holds the AES-256 keys the codec may use, by key id, and which one
// encrypts new payloads. It is immutable and safe for concurrent use; rotate
// by building a new Keyring with the new key active and the old keys kept.
type Keyring struct {
	activeID string
	aeads    map[string]cipher.AEAD
}

// NewKeyring builds a keyring from raw 32-byte keys. activeKeyID must be one
// of the ids in keys. Key ids must be 1–64 printable ASCII characters without
// spaces. The key bytes are copied into AES ciphers; the map may be discarded.
//
// Errors name the config key they concern (codec.active_key_id,
// codec.keys[<id>]) and never include key material.
func NewKeyring(activeKeyID string, keys map[string][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("codec.keys: at least one key is required")
	}
	ring := &Keyring{activeID: activeKeyID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, id := range sortedKeys(keys) {
		if err := validateKeyID(id); err != nil {
			return nil, fmt.Errorf("codec.keys[%q]: %w", id, err)
		}
		key := keys[id]
		if len(key) != KeySize {
			return nil, fmt.Errorf("codec.keys[%q]: key must be %d bytes (AES-256), got %d", id, KeySize, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("codec.keys[%q]: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec.keys[%q]: %w", id, err)
		}
		ring.aeads[id] = aead
	}
	if activeKeyID == "" {
		return nil, fmt.Errorf("codec.active_key_id: required")
	}
	if _, ok := ring.aeads[activeKeyID]; !ok {
		return nil, fmt.Errorf("codec.active_key_id: %q is not one of codec.keys (%s)", activeKeyID, strings.Join(ring.KeyIDs(), ", "))
	}
	return ring, nil
}

// ParseKeyring builds a keyring from base64-encoded keys, the form they take
// in configuration (codec.keys: {id: base64}). Standard and URL-safe base64,
// padded or not, are accepted; each key must decode to exactly 32 bytes.
// Generate one with: openssl rand -base64 32
func ParseKeyring(activeKeyID string, keysBase64 map[string]string) (*Keyring, error) {
	raw := make(map[string][]byte, len(keysBase64))
	for _, id := range sortedKeys(keysBase64) {
		key, err := decodeBase64Key(keysBase64[id])
		if err != nil {
			return nil, fmt.Errorf("codec.keys[%q]: %w", id, err)
		}
		raw[id] = key
	}
	return NewKeyring(activeKeyID, raw)
}

// ActiveKeyID is the id of the key that encrypts new payloads.
func (k *Keyring) ActiveKeyID() string { return k.activeID }

// KeyIDs lists every key id that can decrypt, sorted.
func (k *Keyring) KeyIDs() []string { return sortedKeys(k.aeads) }

func (k *Keyring) aead(id string) (cipher.AEAD, bool) {
	a, ok := k.aeads[id]
	return a, ok
}

func decodeBase64Key(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty key")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("key must be base64 of %d bytes (AES-256), got %d bytes", KeySize, len(key))
			}
			return key, nil
		}
	}
	// The decoder's error carries an offset only, but say nothing more about
	// the value: it is secret.
	return nil, fmt.Errorf("key is not valid base64")
}

func validateKeyID(id string) error {
	if id == "" {
		return fmt.Errorf("key id must not be empty")
	}
	if len(id) > maxKeyIDLen {
		return fmt.Errorf("key id must be at most %d characters", maxKeyIDLen)
	}
	for _, r := range id {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("key id must be printable ASCII without spaces")
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
