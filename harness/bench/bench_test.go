package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
)

// BenchmarkBaselineAgentToUser measures one agent message through the plain
// bridge: emulator AgentSend → SSE → TranslateEvent → signed webhook POST →
// receiver. It is the floor the durable bridge is compared with.
//
//	go test -run '^$' -bench BaselineAgentToUser ./bench/
func BenchmarkBaselineAgentToUser(b *testing.B) {
	r, mc := newTestRun(b, Options{Hold: time.Millisecond})
	sink := activities.NewWebhookSink(r.cfg.Delivery.WebhookURL, []byte(r.secretHex), 5*time.Second, nil)
	br := newBaselineBridge(mc, sink, r.settings, benchTopic, r.log)
	defer br.stop()
	ctx := context.Background()
	user := users(r.tag, BridgeBaseline, 1)[0]
	greeted := r.recv.expect(user, r.settings.Greeting)
	if err := br.open(ctx, user); err != nil {
		b.Fatal(err)
	}
	select {
	case <-greeted:
	case <-time.After(30 * time.Second):
		b.Fatal("no greeting")
	}
	refs := r.conversations([]string{user})
	if len(refs) != 1 {
		b.Fatalf("conversation of %s not found", user)
	}
	for i := 0; b.Loop(); i++ {
		text := fmt.Sprintf("bench message %d", i)
		arrived := r.recv.expect(user, text)
		if _, err := r.emu.AgentSend(refs[0].conv, text); err != nil {
			b.Fatal(err)
		}
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			b.Fatalf("message %d never arrived", i)
		}
	}
}
