package temporalclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/liveagent-bridge/liveagent/config"
)

// ClientOption adjusts the client options ClientOptions builds. They are the
// hooks for cross-cutting concerns configured outside this package (payload
// codec, metrics, tracing).
type ClientOption func(*client.Options)

// WithDataConverter sets the data converter, e.g. one wrapping the AES-GCM
// payload codec so workflow payloads are encrypted at rest.
func WithDataConverter(dc converter.DataConverter) ClientOption {
	return func(o *client.Options) { o.DataConverter = dc }
}

// WithMetricsHandler sets the SDK metrics handler (e.g. Prometheus via tally).
func WithMetricsHandler(h client.MetricsHandler) ClientOption {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// ClientOptions builds the Temporal client options from cfg.Temporal: address
// (one host:port, or several comma-separated: see frontendTarget), namespace, API key credentials, TLS (system roots, an extra CA, mTLS client
// certificate, server name) and slog logging. An API key implies TLS.
func ClientOptions(cfg *config.Config, logger *slog.Logger, opts ...ClientOption) (client.Options, error) {
	if logger == nil {
		logger = slog.Default()
	}
	t := cfg.Temporal
	hostPort, dialOpts := frontendTarget(t.Address)
	o := client.Options{
		HostPort:  hostPort,
		Namespace: t.Namespace,
		Logger:    tlog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
	}
	o.ConnectionOptions.DialOptions = dialOpts
	tlsCfg, err := tlsConfig(t)
	if err != nil {
		return client.Options{}, err
	}
	if t.APIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
		if tlsCfg == nil {
			tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	o.ConnectionOptions.TLS = tlsCfg
	for _, opt := range opts {
		opt(&o)
	}
	return o, nil
}

// tlsConfig returns nil when TLS is off (no flag, no file).
func tlsConfig(t config.Temporal) (*tls.Config, error) {
	c := t.TLS
	if !c.Enabled && c.CertFile == "" && c.CAFile == "" && c.ServerName == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pemData, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("temporal.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("temporal.tls.ca_file: %s: no PEM certificate found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			// The error of LoadX509KeyPair never includes key material.
			return nil, fmt.Errorf("temporal.tls.cert_file/key_file: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Dial connects a Temporal client built with ClientOptions and checks the
// connection.
func Dial(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts ...ClientOption) (client.Client, error) {
	o, err := ClientOptions(cfg, logger, opts...)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %s (namespace %s): %w", cfg.Temporal.Address, o.Namespace, err)
	}
	return c, nil
}

// errNilClient is returned when a Temporal client is required but missing.
var errNilClient = errors.New("temporalclient: temporal client is nil")
