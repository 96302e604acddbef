package miaw

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		BaseURL:        "https://acme.my.salesforce-scrt.com",
		OrgID:          testOrgID15,
		DeploymentName: testDeployment,
		PrivateKeyFile: "/keys/miaw.pem",
		KeyID:          testKID,
		Issuer:         testIssuer,
	}
}

func TestValidateAcceptsGoodConfigs(t *testing.T) {
	cases := map[string]func(*Config){
		"real org":     func(*Config) {},
		"18-char org":  func(c *Config) { c.OrgID = testOrgID18 },
		"sandbox host": func(c *Config) { c.BaseURL = "https://acme--dev.sandbox.my.salesforce-scrt.com/" },
		"emulator":     func(c *Config) { c.BaseURL = "http://127.0.0.1:8090"; c.AllowAnyHost = true },
		"guest":        func(c *Config) { c.AuthMode = AuthGuest; c.PrivateKeyFile, c.KeyID, c.Issuer = "", "", "" },
		"rs512":        func(c *Config) { c.SigningAlgorithm = "RS512" },
		"extra hosts": func(c *Config) {
			c.AttachmentHosts = []string{"acme.file.force.com", "*.documentforce.com", "127.0.0.1:9000"}
		},
		"explicit knobs": func(c *Config) {
			c.MaxAttachmentBytes = 1 << 20
			c.TokenRequestsPerMinute = 200
			c.RenewBefore = 2 * time.Minute
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := validConfig()
			mutate(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateRejectsBadFieldsWithOneLine(t *testing.T) {
	cases := []struct {
		field  string
		mutate func(*Config)
	}{
		{"base_url", func(c *Config) { c.BaseURL = "" }},
		{"base_url", func(c *Config) { c.BaseURL = "http://acme.my.salesforce-scrt.com" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://acme.my.salesforce.com" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://evil-salesforce-scrt.com.attacker.io" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://acme.my.salesforce-scrt.com/iamessage" }},
		{"base_url", func(c *Config) { c.BaseURL = "not a url" }},
		{"base_url", func(c *Config) { c.BaseURL = "ftp://127.0.0.1"; c.AllowAnyHost = true }},
		{"org_id", func(c *Config) { c.OrgID = "" }},
		{"org_id", func(c *Config) { c.OrgID = "00X5g000004ABCD" }},
		{"org_id", func(c *Config) { c.OrgID = "00D5g000004ABC" }},
		{"org_id", func(c *Config) { c.OrgID = "00D5g000004AB-D" }},
		{"deployment_name", func(c *Config) { c.DeploymentName = "" }},
		{"deployment_name", func(c *Config) { c.DeploymentName = "has space" }},
		{"capabilities_version", func(c *Config) { c.CapabilitiesVersion = "v1" }},
		{"auth_mode", func(c *Config) { c.AuthMode = "oauth" }},
		{"private_key_file", func(c *Config) { c.PrivateKeyFile = "" }},
		{"key_id", func(c *Config) { c.KeyID = " " }},
		{"issuer", func(c *Config) { c.Issuer = "" }},
		{"signing_algorithm", func(c *Config) { c.SigningAlgorithm = "HS256" }},
		{"identity_token_ttl", func(c *Config) { c.IdentityTokenTTL = 2 * time.Hour }},
		{"renew_before", func(c *Config) { c.RenewBefore = -time.Second }},
		{"attachment_hosts", func(c *Config) { c.AttachmentHosts = []string{"https://files.example.com/x"} }},
		{"attachment_hosts", func(c *Config) { c.AttachmentHosts = []string{"files.example.com:http"} }},
		{"max_download_bytes", func(c *Config) { c.MaxDownloadBytes = -1 }},
		{"download_timeout", func(c *Config) { c.DownloadTimeout = -time.Second }},
		{"max_attachment_bytes", func(c *Config) { c.MaxAttachmentBytes = 6 << 20 }},
		{"token_requests_per_minute", func(c *Config) { c.TokenRequestsPerMinute = 500 }},
	}
	lifted := validConfig()
	lifted.TokenRequestsPerMinute, lifted.AllowAnyHost = 5000, true
	if err := lifted.Validate(); err != nil {
		t.Errorf("against the emulator the token rate may be lifted: %v", err)
	}
	for _, tc := range cases {
		c := validConfig()
		tc.mutate(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted %+v", tc.field, c)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "miaw: "+tc.field+": ") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q does not name the field on one line", tc.field, msg)
		}
		if _, nerr := New(c); nerr == nil || nerr.Error() != msg {
			t.Errorf("%s: New returned %v, want the Validate error", tc.field, nerr)
		}
	}
}

func TestNewLoadsKeys(t *testing.T) {
	f := newFakeSF(t)
	for _, path := range []string{testKeyPKCS8, testKeyPKCS1} {
		cfg := testConfig(f)
		cfg.PrivateKeyFile = path
		c, err := New(cfg)
		if err != nil {
			t.Fatalf("New with %s: %v", filepath.Base(path), err)
		}
		if !c.key.Equal(testKey) {
			t.Fatalf("%s: loaded a different key", filepath.Base(path))
		}
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	cases := map[string]struct{ path, want string }{
		"missing":   {filepath.Join(dir, "nope.pem"), "no such file"},
		"not pem":   {write("garbage.pem", []byte("hello")), "no PEM private key"},
		"public":    {write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}})), "no PEM private key"},
		"ec":        {write("ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})), "want RSA"},
		"1024 bits": {write("small.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})), "at least 2048"},
		"corrupt":   {write("bad.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("xx")})), "invalid PKCS#1"},
	}
	for name, tc := range cases {
		cfg := validConfig()
		cfg.PrivateKeyFile = tc.path
		_, err := New(cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "miaw: private_key_file: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want private_key_file error containing %q", name, err, tc.want)
		}
	}
}

func TestOrgIDSentAs15Chars(t *testing.T) {
	c := Config{OrgID: testOrgID18}
	if got := c.orgID15(); got != testOrgID15 {
		t.Fatalf("orgID15 = %q", got)
	}
}
