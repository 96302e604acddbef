package devcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// RequireEnv, set to 1, turns "PostgreSQL is not installed" from a skipped
// test into a failed one (CI sets it).
const RequireEnv = "REQUIRE_POSTGRES"

// pgOSUser is the account PostgreSQL runs as when this process is root
// (PostgreSQL refuses to run as root); created when missing.
const pgOSUser = "liveagent-pg"

// PostgresBinDir finds the directory of initdb and postgres: $PG_BINDIR, the
// directory of initdb on PATH, or the newest /usr/lib/postgresql/*/bin
// (Debian's layout, where the binaries are not on PATH).
func PostgresBinDir() (string, error) {
	var dirs []string
	if d := os.Getenv("PG_BINDIR"); d != "" {
		dirs = append(dirs, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(debian)))
	dirs = append(dirs, debian...)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR")
}

func isExec(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// postgres is one PostgreSQL server in a scratch directory, listening on a
// loopback port only, run as a child process (not daemonized: it dies with
// this process).
type postgres struct {
	binDir   string
	dir      string // data/, run/ (socket, log)
	port     int
	user     string // database superuser
	password string
	cred     *syscall.Credential // nil when not root

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	logFile *os.File
}

func newPostgres(binDir, dir string, port int) (*postgres, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("postgres password: %w", err)
	}
	p := &postgres{binDir: binDir, dir: dir, port: port, user: "temporal", password: hex.EncodeToString(secret)}
	if os.Geteuid() == 0 {
		cred, err := osUser(pgOSUser)
		if err != nil {
			return nil, err
		}
		p.cred = cred
	}
	return p, nil
}

// osUser returns the credentials of name, creating a system account without
// a login shell or home directory when it does not exist.
func osUser(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		out, aerr := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if aerr != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and creating OS user %s failed: %w: %s", name, aerr, out)
		}
		if u, err = user.Lookup(name); err != nil {
			return nil, fmt.Errorf("OS user %s: %w", name, err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (p *postgres) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// chown gives path to the PostgreSQL OS user, when there is one.
func (p *postgres) chown(path string) error {
	if p.cred == nil {
		return nil
	}
	return os.Chown(path, int(p.cred.Uid), int(p.cred.Gid))
}

// initdb creates the cluster: superuser p.user with a password, password
// authentication on TCP, no other access.
func (p *postgres) initdb(ctx context.Context) error {
	// The scratch directory may sit below directories the PostgreSQL user
	// cannot enter (e.g. /root): its own dirs must be reachable.
	for _, d := range []string{p.dir, filepath.Join(p.dir, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("postgres dir: %w", err)
		}
		if err := p.chown(d); err != nil {
			return fmt.Errorf("postgres dir: %w", err)
		}
	}
	pwFile := filepath.Join(p.dir, "run", "pwfile")
	if err := os.WriteFile(pwFile, []byte(p.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("postgres password file: %w", err)
	}
	defer os.Remove(pwFile)
	if err := p.chown(pwFile); err != nil {
		return fmt.Errorf("postgres password file: %w", err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(p.binDir, "initdb"),
		"-D", filepath.Join(p.dir, "data"), "-U", p.user, "--pwfile="+pwFile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(out, 2000))
	}
	return nil
}

// start runs the server and waits until it accepts TCP connections.
func (p *postgres) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("postgres already running")
	}
	logFile, err := os.OpenFile(filepath.Join(p.dir, "run", "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("postgres log: %w", err)
	}
	cmd := exec.Command(filepath.Join(p.binDir, "postgres"),
		"-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(p.port),
		"-k", filepath.Join(p.dir, "run"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300",
		// Scratch data: surviving an OS crash is not the point, speed on a
		// busy 2-core machine is. Commits still reach the OS before they
		// return (synchronous_commit stays on), so a PostgreSQL crash or
		// restart (RestartPostgres) loses nothing committed.
		"-c", "fsync=off", "-c", "full_page_writes=off",
		// Lock waits longer than deadlock_timeout (1 s) go to postgres.log
		// with the holders' pids: what a stalled shard waited on.
		"-c", "log_lock_waits=on",
		"-c", "log_line_prefix=%m [%p] %c ")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGINT is PostgreSQL's fast shutdown; it comes when this process dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGINT}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(exited) }()
	p.cmd, p.exited, p.logFile = cmd, exited, logFile
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.addr(), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			p.cmd = nil
			return fmt.Errorf("postgres exited during start (log: %s)", filepath.Join(p.dir, "run", "postgres.log"))
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not listen on %s within 60s", p.addr())
		}
	}
}

// stop shuts the server down: immediate (SIGQUIT: no checkpoint, crash
// recovery on the next start, as after a power loss of the database host)
// or fast (SIGINT: clients are disconnected, a clean checkpoint).
func (p *postgres) stop(immediate bool) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	sig := syscall.SIGINT
	if immediate {
		sig = syscall.SIGQUIT
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return errors.New("postgres did not stop within 30s; killed")
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
