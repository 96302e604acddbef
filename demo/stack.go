package main

import (
	"context"
	"crypto/rand"
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

	"github.com/liveagent-bridge/liveagent/app"
	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/devserver"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
)

const (
	demoKeyID  = "demo-key"
	demoIssuer = "liveagent-demo"
	agentName  = "Jane Agent"
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
	// serverLogLevel filters the embedded Temporal server's logs (nil = warn).
	serverLogLevel slog.Leveler
	out            *printer
}

// stack is everything the demo runs in its process.
type stack struct {
	dir        string
	temporal   *devserver.Server
	emu        *emulator.Server
	emuURL     string
	tc         client.Client
	worker     *app.Worker
	recv       *receiver
	gatewayURL string
	token      string
	closers    []func()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// startStack starts, in order: the embedded Temporal server and Web UI, the
// MIAW emulator, the webhook receiver, the worker and the gateway. On error
// whatever started is stopped again.
func startStack(ctx context.Context, o stackOptions) (s *stack, err error) {
	s = &stack{}
	defer func() {
		if err != nil {
			s.close()
			s = nil
		}
	}()
	s.dir, err = os.MkdirTemp("", "liveagent-demo-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	s.closers = append(s.closers, func() { _ = os.RemoveAll(s.dir) })

	// 1. Temporal + Web UI, search attributes pre-registered.
	devOpts := devserver.Options{UIPort: o.uiPort, Logger: o.logger.With("component", "temporal-server"), LogLevel: o.serverLogLevel}
	s.temporal, err = devserver.Start(ctx, devOpts)
	if err != nil && o.uiPortDefault && strings.Contains(err.Error(), "ui port") {
		o.out.plain("Web UI port %d is taken; using a free port.", o.uiPort)
		devOpts.UIPort = 0
		s.temporal, err = devserver.Start(ctx, devOpts)
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

	// The gateway's address is needed in the config (attachments.public_url).
	gwListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gateway listen: %w", err)
	}
	s.gatewayURL = "http://" + gwListener.Addr().String()
	s.token = randomHex(24)

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
	cfg.Attachments.PublicURL = s.gatewayURL + "/v1/attachments"
	cfg.Delivery.Mode = config.DeliveryWebhook
	cfg.Delivery.WebhookURL = webhookURL
	cfg.Delivery.WebhookSecret = secret
	cfg.Gateway.Listen = gwListener.Addr().String()
	cfg.Gateway.BearerToken = s.token
	cfg.Worker.ListenerSlots = 50
	cfg.Worker.ActivitySlots = 50
	if err := cfg.Validate(); err != nil {
		_ = gwListener.Close()
		return nil, err
	}

	// 4. The production worker, delivering to the signed webhook.
	s.tc, err = app.Dial(ctx, cfg, o.logger)
	if err != nil {
		_ = gwListener.Close()
		return nil, fmt.Errorf("dial Temporal: %w", err)
	}
	s.closers = append(s.closers, s.tc.Close)
	sink, err := app.NewSink(cfg.Delivery, os.Stdout)
	if err != nil {
		_ = gwListener.Close()
		return nil, err
	}
	s.worker, err = app.NewWorker(cfg, s.tc, sink, o.logger, app.WithStopTimeout(2*time.Second))
	if err != nil {
		_ = gwListener.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	if err := s.worker.Start(); err != nil {
		_ = gwListener.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	s.closers = append(s.closers, s.worker.Stop)

	// 5. The assistant gateway.
	store, err := attachstore.Open(cfg.Attachments.Dir)
	if err != nil {
		_ = gwListener.Close()
		return nil, fmt.Errorf("attachment store: %w", err)
	}
	gw, err := gateway.New(gateway.Options{
		Sessions:     starter.New(s.tc, cfg.SessionSettings(), store),
		Files:        store,
		BearerToken:  s.token,
		Topics:       cfg.Session.Topics,
		MaxBodyBytes: cfg.Gateway.MaxBodyBytes,
		WorkflowURL:  s.temporal.WorkflowURL,
		Logger:       o.logger.With("component", "gateway"),
	})
	if err != nil {
		_ = gwListener.Close()
		return nil, err
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
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
// receiver, emulator, Temporal, temp dir.
func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}
