package bench

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// selfSignedTLS makes the emulator's certificate for 127.0.0.1 and writes
// its PEM into dir, for the worker's SSL_CERT_FILE.
func selfSignedTLS(dir string) (*tls.Config, string, error) {
	cert, certPEM, err := emulator.SelfSignedCert([]string{"127.0.0.1"})
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "emulator-cert.pem")
	if err := os.WriteFile(path, certPEM, 0o644); err != nil {
		return nil, "", fmt.Errorf("emulator certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, path, nil
}

// trustingClient is a MIAW client's HTTP client that trusts certFile (the
// default transport's behaviour, HTTP/2 included, otherwise); nil for "".
func trustingClient(certFile string) (*http.Client, error) {
	if certFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("emulator certificate: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, errors.New("emulator certificate: no certificate in " + certFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}
