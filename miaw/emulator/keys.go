package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GenerateKeyPair writes a new RSA-2048 key pair for development and tests into
// dir: private-key.pem (PKCS#8, mode 0600) and jwks.json (the public key as a
// JSON Web Key Set with the given kid, alg RS256, use sig). It returns both
// paths.
func GenerateKeyPair(dir, kid string) (privateKeyPEMPath, jwksPath string, err error) {
	if kid == "" {
		return "", "", errors.New("generate key pair: kid must not be empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	privateKeyPEMPath = filepath.Join(dir, "private-key.pem")
	if err := os.WriteFile(privateKeyPEMPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", fmt.Errorf("generate key pair: write private key: %w", err)
	}
	jwks, err := JWKSFromPublicKey(&key.PublicKey, kid)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	jwksPath = filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, jwks, 0o644); err != nil {
		return "", "", fmt.Errorf("generate key pair: write jwks: %w", err)
	}
	return privateKeyPEMPath, jwksPath, nil
}

// JWKSFromPublicKey renders an RSA public key as a one-key JSON Web Key Set.
func JWKSFromPublicKey(pub *rsa.PublicKey, kid string) ([]byte, error) {
	type jwk struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{{
		Kty: "RSA", Kid: kid, Alg: "RS256", Use: "sig",
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
	return json.MarshalIndent(set, "", "  ")
}

// parseJWKS returns the RSA public keys of a JWKS by kid.
func parseJWKS(data []byte) (map[string]*rsa.PublicKey, error) {
	keys := map[string]*rsa.PublicKey{}
	if len(strings.TrimSpace(string(data))) == 0 {
		return keys, nil
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	for i, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		if k.Kid == "" {
			return nil, fmt.Errorf("jwks: keys[%d]: kid is empty", i)
		}
		n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		if err != nil {
			return nil, fmt.Errorf("jwks: keys[%d].n: %w", i, err)
		}
		e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if err != nil {
			return nil, fmt.Errorf("jwks: keys[%d].e: %w", i, err)
		}
		eInt := new(big.Int).SetBytes(e)
		if !eInt.IsInt64() || eInt.Int64() < 3 || len(n) < 256 {
			return nil, fmt.Errorf("jwks: keys[%d]: RSA key must be at least 2048 bits with a valid exponent", i)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(eInt.Int64())}
	}
	return keys, nil
}

// verifyIdentityToken checks a customer identity JWT: RS256/RS512 signature by
// the kid's JWKS key, iss (when configured), exp (required) and sub
// (required). aud is ignored, as Salesforce does. It returns sub.
func (s *Server) verifyIdentityToken(raw string) (string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("kid header is missing")
		}
		key, ok := s.jwks[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return key, nil
	}, jwt.WithValidMethods([]string{"RS256", "RS512"}), jwt.WithExpirationRequired())
	if err != nil {
		return "", err
	}
	if s.cfg.Issuer != "" {
		iss, _ := claims.GetIssuer()
		if iss != s.cfg.Issuer {
			return "", fmt.Errorf("issuer %q does not match the keyset issuer", iss)
		}
	}
	sub, _ := claims.GetSubject()
	if sub == "" {
		return "", errors.New("sub claim is missing")
	}
	return sub, nil
}

// accessClaims are the claims of the emulator's HS256 access tokens.
type accessClaims struct {
	jwt.RegisteredClaims
	OrgID    string `json:"orgId"`
	Deploy   string `json:"esDeveloperName"`
	ClientID string `json:"clientId"`
	AuthMode string `json:"authMode"`
	// Generation is the emulator's token generation at issue (ExpireTokens).
	Generation int64 `json:"emulatorGeneration,omitempty"`
}

// issueAccessToken signs an access token for subject expiring at exp.
func (s *Server) issueAccessToken(subject, authMode string, exp time.Time) (string, error) {
	now := time.Now()
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    "emulator.salesforce-scrt.com",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        newUUID(),
		},
		OrgID: s.cfg.OrgID, Deploy: s.cfg.DeploymentName, ClientID: newUUID(), AuthMode: authMode,
		Generation: s.tokenGeneration.Load(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.hmacKey)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	s.stats.tokensIssued.Add(1)
	return tok, nil
}

// errJwtExpired is reported as 401 "Jwt is expired".
var errJwtExpired = errors.New("Jwt is expired")

// parseAccessToken validates a bearer access token.
func (s *Server) parseAccessToken(raw string) (*accessClaims, error) {
	c := &accessClaims{}
	_, err := jwt.ParseWithClaims(raw, c, func(t *jwt.Token) (any, error) { return s.hmacKey, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, errJwtExpired
		}
		return nil, errors.New("Unauthorized")
	}
	if c.Generation < s.tokenGeneration.Load() {
		return nil, errJwtExpired
	}
	s.mu.Lock()
	_, revoked := s.revoked[c.ID]
	s.mu.Unlock()
	if revoked {
		return nil, errors.New("Unauthorized")
	}
	return c, nil
}
