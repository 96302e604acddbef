package soak

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// workerProcess runs the worker binary as a child process that can be killed
// with SIGKILL and started again. Every incarnation appends to one log file.
type workerProcess struct {
	bin     string
	env     []string
	logPath string

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current incarnation exited
	killing  bool          // the current incarnation is being killed on purpose
	starts   int
	kills    int
	crashes  int // exits we did not cause
	lastExit error
}

func newWorkerProcess(bin string, env []string, logPath string) *workerProcess {
	return &workerProcess{bin: bin, env: env, logPath: logPath}
}

// start launches a new incarnation. It is an error to start while one runs.
func (p *workerProcess) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("worker already running")
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open worker log: %w", err)
	}
	fmt.Fprintf(logFile, "==== soak: worker start #%d at %s\n", p.starts+1, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Own process group, so a ^C of the driver does not reach the worker
	// before the driver stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	p.starts++
	p.cmd = cmd
	p.killing = false
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		if !p.killing {
			p.crashes++
		}
		p.lastExit = err
		p.cmd = nil
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// running reports whether an incarnation is alive, and the channel closed when
// it exits.
func (p *workerProcess) running() (bool, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil, p.exited
}

// kill sends SIGKILL to the running incarnation and waits for it to exit: no
// graceful shutdown, no chance to finish or report anything.
func (p *workerProcess) kill() error {
	return p.signalAndWait(syscall.SIGKILL, 0, true)
}

// stop asks the running incarnation to shut down gracefully (SIGTERM) and
// kills it if it has not exited after grace.
func (p *workerProcess) stop(grace time.Duration) error {
	return p.signalAndWait(syscall.SIGTERM, grace, false)
}

func (p *workerProcess) signalAndWait(sig syscall.Signal, grace time.Duration, countKill bool) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if cmd == nil {
		p.mu.Unlock()
		return nil
	}
	p.killing = true
	if countKill {
		p.kills++
	}
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal worker: %w", err)
	}
	if grace > 0 {
		select {
		case <-exited:
			return nil
		case <-time.After(grace):
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	<-exited
	return nil
}

type workerCounts struct{ Starts, Kills, Crashes int }

func (p *workerProcess) counts() workerCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return workerCounts{Starts: p.starts, Kills: p.kills, Crashes: p.crashes}
}

// logTail returns the last n bytes of the worker log, for error reports.
func (p *workerProcess) logTail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(buf, off)
	return string(buf)
}
