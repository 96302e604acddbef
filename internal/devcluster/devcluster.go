// Package devcluster runs the production shape of Temporal on one machine for
// the one command (cmd/liveagent-cluster), the cluster tests and the
// harnesses: PostgreSQL in a scratch directory on a loopback port, the
// temporal and temporal_visibility schemas, a cluster of Temporal nodes (each
// a liveagent-clusternode process running every service), optionally the
// Temporal Web UI, and the namespace with the live-agent search attributes.
//
// Every node and PostgreSQL is a child process that can be killed and
// started again (KillNode, StartNode, RestartPostgres) to prove the bridge
// survives server-side faults. Like internal/devtemporal it builds the
// server binary from the devserver module, so the product's module graph
// never contains go.temporal.io/server.
package devcluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/liveagent-bridge/liveagent/internal/gobuild"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// BinaryEnv names a prebuilt liveagent-clusternode binary; when set, Build
// returns it instead of compiling.
const BinaryEnv = "LIVEAGENT_CLUSTERNODE_BIN"

// Options configure Start. The zero value is a 2-node cluster on free
// loopback ports without the Web UI, in a temporary directory.
type Options struct {
	// Dir is the scratch directory (PostgreSQL data, logs). Empty: a new
	// temporary directory, removed by Stop. It must be new or empty.
	Dir string
	// Nodes is the number of Temporal nodes (default 2).
	Nodes int
	// PortBase is node 0's first port; node i uses PortBase+10i to
	// PortBase+10i+8 (see clusternode.NodeOptions). 0: a free range.
	PortBase int
	// PostgresPort is PostgreSQL's port (0: a free one).
	PostgresPort int
	// UIPort serves the Web UI when positive.
	UIPort int
	// UICodecEndpoint is the codec endpoint the Web UI decodes through.
	UICodecEndpoint string
	// Namespace is registered on start (default "default").
	Namespace string
	// DynamicConfig adds or overrides server dynamic config values on every
	// node; values must encode as JSON.
	DynamicConfig map[string]any
	// LogLevel is the nodes' lowest log level: debug, info, warn (default),
	// error. Each node logs to node-<i>.log in Dir.
	LogLevel string
}

// Cluster is a running cluster. Stop it when done.
type Cluster struct {
	opts    Options
	bin     string
	ownDir  bool
	pg      *postgres
	mu      sync.Mutex
	nodes   []*proc
	ui      *proc
	uiAddr  string
	stopped bool
}

// Build returns the liveagent-clusternode binary: $LIVEAGENT_CLUSTERNODE_BIN
// when set, else one compiled from this checkout's devserver module into the
// user cache directory (gobuild.CacheDir), once for concurrent callers.
func Build(ctx context.Context) (string, error) {
	if bin := os.Getenv(BinaryEnv); bin != "" {
		return bin, nil
	}
	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("devcluster: %w (or set %s)", err, BinaryEnv)
	}
	bin, err := gobuild.Command(ctx, root, "devserver", "liveagent-clusternode")
	if err != nil {
		return "", fmt.Errorf("devcluster: %w", err)
	}
	return bin, nil
}

// Start builds the node binary if needed and brings the whole cluster up:
// PostgreSQL, schemas, nodes one after the other (the first creates the
// cluster metadata), the UI, the namespace and its search attributes. On
// error everything started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 2
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	binDir, err := PostgresBinDir()
	if err != nil {
		return nil, fmt.Errorf("devcluster: %w", err)
	}
	bin, err := Build(ctx)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, bin: bin}
	if c.opts.Dir == "" {
		// Below the system temp dir, not the user cache: PostgreSQL runs as
		// another user and must reach its directory.
		d, err := os.MkdirTemp("", "liveagent-cluster-")
		if err != nil {
			return nil, fmt.Errorf("devcluster: scratch dir: %w", err)
		}
		c.opts.Dir, c.ownDir = d, true
	}
	if err := os.MkdirAll(c.opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("devcluster: scratch dir: %w", err)
	}
	// PostgreSQL's own user must enter it.
	if err := os.Chmod(c.opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("devcluster: scratch dir: %w", err)
	}
	defer func() {
		if err != nil {
			c.KeepDir()
			_ = c.Stop()
			err = fmt.Errorf("%w (logs kept in %s)", err, c.opts.Dir)
		}
	}()
	if c.opts.PortBase == 0 {
		if c.opts.PortBase, err = freeRange(10 * opts.Nodes); err != nil {
			return nil, fmt.Errorf("devcluster: %w", err)
		}
	}
	if c.opts.PostgresPort == 0 {
		if c.opts.PostgresPort, err = freeRange(1); err != nil {
			return nil, fmt.Errorf("devcluster: %w", err)
		}
	}
	if c.pg, err = newPostgres(binDir, filepath.Join(c.opts.Dir, "postgres"), c.opts.PostgresPort); err != nil {
		return nil, fmt.Errorf("devcluster: %w", err)
	}
	if err := c.pg.initdb(ctx); err != nil {
		return nil, fmt.Errorf("devcluster: %w", err)
	}
	if err := c.pg.start(ctx); err != nil {
		return nil, fmt.Errorf("devcluster: %w", err)
	}
	schema := exec.CommandContext(ctx, bin, "schema", "-pg", c.pg.addr(), "-pg-user", c.pg.user, "-log-level", "error")
	schema.Env = append(os.Environ(), "PGPASSWORD="+c.pg.password)
	if out, err := schema.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("devcluster: schema setup: %w: %s", err, tail(out, 2000))
	}
	c.nodes = make([]*proc, opts.Nodes)
	for i := range c.nodes {
		if err := c.StartNode(ctx, i); err != nil {
			return nil, err
		}
	}
	if err := c.registerNamespace(ctx); err != nil {
		return nil, err
	}
	if opts.UIPort > 0 {
		args := []string{"ui", "-exit-with-stdin", "-port", strconv.Itoa(opts.UIPort),
			"-frontend", c.FrontendAddresses()[0], "-namespace", opts.Namespace}
		if opts.UICodecEndpoint != "" {
			args = append(args, "-codec-endpoint", opts.UICodecEndpoint)
		}
		ui, ready, err := startProc(ctx, bin, args, nil, filepath.Join(c.opts.Dir, "ui.log"))
		if err != nil {
			return nil, fmt.Errorf("devcluster: web ui: %w", err)
		}
		c.ui, c.uiAddr = ui, ready["uiAddress"]
	}
	return c, nil
}

// FrontendAddresses are the host:port of every node's frontend, node 0 first.
func (c *Cluster) FrontendAddresses() []string {
	out := make([]string, c.opts.Nodes)
	for i := range out {
		out[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.nodeBase(i)))
	}
	return out
}

// Address is the temporal.address value that reaches every frontend: the
// addresses comma-separated (see config: temporal.address).
func (c *Cluster) Address() string { return strings.Join(c.FrontendAddresses(), ",") }

// Namespace is the registered namespace.
func (c *Cluster) Namespace() string { return c.opts.Namespace }

// UIAddress is the Web UI base URL, or "" without a UI.
func (c *Cluster) UIAddress() string { return c.uiAddr }

// Dir is the scratch directory (node-<i>.log, postgres/run/postgres.log).
func (c *Cluster) Dir() string { return c.opts.Dir }

// PostgresAddress is PostgreSQL's host:port.
func (c *Cluster) PostgresAddress() string { return c.pg.addr() }

func (c *Cluster) nodeBase(i int) int { return c.opts.PortBase + 10*i }

// StartNode starts node i (again, after KillNode) and waits until its
// frontend accepts connections.
func (c *Cluster) StartNode(ctx context.Context, i int) error {
	if i < 0 || i >= len(c.nodes) {
		return fmt.Errorf("devcluster: no node %d", i)
	}
	args := []string{"node", "-exit-with-stdin", "-pg", c.pg.addr(), "-pg-user", c.pg.user,
		"-port-base", strconv.Itoa(c.nodeBase(i)), "-log-level", c.opts.LogLevel}
	for k, v := range c.opts.DynamicConfig {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("devcluster: dynamic config %s: %w", k, err)
		}
		args = append(args, "-dynamic-config", k+"="+string(b))
	}
	p, _, err := startProc(ctx, c.bin, args, []string{"PGPASSWORD=" + c.pg.password}, filepath.Join(c.opts.Dir, fmt.Sprintf("node-%d.log", i)))
	if err != nil {
		return fmt.Errorf("devcluster: node %d: %w", i, err)
	}
	c.mu.Lock()
	c.nodes[i] = p
	c.mu.Unlock()
	return nil
}

// KillNode kills node i with SIGKILL (no graceful leave from the membership
// ring) and waits for it to exit.
func (c *Cluster) KillNode(i int) error {
	c.mu.Lock()
	var p *proc
	if i >= 0 && i < len(c.nodes) {
		p, c.nodes[i] = c.nodes[i], nil
	}
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("devcluster: node %d is not running", i)
	}
	p.kill()
	return nil
}

// RestartPostgres stops PostgreSQL in immediate mode (as if its host lost
// power: no checkpoint, every connection cut), waits pause, and starts it
// again (crash recovery).
func (c *Cluster) RestartPostgres(ctx context.Context, pause time.Duration) error {
	if err := c.pg.stop(true); err != nil {
		return fmt.Errorf("devcluster: stop postgres: %w", err)
	}
	select {
	case <-time.After(pause):
	case <-ctx.Done():
	}
	if err := c.pg.start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("devcluster: restart postgres: %w", err)
	}
	return nil
}

// Stop stops the UI, every node (gracefully, killed after 30 s) and
// PostgreSQL, and removes a scratch directory Start created. Stop clients and
// workers first. Safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	nodes, ui := c.nodes, c.ui
	c.mu.Unlock()
	if ui != nil {
		ui.stop(10 * time.Second)
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n != nil {
			wg.Add(1)
			go func() { defer wg.Done(); n.stop(30 * time.Second) }()
		}
	}
	wg.Wait()
	var err error
	if c.pg != nil {
		err = c.pg.stop(false)
	}
	if c.ownDir {
		if rerr := os.RemoveAll(c.opts.Dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// KeepDir makes Stop leave a scratch directory Start created, for a failed
// test's logs.
func (c *Cluster) KeepDir() { c.ownDir = false }

// registerNamespace registers the namespace and the live-agent search
// attributes, then waits until every node's frontend knows the namespace
// (each caches namespaces and refreshes the cache every few seconds).
func (c *Cluster) registerNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tc, err := client.DialContext(ctx, client.Options{HostPort: c.FrontendAddresses()[0], Namespace: c.opts.Namespace, Logger: quietLogger{}})
	if err != nil {
		return fmt.Errorf("devcluster: dial node 0: %w", err)
	}
	defer tc.Close()
	err = retry(ctx, func() error {
		_, err := tc.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        c.opts.Namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("devcluster: register namespace %s: %w", c.opts.Namespace, err)
	}
	if err := retry(ctx, func() error { return temporalclient.EnsureSearchAttributes(ctx, tc, c.opts.Namespace) }); err != nil {
		return fmt.Errorf("devcluster: %w", err)
	}
	for _, addr := range c.FrontendAddresses() {
		err := retry(ctx, func() error {
			nc, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: c.opts.Namespace, Logger: quietLogger{}})
			if err != nil {
				return err
			}
			defer nc.Close()
			_, err = nc.DescribeTaskQueue(ctx, workflows.TaskQueue, 1)
			return err
		})
		if err != nil {
			return fmt.Errorf("devcluster: namespace %s not served by %s: %w", c.opts.Namespace, addr, err)
		}
	}
	return nil
}

func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// freeRange finds n consecutive free loopback ports in 20000-32767: below
// the kernel's ephemeral range (so no outgoing connection takes one while a
// node is down) and within the smallint column the server stores membership
// ports in.
func freeRange(n int) (int, error) {
	for range 200 {
		base := 20000 + mathrand.IntN(32767-20000-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free ports found in 20000-32767", n)
}

// proc is a liveagent-clusternode child process: it prints one JSON line when
// it serves, logs to a file, and stops by itself when its stdin closes (so it
// dies with this process, even by SIGKILL).
type proc struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{}
}

func startProc(ctx context.Context, bin string, args, env []string, logPath string) (*proc, map[string]string, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	fmt.Fprintf(logFile, "==== devcluster: start at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logFile.Close()
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, nil, err
	}
	// Own process group: a ^C in the terminal reaches the parent, which
	// stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, nil, err
	}
	p := &proc{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.exited) }()
	timer := time.NewTimer(4 * time.Minute)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		ready := map[string]string{}
		if !ok || json.Unmarshal([]byte(line), &ready) != nil {
			p.stop(5 * time.Second)
			return nil, nil, fmt.Errorf("%s %s exited or did not report ready (log: %s)", filepath.Base(bin), args[0], logPath)
		}
		return p, ready, nil
	case <-timer.C:
		p.kill()
		return nil, nil, fmt.Errorf("%s %s not ready within 4m (log: %s)", filepath.Base(bin), args[0], logPath)
	case <-ctx.Done():
		p.kill()
		return nil, nil, ctx.Err()
	}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	_ = p.stdin.Close()
}

func (p *proc) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	_ = p.stdin.Close()
}

// quietLogger drops the SDK's log lines of the setup clients (retries while
// nodes warm up are expected).
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
