package miaw

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func storeConfig(f *fakeSF, dir string) Config {
	cfg := testConfig(f)
	cfg.TokenStoreDir = dir
	return cfg
}

// A second worker sharing the store takes the first one's valid token
// instead of asking Salesforce; the directory holds neither the user's id nor
// the token in clear.
func TestTokenStoreSharesTokensAcrossClients(t *testing.T) {
	f := newFakeSF(t)
	dir := t.TempDir()
	first, _ := newTestClient(t, storeConfig(f, dir))
	second, _ := newTestClient(t, storeConfig(f, dir))

	minted, err := first.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	taken, err := second.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	if taken.AccessToken != minted.AccessToken || taken.Subject != minted.Subject || !taken.Expiry.Equal(minted.Expiry) {
		t.Fatalf("second client's token %v, want the first one's %v", taken, minted)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	if s := second.Stats(); s.StoredTokens != 1 || s.TokenRequests != 0 {
		t.Fatalf("second client stats %+v, want 1 stored token and no request", s)
	}

	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("store holds %d files (%v), want 1", len(entries), err)
	}
	name := entries[0].Name()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(name, testUser) || strings.Contains(string(data), testUser) ||
		strings.Contains(string(data), minted.AccessToken) || strings.Contains(string(data), minted.Subject) {
		t.Fatal("the store names the user or holds the token in clear")
	}
	if info, _ := entries[0].Info(); info.Mode().Perm() != 0o600 {
		t.Fatalf("stored token mode %v, want 0600", info.Mode().Perm())
	}
}

// A token Salesforce refuses leaves the store too, so the next worker mints
// rather than taking the refused one; the new token replaces it.
func TestTokenStoreDropsARefusedToken(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET "+conversationPath(testConvID, ""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"conversationId": testConvID, "routingStatus": RoutingRouted})
	})
	dir := t.TempDir()
	first, _ := newTestClient(t, storeConfig(f, dir))
	old, err := first.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	f.revokeAll()
	if _, err := first.RoutingStatus(context.Background(), testUser, testConvID); err != nil {
		t.Fatal(err)
	}
	renewed, _ := first.Token(context.Background(), testUser)
	if renewed.AccessToken == old.AccessToken || f.tokenCalls.Load() != 2 {
		t.Fatalf("refused token not renewed (%d requests)", f.tokenCalls.Load())
	}
	third, _ := newTestClient(t, storeConfig(f, dir))
	got, err := third.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != renewed.AccessToken || f.tokenCalls.Load() != 2 {
		t.Fatalf("third client did not take the renewed token (%d requests)", f.tokenCalls.Load())
	}
}

// Whatever does not open as this user's token (tampered, or another user's
// file under this user's name) or is due for renewal is not used: the
// client mints, and the bad file is replaced.
func TestTokenStoreIgnoresWhatDoesNotOpenOrIsDue(t *testing.T) {
	f := newFakeSF(t)
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := withClock(func() time.Time { return time.Unix(0, now.Load()) })
	writer, _ := newTestClient(t, storeConfig(f, dir), clock)
	if _, err := writer.Token(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	aliceFile := writer.store.path("alice")

	// Alice's sealed token copied under Bob's name does not open for Bob.
	data, _ := os.ReadFile(aliceFile)
	if err := os.WriteFile(writer.store.path("bob"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	reader, logs := newTestClient(t, storeConfig(f, dir), clock)
	bob, err := reader.Token(context.Background(), "bob")
	if err != nil || !strings.HasSuffix(bob.Subject, "uid:bob") {
		t.Fatalf("bob got %v, %v; want his own minted token", bob, err)
	}
	if !strings.Contains(logs.String(), "does not open") {
		t.Fatalf("no warning about the foreign file: %s", logs)
	}

	// A tampered file does not open either.
	data[len(data)-1] ^= 1
	if err := os.WriteFile(aliceFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	third, _ := newTestClient(t, storeConfig(f, dir), clock)
	if _, err := third.Token(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCalls.Load(); n != 3 {
		t.Fatalf("%d token requests, want 3 (alice, bob, alice again)", n)
	}

	// Inside RenewBefore of its expiry a stored token is not handed out.
	fourth, _ := newTestClient(t, storeConfig(f, dir), clock)
	if fourth.storedToken("alice") == nil {
		t.Fatal("alice's fresh stored token not found")
	}
	now.Add(int64(time.Hour - 30*time.Second))
	if tok := fourth.storedToken("alice"); tok != nil {
		t.Fatalf("stored token due for renewal handed out: %v", tok)
	}
}

func TestTokenStoreNeedsVerifiedMode(t *testing.T) {
	f := newFakeSF(t)
	cfg := storeConfig(f, t.TempDir())
	cfg.AuthMode = AuthGuest
	err := cfg.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "miaw: token_store_dir: ") {
		t.Fatalf("Validate = %v, want a token_store_dir error", err)
	}
}
