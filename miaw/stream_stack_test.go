package miaw_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// BenchmarkIdleStreamStack measures the goroutine stack an idle Stream
// keeps ("stack-B/stream") and the part of it that Stream's own frames
// add ("extra-stack-B/stream"), over the same stream read by a bare
// goroutine parked in the response body's Read, the least any reader can
// keep. A stream's goroutine stays parked in that Read for the stream's
// life, and the runtime halves a parked goroutine's stack only while it
// uses under a quarter of it, so a few hundred bytes more on that path can
// double the stack of each of thousands of streams. The streams run over
// HTTP/2 to an emulator in a helper process, so that only the client's
// goroutines are counted (each stream has HTTP/2's request-writing
// goroutine besides its reader, in both figures).
func BenchmarkIdleStreamStack(b *testing.B) {
	const streams = 400
	client, hc, base := startBenchEmulator(b)
	ctx := context.Background()
	users := make([]string, streams)
	for i := range users {
		users[i] = fmt.Sprintf("stack-%d@example.com", i)
		if _, err := client.Token(ctx, users[i]); err != nil {
			b.Fatal(err)
		}
	}
	var bare, ours float64
	for b.Loop() {
		bare = stackPerStream(b, users, func(ctx context.Context, user string, connected, done func()) {
			go func() {
				defer done()
				tok, err := client.Token(ctx, user)
				if err != nil {
					b.Error(err)
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/eventrouter/v1/sse", nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				req.Header.Set("X-Org-Id", emuOrg)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				defer resp.Body.Close()
				connected()
				growStack(16)
				bareRead(resp)
			}()
		})
		ours = stackPerStream(b, users, func(ctx context.Context, user string, connected, done func()) {
			err := client.GoStream(ctx, user, miaw.StreamOptions{OnConnect: func(string) error { connected(); growStack(16); return nil }},
				func(miaw.Event) error { return nil }, func(error) { done() })
			if err != nil {
				b.Error(err)
				done()
			}
		})
	}
	b.ReportMetric(ours-bare, "extra-stack-B/stream")
	b.ReportMetric(ours, "stack-B/stream")
}

// growStack uses about kib KiB of stack, as handling an event does (a
// Temporal signal is a deep call), so that the figures are those of a
// stream that handled events: its stack grew, then shrank at the
// collections while parked as far as the parked frames allow.
//
//go:noinline
func growStack(kib int) byte {
	var frame [1000]byte
	frame[kib%len(frame)] = byte(kib)
	if kib <= 1 {
		return frame[0]
	}
	return growStack(kib-1) + frame[1]
}

// bareRead reads resp's body until it ends, in as small a frame as it gets.
//
//go:noinline
func bareRead(resp *http.Response) {
	var buf [1]byte
	for {
		if _, err := resp.Body.Read(buf[:]); err != nil {
			return
		}
	}
}

// stackPerStream starts a stream for every user (start runs it in a
// goroutine of its own, calls connected once it is open and done when it
// has ended), and returns the goroutine stack bytes per stream once all are
// connected and parked (after enough collections to shrink every stack that
// can shrink); then it stops them.
func stackPerStream(b *testing.B, users []string, start func(ctx context.Context, user string, connected, done func())) float64 {
	before := settledStacks()
	ctx, cancel := context.WithCancel(context.Background())
	var up, down sync.WaitGroup
	up.Add(len(users))
	down.Add(len(users))
	for _, u := range users {
		var once sync.Once
		start(ctx, u, func() { once.Do(up.Done) }, down.Done)
	}
	connected := make(chan struct{})
	go func() { up.Wait(); close(connected) }()
	select {
	case <-connected:
	case <-time.After(time.Minute):
		b.Fatal("streams did not connect within a minute")
	}
	after := settledStacks()
	cancel()
	down.Wait()
	return float64(after-before) / float64(len(users))
}

// settledStacks is the stack memory in use once every goroutine that can
// has parked and shrunk (each collection halves a stack at most once).
func settledStacks() uint64 {
	var ms runtime.MemStats
	for range 6 {
		time.Sleep(50 * time.Millisecond)
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}

// benchEmulatorDir, in a helper process's environment, makes it serve an
// emulator over HTTPS (see benchEmulatorMain).
const benchEmulatorDir = "MIAW_BENCH_EMULATOR_DIR"

func init() { miaw.SubprocessMain = benchEmulatorMain }

// benchEmulatorMain serves an HTTPS emulator with a key pair and
// certificate written to $MIAW_BENCH_EMULATOR_DIR, prints "base-URL
// private-key-file" and serves until stdin closes.
func benchEmulatorMain() (int, bool) {
	dir := os.Getenv(benchEmulatorDir)
	if dir == "" {
		return 0, false
	}
	fail := func(err error) (int, bool) {
		fmt.Fprintln(os.Stderr, "bench emulator:", err)
		return 1, true
	}
	cert, certPEM, err := emulator.SelfSignedCert([]string{"127.0.0.1"})
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		return fail(err)
	}
	keyPath, jwksPath, err := emulator.GenerateKeyPair(dir, emuKID)
	if err != nil {
		return fail(err)
	}
	jwks, err := os.ReadFile(jwksPath)
	if err != nil {
		return fail(err)
	}
	emu, err := emulator.New(emulator.Config{JWKS: jwks, Issuer: emuIssuer, OrgID: emuOrg, DeploymentName: emuDeploy,
		Logger: quiet, TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		return fail(err)
	}
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	defer emu.Close()
	fmt.Println(base, keyPath)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0, true
}

// startBenchEmulator starts this test binary as an HTTPS emulator and
// returns a client for it (any number of tokens a minute), that client's
// HTTP client (HTTP/2) and the emulator's base URL.
func startBenchEmulator(b *testing.B) (*miaw.Client, *http.Client, string) {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchEmulatorDir+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("bench emulator did not start: %v", err)
	}
	base, keyPath, ok := strings.Cut(strings.TrimSpace(line), " ")
	if !ok {
		b.Fatalf("bench emulator printed %q, want base URL and key file", line)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		b.Fatal("bench emulator's certificate not accepted")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: tr}
	client, err := miaw.New(miaw.Config{BaseURL: base, AllowAnyHost: true, OrgID: emuOrg, DeploymentName: emuDeploy,
		PrivateKeyFile: keyPath, KeyID: emuKID, Issuer: emuIssuer, TokenRequestsPerMinute: 60_000},
		miaw.WithLogger(quiet), miaw.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	return client, hc, base
}
