// Package devtemporal starts the embedded Temporal dev server
// (devserver/cmd/liveagent-devserver) as a child process for the demo, the
// tests and the harnesses (soak, load benchmark).
//
// The server runs in a process of its own because it lives in a module of
// its own (devserver/): the product's module graph, which an assistant
// importing our Go client inherits, must not contain go.temporal.io/server.
// Build compiles the binary from this checkout once into the user's cache
// directory; later builds are incremental and take a second.
package devtemporal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/gobuild"
)

// BinaryEnv names a prebuilt liveagent-devserver binary; when set, Build
// returns it instead of compiling.
const BinaryEnv = "LIVEAGENT_DEVSERVER_BIN"

// Options configure Start. The zero value is an in-memory server with the
// Web UI on free loopback ports.
type Options struct {
	// Namespace created on start (default "default").
	Namespace string
	// FrontendPort is the gRPC port (0 = a free one).
	FrontendPort int
	// UIPort is the Web UI port (0 = a free one); NoUI disables the UI.
	UIPort int
	NoUI   bool
	// UICodecEndpoint is the codec endpoint the Web UI decodes through.
	UICodecEndpoint string
	// DatabaseFile persists to this SQLite file (empty = in memory).
	DatabaseFile string
	// DynamicConfig overrides server dynamic config values by key; values
	// must encode as JSON.
	DynamicConfig map[string]any
	// LogLevel is the lowest server log level written to Log: debug, info,
	// warn (default) or error.
	LogLevel string
	// Log receives the server's log lines (nil = discarded); LogTo adapts a
	// slog.Logger.
	Log io.Writer
	// StartTimeout bounds the wait for the server to serve (default 2 min).
	StartTimeout time.Duration
}

// Server is a running dev server process.
type Server struct {
	ready    Ready
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Ready is the line liveagent-devserver prints on stdout, as JSON, once it
// serves: the contract between the binary and Start.
type Ready struct {
	FrontendAddress     string `json:"frontendAddress"`
	FrontendHTTPAddress string `json:"frontendHTTPAddress"`
	UIAddress           string `json:"uiAddress,omitempty"`
	Namespace           string `json:"namespace"`
}

// FrontendAddress is the host:port Temporal clients dial.
func (s *Server) FrontendAddress() string { return s.ready.FrontendAddress }

// Namespace is the namespace created on start.
func (s *Server) Namespace() string { return s.ready.Namespace }

// UIAddress is the Web UI base URL, or "" without a UI.
func (s *Server) UIAddress() string { return s.ready.UIAddress }

// WorkflowURL is the Web UI page of one workflow, or "" without a UI.
func (s *Server) WorkflowURL(workflowID string) string {
	if s.ready.UIAddress == "" {
		return ""
	}
	return s.ready.UIAddress + "/namespaces/" + url.PathEscape(s.ready.Namespace) + "/workflows/" + url.PathEscape(workflowID)
}

// Start builds the binary if needed, starts it and waits until it serves.
// The process stops with Stop, and by itself if this process dies.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := Build(ctx)
	if err != nil {
		return nil, err
	}
	// The server picks its internal ports free and binds them a moment later;
	// another process can take one in between. A fresh start picks others.
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, bin, opts)
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			return s, err
		}
	}
}

// startAttempts bounds the starts retried because a port was taken.
const startAttempts = 3

// errPortTaken marks a start that failed because a port the server chose was
// bound by someone else before the server bound it.
var errPortTaken = errors.New("a port was taken before the server bound it")

// start runs bin with opts and waits for its Ready line.
func start(ctx context.Context, bin string, opts Options) (*Server, error) {
	args, err := opts.args()
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	// Not CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(bin, args...)
	logs := opts.Log
	if logs == nil {
		logs = io.Discard
	}
	// The last lines of stderr explain a failed start.
	tail := &tailBuffer{max: 4 << 10}
	cmd.Stderr = io.MultiWriter(logs, tail)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("devtemporal: stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("devtemporal: stdout pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devtemporal: start %s: %w", bin, err)
	}
	s := &Server{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if !ok {
			<-s.exited
			if tail.portTaken() {
				return nil, fmt.Errorf("devtemporal: server exited before serving (%v): %w: %s", s.waitErr, errPortTaken, tail.String())
			}
			return nil, fmt.Errorf("devtemporal: server exited before serving (%v): %s", s.waitErr, tail.String())
		}
		if err := json.Unmarshal([]byte(line), &s.ready); err != nil || s.ready.FrontendAddress == "" {
			_ = s.Stop()
			return nil, fmt.Errorf("devtemporal: unexpected first line %q", line)
		}
		return s, nil
	case <-timer.C:
		_ = s.Stop()
		return nil, fmt.Errorf("devtemporal: server did not serve within %s: %s", timeout, tail.String())
	case <-ctx.Done():
		_ = s.Stop()
		return nil, fmt.Errorf("devtemporal: start: %w", ctx.Err())
	}
}

// Stop asks the server to stop (SIGTERM), kills it after 30 s, and waits.
// Stop clients and workers first. Safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		_ = s.stdin.Close()
	})
	var exitErr *exec.ExitError
	if s.waitErr != nil && !(errors.As(s.waitErr, &exitErr) && !exitErr.Exited()) {
		return fmt.Errorf("devtemporal: server exit: %w", s.waitErr)
	}
	return nil
}

// Exited is closed once the server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// DetachParent closes the server's stdin, as this process dying would; the
// server then stops by itself.
func (s *Server) DetachParent() { _ = s.stdin.Close() }

func (o Options) args() ([]string, error) {
	args := []string{"-exit-with-stdin"}
	add := func(flag, value string) { args = append(args, "-"+flag+"="+value) }
	if o.Namespace != "" {
		add("namespace", o.Namespace)
	}
	if o.FrontendPort != 0 {
		add("port", fmt.Sprint(o.FrontendPort))
	}
	if o.NoUI {
		args = append(args, "-no-ui")
	} else if o.UIPort != 0 {
		add("ui-port", fmt.Sprint(o.UIPort))
	}
	if o.UICodecEndpoint != "" {
		add("ui-codec-endpoint", o.UICodecEndpoint)
	}
	if o.DatabaseFile != "" {
		add("db", o.DatabaseFile)
	}
	if o.LogLevel != "" {
		add("log-level", o.LogLevel)
	}
	for k, v := range o.DynamicConfig {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("devtemporal: dynamic config %s: %w", k, err)
		}
		add("dynamic-config", k+"="+string(b))
	}
	return args, nil
}

// Build returns the liveagent-devserver binary: $LIVEAGENT_DEVSERVER_BIN when
// set, else one compiled from this checkout's devserver module into the user
// cache directory (gobuild.CacheDir). Concurrent callers (parallel test
// packages) build once: the others wait for the lock and find it up to date.
func Build(ctx context.Context) (string, error) {
	if bin := os.Getenv(BinaryEnv); bin != "" {
		return bin, nil
	}
	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("devtemporal: %w (or set %s)", err, BinaryEnv)
	}
	bin, err := gobuild.Command(ctx, root, "devserver", "liveagent-devserver")
	if err != nil {
		return "", fmt.Errorf("devtemporal: %w", err)
	}
	return bin, nil
}

// LogTo is an Options.Log that writes each server log line to log at warn
// level (the server's own level is part of the line).
func LogTo(log *slog.Logger) io.Writer {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			log.Warn(sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw
}

// tailBuffer keeps the last max bytes written to it, and the line a Go panic
// starts with, which a long stack trace would push out of the tail.
type tailBuffer struct {
	mu        sync.Mutex
	max       int
	b         []byte
	panicLine string
	addrInUse bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Scan from the start of the line p continues, so a line split across
	// writes is seen whole; only what p adds is read, never the whole tail.
	start := bytes.LastIndexByte(t.b, '\n') + 1
	t.b = append(t.b, p...)
	lines := bytes.Split(t.b[start:], []byte("\n"))
	for i, line := range lines {
		complete := i < len(lines)-1
		if complete && t.panicLine == "" && bytes.HasPrefix(line, []byte("panic: ")) {
			t.panicLine = string(line)
		}
		if bytes.Contains(line, []byte("address already in use")) {
			t.addrInUse = true
		}
	}
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

// portTaken reports whether the server failed to bind an address in use.
func (t *tailBuffer) portTaken() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addrInUse
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tail := strings.TrimSpace(string(t.b))
	if t.panicLine != "" && !strings.Contains(tail, t.panicLine) {
		return t.panicLine + "\n...\n" + tail
	}
	return tail
}
