package bench

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

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
