package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/config"
)

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the module; run from the repository or pass -worker-bin")
	}
	return filepath.Dir(gomod), nil
}

// buildWorker runs `go build -o out ./worker` in root.
func buildWorker(ctx context.Context, root, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("worker binary directory: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./worker")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./worker: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// workerEnv is the worker's environment: the driver's own minus anything that
// could configure the bridge, plus cfg as LIVEAGENT_* variables.
func workerEnv(cfg *config.Config) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, config.EnvPrefix) || strings.HasPrefix(kv, "TEMPORAL_") {
			continue
		}
		env = append(env, kv)
	}
	set := func(key, value string) { env = append(env, config.EnvName(key)+"="+value) }
	set("temporal.address", cfg.Temporal.Address)
	set("temporal.namespace", cfg.Temporal.Namespace)
	set("salesforce.scrt_url", cfg.Salesforce.SCRTURL)
	set("salesforce.allow_any_host", strconv.FormatBool(cfg.Salesforce.AllowAnyHost))
	set("salesforce.org_id", cfg.Salesforce.OrgID)
	set("salesforce.deployment", cfg.Salesforce.Deployment)
	set("salesforce.auth_mode", cfg.Salesforce.AuthMode)
	set("salesforce.private_key_file", cfg.Salesforce.PrivateKeyFile)
	set("salesforce.key_id", cfg.Salesforce.KeyID)
	set("salesforce.issuer", cfg.Salesforce.Issuer)
	set("salesforce.token_requests_per_minute", strconv.Itoa(cfg.Salesforce.TokenRequestsPerMinute))
	set("session.topics", strings.Join(cfg.Session.Topics, ","))
	set("session.accept_timeout", cfg.Session.AcceptTimeout.String())
	set("session.greeting", cfg.Session.Greeting)
	set("attachments.dir", cfg.Attachments.Dir)
	set("delivery.mode", cfg.Delivery.Mode)
	set("delivery.webhook_url", cfg.Delivery.WebhookURL)
	set("delivery.webhook_secret", cfg.Delivery.WebhookSecret)
	set("worker.listener_slots", strconv.Itoa(cfg.Worker.ListenerSlots))
	set("worker.activity_slots", strconv.Itoa(cfg.Worker.ActivitySlots))
	set("worker.metrics_listen", cfg.Worker.MetricsListen)
	set("log.level", cfg.Log.Level)
	return env
}

// workerProc is one run of the worker binary.
type workerProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // set before exited is closed
	log    *os.File
}

// startWorker starts bin with env, appending its output to logPath. The
// worker gets its own process group so a ^C of the driver reaches it only
// through stop.
func startWorker(bin string, env []string, logPath string) (*workerProc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open worker log: %w", err)
	}
	fmt.Fprintf(logFile, "==== loadbench: worker start at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	p := &workerProc{cmd: cmd, exited: make(chan struct{}), log: logFile}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *workerProc) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process is still running.
func (p *workerProc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits up to grace before SIGKILL. It returns the
// exit error of a worker that had already died on its own.
func (p *workerProc) stop(grace time.Duration) error {
	if !p.alive() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		return fmt.Errorf("worker did not stop within %s after SIGTERM; killed", grace)
	}
}

// freeAddr returns a free loopback host:port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// logTail returns the last n bytes of a file, for error messages.
func logTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	buf := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(buf, off)
	return string(buf)
}
