package activities

import (
	"testing"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// RecentEvents lists the conversation since the given time and translates
// each entry as the listener would, leaving out echoes and stale typing.
func TestRecentEventsTranslatesTheEntriesList(t *testing.T) {
	_, sf, env := testActivities(t)
	one := agentText("ev-1", 1000, "first")
	typing := mkEvent("ev-2", miaw.EventTypingStarted, miaw.EntryTypingStarted, miaw.RoleAgent, "Jane", &miaw.TypingPayload{})
	typing.Entry.TranscriptedTimestamp = 2000
	echo := mkEvent("ev-3", miaw.EventMessage, miaw.EntryMessage, miaw.RoleEndUser, "Guest", textMsg("mine"))
	echo.Entry.TranscriptedTimestamp = 3000
	two := agentText("ev-4", 4000, "second")
	sf.entries = []miaw.ConversationEntry{one.Entry, typing.Entry, echo.Entry, two.Entry}

	v, err := env.ExecuteActivity(workflows.ActivityRecentEvents, workflows.RecentEventsInput{UserID: "u-1", ConversationID: "conv-1", SinceMillis: 500})
	if err != nil {
		t.Fatal(err)
	}
	var events []workflows.AgentEvent
	if err := v.Get(&events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Text != "first" || events[1].Text != "second" || events[0].EventID != "" {
		t.Fatalf("events = %+v, want the two agent messages, without SSE ids", events)
	}
	if len(sf.entriesSince) != 1 || sf.entriesSince[0] != 500 {
		t.Fatalf("listed since %v, want [500]", sf.entriesSince)
	}
	if _, err := env.ExecuteActivity(workflows.ActivityRecentEvents, workflows.RecentEventsInput{UserID: "u-1"}); err == nil {
		t.Fatal("a request without a conversation was accepted")
	}
}
