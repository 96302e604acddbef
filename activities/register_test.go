package activities

import (
	"sort"
	"testing"

	"go.temporal.io/sdk/activity"

	"github.com/liveagent-bridge/liveagent/workflows"
)

type nameRegistry struct{ names []string }

func (r *nameRegistry) RegisterActivity(any) { panic("use RegisterActivityWithOptions") }
func (r *nameRegistry) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	r.names = append(r.names, o.Name)
}
func (r *nameRegistry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {
	panic("unexpected")
}

func TestRegisterUsesWorkflowNames(t *testing.T) {
	a := &Activities{}
	var main, listener nameRegistry
	a.Register(&main)
	a.RegisterListener(&listener)
	sort.Strings(main.names)
	want := []string{
		workflows.ActivityStreamPosition, workflows.ActivityCreateConversation, workflows.ActivityDeliver, workflows.ActivityDownloadAttachment,
		workflows.ActivityEndConversation, workflows.ActivitySendAttachment, workflows.ActivitySendMessage,
		workflows.ActivitySendTyping, workflows.ActivityAcknowledge, workflows.ActivityRecentEvents, workflows.ActivityImportHistory,
	}
	sort.Strings(want)
	if len(main.names) != len(want) {
		t.Fatalf("registered %v, want %v", main.names, want)
	}
	for i := range want {
		if main.names[i] != want[i] {
			t.Fatalf("registered %v, want %v", main.names, want)
		}
	}
	if len(listener.names) != 1 || listener.names[0] != workflows.ActivityListen {
		t.Fatalf("listener registered %v", listener.names)
	}
}
