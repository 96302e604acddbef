// Command miaw-emulator runs the Salesforce MIAW emulator on its own: the MIAW
// REST API and SSE stream, the agent control API under /emulator/v1/ and the
// agent console page at /emulator/console.
//
//	miaw-emulator -listen 127.0.0.1:8090 -gen-keys ./devkeys -accept-after 3s -close-after 5
//
// It prints its base URL on stdout and shuts down gracefully on SIGINT/SIGTERM.
//
// For a browser client such as Salesforce's sample web app (which insists on
// an https URL ending in salesforce-scrt.com), serve HTTPS and allow the
// page's origin:
//
//	miaw-emulator -listen 127.0.0.1:8443 -tls-self-signed '*.my.salesforce-scrt.com,localhost,127.0.0.1' \
//	    -tls-cert-out emulator.pem -cors-origins http://localhost:3000 -agent-name Jane
//
// and make <name>.my.salesforce-scrt.com resolve to the emulator (hosts file,
// or Chromium's --host-resolver-rules) with the certificate trusted.
//
// Salesforce's Conversation History API (the connected app's OAuth JWT
// bearer token endpoint POST /services/oauth2/token and the upload POST
// /api/v1/conversationHistory, on the emulator's own address) is served when
// -history-client-id is set:
//
//	miaw-emulator -gen-keys ./devkeys -history-client-id dev-consumer-key \
//	    -history-username integration@example.com -history-connected-app Live_Agent_Bridge_App
//
// The JWT bearer assertions (iss = -history-client-id, sub =
// -history-username, RS256) must be signed with a key of the JWKS the
// emulator loads (-jwks or -gen-keys), the same keys that verify customer
// identity tokens. Uploads must send -history-connected-app as their
// AuthorizationContext header and name -history-channel as their
// channelAddressIdentifier; empty -history-channel means the deployment's own
// channel address, which the emulator logs at startup. The agent console
// shows imported history and has a switch that makes uploads refused (403
// code 10057).
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "miaw-emulator:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. It prints the base URL as the first line of stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("miaw-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen       = fs.String("listen", "127.0.0.1:8090", "address to listen on")
		publicURL    = fs.String("public-url", "", "base URL clients reach the emulator at, used in attachment links (default: the listen address)")
		orgID        = fs.String("org-id", "00D000000000001", "Salesforce org id")
		deployment   = fs.String("deployment", "Live_Agent_Bridge", "Embedded Service deployment developer name")
		issuer       = fs.String("issuer", "", "expected iss of customer identity JWTs (empty = any)")
		jwksFile     = fs.String("jwks", "", "JWKS file with the public keys that verify customer identity JWTs")
		genKeys      = fs.String("gen-keys", "", "generate a dev RSA key pair into this directory and use its JWKS")
		kid          = fs.String("kid", "dev-key-1", "key id for -gen-keys")
		rejectGuests = fs.Bool("reject-guests", false, "answer 403 to unauthenticated access-token requests")
		tokenTTL     = fs.Duration("token-ttl", time.Hour, "access-token lifetime")
		ping         = fs.Duration("ping", 30*time.Second, "SSE ping interval")
		replayWindow = fs.Duration("replay-window", 0, "how long SSE events stay replayable with Last-Event-ID (0 = no time limit, the last 1000 per user)")
		rateCount    = fs.Int("message-rate", emulator.SalesforceMessageRate.Count, "end-user messages one conversation accepts per -message-rate-window, as Salesforce (0 = no limit; over it: 429)")
		rateWindow   = fs.Duration("message-rate-window", emulator.SalesforceMessageRate.Window, "window of -message-rate")
		agentName    = fs.String("agent-name", "", "run a scripted agent with this name (empty = no scripted agent)")
		acceptAfter  = fs.Duration("accept-after", 3*time.Second, "scripted agent: accept waiting conversations after this")
		greeting     = fs.String("greeting", "", "scripted agent: greeting sent right after accepting")
		closeAfter   = fs.Int("close-after", 0, "scripted agent: end the session after this many user messages (0 = never)")
		sendLink     = fs.Bool("send-link", true, "scripted agent: share a link after the first reply")
		sendFile     = fs.Bool("send-file", true, "scripted agent: share a small file after the first reply")
		never        = fs.Bool("never-accept", false, "scripted agent: never accept (queue times out via the control API)")
		dropEvery    = fs.Int("fault-drop-every", 0, "close each SSE stream after N events")
		dupRate      = fs.Float64("fault-duplicate-rate", 0, "fraction of SSE events sent twice")
		errRate      = fs.Float64("fault-error-rate", 0, "fraction of REST calls answered 503")
		throttleRate = fs.Float64("fault-throttle-rate", 0, "fraction of REST calls answered 429")
		burst        = fs.Int("fault-throttle-burst", 1, "consecutive 429 answers per throttle")
		faultTTL     = fs.Duration("fault-token-ttl", 0, "override the access-token lifetime (early expiry)")
		delay        = fs.Duration("fault-event-delay", 0, "delay before each SSE event")
		seed         = fs.Int64("fault-seed", 1, "seed of the fault RNG")
		verbose      = fs.Bool("v", false, "debug logging")
		allowHosts   = fs.String("allow-hosts", "", "comma-separated host names besides loopback and -public-url's that the control API, console and files answer (* = any; trusted networks only)")
		corsOrigins  = fs.String("cors-origins", "", "comma-separated origins (scheme://host[:port]) whose browser pages may call the MIAW API and stream, like the org's CORS allowlist (* = any)")
		tlsCert      = fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (with -tls-key)")
		tlsKey       = fs.String("tls-key", "", "PEM private key of -tls-cert")
		tlsSelf      = fs.String("tls-self-signed", "", "serve HTTPS with a development certificate generated in memory for these comma-separated host names, wildcards and IPs, e.g. '*.my.salesforce-scrt.com,localhost,127.0.0.1'")
		tlsCertOut   = fs.String("tls-cert-out", "", "with -tls-self-signed: write its certificate (PEM) here, for a browser or client to trust")
		histClient   = fs.String("history-client-id", "", "serve the Conversation History API; the connected app's consumer key, the iss of JWT bearer assertions (signed with a key of -jwks / -gen-keys)")
		histUser     = fs.String("history-username", "", "with -history-client-id: the integration user, the sub of JWT bearer assertions (required)")
		histApp      = fs.String("history-connected-app", "", "with -history-client-id: the connected app's developer name, which uploads send as AuthorizationContext (required)")
		histChannel  = fs.String("history-channel", "", "with -history-client-id: the channelAddressIdentifier uploads must name (empty = the deployment's own channel address)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	var jwks []byte
	switch {
	case *genKeys != "" && *jwksFile != "":
		return fmt.Errorf("-jwks and -gen-keys are mutually exclusive")
	case *genKeys != "":
		keyPath, jwksPath, err := emulator.GenerateKeyPair(*genKeys, *kid)
		if err != nil {
			return err
		}
		logger.Info("generated dev key pair", "privateKey", keyPath, "jwks", jwksPath, "kid", *kid)
		*jwksFile = jwksPath
		fallthrough
	case *jwksFile != "":
		b, err := os.ReadFile(*jwksFile)
		if err != nil {
			return fmt.Errorf("-jwks: %w", err)
		}
		jwks = b
	}
	history, err := historyConfig(*histClient, *histUser, *histApp, *histChannel)
	if err != nil {
		return err
	}
	tlsConfig, err := serverTLS(*tlsCert, *tlsKey, *tlsSelf, *tlsCertOut, logger)
	if err != nil {
		return err
	}
	cfg := emulator.Config{
		OrgID: *orgID, DeploymentName: *deployment, Issuer: *issuer, JWKS: jwks, RejectGuests: *rejectGuests,
		TokenTTL: *tokenTTL, PingInterval: *ping, ReplayWindow: *replayWindow,
		MessageRate: emulator.MessageRate{Count: *rateCount, Window: *rateWindow}, Logger: logger, PublicURL: *publicURL, AllowedHosts: emulator.SplitHosts(*allowHosts),
		TLS: tlsConfig, CORSOrigins: emulator.SplitHosts(*corsOrigins), ConversationHistory: history,
		Faults: emulator.Faults{DropStreamEvery: *dropEvery, DuplicateRate: *dupRate, ErrorRate: *errRate,
			ThrottleRate: *throttleRate, ThrottleBurst: *burst, TokenTTL: *faultTTL, EventDelay: *delay, Seed: *seed},
	}
	if *agentName != "" {
		cfg.Agent = &emulator.ScriptedAgent{Name: *agentName, AcceptAfter: *acceptAfter, Greeting: *greeting, CloseAfter: *closeAfter,
			SendLink: *sendLink, SendFile: *sendFile, Never: *never}
	}
	srv, err := emulator.New(cfg)
	if err != nil {
		return err
	}
	base, err := srv.Start(*listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, base)
	fmt.Fprintf(stderr, "agent console: %s/emulator/console\n", base)
	if history != nil {
		channel := history.ChannelAddressIdentifier
		if channel == "" {
			channel = srv.ChannelAddressIdentifier()
		}
		logger.Info("conversation history API enabled", "tokenURL", base+"/services/oauth2/token", "uploadURL", base+"/api/v1/conversationHistory",
			"clientId", history.ClientID, "username", history.Username, "connectedApp", history.ConnectedApp, "channelAddressIdentifier", channel)
	}

	<-ctx.Done()
	logger.Info("shutting down")
	return srv.Close()
}

// historyConfig builds the Conversation History API's configuration from the
// -history-* flags: nil (disabled) without -history-client-id, and then no
// other -history-* flag may be given. The assertions are verified with the
// emulator's JWKS (PublicKey nil); emulator.New rejects an empty JWKS.
func historyConfig(clientID, username, connectedApp, channel string) (*emulator.ConversationHistoryConfig, error) {
	if clientID == "" {
		if username != "" || connectedApp != "" || channel != "" {
			return nil, fmt.Errorf("-history-username, -history-connected-app and -history-channel need -history-client-id")
		}
		return nil, nil
	}
	if username == "" || connectedApp == "" {
		return nil, fmt.Errorf("-history-client-id needs -history-username and -history-connected-app")
	}
	return &emulator.ConversationHistoryConfig{ClientID: clientID, Username: username, ConnectedApp: connectedApp,
		ChannelAddressIdentifier: channel}, nil
}

// serverTLS builds the emulator's TLS configuration from -tls-cert/-tls-key
// or -tls-self-signed (nil when neither is given: plain HTTP).
func serverTLS(certFile, keyFile, selfSigned, certOut string, logger *slog.Logger) (*tls.Config, error) {
	switch {
	case selfSigned != "" && (certFile != "" || keyFile != ""):
		return nil, fmt.Errorf("-tls-self-signed and -tls-cert/-tls-key are mutually exclusive")
	case (certFile == "") != (keyFile == ""):
		return nil, fmt.Errorf("-tls-cert and -tls-key must be given together")
	case certOut != "" && selfSigned == "":
		return nil, fmt.Errorf("-tls-cert-out needs -tls-self-signed")
	case certFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case selfSigned != "":
		cfg, err := emulator.SelfSignedTLS(emulator.SplitHosts(selfSigned), certOut)
		if err != nil {
			return nil, fmt.Errorf("-tls-self-signed: %w", err)
		}
		logger.Warn("serving HTTPS with a self-signed development certificate; clients must trust it (-tls-cert-out) or skip verification", "hosts", selfSigned, "certificate", certOut)
		return cfg, nil
	}
	return nil, nil
}
