package miaw

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The token store keeps verified users' access tokens beyond this process,
// sealed, in a directory the workers share (Config.TokenStoreDir). Salesforce
// issues 200 access tokens per minute per org: a worker that takes over a dead
// worker's N streams would otherwise wait N/200 minutes for tokens while the
// dead worker's tokens are still valid.
//
// A stored token is sealed with AES-256-GCM under a key derived (HKDF-SHA256)
// from the identity-signing RSA key, with the org, the deployment and the user
// as additional data: only a holder of that key, who can mint tokens for any
// user anyway, can open it, and a file moved to another user's name does not
// open. File names are SHA-256 sums, so the directory names no user. Anything
// that does not open, or has expired, counts as absent and is removed.
//
// Concurrent workers write a file whole (temporary file + rename); the last
// writer wins, and any valid token is as good as another.

// tokenStoreSweepEvery is how often Save also removes files untouched for
// tokenStoreMaxAge: tokens of users who never came back.
const (
	tokenStoreSweepEvery = time.Hour
	tokenStoreMaxAge     = 24 * time.Hour
	sealVersion          = 1
)

// tokenStore is a directory of sealed access tokens.
type tokenStore struct {
	dir       string
	aead      cipher.AEAD
	scope     string // org and deployment, bound into every seal
	mu        sync.Mutex
	lastSweep time.Time
}

// sealedToken is what a stored token holds.
type sealedToken struct {
	AccessToken string    `json:"a"`
	LastEventID string    `json:"l,omitempty"`
	Subject     string    `json:"s"`
	Expiry      time.Time `json:"e"`
	RenewAt     time.Time `json:"r"`
}

func openTokenStore(dir string, key *rsa.PrivateKey, orgID, deployment string) (*tokenStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("miaw: token_store_dir: %w", err)
	}
	secret, err := hkdf.Key(sha256.New, x509.MarshalPKCS1PrivateKey(key), nil, "liveagent miaw token store v1", 32)
	if err != nil {
		return nil, fmt.Errorf("miaw: token store key: %w", err)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("miaw: token store key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("miaw: token store key: %w", err)
	}
	return &tokenStore{dir: dir, aead: aead, scope: orgID + "\n" + deployment}, nil
}

func (s *tokenStore) path(userID string) string {
	sum := sha256.Sum256([]byte(s.scope + "\n" + userID))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:]))
}

func (s *tokenStore) additionalData(userID string) []byte {
	return []byte("liveagent-miaw-token-v1\n" + s.scope + "\n" + userID)
}

// load returns userID's stored token, or nil when there is none that opens
// and is unexpired at now.
func (s *tokenStore) load(userID string, now time.Time) (*Token, error) {
	p := s.path(userID)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("miaw: token store: %w", err)
	}
	n := s.aead.NonceSize()
	if len(data) < 1+n || data[0] != sealVersion {
		_ = os.Remove(p)
		return nil, errors.New("miaw: token store: a stored token has an unknown format; removed")
	}
	plain, err := s.aead.Open(nil, data[1:1+n], data[1+n:], s.additionalData(userID))
	if err != nil {
		_ = os.Remove(p)
		return nil, errors.New("miaw: token store: a stored token does not open with this key; removed")
	}
	var st sealedToken
	if err := json.Unmarshal(plain, &st); err != nil || st.AccessToken == "" {
		_ = os.Remove(p)
		return nil, errors.New("miaw: token store: a stored token is malformed; removed")
	}
	if !now.Before(st.Expiry) {
		_ = os.Remove(p)
		return nil, nil
	}
	return &Token{AccessToken: st.AccessToken, LastEventID: st.LastEventID, Subject: st.Subject, Expiry: st.Expiry, renewAt: st.RenewAt}, nil
}

// save stores t for userID, replacing what was there.
func (s *tokenStore) save(userID string, t *Token, now time.Time) error {
	plain, err := json.Marshal(sealedToken{AccessToken: t.AccessToken, LastEventID: t.LastEventID, Subject: t.Subject, Expiry: t.Expiry, RenewAt: t.renewAt})
	if err != nil {
		return fmt.Errorf("miaw: token store: %w", err)
	}
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return fmt.Errorf("miaw: token store: nonce: %w", err)
	}
	out = s.aead.Seal(out, out[1:1+s.aead.NonceSize()], plain, s.additionalData(userID))
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("miaw: token store: %w", err)
	}
	_, werr := tmp.Write(out)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), s.path(userID))
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("miaw: token store: %w", werr)
	}
	s.maybeSweep(now)
	return nil
}

// remove drops userID's stored token if it is still accessToken, so a token
// another worker stored meanwhile is kept.
func (s *tokenStore) remove(userID, accessToken string, now time.Time) {
	if t, _ := s.load(userID, now); t != nil && t.AccessToken == accessToken {
		_ = os.Remove(s.path(userID))
	}
}

// maybeSweep removes, at most once per tokenStoreSweepEvery, files untouched
// for tokenStoreMaxAge (temporary files of a crashed write included).
func (s *tokenStore) maybeSweep(now time.Time) {
	s.mu.Lock()
	if now.Sub(s.lastSweep) < tokenStoreSweepEvery {
		s.mu.Unlock()
		return
	}
	s.lastSweep = now
	s.mu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > tokenStoreMaxAge {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// storedToken is userID's token from the store, or nil (no store, none
// stored, or due for renewal). Store errors are logged, never returned: the
// caller mints instead.
func (c *Client) storedToken(userID string) *Token {
	if c.store == nil {
		return nil
	}
	t, err := c.store.load(userID, c.now())
	if err != nil {
		c.log.Warn("miaw: token store: load failed; minting instead", "user", userID, "err", err)
		return nil
	}
	if t == nil || !c.fresh(t) {
		return nil
	}
	c.stats.storedTokens.Add(1)
	return t
}

// storeToken keeps t for other workers; a failure only costs them a mint.
func (c *Client) storeToken(userID string, t *Token) {
	if c.store == nil {
		return
	}
	if err := c.store.save(userID, t, c.now()); err != nil {
		c.log.Warn("miaw: token store: save failed", "user", userID, "err", err)
	}
}

// dropToken forgets userID's token after Salesforce refused it: in this
// process and in the store, unless either already holds a newer one.
func (c *Client) dropToken(userID, accessToken string) {
	c.tokens.invalidate(userID, accessToken)
	if c.store != nil {
		c.store.remove(userID, accessToken, c.now())
	}
}
