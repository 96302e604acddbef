package devcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/gobuild"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// BridgeOptions configure StartBridge. The zero value is 2 workers, the
// gateway and the emulator on free loopback ports.
type BridgeOptions struct {
	// Workers is the number of worker processes (default 2).
	Workers int
	// GatewayAddr and EmulatorAddr are listen addresses (default: free
	// loopback ports).
	GatewayAddr, EmulatorAddr string
	// AgentName runs the emulator's scripted agent (default "Jane Agent");
	// AcceptAfter is its accept delay (default 2s).
	AgentName   string
	AcceptAfter time.Duration
	// Configure adjusts the configuration the workers and the gateway get
	// (as LIVEAGENT_* variables, the keys of docker-compose.yml) before it
	// is validated.
	Configure func(*config.Config)
}

// Bridge is the bridge's own processes on a cluster: workers, gateway and the
// MIAW emulator, each built from this checkout (cmd/liveagent-worker,
// cmd/liveagent-gateway, cmd/miaw-emulator) and configured the way
// docker-compose.yml configures its containers.
type Bridge struct {
	// GatewayURL and EmulatorURL are the base URLs; BearerToken authorizes
	// gateway calls: $LIVEAGENT_GATEWAY_BEARER_TOKEN, or one generated and
	// written to TokenFile (mode 0600; never logged).
	GatewayURL, EmulatorURL, BearerToken, TokenFile string
	// Config is the validated configuration the processes run with.
	Config *config.Config
	procs  []*exec.Cmd
	waits  []chan struct{}
	once   sync.Once
}

// StartBridge builds and starts the emulator, the workers and the gateway on
// c, logging to files in c.Dir(), and waits until every worker polls and the
// gateway answers.
func StartBridge(ctx context.Context, c *Cluster, o BridgeOptions) (_ *Bridge, err error) {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.AgentName == "" {
		o.AgentName = "Jane Agent"
	}
	if o.AcceptAfter <= 0 {
		o.AcceptAfter = 2 * time.Second
	}
	for _, a := range []*string{&o.GatewayAddr, &o.EmulatorAddr} {
		if *a == "" {
			port, err := freeRange(1)
			if err != nil {
				return nil, fmt.Errorf("devcluster: %w", err)
			}
			*a = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		}
	}
	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return nil, fmt.Errorf("devcluster: %w", err)
	}
	bins := map[string]string{}
	for _, name := range []string{"liveagent-worker", "liveagent-gateway", "miaw-emulator"} {
		if bins[name], err = gobuild.Command(ctx, root, "", name); err != nil {
			return nil, fmt.Errorf("devcluster: %w", err)
		}
	}
	dir := filepath.Join(c.Dir(), "bridge")
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o755); err != nil {
		return nil, fmt.Errorf("devcluster: %w", err)
	}
	const kid, issuer = "dev-key-1", "liveagent-dev"
	b := &Bridge{
		GatewayURL:  "http://" + o.GatewayAddr,
		EmulatorURL: "http://" + o.EmulatorAddr,
		BearerToken: os.Getenv("LIVEAGENT_GATEWAY_BEARER_TOKEN"),
		TokenFile:   filepath.Join(dir, "bearer-token"),
	}
	if b.BearerToken == "" {
		token := make([]byte, 32)
		if _, err := rand.Read(token); err != nil {
			return nil, fmt.Errorf("devcluster: bearer token: %w", err)
		}
		b.BearerToken = hex.EncodeToString(token)
	}
	if err := os.WriteFile(b.TokenFile, []byte(b.BearerToken), 0o600); err != nil {
		return nil, fmt.Errorf("devcluster: bearer token: %w", err)
	}
	defer func() {
		if err != nil {
			b.Stop()
		}
	}()

	// The emulator writes the dev key pair the workers sign identity tokens
	// with, as in docker-compose.yml.
	if err := b.start(bins["miaw-emulator"], nil, filepath.Join(dir, "emulator.log"),
		"-listen", o.EmulatorAddr, "-gen-keys", keys, "-kid", kid, "-issuer", issuer,
		"-agent-name", o.AgentName, "-accept-after", o.AcceptAfter.String()); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, b.EmulatorURL+"/emulator/v1/stats"); err != nil {
		return nil, fmt.Errorf("devcluster: emulator: %w", err)
	}

	cfg := config.Default()
	cfg.Temporal.Address, cfg.Temporal.Namespace = c.Address(), c.Namespace()
	cfg.Salesforce.SCRTURL = b.EmulatorURL
	cfg.Salesforce.AllowAnyHost = true
	cfg.Salesforce.OrgID = "00D000000000001"
	cfg.Salesforce.Deployment = "Live_Agent_Bridge"
	cfg.Salesforce.AuthMode = config.AuthVerified
	cfg.Salesforce.PrivateKeyFile = filepath.Join(keys, "private-key.pem")
	cfg.Salesforce.KeyID, cfg.Salesforce.Issuer = kid, issuer
	cfg.Session.Topics = []string{"Payroll", "Benefits", "Leave", "IT access"}
	cfg.Attachments.Dir = filepath.Join(dir, "attachments")
	cfg.Salesforce.TokenStoreDir = filepath.Join(dir, "tokens") // the two workers share tokens
	cfg.Attachments.PublicURL = b.GatewayURL + "/v1/attachments"
	cfg.Gateway.Listen = o.GatewayAddr
	cfg.Gateway.BearerToken = b.BearerToken
	if o.Configure != nil {
		o.Configure(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("devcluster: bridge configuration: %w", err)
	}
	b.Config = cfg
	for i := range o.Workers {
		wc := *cfg
		wc.Worker.MetricsListen = "" // one port each would clash; the one command sets none
		if err := b.start(bins["liveagent-worker"], wc.ChildEnviron(), filepath.Join(dir, fmt.Sprintf("worker-%d.log", i))); err != nil {
			return nil, err
		}
	}
	if err := b.start(bins["liveagent-gateway"], cfg.ChildEnviron(), filepath.Join(dir, "gateway.log")); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, b.GatewayURL+"/healthz"); err != nil {
		return nil, fmt.Errorf("devcluster: gateway: %w", err)
	}
	if err := waitPollers(ctx, cfg, o.Workers); err != nil {
		return nil, fmt.Errorf("devcluster: workers: %w (logs in %s)", err, dir)
	}
	return b, nil
}

// start runs bin in its own process group (a terminal ^C reaches only the
// parent, which stops the children), dying with this process.
func (b *Bridge) start(bin string, env []string, logPath string, args ...string) error {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("devcluster: log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("devcluster: start %s: %w", filepath.Base(bin), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
	b.procs = append(b.procs, cmd)
	b.waits = append(b.waits, done)
	return nil
}

// Stop stops the gateway, the workers and the emulator (SIGTERM, SIGKILL
// after 15 s) and waits for them. Safe to call more than once.
func (b *Bridge) Stop() {
	b.once.Do(func() {
		for i := len(b.procs) - 1; i >= 0; i-- {
			_ = b.procs[i].Process.Signal(syscall.SIGTERM)
			select {
			case <-b.waits[i]:
			case <-time.After(15 * time.Second):
				_ = b.procs[i].Process.Kill()
				<-b.waits[i]
			}
		}
	})
}

func waitHTTP(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return retry(ctx, func() error {
		resp, err := hc.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}

// waitPollers waits until n workers poll the session task queue.
func waitPollers(ctx context.Context, cfg *config.Config, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tc, err := temporalclient.Dial(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer tc.Close()
	return retry(ctx, func() error {
		resp, err := tc.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return err
		}
		if got := len(resp.GetPollers()); got < n {
			return errors.New("waiting for pollers: " + strconv.Itoa(got) + " of " + strconv.Itoa(n))
		}
		return nil
	})
}
