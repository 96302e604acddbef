package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
	"github.com/liveagent-bridge/liveagent/internal/httpserver"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/internal/wiring"
	"github.com/liveagent-bridge/liveagent/metrics"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/worker"
)

const (
	// demoCodecKeyID names the random payload encryption key of a run.
	demoCodecKeyID = "demo"
	demoKeyID      = "demo-key"
	demoIssuer     = "liveagent-demo"
	agentName      = "Jane Agent"
)

// demoTopics are the configured topics the assistant may pick from.
var demoTopics = []string{"Payroll", "Benefits", "Leave", "IT access"}

// stackOptions select how the stack runs.
type stackOptions struct {
	uiPort        int
	uiPortDefault bool // fall back to a free port when uiPort is taken
	agent         *emulator.ScriptedAgent
	acceptTimeout time.Duration
	logger        *slog.Logger
	// serverLogLevel filters the embedded Temporal server's logs ("" = warn).
	serverLogLevel string
	out            *printer
}

// stack is everything the demo runs in its process.
type stack struct {
	dir        string
	temporal   *devtemporal.Server
	emu        *emulator.Server
	emuURL     string
	tc         client.Client
	recv       *receiver
	gatewayURL string
	token      string
	// codecURL is the payload codec endpoint the Web UI decodes through
	// (<gatewayURL>/codec); history is encrypted with a key made at start.
	codecURL string
	// metrics is the process's registry, served on metricsURL.
	metrics    *metrics.Registry
	metricsURL string
	closers    []func()
}

// randomBase64 returns n random bytes, base64 encoded (a codec.keys value).
func randomBase64(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// uiOrigins are the browser origins of the Web UI at uiAddress
// ("http://127.0.0.1:port"): that one, and localhost on the same port.
func uiOrigins(uiAddress string) []string {
	if uiAddress == "" {
		return nil
	}
	origins := []string{uiAddress}
	if rest, ok := strings.CutPrefix(uiAddress, "http://127.0.0.1:"); ok {
		origins = append(origins, "http://localhost:"+rest)
	}
	return origins
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// startStack starts, in order: the embedded Temporal server and Web UI, the
// MIAW emulator, the webhook receiver, the metrics endpoint, the worker and
// the gateway (with the codec endpoint the Web UI decodes payloads through).
// Payload encryption is on, with a random key made here. On error whatever
// started is stopped again.
func startStack(ctx context.Context, o stackOptions) (_ *stack, err error) {
	s := &stack{}
	defer func() {
		if err != nil {
			s.close() // s, not the named result: every error path returns nil
		}
	}()
	s.dir, err = os.MkdirTemp("", "liveagent-demo-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	s.closers = append(s.closers, func() { _ = os.RemoveAll(s.dir) })

	// The gateway's address is needed up front: the Web UI is told where the
	// codec endpoint is, and the config names it (attachments.public_url).
	gwListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gateway listen: %w", err)
	}
	// Harmless after the gateway's Shutdown has closed it already.
	s.closers = append(s.closers, func() { _ = gwListener.Close() })
	s.gatewayURL = "http://" + gwListener.Addr().String()
	s.codecURL = s.gatewayURL + strings.TrimSuffix(gateway.CodecPath, "/")
	s.token = randomHex(24)

	// 1. Temporal + Web UI, search attributes pre-registered; the UI decodes
	// payloads in the browser through the gateway's codec endpoint.
	o.out.plain("Starting the embedded Temporal server (its first build takes a few minutes)...")
	devOpts := devtemporal.Options{
		UIPort:          o.uiPort,
		UICodecEndpoint: s.codecURL,
		Log:             devtemporal.LogTo(o.logger.With("component", "temporal-server")),
		LogLevel:        o.serverLogLevel,
	}
	s.temporal, err = devtemporal.Start(ctx, devOpts)
	if err != nil && o.uiPortDefault && strings.Contains(err.Error(), "ui port") {
		o.out.plain("Web UI port %d is taken; using a free port.", o.uiPort)
		devOpts.UIPort = 0
		s.temporal, err = devtemporal.Start(ctx, devOpts)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded Temporal: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.temporal.Stop() })

	// 2. The MIAW emulator, verifying users' identity JWTs with dev keys.
	keyPath, jwksPath, err := emulator.GenerateKeyPair(filepath.Join(s.dir, "keys"), demoKeyID)
	if err != nil {
		return nil, fmt.Errorf("generate dev keys: %w", err)
	}
	jwks, err := os.ReadFile(jwksPath)
	if err != nil {
		return nil, fmt.Errorf("read jwks: %w", err)
	}
	s.emu, err = emulator.New(emulator.Config{
		Issuer:       demoIssuer,
		JWKS:         jwks,
		RejectGuests: true,
		PingInterval: 5 * time.Second,
		Agent:        o.agent,
		Logger:       o.logger.With("component", "emulator"),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s.emuURL, err = s.emu.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.emu.Close() })

	// 3. The assistant's webhook receiver.
	secret := randomHex(32)
	s.recv = newReceiver([]byte(secret), o.out)
	webhookURL, stopRecv, err := serveLoopback(s.recv)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	s.closers = append(s.closers, stopRecv)

	cfg := config.Default()
	cfg.Temporal.Address = s.temporal.FrontendAddress()
	cfg.Temporal.Namespace = s.temporal.Namespace()
	cfg.Salesforce.SCRTURL = s.emuURL
	cfg.Salesforce.AllowAnyHost = true
	cfg.Salesforce.OrgID = "00D000000000001"
	cfg.Salesforce.Deployment = "Live_Agent_Bridge"
	cfg.Salesforce.AuthMode = config.AuthVerified
	cfg.Salesforce.PrivateKeyFile = keyPath
	cfg.Salesforce.KeyID = demoKeyID
	cfg.Salesforce.Issuer = demoIssuer
	cfg.Session.Topics = demoTopics
	cfg.Session.AcceptTimeout = o.acceptTimeout
	cfg.Attachments.Dir = filepath.Join(s.dir, "attachments")
	cfg.Salesforce.TokenStoreDir = filepath.Join(s.dir, "tokens")
	cfg.Attachments.PublicURL = s.gatewayURL + "/v1/attachments"
	// Links to stored files are signed and expire: the user's browser opens
	// an agent's file without the gateway's bearer token.
	cfg.Attachments.LinkSecret = randomHex(32)
	cfg.Delivery.Mode = config.DeliveryWebhook
	cfg.Delivery.WebhookURL = webhookURL
	cfg.Delivery.WebhookSecret = secret
	cfg.Gateway.Listen = gwListener.Addr().String()
	cfg.Gateway.BearerToken = s.token
	cfg.Worker.ListenerSlots = 50
	cfg.Worker.ActivitySlots = 50
	// Payload encryption with a key that lives only in this process: the
	// server's history holds ciphertext, the Web UI decodes through the codec
	// endpoint below.
	cfg.Codec.Enabled = true
	cfg.Codec.ActiveKeyID = demoCodecKeyID
	cfg.Codec.Keys = map[string]string{demoCodecKeyID: randomBase64(codec.KeySize)}
	// Availability follows the emulator's business hours (open unless
	// -offline closes them), read afresh every few seconds.
	cfg.Availability.Source = "salesforce"
	cfg.Availability.CacheTTL = 5 * time.Second
	cfg.Availability.OfflineMessage = demoOfflineMessage
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ring, err := temporalclient.Keyring(cfg)
	if err != nil {
		return nil, err
	}

	// 4. One metrics registry for the process: Temporal SDK metrics and the
	// worker's counters, served on a free loopback port.
	s.metrics, err = metrics.New(metrics.Options{Logger: o.logger.With("component", "metrics")})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.metrics.Close() })
	metricsSrv, err := s.metrics.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s.metricsURL = "http://" + metricsSrv.Addr() + metrics.Path
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = metricsSrv.Shutdown(ctx)
	})

	// 5. The production worker, delivering to the signed webhook. The one
	// client (worker and gateway) encrypts payloads and reports SDK metrics.
	s.tc, err = temporalclient.Dial(ctx, cfg, o.logger, temporalclient.WithEncryption(ring), temporalclient.WithMetricsHandler(s.metrics.TemporalMetricsHandler()))
	if err != nil {
		return nil, fmt.Errorf("dial Temporal: %w", err)
	}
	s.closers = append(s.closers, s.tc.Close)
	stopWorker, err := worker.Background(cfg, worker.WithClient(s.tc), worker.WithMetrics(s.metrics),
		worker.WithLogger(o.logger), worker.WithStopTimeout(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	s.closers = append(s.closers, stopWorker)

	// 6. The assistant gateway, with the codec endpoint for the Web UI.
	store, err := attachstore.Open(cfg.Attachments.Dir)
	if err != nil {
		return nil, fmt.Errorf("attachment store: %w", err)
	}
	// AllowUnauthenticated only because this is a loopback-only dev stack:
	// the gateway listens on 127.0.0.1 and the key dies with the process. A
	// real deployment guards the endpoint with codec.operator_token
	// (temporalclient.NewCodecHandler).
	codecHandler, err := codec.NewHandler(ring, codec.HandlerOptions{
		CORSOrigins:          uiOrigins(s.temporal.UIAddress()),
		AllowUnauthenticated: true,
		Namespaces:           []string{cfg.Temporal.Namespace},
		Logger:               o.logger.With("component", "codec-endpoint"),
	})
	if err != nil {
		return nil, fmt.Errorf("codec endpoint: %w", err)
	}
	sessions, err := wiring.Starter(cfg, s.tc, store, o.logger)
	if err != nil {
		return nil, err
	}
	links, err := cfg.LinkSigner()
	if err != nil {
		return nil, err
	}
	gw, err := gateway.New(gateway.Options{
		Sessions:     sessions,
		Files:        store,
		Links:        links,
		BearerToken:  s.token,
		Topics:       cfg.Session.Topics,
		MaxBodyBytes: cfg.Gateway.MaxBodyBytes,
		WorkflowURL:  s.temporal.WorkflowURL,
		Codec:        codecHandler,
		Logger:       o.logger.With("component", "gateway"),
	})
	if err != nil {
		return nil, err
	}
	srv := httpserver.New(gw, httpserver.Limits{}, o.logger)
	go func() {
		if err := srv.Serve(gwListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.out.logf("gateway stopped: %v", err)
		}
	}()
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return s, nil
}

// close stops everything in reverse start order: gateway, worker, client,
// metrics, receiver, emulator, Temporal, temp dir.
func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}
